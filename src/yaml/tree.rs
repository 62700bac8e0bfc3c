//! The YAML parser's events made into a positioned [`Node`] tree.

use std::collections::HashSet;

/// A position in a source file, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// One YAML value with its position.
#[derive(Clone, Debug)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// The value of a YAML node. Booleans follow YAML 1.2: only `true`/`false`, so `no`
/// stays the string "no".
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Limits applied while parsing a rulebook, so a hostile file cannot exhaust memory.
#[derive(Clone, Copy, Debug)]
pub struct YamlLimits {
    /// Deepest nesting of collections accepted.
    pub max_depth: usize,
    /// Most alias expansions (`*anchor`) in one document: stops "billion laughs".
    pub max_alias_events: usize,
}

impl Default for YamlLimits {
    fn default() -> Self {
        YamlLimits {
            max_depth: 64,
            max_alias_events: 10_000,
        }
    }
}

/// A YAML syntax or structure error, with its position when the parser knows it.
#[derive(Clone, Debug)]
pub struct YamlError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Parses one YAML document into a [`Node`] tree.
///
/// The tree is built from the parser's events on an explicit stack (no recursion, so
/// nesting is bounded by `max_depth`, not by the thread's stack).
pub fn parse(text: &str, limits: YamlLimits) -> Result<Node, YamlError> {
    let mut parser = granit_parser::Parser::new_from_str(text);
    let mut tree = TreeBuilder {
        limits,
        stack: Vec::new(),
        anchors: std::collections::HashMap::new(),
        replayed: 0,
        root: None,
        documents: 0,
    };
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| YamlError {
            pos: to_pos(e.marker().line(), e.marker().col()),
            message: clean_message(&e.info()),
        })?;
        let pos = to_pos(span.start.line(), span.start.col()).unwrap_or_default();
        if tree.take(event, pos)? {
            break;
        }
    }
    Ok(tree.root.unwrap_or(Node {
        pos: Pos { line: 1, column: 1 },
        value: Value::Null,
    }))
}

/// A collection being read, with the anchor to record it under when it ends.
enum Open {
    Seq(Node, usize),
    /// The mapping, its anchor, the key read whose value comes next, and its keys
    /// hashed once it is large (a mapping of a million keys must not take a million
    /// squared steps; a small one is searched, without copying its keys).
    Map(Node, usize, Option<Node>, Option<HashSet<KeyId>>),
}

struct TreeBuilder {
    limits: YamlLimits,
    stack: Vec<Open>,
    anchors: std::collections::HashMap<usize, Node>,
    /// Events replayed by aliases so far (a collection counts its start and end).
    replayed: usize,
    root: Option<Node>,
    documents: usize,
}

impl TreeBuilder {
    /// Takes one event; `true` at the end of the stream.
    fn take(&mut self, event: granit_parser::Event<'_>, pos: Pos) -> Result<bool, YamlError> {
        use granit_parser::Event;
        let error = |message: String| YamlError {
            pos: Some(pos),
            message,
        };
        match event {
            Event::StreamEnd => return Ok(true),
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error(
                        "a rulebook is one YAML document: remove the second `---`".to_owned(),
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(&text, style, tag.as_deref()).map_err(error)?;
                self.finish(Node { pos, value }, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                self.open(pos, |node| Open::Seq(node, anchor), Value::Seq(Vec::new()))?
            }
            Event::MappingStart(_, anchor, _) => self.open(
                pos,
                |node| Open::Map(node, anchor, None, None),
                Value::Map(Vec::new()),
            )?,
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Open::Seq(node, anchor)) => self.finish(node, anchor)?,
                Some(Open::Map(mut node, anchor, ..)) => {
                    merge_keys(&mut node);
                    self.finish(node, anchor)?
                }
                None => return Err(error("a collection ends that never started".to_owned())),
            },
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id) else {
                    return Err(error("an alias names an unknown anchor".to_owned()));
                };
                self.replayed = self.replayed.saturating_add(events_in(node));
                if self.replayed > self.limits.max_alias_events {
                    return Err(error(format!(
                        "aliases expand to more than {} events (yaml-aliases): a \"billion laughs\" file is refused",
                        self.limits.max_alias_events
                    )));
                }
                let node = Node {
                    pos,
                    value: node.value.clone(),
                };
                self.finish(node, 0)?;
            }
            _ => {}
        }
        Ok(false)
    }

    /// Starts reading a collection, within the nesting limit.
    fn open(
        &mut self,
        pos: Pos,
        open: impl FnOnce(Node) -> Open,
        empty: Value,
    ) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError {
                pos: Some(pos),
                message: format!(
                    "the YAML nests deeper than {} levels (yaml-depth)",
                    self.limits.max_depth
                ),
            });
        }
        self.stack.push(open(Node { pos, value: empty }));
        Ok(())
    }

    /// Places a complete node in the collection being read (or makes it the root).
    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(seq, _)) => {
                if let Value::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map(map, _, pending, seen)) => match pending.take() {
                None => {
                    if is_repeated_key(map, seen, &node) {
                        let key = node.key_text().unwrap_or_else(|| node.type_name().into());
                        return Err(YamlError {
                            pos: Some(node.pos),
                            message: format!(
                                "the key `{key}` appears twice in the same mapping; keep only one"
                            ),
                        });
                    }
                    *pending = Some(node);
                }
                Some(key) => {
                    if let Value::Map(entries) = &mut map.value {
                        entries.push((key, node));
                    }
                }
            },
        }
        Ok(())
    }
}

