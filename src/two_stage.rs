//! Regexes built in two stages, so a one-capture run pays little to build them and a
//! bulk run searches fast.
//!
//! Building a regex with all of the regex crate's engines (the lazy DFA needs the
//! pattern's reverse NFA too) costs as much as thousands of searches. A one-capture
//! run searches each pattern a few times, on short texts: for those, the pattern is
//! built with only its NFA, searched by the bounded backtracker or the PikeVM — a
//! quarter to two thirds of the cost. A long text, or a pattern searched often (a bulk
//! run: 64 texts and 16 KB at least), gets the full build. Both answer the same
//! (leftmost-first, UTF-8, the same groups); the suite checks it for every built-in
//! pattern on every fixture line.

use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

use regex::Regex;
use regex_automata::meta;

/// Texts up to this long are searched with the quick build (the backtracker's cost
/// grows with the text; the full build's lazy DFA does not).
pub const QUICK_TEXT_BYTES: usize = 4096;

/// After this many searches with the quick build, and [`QUICK_BYTES`] searched, a
/// pattern gets its full build: by then its slower searches have cost about what the
/// full build does. (A traceback of a few hundred short lines stays quick.)
pub const QUICK_SEARCHES: u32 = 64;

/// See [`QUICK_SEARCHES`].
pub const QUICK_BYTES: usize = 16 << 10;

/// A pattern's builds, each made on first need.
#[derive(Debug)]
pub struct TwoStage {
    quick: OnceLock<Option<meta::Regex>>,
    /// Texts searched with `quick` so far, and their bytes.
    quick_searches: AtomicU32,
    quick_bytes: AtomicUsize,
    full: OnceLock<Option<Regex>>,
}

/// The build to search one text with.
pub enum Build<'r> {
    Quick(&'r meta::Regex),
    Full(&'r Regex),
}

impl Clone for TwoStage {
    fn clone(&self) -> TwoStage {
        TwoStage {
            quick: self.quick.clone(),
            quick_searches: AtomicU32::new(0),
            quick_bytes: AtomicUsize::new(0),
            full: self.full.clone(),
        }
    }
}

impl Default for TwoStage {
    fn default() -> TwoStage {
        TwoStage::new()
    }
}

impl TwoStage {
    pub const fn new() -> TwoStage {
        TwoStage {
            quick: OnceLock::new(),
            quick_searches: AtomicU32::new(0),
            quick_bytes: AtomicUsize::new(0),
            full: OnceLock::new(),
        }
    }

    /// Already fully built (a rulebook from disk compiles its patterns at load).
    pub fn built(re: Regex) -> TwoStage {
        let full = OnceLock::new();
        let _ = full.set(Some(re));
        TwoStage {
            quick: OnceLock::new(),
            quick_searches: AtomicU32::new(0),
            quick_bytes: AtomicUsize::new(0),
            full,
        }
    }

    /// The build to search `text` with; `None` when `source` cannot be built.
    pub fn for_text(
        &self,
        source: &str,
        ignore_case: bool,
        size_limit: usize,
        text: &str,
    ) -> Option<Build<'_>> {
        if let Some(full) = self.full.get() {
            return full.as_ref().map(Build::Full);
        }
        if text.len() <= QUICK_TEXT_BYTES
            && self.stays_quick(text.len())
            && let Some(quick) = self
                .quick
                .get_or_init(|| quick_build(source, ignore_case, size_limit))
                .as_ref()
        {
            return Some(Build::Quick(quick));
        }
        self.full(source, ignore_case, size_limit)
            .as_ref()
            .map(Build::Full)
    }

    /// Counts one more quick search of `len` bytes; whether it is still under the
    /// thresholds (both counters move every time).
    fn stays_quick(&self, len: usize) -> bool {
        let searches = self.quick_searches.fetch_add(1, Relaxed);
        let bytes = self.quick_bytes.fetch_add(len, Relaxed);
        searches < QUICK_SEARCHES || bytes < QUICK_BYTES
    }

    /// The full build, made now if it was not.
    pub fn full(&self, source: &str, ignore_case: bool, size_limit: usize) -> &Option<Regex> {
        self.full.get_or_init(|| {
            regex::RegexBuilder::new(source)
                .case_insensitive(ignore_case)
                .size_limit(size_limit)
                .build()
                .ok()
        })
    }

    /// Whether any build has been made.
    pub fn is_built(&self) -> bool {
        self.full.get().is_some() || self.quick.get().is_some()
    }

    /// Whether the full build has been made.
    pub fn is_fully_built(&self) -> bool {
        self.full.get().is_some()
    }
}

