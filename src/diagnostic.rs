//! Problems found in a rulebook (or an input), collected as data and rendered late.
//!
//! Every diagnostic names the file, the line and column, what is wrong and how to fix
//! it, with a stable code (`RC0xx`) documented in `docs/error-codes.md`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::yaml::Pos;

/// Every stable diagnostic code, one variant a problem. `docs/error-codes.md` lists the
/// same codes (a test keeps the two in step); the library names them only by variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// RC001: the file is not valid YAML.
    YamlSyntax,
    /// RC002: the rulebook does not match the rulebook schema.
    Schema,
    /// RC003: unknown key.
    UnknownKey,
    /// RC004: a value has the wrong type.
    WrongType,
    /// RC005: a regular expression does not compile.
    BadRegex,
    /// RC006: two rules have the same id.
    DuplicateId,
    /// RC007: a rule names a category that is not declared.
    UndeclaredCategory,
    /// RC008: a condition names a named condition that does not exist.
    UnknownNamedCondition,
    /// RC009: a condition or template names a fact that does not exist.
    UnknownFact,
    /// RC010: a template names an unknown variable or is malformed.
    BadTemplate,
    /// RC011: the rulebook needs another format or engine version.
    IncompatibleVersion,
    /// RC012: a version or version requirement is not valid semver.
    BadSemver,
    /// RC013: an example is not a valid capture.
    BadExample,
    /// RC014: named conditions refer to each other in a cycle.
    ConditionCycle,
    /// RC015: a value is not allowed here.
    NotAllowed,
    /// RC016: a required key is missing.
    MissingKey,
    /// RC017: the rulebook file cannot be read.
    Unreadable,
    /// RC018: a rule's example does not behave as declared.
    ExampleFails,
    /// RC019: `suppresses` names a rule that does not exist.
    UnknownSuppressed,
    /// RC020: a case file is malformed.
    BadCaseFile,
    /// RC021: a case's diagnosis is not what it expects.
    CaseFails,
    /// RC022: an override names a rule no earlier layer defines.
    UnknownOverride,
    /// RC023: the project file is malformed.
    BadProjectFile,
    /// RC024: the rulebook changed without a version bump and changelog entry.
    NoVersionBump,
    /// RC025: the rulebook exceeds a limit.
    OverLimit,
    /// RC026: `mentions` names a word that is not declared under `words:`.
    UnknownWord,
    /// RC030: warning: a condition can never be true.
    NeverTrue,
    /// RC031: warning: a rule is never the top finding on its own examples.
    NeverTop,
    /// RC032: warning: a rule has no `match` example.
    NoMatchExample,
    /// RC033: warning: `requires` admits rulecheck versions too old for the rulebook.
    RequiresTooOld,
    /// RC034: warning: a message says a value is unknown on one of the rule's examples.
    PlaceholderShown,
    /// RC035: warning: two rules have the same condition.
    SameCondition,
    /// RC036: warning: a rule is suppressed on every one of its own examples.
    AlwaysSuppressed,
}

impl Code {
    /// Every code, in the order of their numbers.
    pub const ALL: [Code; 33] = [
        Code::YamlSyntax,
        Code::Schema,
        Code::UnknownKey,
        Code::WrongType,
        Code::BadRegex,
        Code::DuplicateId,
        Code::UndeclaredCategory,
        Code::UnknownNamedCondition,
        Code::UnknownFact,
        Code::BadTemplate,
        Code::IncompatibleVersion,
        Code::BadSemver,
        Code::BadExample,
        Code::ConditionCycle,
        Code::NotAllowed,
        Code::MissingKey,
        Code::Unreadable,
        Code::ExampleFails,
        Code::UnknownSuppressed,
        Code::BadCaseFile,
        Code::CaseFails,
        Code::UnknownOverride,
        Code::BadProjectFile,
        Code::NoVersionBump,
        Code::OverLimit,
        Code::UnknownWord,
        Code::NeverTrue,
        Code::NeverTop,
        Code::NoMatchExample,
        Code::RequiresTooOld,
        Code::PlaceholderShown,
        Code::SameCondition,
        Code::AlwaysSuppressed,
    ];

