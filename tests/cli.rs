//! The `rulecheck` binary as users run it: exit codes, formats, colour, secrets.

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
use common::{command, fixture, root, rulecheck, stderr, stdout};

#[test]
fn eval_names_the_openai_host_first_and_the_report_matches_its_schema() {
    let path = fixture("captures/openai-host-401.json");
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        report["reports"][0]["findings"][0]["id"],
        "address.openai-host"
    );
    let last = report["reports"][0]["findings"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["id"], "status.401", "generic guidance comes last");
    assert_eq!(report["rulebooks"][0]["name"], "moleapi");

    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn every_fixture_report_matches_the_report_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let mut args = vec!["eval".to_owned(), "--format".into(), "json".into()];
    insta::glob!("fixtures/captures/**/*.json", |path| args
        .push(path.display().to_string()));
    let out = rulecheck(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        report["reports"].as_array().unwrap().len(),
        args.len() - 3,
        "one report per capture"
    );
    assert!(validator.is_valid(&report));
}

#[test]
fn a_broken_rulebook_is_refused_with_exit_2_and_every_problem_located() {
    let path = fixture("rulebooks/several-mistakes.yaml");
    let capture = fixture("captures/openai-host-401.json");
    let out = rulecheck(&[
        "eval",
        capture.to_str().unwrap(),
        "--rules",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).is_empty(),
        "nothing is evaluated with a broken rulebook"
    );
    let err = stderr(&out);
    for loc in [":14:", ":18:", ":28:"] {
        assert!(
            err.contains(&format!("several-mistakes.yaml{loc}")),
            "{loc} missing in:\n{err}"
        );
    }
    assert!(err.contains("3 problems"), "{err}");
}

