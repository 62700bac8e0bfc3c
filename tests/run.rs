//! One road through `eval`: every input gets the same reports in every output format,
//! a bad line is skipped the same way everywhere, flags and files do not mix silently,
//! and a closed pipe is a quiet stop.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::{command, fixture, rulecheck, scratch, stderr, stdout};

/// Each report's (source, locator, finding ids), whatever the format printed.
fn reports(format: &str, o: &Output) -> Vec<(String, String, Vec<String>)> {
    let one = |r: &serde_json::Value| {
        let ids = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        (
            r["source"].as_str().unwrap().to_owned(),
            r["locator"].as_str().unwrap_or("").to_owned(),
            ids,
        )
    };
    let out = stdout(o);
    match format {
        "json" => serde_json::from_str::<serde_json::Value>(&out).unwrap()["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(one)
            .collect(),
        "jsonl" => out
            .lines()
            .map(|l| one(&serde_json::from_str(l).unwrap()))
            .collect(),
        _ => panic!("no format {format}"),
    }
}

/// The top diagnosis of each capture in a summary.
fn summary_total(o: &Output) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["captures"].as_u64().unwrap()
}

#[test]
fn a_single_capture_gets_the_same_report_in_every_format() {
    let file = fixture("captures/openai-host-401.json");
    let file = file.to_str().unwrap();
    let json = rulecheck(&["eval", file, "--format", "json"]);
    let jsonl = rulecheck(&["eval", file, "--format", "jsonl"]);
    assert_eq!(jsonl.status.code(), Some(0), "{}", stderr(&jsonl));
    assert_eq!(reports("json", &json), reports("jsonl", &jsonl));
    assert_eq!(reports("jsonl", &jsonl)[0].2[0], "address.openai-host");
    let summary = rulecheck(&["eval", file, "--summary", "--format", "json"]);
    assert_eq!(summary.status.code(), Some(0), "{}", stderr(&summary));
    assert_eq!(summary_total(&summary), 1);
    let text = rulecheck(&["eval", file]);
    assert!(stdout(&text).contains("address.openai-host"));
}

#[test]
fn the_json_document_is_the_librarys_report_whole() {
    // The CLI writes reports one at a time; the document must be what the library's
    // `Report::to_json` makes of the same reports.
    use rulecheck::report::{CaptureReport, Report};
    use rulecheck::rulebook::{LoadOptions, RuleSet};
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let path = fixture("inputs/log/new-api-n1.log");
    let name = path.to_str().unwrap();
    let captures = rulecheck::input::read(&std::fs::read(&path).unwrap()).unwrap();
    assert!(captures.len() > 1);
    let reports = captures
        .iter()
        .map(|c| {
            let d = rulecheck::evaluate::diagnose(&set, &c.capture, Default::default());
            CaptureReport::new(name, c, d)
        })
        .collect();
    let expected = Report::new(&set, reports).to_json() + "\n";
    let o = rulecheck(&["eval", name, "--format", "json", "--no-project"]);
    assert_eq!(stdout(&o), expected);
    // No capture at all: the empty list, as the library writes it.
    let empty = scratch("run-empty").join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let o = rulecheck(&["eval", empty.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), Report::new(&set, Vec::new()).to_json() + "\n");
}

