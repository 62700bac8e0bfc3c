//! Hostile input: each limit refuses or contains what it is for, quickly, with a clear
//! message and a documented exit code — never a panic. (No timings here: speed is
//! measured in benches/.)

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::path::PathBuf;

mod common;
use common::{root, rulecheck, text};

fn dir() -> PathBuf {
    common::scratch("hostile")
}

/// A file of this test process's scratch directory, written.
fn write_file(name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn a_50_mb_body_is_evaluated_on_its_first_mebibyte_and_says_so() {
    let path = dir().join("huge-body.json");
    let body = format!(
        "{{\"error\": {{\"message\": \"Invalid token\"}}, \"padding\": \"{}\"}}",
        "x".repeat(50 * 1024 * 1024)
    );
    let capture = serde_json::json!({"request": {"url": "https://api.moleapi.com/v1/chat/completions"}, "response": {"status": 401, "body": body}});
    std::fs::write(&path, capture.to_string()).unwrap();
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "json"]);
    let v = common::json_ok(&out);
    assert_eq!(v["reports"][0]["cut"], serde_json::json!(["response.body"]));
    assert_eq!(
        v["reports"][0]["findings"][0]["id"], "key.invalid-or-expired",
        "the error is still read from the JSON"
    );
    assert!(
        out.stdout.len() < 200_000,
        "no message quotes the whole body: {} bytes",
        out.stdout.len()
    );
}

