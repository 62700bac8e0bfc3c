//! Compiled conditions: a tree of `all` / `any` / `not` / named references over
//! fact tests. Each test applies one or more operators to one fact; all must hold.
//!
//! A fact the capture does not hold makes every operator false except
//! `exists: false`, which is true. Nothing here errors at run time.

use regex::Regex;
use serde_json::Value as Json;

use super::literals::{self, Literals};
use crate::facts::{Fact, FactValue};
use crate::two_stage::{Build, TwoStage};
use crate::yaml::Pos;

/// A condition tree.
#[derive(Clone, Debug)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// A named condition of the same rulebook, by index.
    Named(usize, String),
    Test(Test),
}

/// Operators applied to one fact.
#[derive(Clone, Debug)]
pub struct Test {
    pub fact: Fact,
    /// The fact's name as written, for evidence and traces.
    pub fact_name: String,
    pub ops: Vec<Op>,
    pub ignore_case: bool,
    pub pos: Pos,
}

/// The operator names, as written in rulebooks. The schema lists the same names (a
/// test keeps them in step).
pub const OPERATORS: &[&str] = &[
    "equals",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "class",
    "matches",
    "starts_with",
    "ends_with",
    "contains",
    "exists",
    "len",
    "near",
    "type",
    "ignore_case",
];

/// The JSON types `type:` accepts.
pub const TYPES: &[&str] = &["string", "number", "boolean", "array", "object", "null"];

/// A rule author's regex. Rulebooks from disk compile it when they load, so a bad or
/// oversized pattern is reported at once; the built-in rulebook (tested by the suite)
/// builds each pattern only when a text could match it, which keeps start-up small:
/// building a regex costs far more than one search, and most of a rulebook's patterns
/// never match a given capture.
#[derive(Debug)]
pub struct Pattern {
    source: String,
    ignore_case: bool,
    /// Largest compiled size (`--limit regex-bytes`).
    size_limit: usize,
    /// Literals one of which every match holds (its possible prefixes, or suffixes):
    /// a text holding none of them cannot match, so the pattern is not built for it.
    /// Read from the pattern's syntax tree when first needed.
    required: std::sync::OnceLock<Option<Literals>>,
    /// `required` as substring searchers, made the first time a text of
    /// [`SEARCHER_TEXT_BYTES`] or more is checked: `memmem::find` would make one for
    /// every such text (most of the check's cost); shorter texts are searched without.
    searchers: std::sync::OnceLock<Vec<memchr::memmem::Finder<'static>>>,
    /// Texts ruled out by `required` so far. A pattern asked often (a bulk run) is
    /// built anyway: its own search is faster than scanning for each literal.
    ruled_out: std::sync::atomic::AtomicU32,
    /// Its quick and full builds (the full one made at load for rulebooks from
    /// disk): see [`crate::two_stage`].
    builds: TwoStage,
}

/// After this many texts ruled out by its literals, a pattern is built.
const BUILD_AFTER_RULED_OUT: u32 = 64;

/// From this length on, memchr searches a text with a searcher it prepares for the
/// literal; below it, with one that needs no preparation (`memmem::find`).
const SEARCHER_TEXT_BYTES: usize = 64;

impl Clone for Pattern {
    fn clone(&self) -> Pattern {
        Pattern {
            source: self.source.clone(),
            ignore_case: self.ignore_case,
            size_limit: self.size_limit,
            required: self.required.clone(),
            searchers: self.searchers.clone(),
            ruled_out: std::sync::atomic::AtomicU32::new(0),
            builds: self.builds.clone(),
        }
    }
}

impl Pattern {
    /// A pattern built on first need; its syntax is not checked here (the built-in
    /// rulebook's patterns are compiled by the test suite), and one that does not
    /// compile matches nothing.
    pub fn lazy(source: &str, ignore_case: bool, size_limit: usize) -> Pattern {
        Pattern {
            source: source.to_owned(),
            ignore_case,
            size_limit,
            required: std::sync::OnceLock::new(),
            searchers: std::sync::OnceLock::new(),
            ruled_out: std::sync::atomic::AtomicU32::new(0),
            builds: TwoStage::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern is found in `text`. A lazy pattern that cannot be built
    /// would match nothing; only the built-in rulebook's patterns are lazy, the suite
    /// compiles them, and under a lowered `regex-bytes` they are built at load.
    pub fn is_match(&self, text: &str) -> bool {
        self.build_for(text).is_some_and(|b| b.is_match(text))
    }

    /// The text of a group of the first match in `text`: the group named `value` when
    /// `named`, else group 1.
    pub fn group<'t>(&self, text: &'t str, named: bool) -> Option<&'t str> {
        self.build_for(text)?.group(text, named)
    }