#[test]
fn a_broken_line_is_skipped_with_its_number_and_exit_3_in_every_format() {
    let dir = scratch("run-broken-line");
    let file = dir.join("three.jsonl");
    std::fs::write(
        &file,
        "{\"response\": {\"status\": 404}}\n{\"response\": {\"sta\n{\"response\": {\"status\": 401}}\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    for args in [
        vec!["eval", file],
        vec!["eval", file, "--format", "json"],
        vec!["eval", file, "--format", "jsonl"],
        vec!["eval", file, "--summary"],
    ] {
        let o = rulecheck(&args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("three.jsonl: line 2:"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    for format in ["json", "jsonl"] {
        let o = rulecheck(&["eval", file, "--format", format]);
        let got: Vec<(String, String)> = reports(format, &o)
            .into_iter()
            .map(|(_, locator, ids)| (locator, ids[0].clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("line 1".to_owned(), "status.404".to_owned()),
                ("line 3".to_owned(), "status.401".to_owned())
            ],
            "{format}"
        );
    }
    // A broken first line is a skipped line too, not an unreadable file.
    let first = dir.join("first.jsonl");
    std::fs::write(
        &first,
        "{\"response\": {\"sta\n{\"response\": {\"status\": 401}}\n",
    )
    .unwrap();
    let o = rulecheck(&["eval", first.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(reports("json", &o).len(), 1);
}

#[test]
fn captures_keep_fields_they_do_not_define() {
    let dir = scratch("run-extra-fields");
    let log = dir.join("app.jsonl");
    std::fs::write(
        &log,
        "{\"id\": 1, \"ts\": \"2026-12-01T10:00:00Z\", \"level\": \"error\", \"request\": {\"url\": \"https://api.moleapi.com/chat/completions\"}, \"response\": {\"status\": 404}}\n\
         {\"id\": 2, \"ts\": \"2026-12-01T10:00:01Z\", \"level\": \"error\", \"response\": {\"status\": 401}}\n",
    )
    .unwrap();
    let one = dir.join("one.json");
    std::fs::write(
        &one,
        r#"{"id": "abc", "trace_id": {"span": 7}, "response": {"status": 429}}"#,
    )
    .unwrap();
    let o = rulecheck(&["eval", log.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = reports("jsonl", &o);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].2[0], "address.missing-v1");
    let o = rulecheck(&["eval", one.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Kept, and written back as they were.
    let c: rulecheck::capture::Capture =
        serde_json::from_slice(&std::fs::read(&one).unwrap()).unwrap();
    assert_eq!(c.extra["trace_id"]["span"], 7);
    let again = serde_json::to_value(&c).unwrap();
    assert_eq!(again["id"], "abc");
    assert_eq!(again["response"]["status"], 429);
    // A field given twice is still an error, not a silent choice.
    assert!(
        serde_json::from_str::<rulecheck::capture::Capture>(
            r#"{"response": {"status": 1}, "response": {"status": 2}}"#
        )
        .is_err()
    );
}

#[test]
fn trace_reaches_every_format() {
    let file = fixture("captures/key-trailing-newline-401.json");
    let file = file.to_str().unwrap();
    for format in ["json", "jsonl"] {
        let o = rulecheck(&["eval", file, "--trace", "--format", format]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = stdout(&o);
        let report: serde_json::Value = match format {
            "json" => {
                serde_json::from_str::<serde_json::Value>(&text).unwrap()["reports"][0].clone()
            }
            _ => serde_json::from_str(text.lines().next().unwrap()).unwrap(),
        };
        let trace = report["trace"].as_array().expect(format);
        assert!(
            trace
                .iter()
                .any(|t| t["rule"] == "key.whitespace" && t["holds"] == true),
            "{format}"
        );
    }
    let o = rulecheck(&["eval", file, "--trace", "--summary"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--trace"), "{}", stderr(&o));
}

#[test]
fn call_flags_and_files_do_not_mix_silently() {
    let file = fixture("captures/openai-host-401.json");
    let o = rulecheck(&["eval", file.to_str().unwrap(), "--status", "500"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--status"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    // Without a file the flags are the call, in every format (stdin is not read).
    for format in ["jsonl", "json"] {
        let o = rulecheck(&["eval", "--status", "429", "--format", format]);
        let got = reports(format, &o);
        assert_eq!(got.len(), 1, "{format}: {}", stderr(&o));
        assert_eq!(got[0].0, "flags");
        assert!(got[0].2.iter().any(|id| id == "status.429"), "{got:?}");
    }
    let o = rulecheck(&["eval", "--status", "429", "--summary", "--format", "json"]);
    assert_eq!(summary_total(&o), 1);
}

/// Runs rulecheck with its standard output already closed by its reader.
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command()
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_is_a_quiet_successful_stop() {
    let file = fixture("captures/openai-host-401.json");
    let file = file.to_str().unwrap();
    for args in [
        vec!["explain", "key.whitespace"],
        vec!["limits"],
        vec!["list"],
        vec!["test", "--format", "json"],
        vec!["lint"],
        vec!["eval", file],
        vec!["eval", file, "--format", "json"],
        vec!["eval", file, "--format", "jsonl"],
    ] {
        let o = with_closed_stdout(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("Broken pipe"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn a_bulk_run_stops_reading_when_its_reader_is_gone() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = command()
        .args(["eval", "-", "--format", "jsonl", "--threads", "2"])
        .stdin(Stdio::piped())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let line = b"{\"request\": {\"url\": \"https://api.moleapi.com/chat/completions\"}, \"response\": {\"status\": 404}}\n";
    // Far more than the run needs to notice: if it kept reading, every line would go in.
    let mut written = 0;
    let stopped = (0..200_000).any(|_| {
        let failed = input.write_all(line).is_err();
        written += 1;
        failed
    });
    drop(input);
    let o = child.wait_with_output().unwrap();
    assert!(
        stopped,
        "rulecheck read all {written} lines after its output closed"
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn worker_threads_are_bounded_with_a_clear_message() {
    let file = fixture("captures/openai-host-401.json");
    let o = rulecheck(&["eval", file.to_str().unwrap(), "--threads", "20000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--threads"), "{}", stderr(&o));
    let o = rulecheck(&["eval", file.to_str().unwrap(), "--threads", "256"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_input_over_the_limit_is_measured_truly() {
    let dir = scratch("run-input-limit");
    let file = dir.join("big.json");
    let body = "x".repeat(1100);
    std::fs::write(
        &file,
        format!("{{\"response\": {{\"status\": 500, \"body\": \"{body}\"}}}}"),
    )
    .unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    let o = rulecheck(&[
        "eval",
        file.to_str().unwrap(),
        "--limit",
        "input-bytes=1KiB",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("the input is {size} bytes; the limit is 1024")),
        "{}",
        stderr(&o)
    );
    // From a stream, rulecheck reads no further than the limit and says so.
    let mut child = command()
        .args(["eval", "-", "--limit", "input-bytes=1KiB"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&file).unwrap());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("over 1024 bytes"), "{}", stderr(&o));
}

/// Each JSON Lines report names the engine and the rulebooks that made it (name,
/// version, digest, layer), as the JSON document does once, and the rules left out;
/// a line can be traced to its rulebook on its own.
#[test]
fn every_json_lines_report_names_its_rulebooks() {
    let dir = scratch("run-provenance");
    let lines = dir.join("calls.jsonl");
    std::fs::write(
        &lines,
        "{\"response\": {\"status\": 401}}\n{\"response\": {\"status\": 404}}\n",
    )
    .unwrap();
    let future = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rulebooks/layers/future-rule.yaml");
    let out = rulecheck(&[
        "eval",
        lines.to_str().unwrap(),
        "--format",
        "jsonl",
        "--overlay",
        future.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let document = rulecheck(&[
        "eval",
        lines.to_str().unwrap(),
        "--format",
        "json",
        "--overlay",
        future.to_str().unwrap(),
    ]);
    let document: serde_json::Value = serde_json::from_slice(&document.stdout).unwrap();
    let reports: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        assert_eq!(r["rulecheck"], document["rulecheck"], "{r}");
        assert_eq!(r["rulebooks"], document["rulebooks"], "{r}");
        assert_eq!(r["skipped"], document["skipped"], "{r}");
        assert_eq!(r["rulebooks"][1]["name"], "future", "{r}");
        assert!(
            r["rulebooks"][0]["digest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
        assert_eq!(r["skipped"][0]["rule"], "future.entropy", "{r}");
    }
}