#[test]
fn lint_exits_2_on_each_invalid_rulebook_and_0_on_the_default() {
    assert_eq!(rulecheck(&["lint"]).status.code(), Some(0));
    for e in std::fs::read_dir(fixture("rulebooks/invalid")).unwrap() {
        let p = e.unwrap().path();
        let out = rulecheck(&["lint", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", p.display());
    }
}

#[test]
fn test_command_passes_on_the_default_and_fails_on_a_wrong_example() {
    let out = rulecheck(&["test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(" 0 failed"), "{}", stdout(&out));
    let cases = root().join("tests/cases");
    let out = rulecheck(&["test", "--cases", cases.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(" 0 failed"), "{}", stdout(&out));
    let p = fixture("rulebooks/failing-example.yaml");
    let out = rulecheck(&["test", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("failing-example.yaml:18:11"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("✗ status equals 401   ← status was 429"),
        "a failing example shows the condition with the observed value: {}",
        stderr(&out)
    );
}

#[test]
fn list_shows_the_rules() {
    let out = rulecheck(&["list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    // Every stable id the product promises (shared/diagnoses.md).
    for id in [
        "address.openai-host",
        "address.missing-v1",
        "address.endpoint-in-base-url",
        "address.misspelled-path",
        "address.unknown-host",
        "address.plain-http",
        "key.missing",
        "key.missing-bearer",
        "key.whitespace",
        "key.foreign-platform",
        "key.truncated",
        "key.malformed",
        "key.invalid-or-expired",
        "request.invalid-json",
        "request.field-type",
        "request.missing-field",
        "request.content-type",
        "request.unsupported-parameter",
        "request.context-length",
        "model.not-found",
        "permission.model",
        "permission.group",
        "permission.ip-whitelist",
        "permission.key-limit",
        "permission.disabled",
        "quota.balance",
        "quota.key-exhausted",
        "rate.frequency",
        "rate.concurrency",
        "server.error",
        "server.upstream",
        "ok",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
}

#[test]
fn unreadable_input_is_exit_2_with_the_file_and_the_formats_tried() {
    let dir = tempdir();
    let garbage = dir.join("garbage.bin");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 255, 0, 1]).unwrap();
    let out = rulecheck(&["eval", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("garbage.bin"), "{}", stderr(&out));
    assert!(stderr(&out).contains("not UTF-8"), "{}", stderr(&out));
    let text = dir.join("notes.txt");
    std::fs::write(&text, "my call failed, help").unwrap();
    let out = rulecheck(&["eval", text.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tried HAR, capture (JSON object or array)"),
        "{}",
        stderr(&out)
    );
    let missing = rulecheck(&["eval", "/nonexistent/capture.json"]);
    assert_eq!(missing.status.code(), Some(2));
    let big = dir.join("big.json");
    std::fs::write(
        &big,
        format!(
            "{{\"response\": {{\"status\": 500, \"body\": \"{}\"}}}}",
            "x".repeat(5000)
        ),
    )
    .unwrap();
    let out = rulecheck(&["eval", big.to_str().unwrap(), "--limit", "input-bytes=1000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("limit is 1000"), "{}", stderr(&out));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let path = fixture("captures/openai-host-401.json");
    let piped = rulecheck(&["eval", path.to_str().unwrap()]);
    assert!(
        !stdout(&piped).contains('\u{1b}'),
        "no escape codes into a pipe"
    );
    let forced = rulecheck(&["eval", path.to_str().unwrap(), "--color", "always"]);
    assert!(stdout(&forced).contains('\u{1b}'));
    let out = command()
        .args(["eval", path.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\u{1b}'), "NO_COLOR wins");
}

/// JSON is written without the escape-code stripper (nothing in it to strip): an escape
/// code a capture holds comes out escaped as JSON, never raw, even when colour is forced.
#[test]
fn json_output_never_holds_a_raw_escape_code() {
    let dir = tempdir();
    let line = serde_json::json!({
        "request": {"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions",
                    "headers": {"User-Agent": "curl/8.5 \u{1b}[31mred\u{1b}[0m"}},
        "response": {"status": 401, "body": {"error": {"message": "\u{1b}[1mInvalid token\u{1b}[0m"}}}
    });
    let path = dir.join("escape.jsonl");
    std::fs::write(&path, format!("{line}\n{line}\n")).unwrap();
    for format in ["json", "jsonl"] {
        for color in ["auto", "always", "never"] {
            let out = rulecheck(&[
                "eval",
                path.to_str().unwrap(),
                "--format",
                format,
                "--color",
                color,
            ]);
            let text = stdout(&out);
            assert!(!text.contains('\u{1b}'), "{format} {color}: {text}");
            assert!(text.contains("\\u001b"), "{format} {color}: {text}");
        }
    }
}

#[test]
fn language_follows_flag_then_locale() {
    let path = fixture("captures/endpoint-twice-404.json");
    let zh = rulecheck(&["eval", path.to_str().unwrap(), "--lang", "zh"]);
    assert!(stdout(&zh).contains("接口路径出现了两次"));
    let by_locale = command()
        .args(["eval", path.to_str().unwrap()])
        .env("LANG", "zh_CN.UTF-8")
        .output()
        .unwrap();
    assert!(stdout(&by_locale).contains("接口路径出现了两次"));
    let en = rulecheck(&["eval", path.to_str().unwrap()]);
    assert!(stdout(&en).contains("the endpoint appears twice"));
}

#[test]
fn var_overrides_reach_messages_and_unknown_vars_are_refused() {
    let path = fixture("captures/openai-host-401.json");
    let out = rulecheck(&[
        "eval",
        path.to_str().unwrap(),
        "--var",
        "base_url=http://127.0.0.1:3000/v1",
    ]);
    assert!(
        stdout(&out).contains("to http://127.0.0.1:3000/v1"),
        "{}",
        stdout(&out)
    );
    let out = rulecheck(&["eval", path.to_str().unwrap(), "--var", "base_ur=x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `base_url`"),
        "{}",
        stderr(&out)
    );
}

/// A key of `sk-` + 48 characters never shows whole, wherever it sits in the capture
/// and whatever the output format.
#[test]
fn a_full_key_never_appears_in_any_output() {
    let secret = "Zq8Wx7Ec6Rv5Tb4Yn3Um2Ik1Ol0PaSdFgHjKlQwErTyUiOp12";
    let secret = &secret[..48];
    let key = format!("sk-{secret}");
    let capture = serde_json::json!({
        "request": {
            "method": "POST",
            "url": format!("https://api.moleapi.com/v1beta/models/gemini:generateContent?key={key}"),
            "headers": {"Authorization": format!("Bearer {key}\n"), "x-api-key": key},
            "body": {"model": "gpt-4o", "api_key": key}
        },
        "response": {
            "status": 401,
            "body": {"error": {"message": format!("Incorrect API key provided: {key}. Also {key}"), "type": "invalid_request_error"}}
        },
        "client_error": format!("LocalProtocolError: Illegal header value b'Bearer {key} '")
    });
    let dir = tempdir();
    let path = dir.join("secret.json");
    std::fs::write(&path, capture.to_string()).unwrap();
    // A rulebook whose messages quote every place the key can sit.
    let rules = dir.join("echo.yaml");
    std::fs::write(
        &rules,
        r#"format: rulecheck/v1
name: echo
version: 1.0.0
categories: [{ id: key, title: Key }]
rules:
  - id: key.echo
    title: "Echo {key}"
    category: key
    severity: error
    when: { status: 401 }
    message: "{key} {url} {url.query} {request.headers.authorization} {request.headers.x-api-key} {request.body} {request.json.api_key} {response.body} {error.message} {client_error}"
    fix: "{key}"
"#,
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let r = rules.to_str().unwrap();
    for args in [
        vec!["eval", p],
        vec!["eval", p, "--format", "json"],
        vec!["eval", p, "--lang", "zh", "--color", "always"],
        vec!["eval", p, "--rules", r],
        vec!["eval", p, "--rules", r, "--format", "json"],
    ] {
        let out = rulecheck(&args);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            all.contains("sk-"),
            "the output mentions the key (masked): {args:?}"
        );
        let chars: Vec<char> = secret.chars().collect();
        for w in chars.windows(12) {
            let window: String = w.iter().collect();
            assert!(!all.contains(&window), "{args:?} leaked `{window}`:\n{all}");
        }
    }
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rulecheck-cli-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn flags_describe_a_call_when_nothing_was_captured() {
    let key = format!("sk-{}", "Ab1".repeat(16));
    let out = rulecheck(&[
        "eval",
        "--status",
        "404",
        "--url",
        "https://api.moleapi.com/v1/chat/completions/chat/completions",
        "--key",
        &key,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let r = &v["reports"][0];
    assert_eq!(r["format"], "flags");
    assert_eq!(r["findings"][0]["id"], "address.endpoint-in-base-url");
    assert!(
        !stdout(&out).contains(&key[3..20]),
        "the key given as a flag is masked too"
    );
    // A key with a trailing space, as pasted into a shell.
    let out = rulecheck(&[
        "eval",
        "--status",
        "401",
        "--key",
        &format!("{key} "),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["reports"][0]["findings"][0]["id"], "key.whitespace");
    // Nothing at all is a usage error.
    assert_eq!(rulecheck(&["eval"]).status.code(), Some(2));
}

#[test]
fn input_format_can_be_forced_and_har_entries_all_shown() {
    let har = root().join("tests/fixtures/inputs/har/mitmproxy-retried-500.har");
    let har = har.to_str().unwrap();
    let out = rulecheck(&["eval", har, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        v["reports"].as_array().unwrap().len(),
        1,
        "the successful models call is left out"
    );
    assert_eq!(v["reports"][0]["attempts"], 3);
    assert_eq!(v["reports"][0]["format"], "har");
    let out = rulecheck(&["eval", har, "--all-entries", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["reports"].as_array().unwrap().len(), 2);
    // Forcing a format that does not fit is an error, not a guess.
    let out = rulecheck(&["eval", har, "--input", "http"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let sdk = root().join("tests/fixtures/inputs/sdk/python-1x-endpoint-twice.txt");
    let out = rulecheck(&[
        "eval",
        sdk.to_str().unwrap(),
        "--input",
        "sdk",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["reports"][0]["format"], "sdk");
    assert_eq!(
        v["reports"][0]["lacks"],
        serde_json::json!(["request.headers", "request.body"])
    );
}

#[test]
fn explain_trace_and_coverage() {
    let out = rulecheck(&["explain", "address.missing-v1"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("category address · severity error · priority 85"),
        "{text}"
    );
    // Where its category ranks per status, as the rulebook's `ranking:` declares.
    assert!(
        text.contains(
            "category address ranks, among errors: 2xx 3rd, 400 3rd, 401 2nd, 403 4th, 404 1st"
        ),
        "{text}"
    );
    assert!(
        text.contains("  - id: address.missing-v1") && text.contains("examples:"),
        "{text}"
    );
    // `eval` leaves the examples out of its rule set; `explain` reads them.
    assert!(
        text.contains("2 match example(s), 2 no_match example(s)"),
        "{text}"
    );
    assert!(
        !text.contains("id: address.html-response"),
        "only this rule: {text}"
    );
    assert_eq!(
        rulecheck(&["explain", "address.missing-v2"]).status.code(),
        Some(2)
    );

    let path = fixture("captures/gateway/py-key-truncated.json");
    let out = rulecheck(&[
        "eval",
        path.to_str().unwrap(),
        "--trace",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let traces = v["reports"][0]["trace"].as_array().unwrap();
    let truncated = traces
        .iter()
        .find(|t| t["rule"] == "key.truncated")
        .unwrap();
    assert_eq!(truncated["holds"], true);
    assert!(traces.iter().any(|t| t["holds"] == false));
    // What became of each rule: the missing model is reported first; the upstream
    // failure its 503 would suggest is suppressed, by name and declaration.
    let path = fixture("captures/gateway/py-model-not-found.json");
    let out = rulecheck(&[
        "eval",
        path.to_str().unwrap(),
        "--trace",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let traces = v["reports"][0]["trace"].as_array().unwrap();
    let rule = |id: &str| traces.iter().find(|t| t["rule"] == id).unwrap();
    assert_eq!(rule("model.not-found")["outcome"]["outcome"], "reported");
    assert_eq!(rule("model.not-found")["outcome"]["rank"], 1);
    assert_eq!(rule("server.upstream")["outcome"]["outcome"], "suppressed");
    assert_eq!(rule("server.upstream")["outcome"]["by"], "model.not-found");
    assert_eq!(rule("key.missing")["outcome"]["outcome"], "not_fired");
    let text = stdout(&rulecheck(&["eval", path.to_str().unwrap(), "--trace"]));
    assert!(
        text.contains("✓ server.upstream — held, but suppressed by model.not-found (model.not-found lists server.upstream under `suppresses`)"),
        "{text}"
    );

    let out = rulecheck(&["test", "--coverage", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rules = v["coverage"]["rules"].as_array().unwrap();
    assert!(rules.len() >= 30);
    assert!(
        rules.iter().all(|r| r["held"].as_u64().unwrap() > 0),
        "every rule fires on some example"
    );
}

#[test]
fn lint_warnings_fail_only_when_denied() {
    let dir = tempdir();
    let file = dir.join("warn.yaml");
    std::fs::write(
        &file,
        "format: rulecheck/v1\nname: w\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n    when: { all: [{ status: 404 }, { status: 401 }] }\n    message: m\n",
    )
    .unwrap();
    let p = file.to_str().unwrap();
    let out = rulecheck(&["lint", p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning[RC030]") && stderr(&out).contains("warning[RC032]"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        rulecheck(&["lint", p, "--deny-warnings"]).status.code(),
        Some(1)
    );
    let out = rulecheck(&["lint", p, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (v["errors"].as_u64(), v["warnings"].as_u64()),
        (Some(0), Some(2))
    );
}

/// The schemas are built into the binary: an installed rulecheck prints each, the same
/// text as `schemas/` in the repository.
#[test]
fn the_schemas_are_printed_by_the_binary() {
    for which in ["rulebook", "capture", "report"] {
        let out = rulecheck(&["schema", which]);
        assert_eq!(out.status.code(), Some(0));
        let file = root().join(format!("schemas/{which}.schema.json"));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            std::fs::read_to_string(file).unwrap()
        );
    }
    let out = rulecheck(&["schema", "nothing"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Completions and the man page come from the same definitions as the parser: every
/// subcommand and a flag added today are in them.
#[test]
fn completions_and_the_man_page_name_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = rulecheck(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in ["eval", "lint", "test", "diff", "explain", "--snapshots"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = rulecheck(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH rulecheck 1"), "{page}");
    for command in ["eval", "lint", "test", "diff", "schema"] {
        assert!(page.contains(command), "the man page lacks {command}");
    }
    assert_eq!(rulecheck(&["completions", "tcsh"]).status.code(), Some(2));
}

/// Each subcommand's `--help` ends with examples of it.
#[test]
fn every_subcommand_s_help_shows_examples() {
    for command in [
        "eval", "list", "explain", "diff", "lint", "test", "limits", "schema", "serve",
    ] {
        let out = rulecheck(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}");
        let help = String::from_utf8(out.stdout).unwrap();
        let examples = help.split_once("Examples:\n").map(|(_, e)| e).unwrap_or("");
        assert!(
            examples
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("rulecheck {command}"))),
            "{command}: {help}"
        );
    }
}

/// `--format` offers each command what it can write: `jsonl` (a stream of reports)
/// and `markdown` (a ticket) only where there are reports.
#[test]
fn each_command_offers_only_the_formats_it_writes() {
    for command in ["list", "lint", "test", "limits"] {
        for format in ["jsonl", "markdown"] {
            let out = rulecheck(&[command, "--format", format]);
            assert_eq!(out.status.code(), Some(2), "{command} --format {format}");
            assert!(
                stderr(&out).contains("possible values: text, json"),
                "{}",
                stderr(&out)
            );
        }
        assert_eq!(
            rulecheck(&[command, "--format", "json"]).status.code(),
            Some(0)
        );
    }
    let out = rulecheck(&["diff", "builtin", "builtin", "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    let help = stdout(&rulecheck(&["eval", "--help"]));
    assert!(help.contains("markdown"), "{help}");
}
