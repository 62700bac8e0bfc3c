//! Compiled conditions: a tree of `all` / `any` / `not` / named references over
//! fact tests. Each test applies one or more operators to one fact; all must hold.
//!
//! A fact the capture does not hold makes every operator false except
//! `exists: false`, which is true. Nothing here errors at run time.

use serde_json::Value as Json;

use crate::facts::{Fact, FactValue};
use crate::rulebook::Pattern;
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
    "mentions",
    "ignore_case",
];

/// The JSON types `type:` accepts.
pub const TYPES: &[&str] = &["string", "number", "boolean", "array", "object", "null"];

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
    /// One sentence of the text names every one of these words (`words:`), in any
    /// order: what a message means, whatever its wording.
    Mentions(Vec<Word>),
}

/// A word of the rulebook's vocabulary (`words:`): a thing errors name, or what they
/// say about it, as the alternatives gateways use for it.
#[derive(Clone, Debug)]
pub struct Word {
    pub name: String,
    pub pattern: Pattern,
}

/// Where sentences end, in English and Chinese: `. `, `! `, `? `, `; `, `。`, `！`, `？`,
/// `；` and line breaks. A version number (`gpt-4.5`) has no space after its dot.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
            let ends = matches!(c, '。' | '！' | '？' | '；' | '\n')
                || (matches!(c, '.' | '!' | '?' | ';') && next_is_space);
            if ends {
                let (sentence, tail) = rest.split_at_checked(i + c.len_utf8())?;
                rest = tail;
                return Some(sentence);
            }
        }
        Some(std::mem::take(&mut rest))
    })
}

impl Op {
    /// Whether the operator needs no more of a value than its JSON type (`type:`,
    /// `exists:`): a body's member can then be typed without being parsed.
    pub fn needs_only_type(&self) -> bool {
        matches!(self, Op::Type(_) | Op::Exists(_))
    }

    /// [`Op::holds`] for an operator that [needs only the type](Op::needs_only_type),
    /// given the value's JSON type (`None`: the fact is absent).
    pub fn holds_for_type(&self, json_type: Option<&str>) -> bool {
        match (self, json_type) {
            (Op::Exists(want), t) => t.is_some() == *want,
            (Op::Type(types), Some(t)) => types.iter().any(|want| want == t),
            _ => false,
        }
    }

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
            Op::Type(types) => types.iter().any(|t| t == value.json_type()),
            Op::Mentions(words) => {
                let t = text(value);
                // Most messages lack one of the words anywhere: one search each says so
                // before the text is cut into sentences.
                words.iter().all(|w| w.pattern.is_match(&t))
                    && sentences(&t).any(|s| words.iter().all(|w| w.pattern.is_match(s)))
            }
        }
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

    /// Given only the value's type, `type:` and `exists:` answer as given the value.
    #[test]
    fn type_and_exists_answer_alike_from_the_type_alone() {
        let json = [
            Json::Null,
            serde_json::json!([1]),
            serde_json::json!({"a": 1}),
            serde_json::json!("s"),
            serde_json::json!(1.5),
        ];
        let values = [
            None,
            Some(FactValue::Str("x".into())),
            Some(FactValue::Int(3)),
            Some(FactValue::Bool(false)),
            Some(FactValue::Json(&json[0])),
            Some(FactValue::Json(&json[1])),
            Some(FactValue::Json(&json[2])),
            Some(FactValue::Json(&json[3])),
            Some(FactValue::Json(&json[4])),
        ];
        let types = ["string", "number", "boolean", "null", "array", "object"];
        let mut ops = vec![Op::Exists(true), Op::Exists(false)];
        for (i, t) in types.iter().enumerate() {
            ops.push(Op::Type(vec![(*t).to_owned()]));
            ops.push(Op::Type(vec![
                (*t).to_owned(),
                types[(i + 2) % 6].to_owned(),
            ]));
        }
        for op in &ops {
            assert!(op.needs_only_type());
            for v in &values {
                let json_type = v.as_ref().map(FactValue::json_type);
                assert_eq!(
                    op.holds_for_type(json_type),
                    op.holds(v.as_ref(), false),
                    "{op:?} {v:?}"
                );
            }
        }
        assert!(!Op::Matches(pattern("x")).needs_only_type());
    }
    use serde_json::json;
    use std::borrow::Cow;

    fn pattern(source: &str) -> Pattern {
        Pattern::new(source, false, 1 << 20).unwrap()
    }

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
            Op::Matches(pattern(".*")),
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
        assert!(Op::Matches(pattern(r"^Bearer\s+sk-")).holds(Some(&v), false));
        assert!(!Op::Matches(pattern(r"^sk-")).holds(Some(&v), false));
        assert!(Op::Matches(pattern(r"^4\d\d$")).holds(Some(&FactValue::Int(404)), false));
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
}
