//! The rulebook workbench, above evaluation: what a docs writer runs before shipping a
//! rulebook. `lint` (warnings that need evaluation, the changelog), `test` (every
//! rule's examples, case files, coverage) and the views `list` and `explain` — each
//! a result with its text and JSON renderings, so the CLI only prints.
//!
//! The compiler (`rulebook`) loads and compiles; nothing there evaluates. This module
//! evaluates compiled rulebooks the way `eval` does, on the captures they carry.

pub mod cases;
pub mod coverage;
pub mod examples;
pub mod lints;
mod show;
pub mod snapshots;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic, Level};
use crate::limits::Limits;
use crate::rulebook::{LoadError, LoadOptions, RuleSet};

pub use show::{explain_text, list_json, list_text};

/// The rulebooks `lint` and `test` check, with every example (the workbench runs
/// them): the files named (`builtin` among them names the built-in one), else the
/// project file's layers or the built-in rulebook; then the overlays on top, which see
/// the rules below them.
pub fn load(
    paths: &[PathBuf],
    overlays: &[PathBuf],
    project_from: Option<&Path>,
    limits: Limits,
) -> Result<RuleSet, LoadError> {
    if paths.is_empty() {
        // As `eval` loads them: the project file's layers (or the built-in rulebook),
        // then the overlays; every rule's examples read.
        return crate::project::load_rule_set(&crate::project::RuleChoice {
            overlays: overlays.to_vec(),
            project_from: project_from.map(Path::to_path_buf),
            with_examples: true,
            limits,
            ..Default::default()
        });
    }
    let options = LoadOptions {
        limits,
        ..Default::default()
    };
    RuleSet::load_layers(paths, overlays, &options)
}

/// What `rulecheck lint` found.
#[derive(Debug)]
pub struct Lint {
    pub diagnostics: Vec<Diagnostic>,
    /// The rulebooks' texts, for snippets.
    pub sources: BTreeMap<String, String>,
    pub rules: usize,
    /// Per rulebook, when it loaded: the engine version its features need.
    pub needs: Vec<String>,
}

/// Lints a loaded rule set (or reports why it did not load), and checks the newest
/// entry of `changelog` (its name and text) when given.
pub fn lint(
    loaded: Result<&RuleSet, &LoadError>,
    changelog: Option<(&Path, std::io::Result<String>)>,
    limits: crate::limits::Limits,
) -> Lint {
    let set = match loaded {
        Ok(set) => set,
        Err(e) => {
            return Lint {
                diagnostics: e.diagnostics.clone(),
                sources: e.sources.clone(),
                rules: 0,
                needs: Vec::new(),
            };
        }
    };
    let mut diagnostics = lints::lint_within(set, limits.lint_rule_runs);
    if let Some((path, text)) = changelog {
        let name = path.display().to_string();
        match text {
            Ok(text) => diagnostics.extend(
                set.rulebooks
                    .iter()
                    .filter_map(|rb| lints::changelog(&name, &text, rb)),
            ),
            Err(e) => diagnostics.push(Diagnostic::error(
                Code::Unreadable,
                &name,
                None,
                format!("cannot read: {e}"),
            )),
        }
    }
    let needs = set
        .rulebooks
        .iter()
        .map(|rb| {
            let (v, features) = lints::needs(rb);
            format!(
                "rulebook {} {} needs rulecheck >={v} ({})",
                rb.name,
                rb.version,
                features.join(", ")
            )
        })
        .collect();
    Lint {
        diagnostics,
        sources: set.sources(),
        rules: set.rules().count(),
        needs,
    }
}

impl Lint {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.level == Level::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "errors": self.errors(),
            "warnings": self.warnings(),
            "diagnostics": self.diagnostics,
        })
    }

    /// (standard output, standard error) for a terminal: every problem with its
    /// snippet on stderr; what the rulebooks need and the count on stdout when clean.
    pub fn render_text(&self) -> (String, String) {
        let (mut out, mut err) = (String::new(), String::new());
        if !self.diagnostics.is_empty() {
            let _ = writeln!(
                err,
                "{}",
                crate::diagnostic::render_all(&self.diagnostics, |file| {
                    self.sources.get(file).map(String::as_str)
                })
            );
        }
        let (errors, warnings) = (self.errors(), self.warnings());
        if errors > 0 {
            let _ = writeln!(err, "rulecheck: {errors} error(s), {warnings} warning(s)");
        } else {
            for line in &self.needs {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(
                out,
                "rulecheck: {} rules, {warnings} warning(s), no errors",
                self.rules
            );
        }
        (out, err)
    }
}

/// What `rulecheck test` found: the rules' examples, the case files, and coverage
/// when asked.
#[derive(Debug)]
pub struct Test {
    pub examples: examples::ExampleReport,
    pub cases: cases::CaseReport,
    pub coverage: Option<coverage::Coverage>,
    sources: BTreeMap<String, String>,
}

/// Runs every example of `set` and every case, and measures coverage when asked.
pub fn test(set: &RuleSet, case_list: &[cases::Case], with_coverage: bool) -> Test {
    let coverage = with_coverage.then(|| {
        let examples = set
            .rules()
            .flat_map(|(_, r)| r.examples_match.iter().chain(&r.examples_no_match))
            .map(|e| &e.capture);
        coverage::coverage(set, examples.chain(case_list.iter().map(|c| &c.capture)))
    });
    Test {
        examples: examples::run(set),
        cases: cases::run(set, case_list),
        coverage,
        sources: set.sources(),
    }
}

impl Test {
    pub fn failed(&self) -> usize {
        self.examples.failures.len() + self.cases.failures.len()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "examples": self.examples,
            "cases": self.cases,
            "coverage": self.coverage,
        })
    }

    /// (standard output, standard error) for a terminal: each failure with why (the
    /// condition's trace) on stderr; coverage and the count on stdout.
    pub fn render_text(&self) -> (String, String) {
        let (mut out, mut err) = (String::new(), String::new());
        for f in &self.examples.failures {
            let source = self.sources.get(&f.diagnostic.file).map(String::as_str);
            err.push_str(&f.diagnostic.render(source));
            let mut tree = String::new();
            crate::trace::render(&f.trace, 2, &mut tree);
            let _ = writeln!(
                err,
                "  why: the condition of `{}` on this example\n{tree}",
                f.rule
            );
        }
        for f in &self.cases.failures {
            let source = std::fs::read_to_string(&f.diagnostic.file).ok();
            err.push_str(&f.diagnostic.render(source.as_deref()));
            for t in &f.traces {
                let mut tree = String::new();
                crate::trace::render(&t.tree, 2, &mut tree);
                let _ = writeln!(
                    err,
                    "  why: `{}` on this capture — {}\n{tree}",
                    t.rule,
                    t.outcome.describe()
                );
            }
        }
        for id in &self.examples.without_positive_example {
            let _ = writeln!(err, "warning: rule `{id}` has no `match` example");
        }
        if let Some(cov) = &self.coverage {
            out.push_str(&cov.render_text());
        }
        let _ = writeln!(
            out,
            "{} passed, {} failed",
            self.examples.passed + self.cases.passed,
            self.failed()
        );
        (out, err)
    }
}
