//! Case files: captures with the diagnoses they must, and must not, get.
//!
//! ```yaml
//! cases:
//!   - capture: ../fixtures/captures/gateway/py-key-trailing-newline.json  # relative to this file
//!     expect: [key.whitespace]          # the first is the top finding; all must appear
//!     absent: [key.invalid-or-expired]  # must not appear
//!   - name: an inline capture
//!     capture: { response: { status: 429 } }
//!     expect: [rate.frequency]
//! ```
//!
//! Where in-rule examples test one rule, cases test the whole rule set on real
//! captures: ranking and precedence included.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::capture::Capture;
use crate::diagnostic::{Code, Diagnostic};
use crate::evaluate::{EvalOptions, diagnose};
use crate::rulebook::RuleSet;
use crate::yaml::{self, Node, Pos, Value};

/// One case: a capture and what its diagnosis must look like.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub capture: Capture,
    pub expect: Vec<String>,
    pub absent: Vec<String>,
    pub file: String,
    pub pos: Pos,
}

/// The outcome of running cases.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaseReport {
    pub passed: usize,
    pub failures: Vec<CaseFailure>,
}

/// A case whose diagnosis was not what it declares.
#[derive(Clone, Debug, Serialize)]
pub struct CaseFailure {
    pub case: String,
    /// The finding ids the capture got, ranked.
    pub got: Vec<String>,
    pub diagnostic: Diagnostic,
    /// Why the rules in question did or did not fire, and what became of them
    /// (suppressed by whom, ranked where and why): each expected rule that is missing,
    /// each unwanted rule that fired, and, when the top is wrong, the expected top and
    /// the one that took its place.
    pub traces: Vec<crate::trace::RuleTrace>,
}

/// Loads a case file, or every `*.yaml` case file in a directory.
pub fn load(path: &Path) -> Result<Vec<Case>, crate::rulebook::LoadError> {
    let mut sources = std::collections::BTreeMap::new();
    load_all(path, &mut sources).map_err(|diagnostics| crate::rulebook::LoadError {
        diagnostics,
        sources,
    })
}

/// [`load`], keeping each file's text for the snippets of its problems.
fn load_all(
    path: &Path,
    sources: &mut std::collections::BTreeMap<String, String>,
) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| {
                vec![Diagnostic::error(
                    Code::Unreadable,
                    &path.display().to_string(),
                    None,
                    format!("cannot read: {e}"),
                )]
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
            .collect();
        found.sort();
        found
    } else {
        vec![path.to_path_buf()]
    };
    let mut cases = Vec::new();
    let mut diagnostics = Vec::new();
    for file in files {
        match load_file(&file, sources) {
            Ok(c) => cases.extend(c),
            Err(d) => diagnostics.extend(d),
        }
    }
    if diagnostics.is_empty() {
        Ok(cases)
    } else {
        Err(diagnostics)
    }
}

fn load_file(
    path: &Path,
    sources: &mut std::collections::BTreeMap<String, String>,
) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let err = |pos: Option<Pos>, msg: String, help: &str| {
        Diagnostic::error(Code::BadCaseFile, &file, pos, msg).with_help(help)
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![err(None, format!("cannot read: {e}"), "check the path")])?;
    sources.insert(file.clone(), text.clone());
    let root = yaml::parse(&text, Default::default())
        .map_err(|e| vec![Diagnostic::error(Code::YamlSyntax, &file, e.pos, e.message)])?;
    let Some(Value::Seq(items)) = root.get("cases").map(|n| &n.value) else {
        return Err(vec![err(
            Some(root.pos),
            "a case file needs a `cases:` list".into(),
            "see docs/rule-authoring.md",
        )]);
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    for item in items {
        match load_case(item, base, &file) {
            Ok(c) => out.push(c),
            Err(d) => diagnostics.push(d),
        }
    }
    if diagnostics.is_empty() {
        Ok(out)
    } else {
        Err(diagnostics)
    }
}