impl Build<'_> {
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Build::Quick(re) => re.is_match(text),
            Build::Full(re) => re.is_match(text),
        }
    }

    /// Where each match is, left to right, without overlaps (none, the usual case,
    /// allocates nothing).
    pub fn find_all(&self, text: &str) -> Vec<Range<usize>> {
        match self {
            Build::Quick(re) => re.find_iter(text).map(|m| m.range()).collect(),
            Build::Full(re) => re.find_iter(text).map(|m| m.range()).collect(),
        }
    }

    /// Where the first match is.
    pub fn find(&self, text: &str) -> Option<Range<usize>> {
        match self {
            Build::Quick(re) => re.find(text).map(|m| m.range()),
            Build::Full(re) => re.find(text).map(|m| m.range()),
        }
    }

    /// Where each group of the first match is (group 0 the whole match); `None`
    /// without a match.
    pub fn captures(&self, text: &str) -> Option<Vec<Option<Range<usize>>>> {
        match self {
            Build::Quick(re) => {
                // Finding no match is the usual case, and needs no group slots.
                if !re.is_match(text) {
                    return None;
                }
                let mut captures = re.create_captures();
                re.captures(text, &mut captures);
                captures.is_match().then(|| {
                    (0..captures.group_len())
                        .map(|i| captures.get_group(i).map(|s| s.range()))
                        .collect()
                })
            }
            Build::Full(re) => re
                .captures(text)
                .map(|c| c.iter().map(|m| m.map(|m| m.range())).collect()),
        }
    }

    /// The text of a group of the first match: the group named `value` when `named`,
    /// else group 1.
    pub fn group<'t>(&self, text: &'t str, named: bool) -> Option<&'t str> {
        match self {
            Build::Quick(re) => {
                let mut captures = re.create_captures();
                re.captures(text, &mut captures);
                let span = if named {
                    captures.get_group_by_name("value")
                } else {
                    captures.get_group(1)
                }?;
                text.get(span.range())
            }
            Build::Full(re) => {
                let captures = re.captures(text)?;
                let m = if named {
                    captures.name("value")
                } else {
                    captures.get(1)
                }?;
                Some(m.as_str())
            }
        }
    }
}

/// One of the program's own patterns (input readers, masking, facts): a fixed source
/// in a `static`, built in two stages when first searched.
#[derive(Debug)]
pub struct Fixed {
    source: &'static str,
    builds: TwoStage,
}

/// The regex crate's own default size limit: fixed patterns are small.
const FIXED_SIZE_LIMIT: usize = 10 << 20;

impl Fixed {
    pub const fn new(source: &'static str) -> Fixed {
        Fixed {
            source,
            builds: TwoStage::new(),
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.source
    }

    /// `None` only if the source does not compile (the suite builds every one).
    fn build(&self, text: &str) -> Option<Build<'_>> {
        self.builds
            .for_text(self.source, false, FIXED_SIZE_LIMIT, text)
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.build(text).is_some_and(|b| b.is_match(text))
    }

    /// Where the pattern matches in `text`, left to right.
    pub fn find_all(&self, text: &str) -> Vec<Range<usize>> {
        self.build(text)
            .map(|b| b.find_all(text))
            .unwrap_or_default()
    }

    /// Where the first match in `text` is.
    pub fn find(&self, text: &str) -> Option<Range<usize>> {
        self.build(text)?.find(text)
    }

    /// The groups of the first match in `text`.
    pub fn captures<'t>(&self, text: &'t str) -> Option<Groups<'t>> {
        let spans = self.build(text)?.captures(text)?;
        Some(Groups { text, spans })
    }
}

/// The groups of a match.
#[derive(Debug)]
pub struct Groups<'t> {
    text: &'t str,
    spans: Vec<Option<Range<usize>>>,
}

impl<'t> Groups<'t> {
    /// Group `i`'s text, if it took part in the match.
    pub fn get(&self, i: usize) -> Option<&'t str> {
        let span = self.spans.get(i)?.clone()?;
        self.text.get(span)
    }

    /// Group `i`'s text, empty when it took no part in the match.
    pub fn at(&self, i: usize) -> &'t str {
        self.get(i).unwrap_or("")
    }
}

/// The pattern as the regex crate builds it (same syntax and match semantics), with
/// only the engines that cost little to build, and no prefilter: extracting the
/// pattern's literals and building a literal searcher costs more than it saves on
/// a few short texts (0.6M instructions of a one-capture run's 17M).
pub fn quick_build(source: &str, ignore_case: bool, size_limit: usize) -> Option<meta::Regex> {
    use regex_automata::{MatchKind, util::syntax};
    let config = meta::Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .utf8_empty(true)
        .nfa_size_limit(Some(size_limit))
        .hybrid(false)
        .dfa(false)
        .onepass(false)
        .auto_prefilter(false);
    meta::Builder::new()
        .configure(config)
        .syntax(
            syntax::Config::new()
                .utf8(true)
                .case_insensitive(ignore_case),
        )
        .build(source)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    static OPTIONAL_GROUP: Fixed = Fixed::new(r"method=([A-Z]+)|status ([0-9]{3})");

    #[test]
    fn fixed_patterns_give_their_groups_with_either_build() {
        let long = format!("{} status 503", "x".repeat(QUICK_TEXT_BYTES));
        // The first text gets the quick build, the long one the full build.
        for text in ["status 404", long.as_str()] {
            let groups = OPTIONAL_GROUP.captures(text).unwrap();
            assert_eq!(groups.get(1), None, "group 1 took no part");
            assert_eq!(groups.at(1), "");
            assert!(matches!(groups.at(2), "404" | "503"));
            assert_eq!(groups.get(3), None, "no such group");
        }
        assert!(OPTIONAL_GROUP.builds.is_fully_built());
        assert!(OPTIONAL_GROUP.captures("nothing here").is_none());
        assert_eq!(
            OPTIONAL_GROUP.find_all("method=GET, status 200"),
            vec![0..10, 12..22]
        );
        assert_eq!(OPTIONAL_GROUP.find("a status 200"), Some(2..12));
        assert_eq!(OPTIONAL_GROUP.find("nothing"), None);
        assert!(!Fixed::new("(unclosed").is_match("(unclosed"));
    }
}
