//! The default rulebook on real captures: every case in tests/cases holds, every
//! diagnosis has a capture that gets it and a near miss that must not, and every
//! capture fixture is claimed by a case.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rulecheck::check::cases;
use rulecheck::rulebook::{LoadOptions, RuleSet};

mod common;
use common::root;

fn load() -> (RuleSet, Vec<cases::Case>) {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let cases = cases::load(&root().join("tests/cases")).unwrap_or_else(|d| panic!("{d:#?}"));
    (set, cases)
}

#[test]
fn every_case_holds() {
    let (set, cases) = load();
    let report = cases::run(&set, &cases);
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| f.diagnostic.render(None))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(report.passed >= 80, "{} cases", report.passed);
}

#[test]
fn every_diagnosis_has_a_capture_and_a_near_miss() {
    let (set, cases) = load();
    let expected: BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| c.expect.iter().map(String::as_str))
        .collect();
    let near_missed: BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| c.absent.iter().map(String::as_str))
        .collect();
    for (_, rule) in set.rules() {
        assert!(
            expected.contains(rule.id.as_str()),
            "no capture case gets {}",
            rule.id
        );
        if !rule.fallback {
            assert!(
                near_missed.contains(rule.id.as_str()),
                "no near-miss case guards {}",
                rule.id
            );
        }
    }
}

#[test]
fn every_capture_fixture_is_claimed_by_a_case() {
    let (_, cases) = load();
    let claimed: BTreeSet<String> = cases
        .iter()
        .map(|c| c.name.rsplit('/').next().unwrap_or("").to_owned())
        .collect();
    let inputs = walk(&root().join("tests/fixtures/inputs"))
        .into_iter()
        .filter(|p| !p.starts_with(root().join("tests/fixtures/inputs/log")));
    for path in walk(&root().join("tests/fixtures/captures"))
        .into_iter()
        .chain(inputs)
    {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            claimed.contains(&name),
            "{} is not in any case file",
            path.display()
        );
    }
}

