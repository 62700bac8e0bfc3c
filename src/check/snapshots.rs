//! Snapshots a docs writer keeps without Rust: `rulecheck test --snapshots DIR` renders
//! every capture file under DIR with the rulebooks in force and compares the text
//! report with `<file>.snap` beside it. A changed, new or orphaned snapshot fails with a
//! unified diff; `--accept` writes them. The snapshot is the text report a user would
//! read (keys masked), without colour: readable, stable, diff-friendly.

use std::path::{Path, PathBuf};

use crate::input::ReadOptions;
use crate::report::CaptureReport;
use crate::rulebook::{Lang, RuleSet};

/// The extension of a snapshot file, after the capture file's own name.
pub const EXTENSION: &str = "snap";

/// What `--snapshots` found.
#[derive(Debug, Default)]
pub struct SnapshotRun {
    /// Capture files whose report matches its snapshot.
    pub unchanged: usize,
    /// A capture file whose report differs from its snapshot, with the unified diff.
    pub changed: Vec<(PathBuf, String)>,
    /// A capture file with no snapshot yet.
    pub new: Vec<PathBuf>,
    /// A snapshot whose capture file is gone.
    pub orphaned: Vec<PathBuf>,
    /// With `--accept`: the snapshots written or removed.
    pub accepted: usize,
}

impl SnapshotRun {
    /// Whether anything differs from the snapshots on disk (before `--accept`).
    pub fn differs(&self) -> bool {
        !(self.changed.is_empty() && self.new.is_empty() && self.orphaned.is_empty())
    }

    /// The run for people: each difference, then a count.
    pub fn render_text(&self, accept: bool) -> String {
        let mut out = String::new();
        for (file, diff) in &self.changed {
            out.push_str(&format!("changed: {}\n{diff}\n", file.display()));
        }
        for file in &self.new {
            out.push_str(&format!("new: {} (no snapshot yet)\n", file.display()));
        }
        for file in &self.orphaned {
            out.push_str(&format!(
                "orphaned: {} (its capture file is gone)\n",
                file.display()
            ));
        }
        out.push_str(&format!(
            "snapshots: {} unchanged, {} changed, {} new, {} orphaned{}\n",
            self.unchanged,
            self.changed.len(),
            self.new.len(),
            self.orphaned.len(),
            if accept {
                format!("; {} accepted", self.accepted)
            } else if self.differs() {
                "; review the differences, then run again with --accept to keep them".to_owned()
            } else {
                String::new()
            }
        ));
        out
    }
}

/// The snapshot of one capture file: its text report, captures in input order, no
/// colour. `name` is how the report names the file (its path under the folder).
pub fn render(set: &RuleSet, name: &str, bytes: &[u8], read: ReadOptions) -> String {
    let options = crate::evaluate::EvalOptions {
        limits: read.limits,
        ..Default::default()
    };
    match crate::input::read_with(bytes, read) {
        Ok(captures) => {
            let reports: Vec<String> = captures
                .iter()
                .map(|c| {
                    let diagnosis = crate::evaluate::diagnose(set, &c.capture, options);
                    let report = CaptureReport::new(name, c, diagnosis);
                    let text = crate::report::render_capture_text(&report, Lang::En);
                    anstream::adapter::strip_str(&text).to_string()
                })
                .collect();
            // A snapshot is a file rulecheck writes: it crosses the same boundary as its
            // output (key shapes, labelled values, and every key the input shows).
            let known = crate::mask::keys_in(&String::from_utf8_lossy(bytes));
            crate::mask::Redactor::new(known)
                .redact(&reports.join("\n"))
                .into_owned()
        }
        Err(e) => crate::mask::Redactor::default()
            .redact(&format!("{name}: not read: {e}\n"))
            .into_owned(),
    }
}

/// Renders every capture file under `dir` and compares it with its snapshot; with
/// `accept`, writes the new and changed snapshots and removes the orphaned ones.
pub fn run(
    set: &RuleSet,
    dir: &Path,
    accept: bool,
    read: ReadOptions,
) -> Result<SnapshotRun, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a folder of captures", dir.display()));
    }
    let mut files = Vec::new();
    crate::diff::collect_files(dir, &mut files);
    files.sort();
    let is_snapshot = |p: &Path| p.extension().is_some_and(|e| e == EXTENSION);
    let mut run = SnapshotRun::default();
    for snap in files.iter().filter(|p| is_snapshot(p)) {
        if !snap.with_extension("").is_file() {
            run.orphaned.push(snap.clone());
        }
    }
    for file in files.iter().filter(|p| !is_snapshot(p)) {
        let name = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let now = render(set, &name, &bytes, read);
        let snap_path = snapshot_path(file);
        match std::fs::read_to_string(&snap_path) {
            Ok(before) if before == now => run.unchanged += 1,
            Ok(before) => {
                let diff = similar::TextDiff::from_lines(&before, &now)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("{name} (snapshot)"), &format!("{name} (now)"))
                    .to_string();
                run.changed.push((file.clone(), diff));
            }
            Err(_) => run.new.push(file.clone()),
        }
        if accept && std::fs::read_to_string(&snap_path).ok().as_deref() != Some(now.as_str()) {
            std::fs::write(&snap_path, &now)
                .map_err(|e| format!("{}: {e}", snap_path.display()))?;
            run.accepted += 1;
        }
    }
    if accept {
        for snap in &run.orphaned {
            std::fs::remove_file(snap).map_err(|e| format!("{}: {e}", snap.display()))?;
            run.accepted += 1;
        }
    }
    Ok(run)
}

/// `calls.jsonl` → `calls.jsonl.snap`, beside it.
fn snapshot_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(EXTENSION);
    PathBuf::from(name)
}
