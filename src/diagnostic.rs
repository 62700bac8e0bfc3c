//! Problems found in a rulebook (or an input), collected as data and rendered late.
//!
//! Every diagnostic names the file, the line and column, what is wrong and how to fix
//! it, with a stable code (`RC0xx`) documented in `docs/error-codes.md`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::yaml::Pos;

/// Stable diagnostic codes with a one-line summary each. `docs/error-codes.md` lists
/// the same codes (a test keeps the two in step).
pub const CODES: &[(&str, &str)] = &[
    ("RC001", "the file is not valid YAML"),
    ("RC002", "the rulebook does not match the rulebook schema"),
    ("RC003", "unknown key"),
    ("RC004", "a value has the wrong type"),
    ("RC005", "a regular expression does not compile"),
    ("RC006", "two rules have the same id"),
    ("RC007", "a rule names a category that is not declared"),
    (
        "RC008",
        "a condition names a named condition that does not exist",
    ),
    (
        "RC009",
        "a condition or template names a fact that does not exist",
    ),
    (
        "RC010",
        "a template names an unknown variable or is malformed",
    ),
    (
        "RC011",
        "the rulebook needs another format or engine version",
    ),
    (
        "RC012",
        "a version or version requirement is not valid semver",
    ),
    ("RC013", "an example is not a valid capture"),
    ("RC014", "named conditions refer to each other in a cycle"),
    ("RC015", "a value is not allowed here"),
    ("RC016", "a required key is missing"),
    ("RC017", "the rulebook file cannot be read"),
    ("RC018", "a rule's example does not behave as declared"),
    ("RC019", "`suppresses` names a rule that does not exist"),
    ("RC020", "a case file is malformed"),
    ("RC021", "a case's diagnosis is not what it expects"),
    ("RC022", "an override names a rule no earlier layer defines"),
    ("RC023", "the project file is malformed"),
    (
        "RC024",
        "the rulebook changed without a version bump and changelog entry",
    ),
    ("RC025", "the rulebook exceeds a limit"),
    ("RC030", "warning: a condition can never be true"),
    (
        "RC031",
        "warning: a rule is never the top finding on its own examples",
    ),
    ("RC032", "warning: a rule has no `match` example"),
    (
        "RC033",
        "warning: `requires` admits rulecheck versions too old for the rulebook",
    ),
];

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
    pub code: &'static str,
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
    pub fn error(
        code: &'static str,
        file: &str,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
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
            let caret_pad: String = text
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {text}");
            let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }
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

    #[test]
    fn render_points_at_the_column() {
        let d = Diagnostic::error(
            "RC005",
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
    fn codes_are_unique() {
        let mut codes: Vec<_> = CODES.iter().map(|(c, _)| c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), CODES.len());
    }
}