#[test]
fn a_wrong_expectation_is_reported_with_what_was_found() {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("rulecheck-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.yaml");
    std::fs::write(&file, "cases:\n  - name: wrong\n    capture: { response: { status: 429, body: { error: { message: Too many requests } } } }\n    expect: [quota.balance]\n    absent: [rate.frequency]\n").unwrap();
    let cases = cases::load(&file).unwrap();
    let report = cases::run(&set, &cases);
    assert_eq!(report.failures.len(), 1);
    let d = &report.failures[0].diagnostic;
    assert_eq!((d.code.id(), d.line), ("RC021", Some(2)));
    assert!(
        d.message
            .contains("the top finding is rate.frequency, not quota.balance"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains("rate.frequency appears but must not"),
        "{}",
        d.message
    );
}

/// A failing case says what became of the rules in question: which one suppressed an
/// expected rule and by which declaration, and why the top finding outranks the
/// expected one (measured on 1.2.0: it showed only each condition's tree).
#[test]
fn a_failing_case_says_who_suppressed_a_rule_and_why_another_ranks_first() {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("rulecheck-why-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("why.yaml");
    let key = "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl";
    std::fs::write(
        &file,
        format!(
            "cases:\n\
             \x20 - name: suppressed\n    capture: {{ response: {{ status: 429, body: {{ error: {{ message: \"Your balance is not enough; too many requests\" }} }} }} }}\n    expect: [rate.frequency]\n\
             \x20 - name: ranked\n    capture: {{ request: {{ url: \"https://api.moleapi.com/v1/chat/completions\", headers: {{ Authorization: \"Bearer {key} \" }} }}, response: {{ status: 403, body: {{ error: {{ message: \"This token has no access to model gpt-4o\" }} }} }} }}\n    expect: [key.whitespace]\n"
        ),
    )
    .unwrap();
    let report = cases::run(&set, &cases::load(&file).unwrap());
    assert_eq!(report.failures.len(), 2);
    let outcome = |case: usize, rule: &str| {
        report.failures[case]
            .traces
            .iter()
            .find(|t| t.rule == rule)
            .map(|t| t.outcome.describe())
            .unwrap_or_else(|| panic!("no trace of {rule}"))
    };
    assert_eq!(
        outcome(0, "rate.frequency"),
        "held, but suppressed by quota.balance (its category quota lists rate.frequency under `suppresses`)"
    );
    assert_eq!(
        outcome(1, "permission.model"),
        "reported #1: above key.whitespace: permission comes before key in the order for 403"
    );
    assert_eq!(outcome(1, "key.whitespace"), "reported #2");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The gateway answers in English or Chinese depending on its version and the caller's
/// language: the same cause must get the same diagnosis either way.
#[test]
fn english_and_chinese_gateway_messages_get_the_same_diagnosis() {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let top = |status: u16, message: &str| -> String {
        let capture: rulecheck::capture::Capture = serde_json::from_value(serde_json::json!({
            "response": {"status": status, "body": {"error": {"code": "", "message": message, "type": "new_api_error"}}}
        }))
        .unwrap();
        rulecheck::evaluate::matching_rule_ids(&set, &capture)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    for (status, en, zh, id) in [
        (401, "Invalid token", "未提供令牌", "key.missing"),
        (
            503,
            "No available channel for model gpt-x under group default (distributor)",
            "分组 default 下模型 gpt-x 无可用渠道（distributor）",
            "model.not-found",
        ),
        (
            403,
            "This token has no access to model gpt-4o",
            "该令牌无权访问模型 gpt-4o",
            "permission.model",
        ),
        (
            403,
            "User has been banned",
            "用户已被封禁",
            "permission.disabled",
        ),
        (
            400,
            "Model name not specified, model name cannot be empty",
            "未指定模型名称，模型名称不能为空",
            "request.missing-field",
        ),
        (
            400,
            "Invalid request: Invalid request: invalid JSON request body",
            "无效的请求，无效的请求，invalid JSON request body",
            "request.invalid-json",
        ),
        (
            400,
            "Invalid request: Invalid request: field model must be a string",
            "无效的请求，无效的请求，field model must be a string",
            "request.field-type",
        ),
        (
            403,
            "No permission to access this group",
            "无权访问该分组",
            "permission.group",
        ),
    ] {
        if id != "key.missing" {
            assert_eq!(top(status, en), id, "{en}");
        }
        assert_eq!(top(status, zh), id, "{zh}");
    }
    // N5 answers a missing key with the same "Invalid token" as a bad one: without the
    // request's headers, that is a rejected key, not provably a missing one.
    assert_eq!(top(401, "Invalid token"), "key.invalid-or-expired");
}

/// Every diagnosis that reads the error message is tested on at least two wordings its
/// patterns were not written from (tests/cases/rewordings.yaml): the patterns read
/// meaning, not one gateway build's sentence.
#[test]
fn every_diagnosis_that_reads_messages_is_tested_on_rewordings() {
    use rulecheck::rulebook::{Condition, Rulebook};
    fn reads_message(c: &Condition, rb: &Rulebook, depth: usize) -> bool {
        depth < 32
            && match c {
                Condition::All(cs) | Condition::Any(cs) => {
                    cs.iter().any(|c| reads_message(c, rb, depth + 1))
                }
                Condition::Not(_) => false,
                Condition::Named(i, _) => reads_message(&rb.named[*i].condition, rb, depth + 1),
                Condition::Test(t) => t.fact_name == "error.message",
            }
    }
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let rewordings = cases::load(&root().join("tests/cases/rewordings.yaml"))
        .unwrap_or_else(|d| panic!("{d:#?}"));
    let mut lacking = Vec::new();
    for (rb, rule) in set.rules() {
        if !reads_message(&rule.when, rb, 0) {
            continue;
        }
        let n = rewordings
            .iter()
            .filter(|c| c.expect.first() == Some(&rule.id))
            .count();
        if n < 2 {
            lacking.push(format!("{} ({n})", rule.id));
        }
    }
    assert!(lacking.is_empty(), "fewer than two rewordings: {lacking:?}");
}

/// A case file's problem is shown like a rulebook's: the file, the line, the snippet
/// with a caret, and called a problem of the case files (not of the rulebooks).
#[test]
fn a_bad_case_file_is_quoted_at_the_line() {
    let dir = std::env::temp_dir().join(format!("rulecheck-bad-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad-cases.yaml");
    std::fs::write(
        &file,
        "cases:\n  - name: x\n    capture: { response: { status: 401 } }\n    expect: [key.missing]\n    bogus: 1\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rulecheck"))
        .args(["test", "--no-project", "--cases", file.to_str().unwrap()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("bad-cases.yaml:5:5"), "{said}");
    assert!(
        said.contains("5 |     bogus: 1") && said.contains('^'),
        "{said}"
    );
    assert!(
        said.contains("1 problem in the case files; nothing was tested"),
        "{said}"
    );
}
