//! `rulecheck eval --format markdown`: the report a support agent pastes into a ticket
//! or a chat — the call, the top diagnosis, evidence, fix, the guide's checks, the
//! request id and what to keep for support; masked, in the chosen language, and
//! unable to carry markup from the capture.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;
use common::{command, fixture, rulecheck, stdout, text};

#[test]
fn a_ticket_report_has_the_call_diagnosis_evidence_fix_checks_and_support() {
    let capture = fixture("captures/key-trailing-newline-401.json");
    let out = rulecheck(&["eval", capture.to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let md = stdout(&out);
    let heading = md.lines().next().unwrap();
    assert!(
        heading.starts_with("### ") && heading.contains("(`key.whitespace`)"),
        "{heading}"
    );
    for part in [
        "`POST https://api.moleapi.com/v1/chat/completions` → **401**",
        "**Request id:** `20260422101530123456789AbCdEfGh`",
        "**Evidence:**",
        "- `key` = `\"sk-Q7w…i9O\\\\n\"`",
        "**Fix:** Copy the key again",
        "**Check, in this order:**\n\n1. The API key is an sk-",
        "**For support:**\n\n- Request id: `20260422101530123456789AbCdEfGh`",
        "Never send the API key",
        "`rulecheck explain key.whitespace`",
    ] {
        assert!(md.contains(part), "lacks {part:?}:\n{md}");
    }
    // The key itself never: only its masked form.
    assert!(!md.contains("Q7wErTy9UiOp3AsDfGh5JkLz"), "{md}");

    let zh = rulecheck(&[
        "eval",
        capture.to_str().unwrap(),
        "--format",
        "markdown",
        "--lang",
        "zh",
    ]);
    let zh = stdout(&zh);
    for part in [
        "**请求 ID",
        "**证据",
        "**修复",
        "**请按以下顺序检查",
        "**发给客服",
    ] {
        assert!(zh.contains(part), "lacks {part:?}:\n{zh}");
    }
}

/// A server-side failure: the rule's own list of what to keep replaces the generic one,
/// and several captures are separated by a rule line.
#[test]
fn what_to_keep_follows_the_rule_and_captures_are_separated() {
    let dir = common::scratch("markdown-keep");
    let path = dir.join("two.jsonl");
    let upstream = serde_json::json!({
        "request": {"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions",
                    "body": {"model": "gpt-4o-mini", "temperature": 0.2,
                             "messages": [{"role": "user", "content": "hi"}]}},
        "response": {"status": 502, "headers": {"Content-Type": "text/html"},
                     "body": "<html><title>502 Bad Gateway</title></html>"}
    });
    let missing = serde_json::json!({
        "request": {"method": "POST", "url": "https://api.moleapi.com/chat/completions"},
        "response": {"status": 404, "body": {"error": {"message": "Invalid URL (POST /chat/completions)"}}}
    });
    std::fs::write(&path, format!("{upstream}\n{missing}\n")).unwrap();
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let md = stdout(&out);
    let (first, second) = md
        .split_once("\n---\n\n")
        .expect("a rule line between reports");
    assert!(first.contains("- Model: gpt-4o-mini"), "{first}");
    assert!(first.contains("- Status: 502"), "{first}");
    assert!(first.contains("(`server.upstream`)"), "{first}");
    // The rule's list replaces the generic reminder; the key warning stays.
    assert!(!first.contains("Also keep"), "{first}");
    assert!(first.contains("Never send the API key"), "{first}");
    assert!(second.starts_with("### "), "{second}");
    assert!(second.contains("(`address.missing-v1`)"), "{second}");
}

/// What a hostile body quotes lands in code spans or escaped prose: the ticket shows it,
/// never renders it as a link, an image or HTML.
#[test]
fn a_hostile_body_cannot_put_links_or_html_into_the_ticket() {
    let dir = common::scratch("markdown-hostile");
    let path = dir.join("hostile.json");
    let evil = "Invalid model ![pixel](https://evil.example/p.png) [login](https://evil.example) <img src=x onerror=alert(1)> `code`";
    let capture = serde_json::json!({
        "request": {"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions",
                    "body": {"model": "gpt-x"}},
        "response": {"status": 400, "body": {"error": {"message": evil, "type": "invalid_request_error"}}}
    });
    std::fs::write(&path, capture.to_string()).unwrap();
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let md = stdout(&out);
    // Outside code spans, every bracket, angle bracket and bang is escaped.
    let mut in_code = false;
    let mut escaped = false;
    for c in md.chars() {
        if c == '`' && !escaped {
            in_code = !in_code;
        } else if !in_code && "[]<>!".contains(c) {
            assert!(escaped, "an unescaped {c} outside code in:\n{md}");
        }
        escaped = c == '\\' && !escaped;
    }
}

#[test]
fn markdown_is_refused_where_it_means_nothing() {
    let capture = fixture("captures/key-trailing-newline-401.json");
    let path = capture.to_str().unwrap();
    for args in [
        vec!["eval", path, "--summary", "--format", "markdown"],
        vec!["eval", path, "--summary", "--format", "jsonl"],
        vec!["eval", path, "--trace", "--format", "markdown"],
    ] {
        let out = rulecheck(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("--format"), "{args:?}: {}", text(&out));
    }
    // Standard input works as files do.
    let mut child = command()
        .args(["eval", "-", "--format", "markdown"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        &std::fs::read(&capture).unwrap(),
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(stdout(&out).contains("(`key.whitespace`)"));
}
