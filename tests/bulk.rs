//! Bulk mode: JSON Lines streamed in order, summaries, skipped lines.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A file that is removed when the test is done with it.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl std::ops::Deref for TempFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

/// The corpus in a file of its own for each test (tests run in parallel).
fn corpus(test: &str) -> (TempFile, usize) {
    // Every gateway capture, one per line, in name order, plus one broken line.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures/gateway");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut lines: Vec<String> = files
        .iter()
        .map(|f| {
            serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(f).unwrap())
                .unwrap()
                .to_string()
        })
        .collect();
    let n = lines.len();
    lines.insert(3, "{\"response\": {\"status\": 404}".to_owned()); // truncated: line 4
    let path = std::env::temp_dir().join(format!(
        "rulecheck-bulk-{}-{test}.jsonl",
        std::process::id()
    ));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (TempFile(path), n)
}

mod common;
use common::rulecheck;

#[test]
fn summary_of_a_fixed_corpus() {
    let (path, n) = corpus("summary");
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--summary"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "a skipped line makes the run partial"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("line 4: not a JSON value"), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("{n} captures (1 input lines skipped)")),
        "{text}"
    );
    insta::assert_snapshot!(text);

    let out = rulecheck(&[
        "eval",
        path.to_str().unwrap(),
        "--summary",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["captures"].as_u64(), Some(n as u64));
    let total: u64 = v["by_diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum::<u64>()
        + v["without_specific_diagnosis"]["count"].as_u64().unwrap();
    assert_eq!(total, n as u64, "every capture is counted once");
}

#[test]
fn jsonl_reports_stream_in_input_order_with_any_thread_count() {
    let (path, n) = corpus("order");
    let run = |threads: &str| {
        let out = rulecheck(&[
            "eval",
            path.to_str().unwrap(),
            "--format",
            "jsonl",
            "--threads",
            threads,
        ]);
        assert_eq!(out.status.code(), Some(3));
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run("1");
    assert_eq!(one, run("2"), "the same output whatever the parallelism");
    let lines: Vec<serde_json::Value> = one
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), n);
    let numbers: Vec<u64> = lines
        .iter()
        .map(|l| {
            l["locator"]
                .as_str()
                .unwrap()
                .trim_start_matches("line ")
                .parse()
                .unwrap()
        })
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort();
    assert_eq!(numbers, sorted, "input order");
    assert!(!numbers.contains(&4), "the broken line is skipped");
    // Each line is a report as the schema describes it.
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    schema["$ref"] = "#/$defs/report".into();
    for k in ["properties", "required", "additionalProperties", "type"] {
        schema.as_object_mut().unwrap().remove(k);
    }
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    for l in &lines {
        let errors: Vec<String> = validator.iter_errors(l).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

/// Runs `eval - --format jsonl` on `input`: the exit code, the status of each report
/// in output order, and what went to stderr.
fn eval_stdin(input: &[u8]) -> (Option<i32>, Vec<u64>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulecheck"))
        .args(["eval", "-", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let statuses = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let stderr = String::from_utf8(out.stderr).unwrap();
    (out.status.code(), statuses, stderr)
}

#[test]
fn standard_input_streams_too() {
    let input: String = [401, 404, 429]
        .map(|status| format!("{{\"response\": {{\"status\": {status}}}}}\n"))
        .concat();
    let (code, statuses, stderr) = eval_stdin(input.as_bytes());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(statuses, [401, 404, 429]);
}

/// Blank lines are passed over, and a line with bytes that are not UTF-8, in a string
/// or outside one, is skipped with its number and the reason.
#[test]
fn lines_that_are_not_utf8_are_skipped_with_their_number() {
    let input: &[&[u8]] = &[
        b"{\"response\": {\"status\": 401}}\n",
        b"{\"response\": {\"status\": 404, \"body\": \"\xff\xfe\"}}\n",
        b" \t \r\n\n",
        b"\xc3{\"response\": {\"status\": 500}}\n",
        b"{\"response\": {\"status\": 429, \"body\": \"\xe9\x99\x90\"}}",
    ];
    let (code, statuses, stderr) = eval_stdin(&input.concat());
    assert_eq!(code, Some(3), "some lines were skipped");
    assert_eq!(statuses, [401, 429]);
    for line in [2, 5] {
        assert!(
            stderr.contains(&format!("line {line}: the line is not UTF-8 text; skipped")),
            "{stderr}"
        );
    }
}

/// `--summary` classifies captures without rendering findings: every capture of every
/// fixture must count exactly as its full diagnosis would.
#[test]
fn classifying_counts_exactly_as_diagnosing() {
    use rulecheck::evaluate::{EvalOptions, classify, diagnose};
    use rulecheck::rulebook::{LoadOptions, RuleSet};
    use rulecheck::summary::Summary;
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let (mut by_diagnosis, mut by_classification) = (Summary::default(), Summary::default());
    let mut n = 0;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs = vec![root.join("captures"), root.join("inputs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let Ok(captures) = rulecheck::input::read(&std::fs::read(&path).unwrap()) else {
                continue;
            };
            for c in captures {
                let d = diagnose(&set, &c.capture, EvalOptions::default());
                let k = classify(&set, &c.capture, EvalOptions::default());
                assert_eq!(
                    k.top.map(|(id, _)| id),
                    d.findings
                        .iter()
                        .find(|f| !f.id.starts_with("status."))
                        .map(|f| f.id.as_ref()),
                    "{}",
                    path.display()
                );
                assert_eq!((&k.url, &k.client, k.status), (&d.url, &d.client, d.status));
                by_diagnosis.add(&d);
                by_classification.add_classified(&k);
                n += 1;
            }
        }
    }
    assert!(n > 100, "{n} captures");
    assert_eq!(
        serde_json::to_value(by_diagnosis.report()).unwrap(),
        serde_json::to_value(by_classification.report()).unwrap()
    );
}
