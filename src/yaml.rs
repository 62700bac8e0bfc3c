//! The one place that knows about YAML.
//!
//! Rulebooks are parsed into a [`Node`] tree in which every value, key included, keeps
//! its line and column. Everything downstream (schema validation, compilation, lint)
//! works on that tree, so any problem can be pointed at precisely. Keeping the YAML
//! crate behind this module means switching parsers is a local change.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

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
pub fn parse(text: &str, limits: YamlLimits) -> Result<Node, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.alias_limits.max_total_replayed_events = limits.max_alias_events;
    options.alias_limits.max_replay_stack_depth = limits.max_depth;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = limits.max_depth;
    options.budget = Some(budget);
    let spanned: Spanned<Value> =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| YamlError {
            pos: e.location().and_then(to_pos),
            message: clean_message(&e),
        })?;
    Ok(into_node(spanned))
}

/// The parser's message without its own snippet (we render our own frames).
fn clean_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error:").map(str::trim).unwrap_or(first);
    // The position is reported separately.
    let first = first.split(" at line ").next().unwrap_or(first).to_owned();
    // The library's advice is for Rust programmers; rule authors need their own.
    if first.contains("duplicate mapping key") {
        let key = first
            .split("duplicate mapping key:")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .map(str::trim)
            .unwrap_or("");
        return format!("the key `{key}` appears twice in the same mapping; keep only one");
    }
    first
}

fn to_pos(loc: serde_saphyr::Location) -> Option<Pos> {
    let line = u32::try_from(loc.line()).ok()?;
    let column = u32::try_from(loc.column()).ok()?;
    (line > 0).then_some(Pos { line, column })
}

fn into_node(s: Spanned<Value>) -> Node {
    Node {
        pos: to_pos(s.referenced).unwrap_or_default(),
        value: s.value,
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        String::from_utf8(v.to_vec())
            .map(Value::Str)
            .map_err(|_| E::custom("binary values are not allowed in a rulebook"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(into_node(item));
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Value>>()? {
            let value = map.next_value::<Spanned<Value>>()?;
            entries.push((into_node(key), into_node(value)));
        }
        Ok(Value::Map(entries))
    }
}

impl Node {
    /// The value as a string slice, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
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
    pub fn key_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
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

    /// Converts the tree to JSON, for schema validation and for example captures.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.key_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
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
}