    /// The build to search `text` with, or `None` when `text` cannot match (or the
    /// pattern cannot be built).
    fn build_for(&self, text: &str) -> Option<Build<'_>> {
        if !self.builds.is_fully_built() {
            let required = self.required.get_or_init(|| {
                // The built-in rulebook's were worked out at build time.
                super::frozen_literals(&self.source, self.ignore_case)
                    .unwrap_or_else(|| literals::required_for(&self.source, self.ignore_case))
            });
            if let Some(required) = required {
                use std::sync::atomic::Ordering::Relaxed;
                let haystack = text.as_bytes();
                let holds_one = if haystack.len() < SEARCHER_TEXT_BYTES {
                    required
                        .iter()
                        .any(|literal| memchr::memmem::find(haystack, literal).is_some())
                } else {
                    self.searchers
                        .get_or_init(|| {
                            required
                                .iter()
                                .map(|l| memchr::memmem::Finder::new(l).into_owned())
                                .collect()
                        })
                        .iter()
                        .any(|searcher| searcher.find(haystack).is_some())
                };
                if !holds_one {
                    if self.ruled_out.fetch_add(1, Relaxed) < BUILD_AFTER_RULED_OUT {
                        return None;
                    }
                    // Asked this often, the pattern is in a bulk run: its full build
                    // rules a text out faster than looking for each literal does
                    // (the quick build would still leave the literals looked for).
                    return self
                        .builds
                        .full(&self.source, self.ignore_case, self.size_limit)
                        .as_ref()
                        .map(Build::Full);
                }
            }
        }
        self.builds
            .for_text(&self.source, self.ignore_case, self.size_limit, text)
    }

    /// Whether the regex has been built, quick or full (for tests of the laziness).
    #[cfg(test)]
    fn is_built(&self) -> bool {
        self.builds.is_built()
    }

    /// Whether the full build has been made.
    #[cfg(test)]
    fn is_fully_built(&self) -> bool {
        self.builds.is_fully_built()
    }
}

impl From<Regex> for Pattern {
    fn from(re: Regex) -> Pattern {
        Pattern {
            source: re.as_str().to_owned(),
            ignore_case: false,
            size_limit: usize::MAX,
            required: std::sync::OnceLock::from(None),
            searchers: std::sync::OnceLock::new(),
            ruled_out: std::sync::atomic::AtomicU32::new(0),
            builds: TwoStage::built(re),
        }
    }
}

/// One operator with its compiled operand.
#[derive(Clone, Debug)]
pub enum Op {
    Equals(Json),
    In(Vec<Json>),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    Between(f64, f64),
    /// A status class: `4` for `4xx`.
    Class(u16),
    Matches(Pattern),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Exists(bool),
    /// Operators applied to the length (characters of a string, items of a list).
    Len(Vec<Op>),
    /// Close to one of these texts (at most `max` edits, ignoring case) but equal to
    /// none: a likely typo.
    Near {
        to: Vec<String>,
        max: usize,
    },
    /// The value's JSON type is one of these.
    Type(Vec<String>),
}

