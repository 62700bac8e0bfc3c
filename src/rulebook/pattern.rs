//! A rule author's pattern (`matches:`, `words:`, `extract:`), compiled for what a
//! rulebook does with it: test short texts (a message, a key, a path) over and over, on
//! every worker of a bulk run.
//!
//! The regex crate's defaults suit one pattern over a long text. A rulebook holds about
//! a hundred patterns, each with a cache on each thread of a bulk run, and tests them on
//! short texts. Two of the engine's parts are left out here, for memory and start-up
//! that buy little on short texts (measured on the built-in rulebook, docs/performance.md):
//!
//! - the one-pass DFA: it only speeds up capture groups in anchored patterns, which only
//!   `extract:` asks for, once a capture (the backtracker does it as well). It held
//!   0.55 MB of the built-in rulebook's 3.2 MB of patterns.
//! - the literal prefilter of a case-insensitive pattern (every `words:` word, and
//!   `ignore_case: true`): each letter of each literal doubles the literals, so a list
//!   of words has hundreds, found by a costly extraction at load (a third of start-up)
//!   and searched by a prefilter of 20 to 85 KB a pattern. On short messages the
//!   engine's own DFA does without: the bench's captures cost 2% more instructions,
//!   against a third less start-up and 1.2 MB less in a bulk run. Case-sensitive
//!   patterns keep their prefilter: it is what makes a rare literal cheap to look for
//!   in a long body.
//!
//! Matching is the regex crate's: the same engines (`regex-automata`'s meta regex, which
//! `regex::Regex` wraps), the same syntax and the same leftmost-first matches.

use std::sync::Arc;

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{MatchKind, PatternID};

/// A compiled pattern and its text. A clone shares both (a rule's words are clones of
/// the vocabulary's).
#[derive(Clone, Debug)]
pub struct Pattern {
    source: Arc<str>,
    regex: Regex,
}

/// Why a pattern did not compile.
#[derive(Debug)]
pub enum PatternError {
    /// Not valid syntax: regex-syntax's error, which knows where in the pattern.
    Syntax(Box<regex_syntax::Error>),
    /// It compiles to more than this many bytes (`regex-bytes`).
    TooBig(usize),
    /// Anything else the regex engine refused, as it says it.
    Other(String),
}