    /// The stable code (`RC001`) and its one-line summary.
    pub const fn info(self) -> (&'static str, &'static str) {
        match self {
            Code::YamlSyntax => ("RC001", "the file is not valid YAML"),
            Code::Schema => ("RC002", "the rulebook does not match the rulebook schema"),
            Code::UnknownKey => ("RC003", "unknown key"),
            Code::WrongType => ("RC004", "a value has the wrong type"),
            Code::BadRegex => ("RC005", "a regular expression does not compile"),
            Code::DuplicateId => ("RC006", "two rules have the same id"),
            Code::UndeclaredCategory => ("RC007", "a rule names a category that is not declared"),
            Code::UnknownNamedCondition => (
                "RC008",
                "a condition names a named condition that does not exist",
            ),
            Code::UnknownFact => (
                "RC009",
                "a condition or template names a fact that does not exist",
            ),
            Code::BadTemplate => (
                "RC010",
                "a template names an unknown variable or is malformed",
            ),
            Code::IncompatibleVersion => (
                "RC011",
                "the rulebook needs another format or engine version",
            ),
            Code::BadSemver => (
                "RC012",
                "a version or version requirement is not valid semver",
            ),
            Code::BadExample => ("RC013", "an example is not a valid capture"),
            Code::ConditionCycle => ("RC014", "named conditions refer to each other in a cycle"),
            Code::NotAllowed => ("RC015", "a value is not allowed here"),
            Code::MissingKey => ("RC016", "a required key is missing"),
            Code::Unreadable => ("RC017", "the rulebook file cannot be read"),
            Code::ExampleFails => ("RC018", "a rule's example does not behave as declared"),
            Code::UnknownSuppressed => ("RC019", "`suppresses` names a rule that does not exist"),
            Code::BadCaseFile => ("RC020", "a case file is malformed"),
            Code::CaseFails => ("RC021", "a case's diagnosis is not what it expects"),
            Code::UnknownOverride => ("RC022", "an override names a rule no earlier layer defines"),
            Code::BadProjectFile => ("RC023", "the project file is malformed"),
            Code::NoVersionBump => (
                "RC024",
                "the rulebook changed without a version bump and changelog entry",
            ),
            Code::OverLimit => ("RC025", "the rulebook exceeds a limit"),
            Code::UnknownWord => (
                "RC026",
                "`mentions` names a word that is not declared under `words:`",
            ),
            Code::NeverTrue => ("RC030", "warning: a condition can never be true"),
            Code::NeverTop => (
                "RC031",
                "warning: a rule is never the top finding on its own examples",
            ),
            Code::NoMatchExample => ("RC032", "warning: a rule has no `match` example"),
            Code::RequiresTooOld => (
                "RC033",
                "warning: `requires` admits rulecheck versions too old for the rulebook",
            ),
            Code::PlaceholderShown => (
                "RC034",
                "warning: a message says a value is unknown on one of the rule's examples",
            ),
            Code::SameCondition => ("RC035", "warning: two rules have the same condition"),
            Code::AlwaysSuppressed => (
                "RC036",
                "warning: a rule is suppressed on every one of its own examples",
            ),
        }
    }