impl Op {
    /// Whether the operator holds for a fact's value (`None`: the fact is absent).
    pub fn holds(&self, value: Option<&FactValue<'_>>, ignore_case: bool) -> bool {
        let Some(value) = value else {
            return matches!(self, Op::Exists(false));
        };
        match self {
            Op::Exists(want) => *want,
            Op::Equals(x) => loosely_equal(value, x, ignore_case),
            Op::In(xs) => xs.iter().any(|x| loosely_equal(value, x, ignore_case)),
            Op::Gt(n) => number(value).is_some_and(|v| v > *n),
            Op::Gte(n) => number(value).is_some_and(|v| v >= *n),
            Op::Lt(n) => number(value).is_some_and(|v| v < *n),
            Op::Lte(n) => number(value).is_some_and(|v| v <= *n),
            Op::Between(lo, hi) => number(value).is_some_and(|v| v >= *lo && v <= *hi),
            Op::Class(hundred) => number(value)
                .filter(|v| v.fract() == 0.0 && *v >= 0.0)
                .is_some_and(|v| (v as u64) / 100 == u64::from(*hundred)),
            Op::Matches(re) => re.is_match(&text(value)),
            Op::StartsWith(s) => with_case(value, ignore_case, |t| t.starts_with(s.as_str())),
            Op::EndsWith(s) => with_case(value, ignore_case, |t| t.ends_with(s.as_str())),
            Op::Contains(s) => with_case(value, ignore_case, |t| t.contains(s.as_str())),
            Op::Len(ops) => {
                let len = match value {
                    FactValue::Json(Json::Array(a)) => a.len(),
                    FactValue::Json(Json::Object(o)) => o.len(),
                    other => text(other).chars().count(),
                };
                let len = FactValue::Int(len as i64);
                ops.iter().all(|op| op.holds(Some(&len), false))
            }
            Op::Near { to, max } => {
                let t = text(value);
                let t = if t.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
                    std::borrow::Cow::Owned(t.to_lowercase())
                } else {
                    t
                };
                // The real thing is not a typo: the common case, checked first.
                !to.iter().any(|c| *c == t)
                    && to
                        .iter()
                        .any(|c| crate::spelling::within_edits(&t, c, *max))
            }
            Op::Type(types) => types.iter().any(|t| t == json_type(value)),
        }
    }
}

/// A value's type in JSON terms.
fn json_type(value: &FactValue<'_>) -> &'static str {
    match value {
        FactValue::Str(_) => "string",
        FactValue::Int(_) => "number",
        FactValue::Bool(_) => "boolean",
        FactValue::Json(j) => match j {
            Json::String(_) => "string",
            Json::Number(_) => "number",
            Json::Bool(_) => "boolean",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
            Json::Null => "null",
        },
    }
}

/// The value as text for string operators: strings as they are, other scalars as
/// written in JSON.
fn text<'v>(value: &'v FactValue<'_>) -> std::borrow::Cow<'v, str> {
    match value.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(value.display()),
    }
}

fn with_case(value: &FactValue<'_>, ignore_case: bool, f: impl Fn(&str) -> bool) -> bool {
    let t = text(value);
    if ignore_case {
        f(&t.to_lowercase())
    } else {
        f(&t)
    }
}

/// Numbers compare as numbers; a numeric string (a header such as `Retry-After`)
/// counts as its number.
fn number(value: &FactValue<'_>) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
}

