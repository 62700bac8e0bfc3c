//! `rulecheck diff OLD NEW`: what a rulebook change does to real diagnoses. Both rule
//! sets run over the same corpus of captures; every capture whose findings differ is
//! listed (gained, lost, re-ranked, reworded), with the rules that changed.

use crate::diagnostic::Code;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::capture::Capture;
use crate::evaluate::{Diagnosis, EvalOptions, diagnose};
use crate::rulebook::{LoadError, LoadOptions, RuleSet};

/// One capture of the corpus, named for the report.
pub struct Sample {
    pub source: String,
    pub locator: String,
    pub capture: Capture,
}

/// How one capture's diagnosis changed.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureChange {
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub locator: String,
    /// Finding ids, ranked, before and after.
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub gained: Vec<String>,
    pub lost: Vec<String>,
    /// The same findings in another order.
    pub reranked: bool,
    /// Findings present in both whose message or fix changed.
    pub reworded: Vec<String>,
}

/// How a rule changed between the two sets.
#[derive(Clone, Debug, Serialize)]
pub struct RuleChange {
    pub rule: String,
    /// `added`, `removed` or `changed` (its text in the rulebook differs).
    pub change: &'static str,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct DiffReport {
    pub captures: usize,
    pub changed: Vec<CaptureChange>,
    pub rules: Vec<RuleChange>,
}

impl DiffReport {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.rules.is_empty()
    }
}

/// Compares two rule sets over a corpus.
pub fn diff(old: &RuleSet, new: &RuleSet, corpus: &[Sample]) -> DiffReport {
    let mut changed = Vec::new();
    for s in corpus {
        let a = diagnose(old, &s.capture, EvalOptions::default());
        let b = diagnose(new, &s.capture, EvalOptions::default());
        if let Some(c) = compare(s, &a, &b) {
            changed.push(c);
        }
    }
    DiffReport {
        captures: corpus.len(),
        changed,
        rules: rule_changes(old, new),
    }
}

fn compare(s: &Sample, a: &Diagnosis, b: &Diagnosis) -> Option<CaptureChange> {
    let ids = |d: &Diagnosis| {
        d.findings
            .iter()
            .map(|f| f.id.to_string())
            .collect::<Vec<_>>()
    };
    let (before, after) = (ids(a), ids(b));
    let gained: Vec<String> = after
        .iter()
        .filter(|id| !before.contains(id))
        .cloned()
        .collect();
    let lost: Vec<String> = before
        .iter()
        .filter(|id| !after.contains(id))
        .cloned()
        .collect();
    let common_before: Vec<&String> = before.iter().filter(|id| after.contains(id)).collect();
    let common_after: Vec<&String> = after.iter().filter(|id| before.contains(id)).collect();
    let reranked = common_before != common_after;
    let reworded: Vec<String> = a
        .findings
        .iter()
        .filter_map(|fa| {
            let fb = b.findings.iter().find(|fb| fb.id == fa.id)?;
            (fa.message != fb.message || fa.fix != fb.fix || fa.title != fb.title)
                .then(|| fa.id.to_string())
        })
        .collect();
    if gained.is_empty() && lost.is_empty() && !reranked && reworded.is_empty() {
        return None;
    }
    Some(CaptureChange {
        source: s.source.clone(),
        locator: s.locator.clone(),
        before,
        after,
        gained,
        lost,
        reranked,
        reworded,
    })
}

fn rule_changes(old: &RuleSet, new: &RuleSet) -> Vec<RuleChange> {
    let mut out = Vec::new();
    for (rb, r) in old.rules() {
        match new.rules().find(|(_, n)| n.id == r.id) {
            None => out.push(RuleChange {
                rule: r.id.clone(),
                change: "removed",
            }),
            Some((nrb, n)) => {
                if rb.rule_text(r) != nrb.rule_text(n) || r.overridden_by != n.overridden_by {
                    out.push(RuleChange {
                        rule: r.id.clone(),
                        change: "changed",
                    });
                }
            }
        }
    }
    for (_, n) in new.rules() {
        if !old.rules().any(|(_, r)| r.id == n.id) {
            out.push(RuleChange {
                rule: n.id.clone(),
                change: "added",
            });
        }
    }
    out
}

