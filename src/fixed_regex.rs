//! The program's own regexes (input readers, masking, facts): a fixed source in a
//! `static`, compiled the first time it is searched.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

/// A fixed pattern, compiled on first use.
#[derive(Debug)]
pub struct Fixed {
    source: &'static str,
    re: OnceLock<Option<Regex>>,
}

impl Fixed {
    pub const fn new(source: &'static str) -> Fixed {
        Fixed {
            source,
            re: OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.source
    }

    /// `None` only if the source does not compile (the suite compiles every one).
    fn re(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| Regex::new(self.source).ok())
            .as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.re().is_some_and(|re| re.is_match(text))
    }

    /// Where the pattern matches in `text`, left to right.
    pub fn find_all(&self, text: &str) -> Vec<Range<usize>> {
        self.re()
            .map(|re| re.find_iter(text).map(|m| m.range()).collect())
            .unwrap_or_default()
    }

    /// Where the first match in `text` is.
    pub fn find(&self, text: &str) -> Option<Range<usize>> {
        self.re()?.find(text).map(|m| m.range())
    }

    /// The groups of the first match in `text`.
    pub fn captures<'t>(&self, text: &'t str) -> Option<Groups<'t>> {
        self.re()?.captures(text).map(Groups)
    }
}

/// The groups of a match.
#[derive(Debug)]
pub struct Groups<'t>(regex::Captures<'t>);

impl<'t> Groups<'t> {
    /// Group `i`'s text, if it took part in the match.
    pub fn get(&self, i: usize) -> Option<&'t str> {
        self.0.get(i).map(|m| m.as_str())
    }

    /// Group `i`'s text, empty when it took no part in the match.
    pub fn at(&self, i: usize) -> &'t str {
        self.get(i).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static OPTIONAL_GROUP: Fixed = Fixed::new(r"method=([A-Z]+)|status ([0-9]{3})");

    #[test]
    fn fixed_patterns_give_their_groups() {
        let groups = OPTIONAL_GROUP.captures("status 404").unwrap();
        assert_eq!(groups.get(1), None, "group 1 took no part");
        assert_eq!(groups.at(1), "");
        assert_eq!(groups.at(2), "404");
        assert_eq!(groups.get(3), None, "no such group");
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