/// Equality that forgives the type a rule author wrote: `status: "404"` and
/// `status: 404` both match 404; strings compare exactly (or ignoring case).
fn loosely_equal(value: &FactValue<'_>, expected: &Json, ignore_case: bool) -> bool {
    match expected {
        Json::Number(n) => match (number(value), n.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Json::String(s) => {
            let t = text(value);
            if ignore_case {
                t.to_lowercase() == s.to_lowercase()
            } else {
                t == s.as_str()
            }
        }
        Json::Bool(b) => match value {
            FactValue::Bool(v) => v == b,
            FactValue::Json(Json::Bool(v)) => v == b,
            _ => false,
        },
        Json::Null => matches!(value, FactValue::Json(Json::Null)),
        other => matches!(value, FactValue::Json(v) if *v == other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::borrow::Cow;

    fn s(v: &str) -> FactValue<'_> {
        FactValue::Str(Cow::Borrowed(v))
    }

    #[test]
    fn absent_facts_fail_every_operator_but_exists_false() {
        let ops = [
            Op::Equals(json!(1)),
            Op::In(vec![json!(1)]),
            Op::Gt(0.0),
            Op::Class(4),
            Op::Matches(Regex::new(".*").unwrap().into()),
            Op::StartsWith(String::new()),
            Op::Contains(String::new()),
            Op::Exists(true),
            Op::Len(vec![Op::Gte(0.0)]),
        ];
        for op in &ops {
            assert!(!op.holds(None, false), "{op:?}");
        }
        assert!(Op::Exists(false).holds(None, false));
        assert!(!Op::Exists(false).holds(Some(&s("")), false));
        assert!(Op::Exists(true).holds(Some(&s("")), false));
    }

    #[test]
    fn equality_is_loose_about_number_spelling_but_not_about_text() {
        let status = FactValue::Int(404);
        assert!(Op::Equals(json!(404)).holds(Some(&status), false));
        assert!(Op::Equals(json!("404")).holds(Some(&status), false));
        assert!(!Op::Equals(json!(401)).holds(Some(&status), false));
        assert!(Op::Equals(json!("POST")).holds(Some(&s("POST")), false));
        assert!(!Op::Equals(json!("post")).holds(Some(&s("POST")), false));
        assert!(Op::Equals(json!("post")).holds(Some(&s("POST")), true));
        assert!(Op::In(vec![json!(401), json!(403)]).holds(Some(&FactValue::Int(403)), false));
        assert!(!Op::In(vec![json!(401), json!(403)]).holds(Some(&FactValue::Int(404)), false));
        let t = json!(true);
        assert!(Op::Equals(json!(true)).holds(Some(&FactValue::Json(&t)), false));
        assert!(Op::Equals(json!(true)).holds(Some(&FactValue::Bool(true)), false));
        assert!(!Op::Equals(json!(false)).holds(Some(&FactValue::Bool(true)), false));
    }

    #[test]
    fn numeric_comparisons_and_classes() {
        let v = FactValue::Int(429);
        assert!(Op::Gt(428.0).holds(Some(&v), false));
        assert!(!Op::Gt(429.0).holds(Some(&v), false));
        assert!(Op::Gte(429.0).holds(Some(&v), false));
        assert!(Op::Lt(430.0).holds(Some(&v), false));
        assert!(!Op::Lte(428.0).holds(Some(&v), false));
        assert!(Op::Between(400.0, 499.0).holds(Some(&v), false));
        assert!(!Op::Between(500.0, 599.0).holds(Some(&v), false));
        assert!(Op::Class(4).holds(Some(&v), false));
        assert!(!Op::Class(5).holds(Some(&v), false));
        assert!(
            Op::Gt(10.0).holds(Some(&s(" 30 ")), false),
            "numeric header values count"
        );
        assert!(!Op::Gt(10.0).holds(Some(&s("soon")), false));
    }

    #[test]
    fn string_operators_and_case() {
        let v = s("Bearer sk-abc");
        assert!(Op::StartsWith("Bearer ".into()).holds(Some(&v), false));
        assert!(!Op::StartsWith("bearer ".into()).holds(Some(&v), false));
        assert!(Op::StartsWith("bearer ".into()).holds(Some(&v), true));
        assert!(Op::EndsWith("abc".into()).holds(Some(&v), false));
        assert!(!Op::EndsWith("ab".into()).holds(Some(&v), false));
        assert!(Op::Contains("sk-".into()).holds(Some(&v), false));
        assert!(!Op::Contains("SK-".into()).holds(Some(&v), false));
        assert!(Op::Contains("sk-".into()).holds(Some(&v), true));
        assert!(Op::Matches(Regex::new(r"^Bearer\s+sk-").unwrap().into()).holds(Some(&v), false));
        assert!(!Op::Matches(Regex::new(r"^sk-").unwrap().into()).holds(Some(&v), false));
        assert!(
            Op::Matches(Regex::new(r"^4\d\d$").unwrap().into())
                .holds(Some(&FactValue::Int(404)), false)
        );
    }

    #[test]
    fn near_finds_typos_but_not_the_real_thing() {
        let op = Op::Near {
            to: vec!["api.moleapi.com".into()],
            max: 2,
        };
        assert!(op.holds(Some(&s("api.molapi.com")), false));
        assert!(
            op.holds(Some(&s("API.MOLEAPI.CN")), false),
            "case is ignored"
        );
        assert!(
            !op.holds(Some(&s("api.moleapi.org")), false),
            "3 edits away"
        );
        assert!(
            !op.holds(Some(&s("api.moleapi.com")), false),
            "the real host is not a typo"
        );
        assert!(!op.holds(Some(&s("example.org")), false));
    }

    #[test]
    fn type_tests_json_types() {
        let v = json!({"temperature": "0.7", "messages": {}});
        let t = &v["temperature"];
        assert!(Op::Type(vec!["string".into()]).holds(Some(&FactValue::Json(t)), false));
        assert!(!Op::Type(vec!["number".into()]).holds(Some(&FactValue::Json(t)), false));
        assert!(
            Op::Type(vec!["array".into(), "object".into()])
                .holds(Some(&FactValue::Json(&v["messages"])), false)
        );
        assert!(Op::Type(vec!["number".into()]).holds(Some(&FactValue::Int(3)), false));
    }

    #[test]
    fn length_of_strings_and_lists() {
        let key = s("sk-短key");
        assert!(
            Op::Len(vec![Op::Equals(json!(7))]).holds(Some(&key), false),
            "characters, not bytes"
        );
        let list = json!([1, 2, 3]);
        assert!(Op::Len(vec![Op::Between(3.0, 3.0)]).holds(Some(&FactValue::Json(&list)), false));
        assert!(!Op::Len(vec![Op::Lt(3.0)]).holds(Some(&FactValue::Json(&list)), false));
    }

    fn lazy(source: &str) -> Pattern {
        Pattern::lazy(source, false, usize::MAX)
    }

    fn required(source: &str) -> Option<Vec<String>> {
        literals::required_for(source, false).map(|lits| {
            let mut v: Vec<String> = lits
                .iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            v.sort();
            v
        })
    }

    #[test]
    fn required_literals_are_prefixes_else_suffixes_else_none() {
        assert_eq!(
            required("Invalid token|无效的令牌"),
            Some(vec!["Invalid token".into(), "无效的令牌".into()])
        );
        // `^\s*` has no short list of beginnings; every match ends with the key prefix.
        assert_eq!(
            required(r#"^\s*["']?sk-ant-"#),
            Some(vec!["sk-ant-".into()])
        );
        assert_eq!(required(r"[a-z]+\d+"), None);
        assert_eq!(required(r".*"), None);
        // An optional part makes the empty literal possible: no help.
        assert_eq!(required(r"(abc)?"), None);
    }

    #[test]
    fn a_pattern_is_built_only_when_a_text_could_match_it() {
        let p = lazy(r"No available channel for model (\S+)");
        assert!(!p.is_match("Incorrect API key provided"));
        assert!(!p.is_built(), "no text held the literal");
        assert!(
            !p.is_match("No available channel for model "),
            "literal, no match"
        );
        assert!(p.is_built());
        assert!(p.is_match("No available channel for model gpt-4o under group default"));
        assert_eq!(
            p.group("No available channel for model gpt-4o", false),
            Some("gpt-4o")
        );
        assert!(!p.is_fully_built(), "short texts: the quick build");
        // Searched often, it gets its full build, which answers the same: after 64
        // texts and 16 KB (many short texts alone do not make it).
        let short = "No available channel for model x";
        for _ in 0..crate::two_stage::QUICK_SEARCHES * 2 {
            assert!(p.is_match(short));
        }
        assert!(!p.is_fully_built(), "many texts, few bytes");
        let longer = format!("{short} {}", "y".repeat(1000));
        for _ in 0..crate::two_stage::QUICK_BYTES / 1000 {
            assert!(p.is_match(&longer));
        }
        assert!(p.is_fully_built());
        assert_eq!(
            p.group("No available channel for model gpt-4o", false),
            Some("gpt-4o")
        );
        // A long text gets the full build at once.
        let p = lazy(r"No available channel for model (?P<value>\S+)");
        let long = format!(
            "{} No available channel for model m1",
            "x".repeat(crate::two_stage::QUICK_TEXT_BYTES)
        );
        assert_eq!(p.group(&long, true), Some("m1"));
        assert!(p.is_fully_built());

        // Texts long enough to be searched with prepared searchers are ruled out, or
        // not, the same way.
        let p = lazy(r"quota (exhausted|used up)");
        let padding = "x".repeat(SEARCHER_TEXT_BYTES);
        assert!(!p.is_match(&format!("{padding} Rate limit reached")));
        assert!(!p.is_built(), "ruled out by its literals");
        assert!(p.is_match(&format!("{padding} quota used up")));
        assert!(p.is_built());

        // Asked often without a hit (a bulk run), it is built anyway.
        let p = lazy(r"quota (exhausted|used up)");
        for _ in 0..BUILD_AFTER_RULED_OUT {
            assert!(!p.is_match("Rate limit reached"));
        }
        assert!(!p.is_built());
        assert!(!p.is_match("Rate limit reached"));
        assert!(p.is_fully_built(), "no more literal searches");
        assert!(p.is_match("quota used up"));

        // Without a short literal list, the first use builds it.
        let p = lazy(r"[a-z]+\d+");
        assert!(!p.is_built());
        assert!(p.is_match("abc1"));
        assert!(p.is_built());
    }

    /// Every pattern of the default rulebook, on every line of every fixture: when the
    /// regex matches, the text holds one of its required literals (no match is lost
    /// by not building the regex), and the quick build finds what the full one finds.
    #[test]
    fn required_literals_never_rule_out_a_match() {
        fn patterns(v: &Json, out: &mut Vec<(String, bool)>) {
            match v {
                Json::Object(map) => {
                    let ignore_case = map.get("ignore_case") == Some(&Json::Bool(true));
                    for (k, v) in map {
                        match (k.as_str(), v) {
                            ("matches" | "extract", Json::String(p)) => {
                                out.push((p.clone(), ignore_case))
                            }
                            _ => patterns(v, out),
                        }
                    }
                }
                Json::Array(items) => items.iter().for_each(|v| patterns(v, out)),
                _ => {}
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let rulebook = std::fs::read_to_string(root.join("rules/moleapi.yaml")).unwrap();
        let rulebook = crate::yaml::parse(&rulebook, Default::default()).unwrap();
        let mut found = Vec::new();
        patterns(&rulebook.to_json(), &mut found);
        assert!(found.len() > 40, "{} patterns", found.len());

        let mut texts = Vec::new();
        let mut dirs = vec![root.join("tests/fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.extend(text.lines().map(str::to_owned));
                    texts.push(text);
                }
            }
        }

        let mut matched = 0;
        for (source, ignore_case) in &found {
            // The quick build answers as the full one, groups included.
            let quick = crate::two_stage::quick_build(source, *ignore_case, usize::MAX).unwrap();
            let full = regex::RegexBuilder::new(source)
                .case_insensitive(*ignore_case)
                .build()
                .unwrap();
            for text in &texts {
                assert_eq!(
                    quick.is_match(text),
                    full.is_match(text),
                    "{source} on {text:?}"
                );
                let mut groups = quick.create_captures();
                quick.captures(text.as_str(), &mut groups);
                let spans: Vec<_> = (0..groups.group_len())
                    .map(|i| groups.get_group(i).map(|s| s.range()))
                    .collect();
                let expected: Vec<_> = full
                    .captures(text)
                    .map(|c| c.iter().map(|m| m.map(|m| m.range())).collect())
                    .unwrap_or_else(|| vec![None; spans.len()]);
                assert_eq!(spans, expected, "{source} on {text:?}");
            }
            // build.rs worked out the same literals for it, so start-up needs no parse.
            let frozen = crate::rulebook::frozen_literals(source, *ignore_case)
                .unwrap_or_else(|| panic!("{source} is not in DEFAULT_RULEBOOK_LITERALS"));
            let required = literals::required_for(source, *ignore_case);
            assert_eq!(frozen, required, "{source}");
            let Some(required) = required else {
                continue;
            };
            let re = regex::RegexBuilder::new(source)
                .case_insensitive(*ignore_case)
                .build()
                .unwrap();
            for text in texts.iter().filter(|t| re.is_match(t)) {
                matched += 1;
                assert!(
                    required
                        .iter()
                        .any(|l| memchr::memmem::find(text.as_bytes(), l).is_some()),
                    "{source} matches {text:?} but no required literal is in it"
                );
            }
        }
        assert!(
            matched > 100,
            "only {matched} matches: the check proves little"
        );
    }
}
