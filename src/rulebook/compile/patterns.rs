//! Patterns: compiled with the limits of `rulecheck limits`, errors pointed at the spot.

use super::*;

/// A `matches:` or `extract:` pattern, compiled now so a bad one is reported at load,
/// the same for every rulebook.
pub(super) fn compile_regex(
    cx: &mut Ctx<'_>,
    pattern: &str,
    node: &Node,
    ignore_case: bool,
) -> Option<regex::Regex> {
    match RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(cx.regex_bytes)
        .build()
    {
        Ok(re) => Some(re),
        Err(e) => {
            // regex-syntax knows where in the pattern the problem is.
            let (offset, reason) = match regex_syntax::Parser::new().parse(pattern) {
                Err(regex_syntax::Error::Parse(p)) => (p.span().start.offset, p.kind().to_string()),
                Err(regex_syntax::Error::Translate(t)) => {
                    (t.span().start.offset, t.kind().to_string())
                }
                _ => (
                    0,
                    e.to_string().lines().last().unwrap_or("").trim().to_owned(),
                ),
            };
            let char_offset = pattern
                .get(..offset)
                .map(|p| p.chars().count())
                .unwrap_or(0);
            let mut help =
                String::from("the regex crate's syntax has no look-around or back-references");
            if reason.contains("look-around") || pattern.contains("(?=") || pattern.contains("(?!")
            {
                help = "look-ahead/look-behind are not supported: match the text itself, or use `not:` around a second test".into();
            } else if pattern.contains("\\1") || reason.contains("backreference") {
                help = "back-references are not supported: spell out the alternatives".into();
            } else if reason.contains("size limit") || e.to_string().contains("size limit") {
                help = "the pattern compiles too large: simplify it or split it into several tests"
                    .into();
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
    }
}
