//! `words:`: the rulebook's vocabulary. Each word is a thing gateway errors name (a
//! key, a model, a balance) or what they say about it (disabled, not enough), as the
//! alternatives gateways use in English and Chinese. `mentions: [key, disabled]` reads a
//! message by its meaning rather than by one build's sentence.

use super::*;
use crate::rulebook::condition::Word;

pub(super) fn compile_words(cx: &mut Ctx<'_>, root: &Node) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let Some(node) = root.get("words") else {
        return out;
    };
    let Some(entries) = node.as_map() else {
        cx.error(
            Code::WrongType,
            node.pos,
            "`words` must be a mapping of word to its alternatives",
            "write `key: [token, api key, 令牌, 密钥]`",
        );
        return out;
    };
    for (k, v) in entries {
        let name = k.key_text().unwrap_or_default().into_owned();
        if !valid_name(&name) {
            cx.error(
                Code::NotAllowed,
                k.pos,
                format!("`{name}` is not allowed as a word's name"),
                "use letters, digits and `_`, e.g. `not_enough`",
            );
            continue;
        }
        let Value::Seq(items) = &v.value else {
            cx.error(
                Code::WrongType,
                v.pos,
                format!("the word `{name}` must list its alternatives"),
                "write `key: [token, api key, 令牌]`",
            );
            continue;
        };
        let mut alternatives = Vec::new();
        for item in items {
            if let Some(alt) = cx.string(item, "an alternative of a word") {
                alternatives.push(bounded(alt));
            }
        }
        if alternatives.is_empty() {
            cx.error(
                Code::WrongType,
                v.pos,
                format!("the word `{name}` has no alternatives"),
                "list at least one",
            );
            continue;
        }
        let pattern = alternatives.join("|");
        if let Some(pattern) = compile_regex(cx, &pattern, v, true) {
            out.push(Word { name, pattern });
        }
    }
    out
}

/// An alternative that begins or ends with an ASCII letter or digit matches only at a
/// word boundary there (`token` is not `tokens`); Chinese has no spaces, so its
/// alternatives match anywhere.
fn bounded(alternative: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    // ASCII word boundaries: what "whole words" means for English next to Chinese
    // (CJK characters are word characters to a Unicode boundary, so "该API Key" would
    // hold none), and what the regex crate's DFA runs (a Unicode boundary sends the
    // search to its slower engines).
    let boundary = r"(?-u:\b)";
    let start = if word(alternative.chars().next()) {
        boundary
    } else {
        ""
    };
    let end = if word(alternative.chars().last()) {
        boundary
    } else {
        ""
    };
    format!("{start}(?:{}){end}", ascii_boundaries(alternative))
}

/// The alternative with each `\b` and `\B` made an ASCII word boundary, like the ones
/// [`bounded`] puts around it: the same meaning of "whole word" inside an alternative
/// as at its ends, and a search the regex crate's DFA runs on Chinese text (a Unicode
/// boundary sends it to the slow engine there: 150 times slower for `missing`'s
/// `no\b.{0,20}\b(provided|given)` on a Chinese message).
fn ascii_boundaries(alternative: &str) -> std::borrow::Cow<'_, str> {
    if !alternative.contains("\\b") && !alternative.contains("\\B") {
        return std::borrow::Cow::Borrowed(alternative);
    }
    let mut out = String::with_capacity(alternative.len() + 16);
    let mut chars = alternative.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(b @ ('b' | 'B')) => {
                out.push_str("(?-u:\\");
                out.push(b);
                out.push(')');
            }
            // Any other escape (`\\`, `\.`, `\d`) is kept as it is, whole.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The words a `mentions:` list names, each known; an unknown one is reported with