/// Mappings up to this many keys are searched for a repeated key; larger ones hashed.
const KEYS_SEARCHED: usize = 16;

/// Whether `key` is already a key of `map` (and, for a large mapping, records it).
fn is_repeated_key(map: &Node, seen: &mut Option<HashSet<KeyId>>, key: &Node) -> bool {
    let Value::Map(entries) = &map.value else {
        return false;
    };
    if seen.is_none() && entries.len() < KEYS_SEARCHED {
        return entries.iter().any(|(k, _)| same_key(&k.value, &key.value));
    }
    let Some(id) = key_id(key) else {
        return false;
    };
    let seen = seen.get_or_insert_with(|| entries.iter().filter_map(|(k, _)| key_id(k)).collect());
    !seen.insert(id)
}

/// Whether two keys are the same scalar (`401` and `"401"` are not).
fn same_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Str(a), Value::Str(b)) => a == b,
        _ => false,
    }
}

/// A scalar mapping key's identity: `401` and `"401"` are different keys.
#[derive(Hash, PartialEq, Eq)]
enum KeyId {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
}

fn key_id(node: &Node) -> Option<KeyId> {
    Some(match &node.value {
        Value::Null => KeyId::Null,
        Value::Bool(b) => KeyId::Bool(*b),
        Value::Int(i) => KeyId::Int(*i),
        Value::Str(s) => KeyId::Str(s.to_string()),
        _ => return None,
    })
}

