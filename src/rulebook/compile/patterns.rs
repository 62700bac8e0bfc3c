//! Patterns: compiled with the limits of `rulecheck limits`, errors pointed at the spot.

use super::*;
use crate::rulebook::pattern::{Pattern, PatternError};

/// A `matches:`, `words:` or `extract:` pattern, compiled now so a bad one is reported
/// at load, the same for every rulebook.
pub(super) fn compile_regex(
    cx: &mut Ctx<'_>,
    pattern: &str,
    node: &Node,
    ignore_case: bool,
) -> Option<Pattern> {
    // Once the patterns' budget ran out (said once, at the first), no more are built.
    if cx.regex_budget_spent {
        return None;
    }
    let built = Pattern::new(pattern, ignore_case, cx.regex_bytes);
    // Every pattern is charged to the budget of all the rulebook's patterns, one found
    // over `regex-bytes` included (finding out is work): a rulebook of thousands of
    // patterns each just under the limit is refused before it holds gigabytes.
    if !charge(cx, pattern, ignore_case, built.is_ok()) {
        let total = cx.regex_total_bytes;
        cx.error(
            Code::OverLimit,
            offset_pos(cx.source, node.pos, 0),
            format!(
                "the rulebook's patterns compile to more than {total} bytes together (regex-total-bytes); this pattern and the ones after it were not compiled"
            ),
            "use fewer or smaller patterns (a counted repetition of a Unicode class, such as \\w{20}, compiles to about a third of a megabyte; [A-Za-z0-9_]{20} to a few kilobytes), or raise the limit with --limit regex-total-bytes=N",
        );
        cx.regex_budget_spent = true;
        return None;
    }
    let e = match built {
        Ok(compiled) => return Some(compiled),
        Err(e) => e,
    };
    // regex-syntax knows where in the pattern the problem is.
    let (offset, reason) = match &e {
        PatternError::Syntax(syntax) => match syntax.as_ref() {
            regex_syntax::Error::Parse(p) => (p.span().start.offset, p.kind().to_string()),
            regex_syntax::Error::Translate(t) => (t.span().start.offset, t.kind().to_string()),
            other => (0, other.to_string()),
        },
        PatternError::TooBig(limit) => (
            0,
            format!("it compiles to more than {limit} bytes (regex-bytes)"),
        ),
        PatternError::Other(message) => (0, message.clone()),
    };
    let char_offset = pattern
        .get(..offset)
        .map(|p| p.chars().count())
        .unwrap_or(0);
    let mut help = String::from("the regex crate's syntax has no look-around or back-references");
    if reason.contains("look-around") || pattern.contains("(?=") || pattern.contains("(?!") {
        help = "look-ahead/look-behind are not supported: match the text itself, or use `not:` around a second test".into();
    } else if pattern.contains("\\1") || reason.contains("backreference") {
        help = "back-references are not supported: spell out the alternatives".into();
    } else if matches!(e, PatternError::TooBig(_)) {
        help = "the pattern compiles too large: simplify it, split it into several tests, or raise the limit with --limit regex-bytes=N".into();
    }
    let pos = offset_pos(cx.source, node.pos, char_offset);
    cx.error(
        Code::BadRegex,
        pos,
        format!("the regex does not compile: {reason}"),
        help,
    );
    None
}

/// Charges a built pattern (or one refused as over `regex-bytes`) to the budget;
/// `false` when the budget is spent. A pattern that cannot grow past its text is
/// charged a bound; any other is charged `regex-bytes` until the charges pass the
/// budget, and only then measured (a second compile), so the usual rulebook, well
/// within its budget, compiles each pattern once.
fn charge(cx: &mut Ctx<'_>, pattern: &str, ignore_case: bool, built: bool) -> bool {
    let charged = match bounded_size(pattern) {
        Some(bound) if built => bound,
        _ => {
            if built {
                cx.regex_unmeasured.push((pattern.to_owned(), ignore_case));
            }
            cx.regex_bytes
        }
    };
    cx.regex_charged = cx.regex_charged.saturating_add(charged);
    if cx.regex_charged > cx.regex_total_bytes {
        for (pattern, ignore_case) in std::mem::take(&mut cx.regex_unmeasured) {
            let size =
                compiled_size(&pattern, ignore_case, cx.regex_bytes).unwrap_or(cx.regex_bytes);
            cx.regex_charged = cx
                .regex_charged
                .saturating_sub(cx.regex_bytes)
                .saturating_add(size);
        }
    }
    cx.regex_charged <= cx.regex_total_bytes
}

/// A bound on the compiled size of a pattern that cannot grow much past its text:
/// no counted repetition (`{n}`) and no large Unicode class (`\w`, `\d`, `\p{…}` and
/// their negations), so each character compiles to a few states at most (case
/// folding, `.` and `\s` in UTF-8 included). Measuring takes a second compile; most
/// patterns are of this kind, and are charged this bound instead.
fn bounded_size(pattern: &str) -> Option<usize> {
    // Measured on the built-in rulebook's patterns: at most about 700 bytes and 100
    // bytes a character (a short pattern's fixed part is most of it).
    const BASE: usize = 1024;
    const PER_CHAR: usize = 160;
    let grows = pattern.contains('{')
        || ["\\w", "\\W", "\\d", "\\D", "\\p", "\\P"]
            .iter()
            .any(|c| pattern.contains(c));
    (!grows && pattern.len() <= 4096).then(|| BASE + pattern.len().saturating_mul(PER_CHAR))
}

/// The compiled size of a pattern as `regex-bytes` measures it (the regex engine's
/// forward NFA), built no further than `limit`: `Err(Some(limit))` when it is over,
/// `Err(None)` when the pattern does not parse.
fn compiled_size(pattern: &str, ignore_case: bool, limit: usize) -> Result<usize, Option<usize>> {
    use regex_automata::nfa::thompson;
    thompson::Compiler::new()
        .syntax(regex_automata::util::syntax::Config::new().case_insensitive(ignore_case))
        .configure(thompson::Config::new().nfa_size_limit(Some(limit)))
        .build(pattern)
        .map(|nfa| nfa.memory_usage())
        .map_err(|e| e.size_limit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound a pattern is charged without a second compile is a bound: over what
    /// the regex engine's NFA takes, for patterns that can and cannot grow with folding.
    #[test]
    fn the_charged_bound_is_over_the_measured_size() {
        for pattern in [
            "quota",
            "(?i)invalid\\s+token",
            "(?i)(?-u:\\b)(?:quota|balance|credit|余额|额度)(?-u:\\b)",
            "^.*$",
            "(?i)[a-z]+[^\\s]*k",
            "(?s).+?ſ",
        ] {
            for ignore_case in [false, true] {
                let bound = bounded_size(pattern).unwrap();
                let measured = compiled_size(pattern, ignore_case, usize::MAX).unwrap();
                assert!(measured <= bound, "{pattern}: {measured} > {bound}");
            }
        }
        assert_eq!(bounded_size("\\w{19}"), None);
        assert_eq!(bounded_size("[0-9]{3}"), None);
    }
}