/// the closest name.
pub(super) fn mentioned_words(cx: &mut Ctx<'_>, node: &Node) -> Option<Vec<Word>> {
    let names: Vec<(&str, Pos)> = match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(|s| (s, i.pos)))
            .collect(),
        Value::Str(s) => vec![(s.as_str(), node.pos)],
        _ => Vec::new(),
    };
    if names.is_empty() {
        cx.error(
            Code::WrongType,
            node.pos,
            "`mentions` takes a list of words declared under `words:`",
            "write `mentions: [key, disabled]`",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (name, pos) in names {
        match cx.words.iter().find(|w| w.name == name) {
            Some(w) => out.push(w.clone()),
            None => {
                let help = match suggest(name, cx.words.iter().map(|w| w.name.as_str())) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "declare it under `words:` first".to_owned(),
                };
                cx.error(
                    Code::UnknownWord,
                    pos,
                    format!("`mentions` names `{name}`, which is not a declared word"),
                    help,
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

#[cfg(test)]
mod tests {
    use crate::capture::Capture;
    use crate::rulebook::{LoadOptions, RuleSet, load_str};

    /// A rule that fires when one sentence of the error message names a key and says
    /// it is disabled.
    fn set() -> RuleSet {
        let text = "format: rulecheck/v1\nname: t\nversion: 1.0.0\n\
            categories: [{id: c, title: C}]\n\
            words:\n  key: ['api[ _-]?key', token, 令牌, 密钥]\n  disabled: [disabled, banned, 禁用, 封禁]\n\
            rules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n\
            \x20   when: { error.message: { mentions: [key, disabled] } }\n    message: m\n";
        RuleSet::new(vec![
            load_str("t.yaml", text, &LoadOptions::default()).unwrap_or_else(|d| panic!("{d:#?}")),
        ])
        .unwrap()
    }

    fn fires(set: &RuleSet, message: &str) -> bool {
        let c: Capture = serde_json::from_value(serde_json::json!({
            "response": {"status": 403, "body": {"error": {"message": message}}}
        }))
        .unwrap();
        crate::evaluate::matching_rule_ids(set, &c) == ["r"]
    }

    #[test]
    fn mentions_reads_any_order_and_wording_within_one_sentence() {
        let set = set();
        for yes in [
            "This API key has been disabled by its owner",
            "Disabled: the token you sent",
            "token status: DISABLED (request id: 2026)",
            "该令牌已被禁用",
            "您的密钥因违规已被封禁。请联系客服",
            "Request failed. The api_key was banned; contact support",
            // An English word right against Chinese text is still a whole word.
            "该API Key已被禁用",
            "token已封禁",
        ] {
            assert!(fires(&set, yes), "{yes}");
        }
        for no in [
            // Whole words only: `tokens` is not a key, `undisabled` not `disabled`.
            "Too many tokens: the limit is disabled for this model",
            "The token is undisabled",
            // The two words in different sentences say nothing about each other.
            "Your token is valid. The model gpt-4 is disabled.",
            "令牌有效。该模型已禁用",
            // A version number's dot does not end a sentence, a ". " does.
            "token for gpt-4.5 is fine. channel disabled",
            "",
        ] {
            assert!(!fires(&set, no), "{no}");
        }
    }

    /// A `\b` inside an alternative is a whole-word boundary as at its ends: English
    /// letters and digits against Chinese text (or a space) end a word; `\\b` is a
    /// backslash and a `b`, left alone.
    #[test]
    fn a_boundary_inside_an_alternative_is_a_whole_word_boundary() {
        assert_eq!(
            super::ascii_boundaries(r"no\b.{0,20}\b(x)"),
            r"no(?-u:\b).{0,20}(?-u:\b)(x)"
        );
        assert_eq!(super::ascii_boundaries(r"a\Bb"), r"a(?-u:\B)b");
        assert_eq!(super::ascii_boundaries(r"c:\\bin\.\d"), r"c:\\bin\.\d");
        let text = "format: rulecheck/v1\nname: t\nversion: 1.0.0\n\
            categories: [{id: c, title: C}]\n\
            words:\n  missing: ['no\\b.{0,20}\\b(provided|given)']\n\
            rules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n\
            \x20   when: { error.message: { mentions: [missing] } }\n    message: m\n";
        let set = RuleSet::new(vec![
            load_str("t.yaml", text, &LoadOptions::default()).unwrap_or_else(|d| panic!("{d:#?}")),
        ])
        .unwrap();
        for yes in [
            "no key was provided",
            "请求无效：no令牌provided",
            "No API key given (request id: 2026)",
        ] {
            assert!(fires(&set, yes), "{yes}");
        }
        for no in ["nokey provided", "I know key provided", "key provided"] {
            assert!(!fires(&set, no), "{no}");
        }
    }

    #[test]
    fn an_unknown_word_is_refused_with_the_closest_name() {
        let text = "format: rulecheck/v1\nname: t\nversion: 1.0.0\n\
            categories: [{id: c, title: C}]\n\
            words:\n  disabled: [disabled]\n\
            rules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n\
            \x20   when: { error.message: { mentions: [disabld] } }\n    message: m\n";
        let errors = load_str("t.yaml", text, &LoadOptions::default()).unwrap_err();
        assert!(
            errors.iter().any(|d| d.code.id() == "RC026"
                && d.message.contains("`disabld`")
                && d.line == Some(12)
                && d.help
                    .as_deref()
                    .is_some_and(|h| h.contains("did you mean `disabled`?"))),
            "{errors:#?}"
        );
    }
}