/// The report for a terminal.
pub fn render(report: &DiffReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for r in &report.rules {
        let _ = writeln!(out, "rule {} {}", r.rule, r.change);
    }
    if !report.rules.is_empty() {
        out.push('\n');
    }
    for c in &report.changed {
        let loc = if c.locator.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.locator)
        };
        let _ = writeln!(out, "{}{loc}", c.source);
        for id in &c.lost {
            let _ = writeln!(out, "  - lost     {id}");
        }
        for id in &c.gained {
            let _ = writeln!(out, "  + gained   {id}");
        }
        if c.reranked {
            let _ = writeln!(
                out,
                "  ~ reranked {} → {}",
                c.before.join(", "),
                c.after.join(", ")
            );
        }
        for id in &c.reworded {
            let _ = writeln!(out, "  ~ reworded {id}");
        }
    }
    let _ = writeln!(
        out,
        "{} of {} captures changed; {} rules changed",
        report.changed.len(),
        report.captures,
        report.rules.len()
    );
    out
}
/// One side of `rulecheck diff`: a path, `builtin`, or `git:REV`; or layers joined by
/// `+`, each a path or `builtin` (`builtin+team.yaml`: the built-in rulebook with a
/// team's overlay on top).
pub fn load_side(spec: &str, limits: crate::limits::Limits) -> Result<RuleSet, LoadError> {
    let options = LoadOptions {
        limits,
        ..Default::default()
    };
    let Some(rev) = spec.strip_prefix("git:") else {
        let layers: Vec<PathBuf> = if spec.contains('+') && !std::path::Path::new(spec).exists() {
            spec.split('+').map(PathBuf::from).collect()
        } else {
            vec![PathBuf::from(spec)]
        };
        return RuleSet::load_paths(&layers, &options);
    };
    let fail = |message: String| LoadError {
        diagnostics: vec![
            crate::diagnostic::Diagnostic::error(Code::Unreadable, spec, None, message).with_help(
                "git:REV reads the *.yaml files under rules/ at that revision of this repository",
            ),
        ],
        sources: BTreeMap::new(),
    };
    let git = |args: &[&str]| -> Result<String, LoadError> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .map_err(|e| fail(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let files = git(&["ls-tree", "--name-only", rev, "rules/"])?;
    let mut rulebooks = Vec::new();
    for file in files
        .lines()
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
    {
        let text = git(&["show", &format!("{rev}:{file}")])?;
        let name = format!("{rev}:{file}");
        let rb =
            crate::rulebook::load_str(&name, &text, &options).map_err(|diagnostics| LoadError {
                diagnostics,
                sources: BTreeMap::from([(name.clone(), text.clone())]),
            })?;
        rulebooks.push(rb);
    }
    RuleSet::new(rulebooks).map_err(|diagnostics| LoadError {
        diagnostics,
        sources: BTreeMap::new(),
    })
}

/// The captures of `files` (a folder stands for every file under it, recursively),
/// each file read in whatever input format it holds; `Err` names the file that could
/// not be read.
pub fn read_corpus(
    files: &[std::path::PathBuf],
    limits: crate::limits::Limits,
) -> Result<Vec<Sample>, String> {
    let mut all = Vec::new();
    for f in files {
        if f.is_dir() {
            collect_files(f, &mut all);
        } else {
            all.push(f.clone());
        }
    }
    all.sort();
    let options = crate::input::ReadOptions {
        limits,
        ..Default::default()
    };
    let mut corpus = Vec::new();
    for f in &all {
        let name = f.display().to_string();
        let captures = std::fs::read(f)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::input::read_with(&b, options).map_err(|e| e.to_string()))
            .map_err(|e| format!("{name}: {e}"))?;
        corpus.extend(captures.into_iter().map(|c| Sample {
            source: name.clone(),
            locator: c.locator,
            capture: c.capture,
        }));
    }
    Ok(corpus)
}

/// Every file under `dir`, recursively. Links are followed, each folder walked once
/// (by its canonical path): a link back up the tree (`a -> .`) made the walk endless,
/// two of them exponential.
pub(crate) fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut walked = std::collections::HashSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if !std::fs::canonicalize(&dir).is_ok_and(|c| walked.insert(c)) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                pending.push(p);
            } else {
                out.push(p);
            }
        }
    }
}
