//! Hostile input: each limit refuses or contains what it is for, quickly, with a clear
//! message and a documented exit code — never a panic. (No timings here: speed is
//! measured in benches/.)

use std::path::PathBuf;
use std::process::{Command, Output};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("rulecheck-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rulecheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulecheck"))
        .args(args)
        .env("LANG", "C")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
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
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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
    let out = rulecheck(&["eval", file, "--format", "json", "--max-body-bytes", "1000"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reports"][0]["cut"], serde_json::json!(["response.body"]));
    let out = rulecheck(&["eval", file, "--max-body-bytes", "1000"]);
    assert!(
        text(&out).contains("response.body is longer than rulecheck matches (--max-body-bytes"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_input_over_the_size_limit_is_refused() {
    let path = dir().join("big.json");
    std::fs::write(
        &path,
        format!(
            "{{\"response\": {{\"status\": 500, \"body\": \"{}\"}}}}",
            "y".repeat(100_000)
        ),
    )
    .unwrap();
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--max-input-bytes", "10000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("the limit is 10000 (raise it with --max-input-bytes)"),
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
    let out = rulecheck(&["eval", file, "--max-har-entries", "49"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("the HAR file has 50 entries; the limit is 49")
            && text(&out).contains("--max-har-entries"),
        "{}",
        text(&out)
    );
    let out = rulecheck(&["eval", file, "--max-har-entries", "50", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["reports"][0]["attempts"], 50,
        "the identical attempts are one report"
    );
}

#[test]
fn deeply_nested_json_is_refused_not_a_stack_overflow() {
    let path = dir().join("deep.json");
    std::fs::write(
        &path,
        format!(
            "{{\"response\": {{\"status\": 500, \"body\": {}{}}}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    )
    .unwrap();
    let out = rulecheck(&["eval", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("recursion limit exceeded"),
        "{}",
        text(&out)
    );
    // A deeply nested Python literal in an SDK traceback, likewise.
    let path = dir().join("deep.txt");
    std::fs::write(
        &path,
        format!(
            "openai.BadRequestError: Error code: 400 - {}\n",
            "{'a': ".repeat(10_000)
        ),
    )
    .unwrap();
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
    let path = dir().join("regex.yaml");
    std::fs::write(
        &path,
        "format: rulecheck/v1\nname: r\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n    when: { error.message: { matches: '(\\w{100}){100}' } }\n    message: m\n",
    )
    .unwrap();
    let out = rulecheck(&["lint", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("RC005") && text(&out).contains("regex.yaml:10:"),
        "{}",
        text(&out)
    );
}

#[test]
fn too_many_rules_and_too_big_a_rulebook_are_refused() {
    let path = dir().join("many.yaml");
    let mut y = String::from(
        "format: rulecheck/v1\nname: many\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n",
    );
    for i in 0..10_001 {
        y.push_str(&format!("  - {{ id: r{i}, title: R, category: c, severity: info, when: {{ status: 418 }}, message: m }}\n"));
    }
    std::fs::write(&path, &y).unwrap();
    let out = rulecheck(&["lint", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("RC025") && text(&out).contains("the limit is 10000"),
        "{}",
        text(&out)
    );
    let big = dir().join("big.yaml");
    std::fs::write(&big, format!("# {}\n", "z".repeat(9 * 1024 * 1024))).unwrap();
    let out = rulecheck(&["lint", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("RC017") && text(&out).contains("the limit is"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_huge_fact_in_a_message_is_quoted_only_in_part() {
    let path = dir().join("long-message.json");
    let message = format!("Invalid token {}", "q".repeat(20_000));
    std::fs::write(
        &path,
        serde_json::json!({"response": {"status": 401, "body": {"error": {"message": message}}}})
            .to_string(),
    )
    .unwrap();
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = v["reports"][0]["findings"][0]["message"].as_str().unwrap();
    assert!(m.len() < 2_000 && m.contains('…'), "{} bytes", m.len());
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