    /// The stable code, e.g. `RC001`.
    pub const fn id(self) -> &'static str {
        self.info().0
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// One problem, with where it is and what to do about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub code: Code,
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, file: &str, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Error,
            code,
            file: file.to_owned(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:col` (or just the file when the position is unknown).
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }

    /// A rustc-style frame: location, message, the source line and a caret.
    pub fn render(&self, source: Option<&str>) -> String {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let mut out = format!(
            "{level}[{}]: {}\n  --> {}\n",
            self.code,
            self.message,
            self.location()
        );
        if let (Some(src), Some(line)) = (source, self.line)
            && let Some(text) = src.lines().nth(line.saturating_sub(1) as usize)
        {
            let number = line.to_string();
            let pad = " ".repeat(number.len());
            let col = self.column.unwrap_or(1).max(1) as usize;
            let (shown, caret_at) = window(text, col - 1);
            let caret_pad: String = shown
                .chars()
                .take(caret_at)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {shown}");
            let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }
}

/// At most this many characters of a source line are quoted on each side of the
/// column: a rulebook on one 140 KB line must not be printed once per problem.
const QUOTE_AROUND: usize = 60;

/// The part of `line` around the character `col` (0-based), with `…` where it was cut,
/// and where the column falls in it.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let col = col.min(chars.len());
    let from = col.saturating_sub(QUOTE_AROUND);
    let to = col.saturating_add(QUOTE_AROUND).min(chars.len());
    let mut shown = String::new();
    let mut caret = col - from;
    if from > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(chars.get(from..to).unwrap_or_default());
    if to < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

/// At most this many problems are shown per file; the rest are counted.
pub const SHOWN_PER_FILE: usize = 50;

/// Renders diagnostics, at most [`SHOWN_PER_FILE`] per file, then how many more there
/// are: 10,000 problems in one file are a count, not 10,000 screens.
pub fn render_all<'a>(
    diagnostics: &[Diagnostic],
    source: impl Fn(&str) -> Option<&'a str>,
) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut per_file: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in diagnostics {
        let n = per_file.entry(&d.file).or_default();
        *n += 1;
        if *n <= SHOWN_PER_FILE {
            out.push(d.render(source(&d.file)));
        }
    }
    for (file, n) in per_file {
        if let Some(more) = n.checked_sub(SHOWN_PER_FILE).filter(|m| *m > 0) {
            out.push(format!(
                "… and {more} more problem{} in {file} (fix the ones above first)\n",
                if more == 1 { "" } else { "s" }
            ));
        }
    }
    out.join("\n")
}

/// Sorts diagnostics by file and position so output is stable.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A problem far along a long line quotes the part around it, not the line; many
    /// problems in one file are shown up to a count, then counted.
    #[test]
    fn long_lines_are_quoted_around_the_column_and_problems_are_capped() {
        let line = format!("{}BAD{}", "a".repeat(5_000), "b".repeat(5_000));
        let d = Diagnostic::error(
            Code::BadTemplate,
            "r.yaml",
            Some(Pos {
                line: 1,
                column: 5_001,
            }),
            "bad placeholder",
        );
        let text = d.render(Some(&line));
        assert!(text.len() < 400, "{}", text.len());
        let quoted = text.lines().nth(3).unwrap();
        let caret = text.lines().nth(4).unwrap();
        assert!(
            quoted.starts_with("1 | …") && quoted.ends_with('…'),
            "{quoted}"
        );
        // The caret still points at BAD.
        let at = caret.find('^').unwrap();
        assert_eq!(quoted.chars().nth(at), Some('B'), "{quoted}\n{caret}");
        let all = render_all(&vec![d; 10_000], |_| Some(line.as_str()));
        assert_eq!(all.matches("error[RC010]").count(), SHOWN_PER_FILE);
        assert!(
            all.contains("… and 9950 more problems in r.yaml"),
            "{}",
            all.len()
        );
        assert!(all.len() < 40_000, "{}", all.len());
    }

    #[test]
    fn render_points_at_the_column() {
        let d = Diagnostic::error(
            Code::BadRegex,
            "r.yaml",
            Some(Pos { line: 2, column: 5 }),
            "bad regex",
        )
        .with_help("escape the bracket");
        let text = d.render(Some("a: 1\nb:  x(\n"));
        assert!(text.contains("--> r.yaml:2:5"), "{text}");
        assert!(text.contains("2 | b:  x(\n  |     ^"), "{text}");
        assert!(text.contains("= help: escape the bracket"));
    }

    #[test]
    fn codes_are_unique_and_in_order() {
        let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
        assert!(Code::ALL.windows(2).all(|w| w[0] < w[1]));
    }
}