impl Pattern {
    /// Compiles `source` (ASCII and Unicode case folded when `ignore_case`), refusing
    /// one whose NFA would pass `size_limit` bytes.
    pub fn new(
        source: &str,
        ignore_case: bool,
        size_limit: usize,
    ) -> Result<Pattern, PatternError> {
        let syntax = syntax::Config::new().case_insensitive(ignore_case);
        let hir =
            syntax::parse_with(source, &syntax).map_err(|e| PatternError::Syntax(Box::new(e)))?;
        // What is left out, and why: the module's doc.
        let config = meta::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .nfa_size_limit(Some(size_limit))
            .onepass(false)
            .auto_prefilter(!ignore_case);
        let regex = meta::Builder::new()
            .configure(config)
            .build_from_hir(&hir)
            .map_err(|e| match e.size_limit() {
                Some(limit) => PatternError::TooBig(limit),
                None => PatternError::Other(e.to_string()),
            })?;
        Ok(Pattern {
            source: source.into(),
            regex,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The heap the compiled pattern holds, caches not counted: what leaving engines
    /// out saves is measured by it.
    pub fn memory_usage(&self) -> usize {
        self.regex.memory_usage()
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    /// How many capture groups the pattern has (the whole match not counted).
    pub fn group_count(&self) -> usize {
        self.regex
            .group_info()
            .group_len(PatternID::ZERO)
            .saturating_sub(1)
    }

    /// Whether the pattern has a capture group of this name.
    pub fn has_group(&self, name: &str) -> bool {
        self.regex
            .group_info()
            .to_index(PatternID::ZERO, name)
            .is_some()
    }

    /// The text of a capture group in the first match in `text`: the group named
    /// `name`, or the first group when `name` is `None`. `None` when the pattern does
    /// not match or the group took no part in the match.
    pub fn group<'t>(&self, text: &'t str, name: Option<&str>) -> Option<&'t str> {
        let mut captures = self.regex.create_captures();
        self.regex.captures(text, &mut captures);
        let span = match name {
            Some(name) => captures.get_group_by_name(name),
            None => captures.get_group(1),
        }?;
        text.get(span.range())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::numbers_below;

    /// Patterns of the kinds rulebooks hold: words at ASCII boundaries in English and
    /// Chinese (as `words:` builds them), anchors, Unicode classes, counted repetition,
    /// optional and named groups.
    const PATTERNS: &[&str] = &[
        r"(?-u:\b)(?:invalid)(?-u:\b)|(?-u:\b)(?:expired)(?-u:\b)|(?-u:\b)(?:not found)(?-u:\b)|(?:无效)|(?:过期)",
        r"(?-u:\b)(?:api[ _-]?key)(?-u:\b)|(?-u:\b)(?:token)(?-u:\b)|(?:令牌)|(?:密钥)",
        r"(?-u:\b)(?:too (quickly|fast|frequent(ly)?))|(?-u:\b)(?:per (minute|min|second))|(?:频繁)",
        r"expected\b.{0,40}\b(an? )?(string|number)|必须是(整数|数字)",
        r"^sk-[A-Za-z0-9]{1,47}$",
        r"^(sk-(proj|ant)-|AIza|gsk_)",
        r"^\s|\s$",
        r"Invalid token|无效的令牌",
        r"model `?([\w.-]+)`? (does not exist|not found)",
        r"(?P<value>[a-z]+-\d+(\.\d+)?)",
        r"request id: ([0-9A-Za-z]{16,64})\)",
        r"^Overloaded$|do request failed|上游",
    ];

    /// Pieces the texts are made of: the patterns' words in other cases, their near
    /// misses, Chinese, digits, spaces and punctuation.
    const PIECES: &[&str] = &[
        "Invalid",
        "INVALID",
        "invalidated",
        "token",
        "Tokens",
        "api key",
        "API_KEY",
        "apikey",
        "expired",
        "not  found",
        "not found",
        "无效",
        "令牌",
        "过期",
        "频繁",
        "上游",
        "sk-",
        "sk-proj-",
        "AIza",
        "abc123",
        "XYZ",
        "too quickly",
        "too fast",
        "per minute",
        "expected",
        " a ",
        "an ",
        "string",
        "number",
        "必须是",
        "整数",
        "model ",
        "`gpt-4.5`",
        "does not exist",
        "request id: ",
        "20250423020142736330894dLoIRrS6",
        ")",
        ". ",
        "；",
        "\n",
        " ",
        "é",
        "Overloaded",
        "do request failed",
        "-",
        "_",
        "0",
        "9",
    ];

    /// With engines left out, a pattern still matches exactly as the regex crate's
    /// `Regex` does: the same texts, the same capture groups, case folded or not.
    #[test]
    fn matches_as_the_regex_crate_does() {
        let mut next = numbers_below(0x2545_f491_4f6c_dd1d);
        let texts: Vec<String> = (0..3000)
            .map(|_| {
                (0..next(9))
                    .map(|_| PIECES[next(PIECES.len())])
                    .collect::<String>()
            })
            .collect();
        let mut matched = 0;
        for source in PATTERNS {
            for ignore_case in [false, true] {
                let ours = Pattern::new(source, ignore_case, 1 << 22).unwrap();
                let theirs = regex::RegexBuilder::new(source)
                    .case_insensitive(ignore_case)
                    .build()
                    .unwrap();
                assert_eq!(ours.group_count(), theirs.captures_len() - 1, "{source}");
                let named = theirs.capture_names().any(|n| n == Some("value"));
                assert_eq!(ours.has_group("value"), named, "{source}");
                for text in &texts {
                    let is_match = theirs.is_match(text);
                    assert_eq!(ours.is_match(text), is_match, "{source} on {text:?}");
                    matched += usize::from(is_match);
                    let group = theirs.captures(text).and_then(|c| {
                        if named { c.name("value") } else { c.get(1) }.map(|m| m.as_str())
                    });
                    let name = named.then_some("value");
                    assert_eq!(ours.group(text, name), group, "{source} on {text:?}");
                }
            }
        }
        // The texts exercise both answers (a generator that never matched would prove
        // nothing).
        let tried = PATTERNS.len() * 2 * texts.len();
        assert!(
            matched > tried / 20 && matched < tried / 2,
            "{matched} of {tried}"
        );
    }

    /// A case-insensitive list of words (what `words:` compiles to) has hundreds of
    /// literal prefixes: it is built without their prefilter, at a fraction of the
    /// memory the engine's defaults take. An anchored pattern is built without its
    /// one-pass DFA. A case-sensitive, unanchored pattern keeps its prefilter, and
    /// costs what the defaults cost.
    #[test]
    fn only_what_costs_memory_and_start_up_is_left_out() {
        let defaults = |source: &str, ignore_case: bool| {
            Regex::builder()
                .syntax(syntax::Config::new().case_insensitive(ignore_case))
                .build(source)
                .unwrap()
                .memory_usage()
        };
        let words = PATTERNS[0];
        let ours = Pattern::new(words, true, 1 << 22).unwrap().memory_usage();
        assert!(
            ours * 3 < defaults(words, true),
            "{ours} against {}",
            defaults(words, true)
        );
        // An anchored pattern with groups would also get a one-pass DFA.
        let anchored = r"^(sk-(proj|ant)-|AIza|gsk_)([A-Za-z0-9]+)$";
        let ours = Pattern::new(anchored, false, 1 << 22)
            .unwrap()
            .memory_usage();
        assert!(ours < defaults(anchored, false), "{ours}");
        let rare = "quota is not enough|用户额度不足";
        let ours = Pattern::new(rare, false, 1 << 22).unwrap().memory_usage();
        assert_eq!(ours, defaults(rare, false));
    }
}