#[test]
fn the_body_limit_can_be_lowered_and_the_report_says_what_was_cut() {
    let path = dir().join("padded-body.json");
    let capture = serde_json::json!({"response": {"status": 502, "body": format!("{}<html>bad gateway</html>", " ".repeat(5000))}});
    std::fs::write(&path, capture.to_string()).unwrap();
    let file = path.to_str().unwrap();
    let out = rulecheck(&["eval", file, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["reports"][0].get("cut").is_none(), "{v}");
    let out = rulecheck(&[
        "eval",
        file,
        "--format",
        "json",
        "--limit",
        "body-bytes=1000",
    ]);
    let v = common::json_ok(&out);
    assert_eq!(v["reports"][0]["cut"], serde_json::json!(["response.body"]));
    let out = rulecheck(&["eval", file, "--limit", "body-bytes=1000"]);
    assert!(
        text(&out).contains("response.body is longer than rulecheck matches (--limit body-bytes"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_input_over_the_size_limit_is_refused() {
    let path = write_file(
        "big.json",
        format!(
            "{{\"response\": {{\"status\": 500, \"body\": \"{}\"}}}}",
            "y".repeat(100_000)
        ),
    );
    let out = rulecheck(&[
        "eval",
        path.to_str().unwrap(),
        "--limit",
        "input-bytes=10000",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("the limit is 10000 bytes (raise it with --limit input-bytes=SIZE)"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_har_over_the_entry_limit_is_refused_and_the_limit_can_be_raised() {
    let path = dir().join("many-entries.har");
    let entry = r#"{"request": {"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions", "headers": []}, "response": {"status": 500, "headers": [], "content": {"text": "{}"}}}"#;
    let entries = vec![entry; 50].join(",");
    std::fs::write(&path, format!("{{\"log\": {{\"entries\": [{entries}]}}}}")).unwrap();
    let file = path.to_str().unwrap();
    let out = rulecheck(&["eval", file, "--limit", "har-entries=49"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("the HAR file has more than 49 entries; the limit is 49")
            && text(&out).contains("--limit har-entries=N"),
        "{}",
        text(&out)
    );
    let out = rulecheck(&[
        "eval",
        file,
        "--limit",
        "har-entries=50",
        "--format",
        "json",
    ]);
    let v = common::json_ok(&out);
    assert_eq!(
        v["reports"][0]["attempts"], 50,
        "the identical attempts are one report"
    );
}

#[test]
fn deeply_nested_json_is_refused_not_a_stack_overflow() {
    let path = write_file(
        "deep.json",
        format!(
            "{{\"response\": {{\"status\": 500, \"body\": {}{}}}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    let out = rulecheck(&["eval", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("recursion limit exceeded"),
        "{}",
        text(&out)
    );
    // A deeply nested Python literal in an SDK traceback, likewise.
    let path = write_file(
        "deep.txt",
        format!(
            "openai.BadRequestError: Error code: 400 - {}\n",
            "{'a': ".repeat(10_000)
        ),
    );
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "read as text: {}", text(&out));
}

#[test]
fn a_yaml_alias_bomb_is_refused() {
    let path = dir().join("bomb.yaml");
    let mut y = String::from(
        "format: rulecheck/v1\nname: bomb\nversion: 1.0.0\nvars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..10 {
        let p = i - 1;
        y.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    y.push_str("rules: []\n");
    std::fs::write(&path, y).unwrap();
    let out = rulecheck(&["lint", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("RC001"), "{}", text(&out));
}

#[test]
fn an_oversized_regex_is_refused_at_its_position() {
    let path = write_file(
        "regex.yaml",
        "format: rulecheck/v1\nname: r\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n    when: { error.message: { matches: '(\\w{100}){100}' } }\n    message: m\n",
    );
    let out = rulecheck(&["lint", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("RC005") && text(&out).contains("regex.yaml:10:"),
        "{}",
        text(&out)
    );
}

/// A rulebook of `n` rules, each with a pattern of its own.
fn pattern_rules(name: &str, n: usize, pattern: &str) -> PathBuf {
    let mut y = String::from(
        "format: rulecheck/v1\nname: rx\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n",
    );
    for i in 0..n {
        y.push_str(&format!("  - {{ id: r{i}, title: R, category: c, severity: error, message: m, when: {{ error.message: {{ matches: '{pattern}{i}' }} }} }}\n"));
    }
    write_file(name, y)
}

/// Patterns each under `regex-bytes` still add up: 300 rules of `\w{19}` (a third of a
/// megabyte each; 1,600 of them held 1.8 GB) are refused once they pass
/// `regex-total-bytes`, said once, at the pattern where the budget ran out; raised,
/// the limit lets them load. And 800 patterns each over `regex-bytes` stop being
/// compiled once the budget is spent on finding that out (each took 6 ms).
#[test]
fn the_patterns_of_a_rulebook_share_one_memory_budget() {
    let path = pattern_rules("budget.yaml", 300, "\\w{19}");
    let file = path.to_str().unwrap();
    let out = rulecheck(&["lint", file]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert_eq!(said.matches("error[").count(), 1, "{said}");
    assert!(
        said.contains("RC025") && said.contains("regex-total-bytes"),
        "{said}"
    );
    let out = rulecheck(&["lint", file, "--limit", "regex-total-bytes=1GiB"]);
    assert!(!text(&out).contains("error["), "{}", text(&out));

    let mut alternatives = String::new();
    for i in 0..800 {
        alternatives.push_str(&format!(
            "{{ error.message: {{ matches: '\\w{{{}}}' }} }}, ",
            60 + i
        ));
    }
    let over = write_file(
        "over-size.yaml",
        format!(
            "format: rulecheck/v1\nname: rx\nversion: 1.0.0\ncategories: [{{id: c, title: C}}]\nrules:\n  - {{ id: r, title: R, category: c, severity: error, message: m, when: {{ any: [ {alternatives} ] }} }}\n"
        ),
    );
    let out = rulecheck(&["lint", over.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = found["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    let over_size = codes.iter().filter(|c| **c == "RC005").count();
    // 32 MiB of budget, 1 MiB charged for each pattern found over 1 MiB.
    assert!((1..=32).contains(&over_size), "{codes:?}");
    assert_eq!(
        codes.iter().filter(|c| **c == "RC025").count(),
        1,
        "{codes:?}"
    );
}

/// `lint` checks each rule's examples against every rule (RC031): a square of the
/// rulebook's size (10,000 rules with an example each took 9.4 s). It runs at most
/// `lint-rule-runs` rule conditions for that and names the rules it left unchecked;
/// raised, the limit checks them all.
#[test]
fn lint_bounds_its_whole_rulebook_check_and_says_what_it_left() {
    let mut y = String::from(
        "format: rulecheck/v1\nname: many\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n",
    );
    for i in 0..600 {
        y.push_str(&format!("  - {{ id: r{i}, title: R, category: c, severity: error, message: m, when: {{ error.message: {{ contains: 'word{i} ' }} }}, examples: {{ match: [ {{ response: {{ status: 400, body: {{ error: {{ message: 'word{i} here' }} }} }} }} ] }} }}\n"));
    }
    let path = write_file("lint-runs.yaml", y);
    let file = path.to_str().unwrap();
    let out = rulecheck(&["lint", file, "--limit", "lint-rule-runs=120000"]);
    let said = text(&out);
    // 600 conditions a rule's example: 200 rules fit in 120,000.
    assert!(
        said.contains("400 rules, from `r200` on, were not checked"),
        "{said}"
    );
    let out = rulecheck(&["lint", file, "--limit", "lint-rule-runs=400000"]);
    assert!(!text(&out).contains("were not checked"), "{}", text(&out));
}

/// `--trace` shows at most `trace-nodes` condition nodes of one capture: 100 rules of
/// 301 nodes each would be 30,100. Past the limit every rule is still listed with its
/// truth and outcome; raised, the limit shows every node.
#[test]
fn the_trace_of_one_capture_is_bounded() {
    let tests: Vec<String> = (0..300)
        .map(|i| format!("{{ error.message: {{ contains: 'w{i}x' }} }}"))
        .collect();
    let mut y = String::from(
        "format: rulecheck/v1\nname: wide\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n",
    );
    for r in 0..100 {
        y.push_str(&format!(
            "  - {{ id: r{r}, title: R, category: c, severity: error, message: m, when: {{ any: [ {} ] }} }}\n",
            tests.join(", ")
        ));
    }
    let rules = write_file("wide.yaml", y);
    let capture = write_file(
        "wide-capture.json",
        r#"{"response": {"status": 400, "body": {"error": {"message": "w299x"}}}}"#,
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            capture.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
            "--trace",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = rulecheck(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let count = |v: &serde_json::Value| {
        let traces = v["reports"][0]["trace"].as_array().unwrap().clone();
        let mut shown = 0;
        let mut cut = 0;
        fn walk(n: &serde_json::Value, shown: &mut usize, cut: &mut usize) {
            if n["node"].as_str().unwrap().starts_with("(not traced") {
                *cut += 1;
            } else {
                *shown += 1;
            }
            for c in n["children"].as_array().into_iter().flatten() {
                walk(c, shown, cut);
            }
        }
        for t in &traces {
            walk(&t["tree"], &mut shown, &mut cut);
            // The truth is told past the limit too: w299x is the last test of each.
            assert_eq!(t["holds"], true, "{t}");
        }
        (traces.len(), shown, cut)
    };
    let (rules_listed, shown, cut) = count(&run(&[]));
    assert_eq!((rules_listed, shown), (100, 20_000));
    assert!(cut > 0);
    let (rules_listed, shown, cut) = count(&run(&["--limit", "trace-nodes=40000"]));
    assert_eq!((rules_listed, shown, cut), (100, 30_100, 0));
}

/// A curl -v transcript of an audio upload: its body is not text. The call is read
/// (the body listed as not read); a file that is binary from its first byte is still
/// called one.
#[test]
fn a_transcript_with_a_binary_body_is_read_without_the_body() {
    let mut bytes = b"* Connected to api.moleapi.com port 443\n> POST /v1/audio/transcriptions HTTP/1.1\n> Host: api.moleapi.com\n> Content-Type: multipart/form-data; boundary=x\n> \n".to_vec();
    bytes.extend((0..=255u8).cycle().take(2048));
    bytes.extend_from_slice(b"\n< HTTP/1.1 401 Unauthorized\n< content-type: application/json\n< \n{\"error\":{\"message\":\"Invalid token\"}}\n");
    let path = write_file("upload-v.txt", &bytes);
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &v["reports"][0];
    assert_eq!(report["status"], 401, "{report}");
    assert!(
        report["lacks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "request.body"),
        "{report}"
    );
    let binary: Vec<u8> = (0..=255u8).rev().cycle().take(4096).collect();
    let path = write_file("binary.bin", &binary);
    let out = rulecheck(&["eval", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("binary file"), "{}", text(&out));
}

/// A rulebook file of `n` one-line rules.
fn many_rules(name: &str, n: usize) -> PathBuf {
    let path = dir().join(name);
    let mut y = String::from(
        "format: rulecheck/v1\nname: many\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n",
    );
    for i in 0..n {
        y.push_str(&format!("  - {{ id: r{i}, title: R, category: c, severity: info, when: {{ status: 418 }}, message: m }}\n"));
    }
    std::fs::write(&path, &y).unwrap();
    path
}

#[test]
fn too_many_rules_and_too_big_a_rulebook_are_refused() {
    let path = many_rules("many.yaml", 10_001);
    let out = rulecheck(&["lint", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("RC025") && text(&out).contains("the limit is 10000"),
        "{}",
        text(&out)
    );
    let big = write_file("big.yaml", format!("# {}\n", "z".repeat(9 * 1024 * 1024)));
    let out = rulecheck(&["lint", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("RC017") && text(&out).contains("the limit is"),
        "{}",
        text(&out)
    );
}

/// A 401 capture whose error message is 20,000 bytes long, and the message.
fn long_message(name: &str) -> (PathBuf, String) {
    let message = format!("Invalid token {}", "q".repeat(20_000));
    let capture =
        serde_json::json!({"response": {"status": 401, "body": {"error": {"message": message}}}});
    (write_file(name, capture.to_string()), message)
}

/// The first finding's evidence value for `error.message`.
fn message_evidence(report: &serde_json::Value) -> &str {
    report["reports"][0]["findings"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["fact"] == "error.message")
        .and_then(|e| e["value"].as_str())
        .unwrap()
}

#[test]
fn a_huge_fact_in_a_message_is_quoted_only_in_part() {
    let (path, message) = long_message("long-message.json");
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = v["reports"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(m.len() < 2_000 && m.contains('…'), "{} bytes", m.len());
    // Evidence quotes the same way: the start of the value, then an ellipsis.
    let shown = message_evidence(&v);
    assert!(
        shown.len() <= 1_000 + '…'.len_utf8()
            && shown.ends_with('…')
            && message.starts_with(shown.trim_end_matches('…')),
        "{} bytes",
        shown.len()
    );
}

#[test]
fn random_bytes_never_crash_the_readers() {
    // A cheap stand-in for the fuzzers in fuzz/, run on every test: arbitrary bytes
    // through detection and every reader end in captures or a clean error.
    let mut seed = 0x1234_5678_9abc_def0u64;
    let samples = [
        &b"HTTP/1.1 404 Not Found\r\n"[..],
        b"> POST /v1 HTTP/2\n< HTTP/2 500\n",
        b"openai.NotFoundError: Error code: 404 - {'error': ",
        b"[GIN] 2024/05/25 - 02:20:27 | abc | 429 |",
        b"{\"log\": {\"entries\": [{\"request\": {}}]}}",
        b"{\"request\": {\"headers\": [[\"a\"]]}}",
    ];
    for i in 0..3000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let base = samples[i % samples.len()];
        let mut bytes = base.to_vec();
        let cut = (seed as usize) % (bytes.len() + 1);
        bytes.truncate(cut);
        for k in 0..(seed % 8) {
            bytes.push((seed >> (k * 8)) as u8);
        }
        for format in [
            None,
            Some(rulecheck::input::Format::Http),
            Some(rulecheck::input::Format::Sdk),
            Some(rulecheck::input::Format::Log),
            Some(rulecheck::input::Format::Har),
        ] {
            let options = rulecheck::input::ReadOptions {
                format,
                ..Default::default()
            };
            let _ = rulecheck::input::read_with(&bytes, options);
        }
    }
}

/// Every limit is a `--limit NAME=VALUE`: each one below is shown refusing (or
/// containing) its input at one value and taking it at another.
#[test]
fn the_rulebook_limits_can_be_raised() {
    let path = many_rules("many-raised.yaml", 10_001);
    let file = path.to_str().unwrap();
    let out = rulecheck(&["lint", file, "--limit", "rules=10001"]);
    assert!(!text(&out).contains("RC025"), "{}", text(&out));
    let out = rulecheck(&[
        "lint",
        file,
        "--limit",
        "rules=20000",
        "--limit",
        "rulebook-bytes=100",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("RC017") && text(&out).contains("the limit is 100"),
        "{}",
        text(&out)
    );

    let regex = write_file(
        "regex-raised.yaml",
        "format: rulecheck/v1\nname: r\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n    when: { error.message: { matches: '(?-u:\\w{30}){30}' } }\n    message: m\n",
    );
    let file = regex.to_str().unwrap();
    let out = rulecheck(&["lint", file, "--limit", "regex-bytes=10KiB"]);
    assert!(text(&out).contains("RC005"), "{}", text(&out));
    let out = rulecheck(&["lint", file, "--limit", "regex-bytes=64MiB"]);
    assert!(!text(&out).contains("RC005"), "{}", text(&out));
}

#[test]
fn the_yaml_limits_can_be_lowered() {
    let path = write_file(
        "aliases.yaml",
        "format: rulecheck/v1\nname: a\nversion: 1.0.0\nvars:\n  x: &x http://h/v1\n  y: *x\n  z: *x\ncategories: [{id: c, title: C}]\nrules: []\n",
    );
    let file = path.to_str().unwrap();
    let out = rulecheck(&["lint", file]);
    assert!(!text(&out).contains("RC001"), "{}", text(&out));
    let out = rulecheck(&["lint", file, "--limit", "yaml-aliases=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("RC001"), "{}", text(&out));
    let out = rulecheck(&["lint", file, "--limit", "yaml-depth=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("RC001"), "{}", text(&out));
}

#[test]
fn the_quote_limit_can_be_raised() {
    let (path, message) = long_message("long-message-raised.json");
    let out = rulecheck(&[
        "eval",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--limit",
        "quote-bytes=64KiB",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = v["reports"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(
        m.contains(&message) && !m.contains('…'),
        "{} bytes",
        m.len()
    );
    assert_eq!(message_evidence(&v), message);
}

#[test]
fn the_json_depth_limit_can_be_lowered_for_files_and_lines() {
    let nested = format!("{}1{}", "[".repeat(10), "]".repeat(10));
    let capture = format!("{{\"response\": {{\"status\": 500, \"body\": {nested}}}}}");
    let path = write_file("depth-10.json", &capture);
    let file = path.to_str().unwrap();
    let out = rulecheck(&["eval", file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = rulecheck(&["eval", file, "--limit", "json-depth=8"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("deeper than 8 levels") && text(&out).contains("--limit json-depth"),
        "{}",
        text(&out)
    );
    // In bulk mode the deep line is skipped with its number; the others are read.
    let lines = write_file(
        "depth.jsonl",
        format!("{capture}\n{{\"response\": {{\"status\": 404}}}}\n"),
    );
    let out = rulecheck(&[
        "eval",
        lines.to_str().unwrap(),
        "--format",
        "jsonl",
        "--limit",
        "json-depth=8",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("line 1") && text(&out).contains("deeper than 8"),
        "{}",
        text(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);

    // At the default limit too: a body 200 levels deep is refused in a file and
    // skipped in JSON Lines alike (bulk mode read it: the body is kept as read, and
    // serde_json does not count the depth of what it keeps).
    let nested = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let capture = format!("{{\"response\": {{\"status\": 500, \"body\": {nested}}}}}");
    let whole = write_file("depth-200.json", &capture);
    let out = rulecheck(&["eval", whole.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let lines = write_file(
        "depth-200.jsonl",
        format!(
            "{{\"response\": {{\"status\": 401}}}}\n{capture}\n{{\"response\": {{\"status\": 404}}}}\n"
        ),
    );
    let out = rulecheck(&["eval", lines.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("line 2") && text(&out).contains("deeper than 128"),
        "{}",
        text(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn the_literal_depth_limit_can_be_lowered() {
    let path = write_file(
        "literal.txt",
        "openai.NotFoundError: Error code: 404 - {'error': {'message': 'Invalid URL (POST /v1/chat/completion)', 'type': 'invalid_request_error', 'code': None}}\n",
    );
    let file = path.to_str().unwrap();
    let read_as_json = |args: &[&str]| {
        let out = rulecheck(&[&["eval", file, "--format", "json", "--trace"], args].concat());
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        // The body as the trace observes it: JSON (`\"type\":\"…\"`) or the literal's text.
        text(&out).contains(r#"\"type\":\"invalid_request_error\""#)
    };
    assert!(read_as_json(&[]), "the dict is read as JSON by default");
    assert!(
        !read_as_json(&["--limit", "literal-depth=1"]),
        "two levels of dict stay text at depth 1"
    );
}

#[test]
fn the_line_limit_can_be_lowered() {
    let lines = write_file(
        "long-line.jsonl",
        format!(
            "{{\"response\": {{\"status\": 500, \"body\": \"{}\"}}}}\n{{\"response\": {{\"status\": 404}}}}\n",
            "x".repeat(500)
        ),
    );
    let file = lines.to_str().unwrap();
    let out = rulecheck(&["eval", file, "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = rulecheck(&[
        "eval",
        file,
        "--format",
        "jsonl",
        "--limit",
        "line-bytes=100",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("over 100 bytes"), "{}", text(&out));
}

#[test]
fn a_bad_limit_is_refused_with_the_names() {
    let out = rulecheck(&["limits", "--limit", "json-depth=500"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("at most 128"), "{}", text(&out));
    let out = rulecheck(&["eval", "x.json", "--limit", "input-byte=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("did you mean `input-bytes`"),
        "{}",
        text(&out)
    );
    let out = rulecheck(&["limits", "--format", "json", "--limit", "rules=20000"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = v
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "rules")
        .unwrap();
    assert_eq!(
        (rules["default"].as_u64(), rules["value"].as_u64()),
        (Some(10_000), Some(20_000))
    );
}

/// The built-in rulebook builds its patterns on first need; under a lowered
/// `regex-bytes` a pattern too large must be reported, not silently match nothing.
#[test]
fn a_lowered_regex_limit_is_applied_to_the_built_in_rulebook_at_load() {
    let capture = root().join("tests/fixtures/captures/openai-host-401.json");
    let capture = capture.to_str().unwrap();
    let out = rulecheck(&["eval", capture, "--limit", "regex-bytes=2000"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("RC005") && text(&out).contains("builtin:moleapi@"),
        "{}",
        text(&out)
    );
    let out = rulecheck(&["eval", capture, "--limit", "regex-bytes=4MiB"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("address.openai-host"), "{}", text(&out));
}

/// Odd inputs measured in issue 21 get an answer: a UTF-16 file with its byte-order
/// mark (PowerShell's `>` writes them) is read, and the largest input limit does not
/// wrap around to "the input is empty".
#[test]
fn a_utf16_file_is_read_and_the_largest_limit_does_not_wrap() {
    let json = std::fs::read_to_string(root().join("tests/fixtures/captures/openai-host-401.json"))
        .unwrap();
    for (name, bom, encode) in [
        (
            "utf16le.json",
            [0xFF, 0xFE],
            u16::to_le_bytes as fn(u16) -> [u8; 2],
        ),
        (
            "utf16be.json",
            [0xFE, 0xFF],
            u16::to_be_bytes as fn(u16) -> [u8; 2],
        ),
    ] {
        let mut bytes = bom.to_vec();
        bytes.extend(json.encode_utf16().flat_map(encode));
        let path = write_file(name, bytes);
        let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "json"]);
        let v = common::json_ok(&out);
        assert_eq!(
            v["reports"][0]["findings"][0]["id"], "address.openai-host",
            "{name}"
        );
    }
    let path = root().join("tests/fixtures/captures/openai-host-401.json");
    let out = rulecheck(&[
        "eval",
        path.to_str().unwrap(),
        "--limit",
        "input-bytes=18446744073709551615",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("address.openai-host"), "{}", text(&out));
}

/// A folder of captures with links back to itself is walked once: each link made the
/// walk go round again (two of them, exponentially), and `diff` never ended.
#[cfg(unix)]
#[test]
fn a_corpus_folder_that_links_back_to_itself_is_read_once() {
    let folder = dir().join("linked-corpus");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/captures/endpoint-twice-404.json"),
        folder.join("endpoint-twice-404.json"),
    )
    .unwrap();
    for link in ["again", "once-more"] {
        std::os::unix::fs::symlink(".", folder.join(link)).unwrap();
    }
    let out = rulecheck(&[
        "diff",
        "builtin",
        "builtin",
        folder.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v = common::json_ok(&out);
    assert_eq!(v["captures"], 1, "{v}");
}