/// How many events a node stands for when an alias replays it.
fn events_in(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 2 + items.iter().map(events_in).sum::<usize>(),
        Value::Map(entries) => {
            2 + entries
                .iter()
                .map(|(k, v)| events_in(k) + events_in(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// YAML merge keys: `<<: *base` (or a list of them) adds the keys the mapping does not
/// set itself.
fn merge_keys(node: &mut Node) {
    let Value::Map(entries) = &mut node.value else {
        return;
    };
    if !entries.iter().any(|(k, _)| k.as_str() == Some("<<")) {
        return;
    }
    let (merges, mut own): (Vec<_>, Vec<_>) = std::mem::take(entries)
        .into_iter()
        .partition(|(k, _)| k.as_str() == Some("<<"));
    let mut seen: HashSet<KeyId> = own.iter().filter_map(|(k, _)| key_id(k)).collect();
    for (_, source) in merges {
        let sources = match source.value {
            Value::Seq(items) => items,
            other => vec![Node {
                pos: source.pos,
                value: other,
            }],
        };
        for source in sources {
            if let Value::Map(inherited) = source.value {
                for (k, v) in inherited {
                    if key_id(&k).is_none_or(|id| seen.insert(id)) {
                        own.push((k, v));
                    }
                }
            }
        }
    }
    *entries = own;
}

/// A scalar's value under the YAML 1.2 core schema; quoted and block scalars are
/// strings, and only `true`/`false` are booleans (so `no` stays the string "no").
fn scalar(
    text: &str,
    style: granit_parser::ScalarStyle,
    tag: Option<&granit_parser::Tag>,
) -> Result<Value, String> {
    let core = tag
        .filter(|t| t.handle() == "tag:yaml.org,2002:")
        .map(|t| t.suffix());
    if style != granit_parser::ScalarStyle::Plain || core == Some("str") {
        return Ok(Value::Str(text.to_owned()));
    }
    let typed = match text {
        "" | "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        _ => number(text)?,
    };
    Ok(typed.unwrap_or_else(|| Value::Str(text.to_owned())))
}

/// An integer (decimal, `0x`, `0o`) or a float (`1.5`, `2e3`, `.inf`, `.nan`); `None`
/// for any other text.
fn number(text: &str) -> Result<Option<Value>, String> {
    let too_large = || format!("the number {text} is too large");
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    let radix = |digits: &str, radix: u32| -> Result<Option<Value>, String> {
        if text.len() != unsigned.len() || digits.is_empty() {
            return Ok(None);
        }
        match i64::from_str_radix(digits, radix) {
            Ok(v) => Ok(Some(Value::Int(v))),
            Err(_) if digits.chars().all(|c| c.is_digit(radix)) => Err(too_large()),
            Err(_) => Ok(None),
        }
    };
    if let Some(hex) = unsigned.strip_prefix("0x") {
        return radix(hex, 16);
    }
    if let Some(octal) = unsigned.strip_prefix("0o") {
        return radix(octal, 8);
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .map(|v| Some(Value::Int(v)))
            .map_err(|_| too_large());
    }
    let special = match unsigned {
        ".inf" | ".Inf" | ".INF" => Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        ".nan" | ".NaN" | ".NAN" if text.len() == unsigned.len() => Some(f64::NAN),
        _ => None,
    };
    if let Some(f) = special {
        return Ok(Some(Value::Float(f)));
    }
    // `[0-9]*(.[0-9]*)?([eE][-+]?[0-9]+)?` with at least one digit before the exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => match unsigned.split_at_checked(i) {
            Some((m, e)) => (m, e.get(1..)),
            None => (unsigned, None),
        },
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let float = !(whole.is_empty() && fraction.is_empty())
        && digits(whole)
        && digits(fraction)
        && exponent.is_none_or(|e| {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        });
    Ok(float
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .map(Value::Float))
}

/// The parser's message without its position (reported separately).
fn clean_message(info: &str) -> String {
    let first = info.lines().next().unwrap_or("").trim();
    first.split(" at char ").next().unwrap_or(first).to_owned()
}

fn to_pos(line: usize, column0: usize) -> Option<Pos> {
    let line = u32::try_from(line).ok()?;
    let column = u32::try_from(column0 + 1).ok()?;
    (line > 0).then_some(Pos { line, column })
}

impl Node {
    /// The value as a string slice, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The entries of a mapping, when it is one.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks up `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.key_text().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// A mapping key as text (numbers are accepted as keys, e.g. status codes).
    pub fn key_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match &self.value {
            Value::Str(s) => Some(s.as_str().into()),
            Value::Int(i) => Some(i.to_string().into()),
            Value::Bool(b) => Some(b.to_string().into()),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Follows an RFC 6901 JSON Pointer into the tree (used to place schema errors).
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        let mut node = self;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            node = match &node.value {
                Value::Map(m) => m
                    .iter()
                    .find(|(k, _)| k.key_text().as_deref() == Some(token.as_str()))
                    .map(|(_, v)| v)?,
                Value::Seq(s) => s.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The position of the key under which `pointer` sits (better for "unknown field").
    pub fn key_pos(&self, pointer: &str, key: &str) -> Option<Pos> {
        self.pointer(pointer)?
            .as_map()?
            .iter()
            .find(|(k, _)| k.key_text().as_deref() == Some(key))
            .map(|(k, _)| k.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_kept_for_keys_and_values() {
        let node = parse("a: 1\nb:\n  - x: no\n", YamlLimits::default()).unwrap();
        let b = node.get("b").unwrap();
        assert_eq!(b.pos.line, 3);
        let x = node.pointer("/b/0/x").unwrap();
        assert_eq!(
            x.as_str(),
            Some("no"),
            "YAML 1.2 booleans: `no` is a string"
        );
        assert_eq!(x.pos, Pos { line: 3, column: 8 });
        assert_eq!(node.key_pos("", "b"), Some(Pos { line: 2, column: 1 }));
    }

    #[test]
    fn duplicate_keys_are_refused_with_a_position() {
        let err = parse("a: 1\na: 2\n", YamlLimits::default()).unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(2));
        assert!(err.message.contains("`a` appears twice"), "{}", err.message);
        // Around the size where the search gives way to hashing: the repeat is found
        // whichever key it repeats.
        for size in [KEYS_SEARCHED - 1, KEYS_SEARCHED, KEYS_SEARCHED + 1, 40] {
            for repeated in [0, size / 2, size - 1] {
                let mut text: String = (0..size).map(|i| format!("k{i}: {i}\n")).collect();
                assert!(parse(&text, YamlLimits::default()).is_ok(), "{size}");
                text.push_str(&format!("k{repeated}: again\n"));
                let err = parse(&text, YamlLimits::default()).unwrap_err();
                assert_eq!(err.pos.map(|p| p.line as usize), Some(size + 1));
            }
        }
        // Keys are the same only as the same scalar.
        for (text, repeated) in [
            ("401: a\n'401': b\n", false),
            ("~: a\nnull: b\n", true),
            ("true: a\ntrue: b\n", true),
            ("? [a]\n: 1\n? [a]\n: 2\n", false),
        ] {
            assert_eq!(
                parse(text, YamlLimits::default()).is_err(),
                repeated,
                "{text}"
            );
        }
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse("a: [1, 2\nb: 3\n", YamlLimits::default()).unwrap_err();
        assert!(err.pos.is_some());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&text, YamlLimits::default()).is_err());
    }

    #[test]
    fn json_pointer_reaches_sequence_items() {
        let node = parse("rules:\n  - id: a\n  - id: b\n", YamlLimits::default()).unwrap();
        assert_eq!(node.pointer("/rules/1/id").unwrap().as_str(), Some("b"));
        assert!(node.pointer("/rules/2").is_none());
        assert_eq!(
            node.to_json(),
            serde_json::json!({"rules": [{"id": "a"}, {"id": "b"}]})
        );
    }

    fn value(text: &str) -> Value {
        parse(&format!("v: {text}\n"), YamlLimits::default())
            .unwrap()
            .get("v")
            .unwrap()
            .value
            .clone()
    }

    #[test]
    fn plain_scalars_follow_the_yaml_1_2_core_schema() {
        for (text, want) in [
            ("", "null"),
            ("~", "null"),
            ("null", "null"),
            ("true", "true"),
            ("False", "false"),
            ("401", "401"),
            ("-7", "-7"),
            ("+7", "7"),
            ("0x1F", "31"),
            ("0o17", "15"),
            ("1.5", "1.5"),
            ("2e3", "2000.0"),
            (".5", "0.5"),
        ] {
            let got = match value(text) {
                Value::Null => "null".to_owned(),
                Value::Bool(b) => b.to_string(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => format!("{f:?}"),
                other => panic!("{text:?} read as {other:?}"),
            };
            assert_eq!(got, want, "{text:?}");
        }
        assert!(matches!(value(".inf"), Value::Float(f) if f == f64::INFINITY));
        assert!(matches!(value(".nan"), Value::Float(f) if f.is_nan()));
        // Strings: YAML 1.1 booleans, versions, quoted and tagged numbers, odd spellings.
        for text in [
            "no",
            "yes",
            "on",
            "1.1.0",
            "'401'",
            "\"true\"",
            "!!str 401",
            "0b101",
            "-.nan",
            "sk-abc",
            "1e",
            ".",
        ] {
            assert!(
                matches!(value(text), Value::Str(_)),
                "{text:?}: {:?}",
                value(text)
            );
        }
        let err = parse("v: 99999999999999999999\n", YamlLimits::default()).unwrap_err();
        assert!(err.message.contains("too large"), "{}", err.message);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let node = parse(
            "base: &b {a: 1, b: 2}\ncopy: *b\nmerged:\n  <<: *b\n  b: 3\n",
            YamlLimits::default(),
        )
        .unwrap();
        assert_eq!(
            node.to_json(),
            serde_json::json!({"base": {"a": 1, "b": 2}, "copy": {"a": 1, "b": 2},
                               "merged": {"b": 3, "a": 1}})
        );
        // The alias is placed where it is used.
        assert_eq!(node.get("copy").unwrap().pos.line, 2);
    }

    #[test]
    fn limits_and_structure_errors_have_positions() {
        let limits = YamlLimits {
            max_depth: 2,
            max_alias_events: 3,
        };
        let err = parse("a:\n  b:\n    c: 1\n", limits).unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(3), "{}", err.message);
        assert!(err.message.contains("deeper than 2"), "{}", err.message);
        // A two-item list replays 4 events; the second alias goes over 3.
        let err = parse("a: &a [x, y]\nb: *a\n", limits).unwrap_err();
        assert!(err.message.contains("yaml-aliases"), "{}", err.message);
        assert!(parse("a: &a x\nb: *a\nc: *a\n", limits).is_ok());
        let err = parse("a: 1\n---\nb: 2\n", YamlLimits::default()).unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(2));
        assert!(err.message.contains("one YAML document"), "{}", err.message);
        let err = parse("a: *nowhere\n", YamlLimits::default()).unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(1), "{}", err.message);
    }

    #[test]
    fn a_mapping_of_many_keys_is_checked_for_duplicates_in_one_pass() {
        let mut text: String = (0..30_000).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(parse(&text, YamlLimits::default()).is_ok());
        text.push_str("k4242: again\n");
        let err = parse(&text, YamlLimits::default()).unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(30_001));
        assert!(
            err.message.contains("`k4242` appears twice"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_empty_document_is_null() {
        assert!(matches!(
            parse("", YamlLimits::default()).unwrap().value,
            Value::Null
        ));
        assert!(matches!(
            parse("# only a comment\n", YamlLimits::default())
                .unwrap()
                .value,
            Value::Null
        ));
    }
}