fn load_case(item: &Node, base: &Path, file: &str) -> Result<Case, Diagnostic> {
    let err = |pos: Pos, msg: String| {
        Diagnostic::error(Code::BadCaseFile, file, Some(pos), msg).with_help("a case has `capture` (a path or an inline capture), `expect` and optionally `absent` and `name`")
    };
    if let Some(entries) = item.as_map() {
        for (k, _) in entries {
            let key = k.key_text().unwrap_or_default().into_owned();
            if !["name", "capture", "expect", "absent"].contains(&key.as_str()) {
                return Err(err(k.pos, format!("unknown key `{key}` in a case")));
            }
        }
    } else {
        return Err(err(item.pos, "a case must be a mapping".into()));
    }
    let capture_node = item
        .get("capture")
        .ok_or_else(|| err(item.pos, "the case has no `capture`".into()))?;
    let (capture, default_name) = match &capture_node.value {
        Value::Str(rel) => {
            let path = base.join(rel.as_str());
            let bytes = std::fs::read(&path).map_err(|e| {
                err(
                    capture_node.pos,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let mut captures = crate::input::read(&bytes)
                .map_err(|e| err(capture_node.pos, format!("{}: {e}", path.display())))?;
            if captures.len() != 1 {
                return Err(err(
                    capture_node.pos,
                    format!(
                        "{} holds {} captures; a case takes one",
                        path.display(),
                        captures.len()
                    ),
                ));
            }
            (captures.remove(0).capture, rel.to_string())
        }
        Value::Map(_) => {
            let capture = crate::capture::Capture::from_json_strict(capture_node.to_json())
                .map_err(|e| err(capture_node.pos, format!("not a valid capture: {e}")))?;
            (capture, format!("case at line {}", item.pos.line))
        }
        _ => {
            return Err(err(
                capture_node.pos,
                "`capture` takes a path or a capture".into(),
            ));
        }
    };
    let ids = |key: &str| -> Result<Vec<String>, Diagnostic> {
        match item.get(key).map(|n| (&n.value, n.pos)) {
            None => Ok(Vec::new()),
            Some((Value::Seq(items), _)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| err(i.pos, format!("`{key}` lists finding ids")))
                })
                .collect(),
            Some((_, pos)) => Err(err(pos, format!("`{key}` takes a list of finding ids"))),
        }
    };
    let expect = ids("expect")?;
    if expect.is_empty() {
        return Err(err(
            item.pos,
            "the case expects nothing: list at least the top finding under `expect`".into(),
        ));
    }
    Ok(Case {
        name: item
            .get("name")
            .and_then(Node::as_str)
            .map(str::to_owned)
            .unwrap_or(default_name),
        capture,
        expect,
        absent: ids("absent")?,
        file: file.to_owned(),
        pos: item.pos,
    })
}

/// Runs cases against a rule set.
pub fn run(set: &RuleSet, cases: &[Case]) -> CaseReport {
    let mut report = CaseReport::default();
    for case in cases {
        let got: Vec<String> = diagnose(set, &case.capture, EvalOptions::default())
            .findings
            .into_iter()
            .map(|f| f.id.into_owned())
            .collect();
        let mut problems = Vec::new();
        if got.first() != case.expect.first() {
            problems.push(format!(
                "the top finding is {}, not {}",
                got.first().map(String::as_str).unwrap_or("nothing"),
                case.expect.first().map(String::as_str).unwrap_or("")
            ));
        }
        for id in case.expect.iter().skip(1) {
            if !got.contains(id) {
                problems.push(format!("{id} is missing"));
            }
        }
        for id in &case.absent {
            if got.contains(id) {
                problems.push(format!("{id} appears but must not"));
            }
        }
        if problems.is_empty() {
            report.passed += 1;
        } else {
            let facts = crate::facts::Facts::derive(&case.capture);
            let redactor = crate::mask::Redactor::new(facts.secrets());
            let outcomes = crate::trace::outcomes(set, &facts);
            let wrong_top = got.first() != case.expect.first();
            let mut in_question: Vec<&String> = Vec::new();
            if wrong_top {
                in_question.extend(case.expect.first());
                in_question.extend(got.first().filter(|id| !id.starts_with("status.")));
            }
            in_question.extend(case.expect.iter().filter(|id| !got.contains(id)));
            in_question.extend(case.absent.iter().filter(|id| got.contains(id)));
            in_question.dedup();
            let traces = in_question
                .into_iter()
                .filter_map(|id| set.rules().find(|(_, r)| &r.id == id))
                .map(|(rb, r)| {
                    let tree = crate::trace::trace(&r.when, &facts, rb, &redactor);
                    let outcome = outcomes
                        .iter()
                        .find(|(id, _)| *id == r.id)
                        .map(|(_, o)| o.clone())
                        .unwrap_or(crate::trace::Outcome::NotFired);
                    crate::trace::RuleTrace {
                        rule: r.id.clone(),
                        holds: tree.truth,
                        outcome,
                        tree,
                    }
                })
                .collect();
            report.failures.push(CaseFailure {
                traces,
                case: case.name.clone(),
                diagnostic: Diagnostic::error(
                    Code::CaseFails,
                    &case.file,
                    Some(case.pos),
                    format!("case `{}`: {}", case.name, problems.join("; ")),
                )
                .with_help(format!(
                    "findings, ranked: {}",
                    if got.is_empty() {
                        "none".into()
                    } else {
                        got.join(", ")
                    }
                )),
                got,
            });
        }
    }
    report
}
