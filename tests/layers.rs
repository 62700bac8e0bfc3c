//! Rulebooks that evolve: engine requirements per rule, overlays with explicit
//! overrides, project files and provenance.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::path::{Path, PathBuf};

mod common;
use common::command;

use rulecheck::capture::Capture;
use rulecheck::evaluate::{EvalOptions, diagnose};
use rulecheck::rulebook::{LoadOptions, RuleSet};

fn layer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rulebooks/layers")
        .join(name)
}

fn capture(v: serde_json::Value) -> Capture {
    serde_json::from_value(v).unwrap()
}

fn ids(set: &RuleSet, c: &Capture) -> Vec<String> {
    diagnose(set, c, EvalOptions::default())
        .findings
        .into_iter()
        .map(|f| f.id.into_owned())
        .collect()
}

#[test]
fn an_overlay_adds_disables_and_changes_rules() {
    let none: [&Path; 0] = [];
    let set = RuleSet::load_layers(&none, &[layer("team.yaml")], &LoadOptions::default()).unwrap();
    // Added.
    let daily = capture(
        serde_json::json!({"response": {"status": 403, "body": {"error": {"message": "该令牌已超出每日使用上限"}}}}),
    );
    assert_eq!(ids(&set, &daily)[0], "team.daily-limit");
    // Disabled.
    assert!(set.rules().all(|(_, r)| r.id != "key.missing-bearer"));
    let doubled = capture(
        serde_json::json!({"request": {"url": "https://api.moleapi.com/v1/chat/completions", "headers": {"Authorization": "Bearer Bearer sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl"}}, "response": {"status": 401}}),
    );
    assert!(!ids(&set, &doubled).contains(&"key.missing-bearer".to_owned()));
    // Changed: severity, priority and message, with provenance.
    let poor = capture(
        serde_json::json!({"response": {"status": 403, "body": {"error": {"message": "用户额度不足", "code": "insufficient_user_quota"}}}}),
    );
    let d = diagnose(&set, &poor, EvalOptions::default());
    let f = d.findings.iter().find(|f| f.id == "quota.balance").unwrap();
    assert_eq!(f.severity, rulecheck::rulebook::Severity::Warning);
    assert!(
        f.message
            .starts_with("Team note: top up via the finance portal"),
        "{}",
        f.message
    );
    assert_eq!(f.rulebook, "moleapi");
    assert_eq!(f.overridden_by, ["team"]);
}

#[test]
fn an_override_of_a_missing_rule_is_an_error() {
    let none: [&Path; 0] = [];
    let err = RuleSet::load_layers(
        &none,
        &[layer("missing-target.yaml")],
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.diagnostics.len(), 1);
    let d = &err.diagnostics[0];
    assert_eq!((d.code.id(), d.line), ("RC022", Some(6)));
    assert_eq!(
        d.help.as_deref(),
        Some("did you mean `key.missing-bearer`?")
    );
}

#[test]
fn the_same_id_in_two_layers_needs_an_explicit_disable() {
    let dir = std::env::temp_dir().join(format!("rulecheck-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let redefine = |extra: &str| {
        format!(
            "format: rulecheck/v1\nname: again\nversion: 1.0.0\ncategories: [{{id: ok, title: OK}}]\nrules:\n  - id: ok\n    title: Fine\n    category: ok\n    severity: info\n    when: {{ status: 2xx }}\n    message: m\n{extra}"
        )
    };
    let plain = dir.join("plain.yaml");
    std::fs::write(&plain, redefine("")).unwrap();
    let none: [&Path; 0] = [];
    let err = RuleSet::load_layers(&none, &[&plain], &LoadOptions::default()).unwrap_err();
    assert_eq!(err.diagnostics[0].code.id(), "RC006");
    let replacing = dir.join("replacing.yaml");
    std::fs::write(&replacing, redefine("overrides:\n  - disable: ok\n")).unwrap();
    let set = RuleSet::load_layers(&none, &[&replacing], &LoadOptions::default()).unwrap();
    let (rb, _) = set.rules().find(|(_, r)| r.id == "ok").unwrap();
    assert_eq!(rb.name, "again");
}

#[test]
fn a_rule_for_a_newer_engine_is_skipped_with_the_reason() {
    let set = RuleSet::load_paths(&[layer("future-rule.yaml")], &LoadOptions::default()).unwrap();
    let skipped: Vec<_> = set.skipped().collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].rule, "future.entropy");
    assert!(
        skipped[0].reason.contains("needs rulecheck >=9.0"),
        "{}",
        skipped[0].reason
    );
    assert_eq!(
        ids(
            &set,
            &capture(serde_json::json!({"response": {"status": 401}}))
        )[0],
        "future.plain"
    );
    // Without `unsupported_rules: skip`, the same rulebook is refused, naming both versions.
    let text = std::fs::read_to_string(layer("future-rule.yaml"))
        .unwrap()
        .replace("unsupported_rules: skip\n", "");
    let err =
        rulecheck::rulebook::load_str("future.yaml", &text, &LoadOptions::default()).unwrap_err();
    assert_eq!(err[0].code.id(), "RC011");
    assert!(
        err[0].message.contains(">=9.0") && err[0].message.contains(env!("CARGO_PKG_VERSION")),
        "{}",
        err[0].message
    );
}

#[test]
fn preview_rules_run_only_when_asked() {
    let text = "format: rulecheck/v1\nname: p\nversion: 1.0.0\ncategories: [{id: c, title: C}]\nrules:\n  - id: p.new\n    title: New\n    category: c\n    severity: info\n    status: preview\n    when: { status: 418 }\n    message: m\n    examples: { match: [{ response: { status: 418 } }] }\n";
    let rb = rulecheck::rulebook::load_str("p.yaml", text, &LoadOptions::default()).unwrap();
    let mut set = RuleSet::new(vec![rb]).unwrap();
    let teapot = capture(serde_json::json!({"response": {"status": 418}}));
    assert!(!ids(&set, &teapot).contains(&"p.new".to_owned()));
    assert!(
        rulecheck::check::examples::run(&set).failures.is_empty(),
        "its examples still run"
    );
    set.include_preview = true;
    assert_eq!(ids(&set, &teapot)[0], "p.new");
}

#[test]
fn reports_name_each_rulebook_with_its_digest_and_layer() {
    let dir = std::env::temp_dir().join(format!("rulecheck-prov-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("rulecheck.yaml"),
        format!("overlays: [{}]\n", layer("team.yaml").display()),
    )
    .unwrap();
    std::fs::write(dir.join("c.json"), r#"{"response": {"status": 403, "body": {"error": {"message": "该令牌已超出每日使用上限"}}}}"#).unwrap();
    // The project file is found from a subdirectory: no flags needed.
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let out = command()
        .args(["eval", "../c.json", "--format", "json"])
        .current_dir(&sub)
        .output()
        .unwrap();
    let v = common::json_ok(&out);
    assert_eq!(v["reports"][0]["findings"][0]["id"], "team.daily-limit");
    let books = v["rulebooks"].as_array().unwrap();
    assert_eq!(
        (books[0]["name"].as_str(), books[0]["layer"].as_u64()),
        (Some("moleapi"), Some(0))
    );
    assert_eq!(
        (books[1]["name"].as_str(), books[1]["layer"].as_u64()),
        (Some("team"), Some(1))
    );
    let team_text = std::fs::read_to_string(layer("team.yaml")).unwrap();
    assert_eq!(
        books[1]["digest"],
        rulecheck::rulebook::compile::digest(&team_text)
    );
    assert_eq!(
        books[0]["digest"],
        rulecheck::rulebook::compile::digest(rulecheck::rulebook::default_rulebook_source().1)
    );
    // --no-project ignores it.
    let out = command()
        .args(["eval", "../c.json", "--format", "json", "--no-project"])
        .current_dir(&sub)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rulebooks"].as_array().unwrap().len(), 1);
}

#[test]
fn the_digest_is_what_sha256sum_prints() {
    assert_eq!(
        rulecheck::rulebook::compile::digest("abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// Two versions of the default rulebook that differ in one pattern: `diff` lists
/// exactly the captures whose diagnosis changes.
#[test]
fn diff_lists_exactly_the_captures_a_pattern_change_affects() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = rulecheck::rulebook::default_rulebook_source().1;
    // The new version no longer knows the Chinese word for "no access" (无权).
    let old_pattern = "没有权限";
    assert!(text.contains(old_pattern));
    let changed = text.replacen(
        &format!("无权, 不允许, 禁止, 未开通, {old_pattern}"),
        "不允许, 禁止, 未开通, 没有权限",
        1,
    );
    assert_ne!(changed, text);
    let dir = std::env::temp_dir().join(format!("rulecheck-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let new = dir.join("moleapi-next.yaml");
    std::fs::write(&new, changed).unwrap();
    let out = command()
        .args(["diff", "builtin", new.to_str().unwrap()])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "something changed");
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!(text);
    // Identical sets: nothing to report, exit 0.
    let same = command()
        .args(["diff", "builtin", "rules"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    // A git revision of the rules directory loads too.
    let git = command()
        .args([
            "diff",
            "git:HEAD",
            "rules",
            "tests/fixtures/captures/ok-200-custom-header.json",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        matches!(git.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&git.stderr)
    );
}

/// A change to the default rulebook needs a version bump and a changelog entry.
#[test]
fn the_changelog_names_the_current_default_rulebook() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let changelog = std::fs::read_to_string(root.join("rules/CHANGELOG.md")).unwrap();
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let rb = &set.rulebooks[0];
    if let Some(d) = rulecheck::check::lints::changelog("rules/CHANGELOG.md", &changelog, rb) {
        panic!("{}", d.render(Some(&changelog)));
    }
    // And the check bites: an edited rulebook no longer matches.
    let mut edited = rb.clone();
    edited.digest = rulecheck::rulebook::compile::digest(&format!("{}\n# edited\n", rb.text));
    let d = rulecheck::check::lints::changelog("rules/CHANGELOG.md", &changelog, &edited).unwrap();
    assert_eq!(d.code.id(), "RC024");
    assert!(d.help.unwrap().contains(&edited.digest));
    edited.version = semver::Version::new(9, 9, 9);
    let d = rulecheck::check::lints::changelog("rules/CHANGELOG.md", &changelog, &edited).unwrap();
    assert!(d.message.contains("9.9.9"), "{}", d.message);
}

/// A team overlay is checked on top of its base, as `eval` uses it: `lint` and `test`
/// take `--overlay` and `builtin`, and read the project file when no rulebook is
/// named; the overlay's own examples are run. Alone, its overrides are refused with
/// the command that checks it.
#[test]
fn lint_and_test_check_an_overlay_on_its_base() {
    let dir = std::env::temp_dir().join(format!("rulecheck-overlay-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let team = std::fs::read_to_string(layer("team.yaml")).unwrap();
    // One more rule whose own example does not fire: `test` must run it to fail. It
    // goes under `rules:`, before `overrides:`.
    let (head, tail) = team.split_once("overrides:").unwrap();
    let broken_overlay = format!(
        "{head}  - id: team.never\n    title: Never\n    category: permission\n    severity: error\n    when: {{ status: 418 }}\n    message: m\n    examples: {{ match: [ {{ response: {{ status: 401 }} }} ] }}\noverrides:{tail}"
    );
    std::fs::write(dir.join("team.yaml"), &team).unwrap();
    std::fs::write(dir.join("broken.yaml"), &broken_overlay).unwrap();
    let run = |args: &[&str]| {
        let out = command().current_dir(&dir).args(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = run(&["lint", "team.yaml"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("rulecheck lint --overlay team.yaml"),
        "{text}"
    );
    for args in [
        &["lint", "--overlay", "team.yaml"][..],
        &["lint", "builtin", "team.yaml"],
        &["test", "--overlay", "team.yaml"],
    ] {
        let (code, text) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {text}");
    }
    let (code, text) = run(&["test", "--overlay", "broken.yaml"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("team.never"), "{text}");
    // The project file's overlays, when no rulebook is named.
    std::fs::write(dir.join("rulecheck.yaml"), "overlays: [broken.yaml]\n").unwrap();
    let (code, text) = run(&["test"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("team.never"), "{text}");
    let (code, text) = run(&["test", "--no-project"]);
    assert_eq!(code, Some(0), "{text}");
}

/// `diff` compares layers: the built-in rulebook alone against it with a team's
/// overlay (`builtin+team.yaml`), over a folder of captures, recursively.
#[test]
fn diff_shows_what_an_overlay_changes() {
    let captures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures");
    let with_team = format!("builtin+{}", layer("team.yaml").display());
    let out = command()
        .args(["diff", "builtin", &with_team, captures.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rule team.daily-limit added"), "{text}");
    assert!(text.contains("lost     key.missing-bearer"), "{text}");
    assert!(text.contains("reworded quota.balance"), "{text}");
    let same = command()
        .args(["diff", &with_team, &with_team, captures.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&same.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("0 of ") && l.ends_with("captures changed; 0 rules changed")),
        "{text}"
    );
}

/// An overlay's rules may use the categories the layers below declare (`rate` of the
/// built-in rulebook); checked alone, the category is unknown.
#[test]
fn an_overlay_uses_the_categories_below_it() {
    let dir = std::env::temp_dir().join(format!(
        "rulecheck-overlay-categories-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("burst.yaml"),
        "format: rulecheck/v1\nname: burst\nversion: 1.0.0\nrules:\n  - id: team.rate-burst\n    title: A burst of calls\n    category: rate\n    severity: warning\n    when: { all: [ { status: 429 }, { error.message: { contains: burst } } ] }\n    message: Too many calls at once.\n    examples: { match: [ { response: { status: 429, body: { error: { message: burst limit } } } } ] }\n",
    )
    .unwrap();
    let none: [&Path; 0] = [];
    let set =
        RuleSet::load_layers(&none, &[dir.join("burst.yaml")], &LoadOptions::default()).unwrap();
    let burst = capture(
        serde_json::json!({"response": {"status": 429, "body": {"error": {"message": "burst limit"}}}}),
    );
    assert!(ids(&set, &burst).contains(&"team.rate-burst".to_owned()));
    let out = command()
        .current_dir(&dir)
        .args(["lint", "--overlay", "burst.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alone =
        RuleSet::load_paths(&[dir.join("burst.yaml")], &LoadOptions::default()).unwrap_err();
    assert!(
        alone.diagnostics.iter().any(|d| d.code.id() == "RC007"),
        "{:?}",
        alone.diagnostics
    );
}

/// `test --snapshots DIR`: every capture file under DIR is rendered with the rulebooks
/// in force and compared with `<file>.snap` beside it; a new, changed or orphaned
/// snapshot fails (exit 1) with a unified diff, `--accept` writes (and removes) them,
/// and then the same run passes. An overlay's new finding shows as a change.
#[test]
fn snapshots_of_a_folder_of_captures_from_the_cli() {
    let dir = std::env::temp_dir().join(format!("rulecheck-cli-snapshots-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("captures/sub")).unwrap();
    std::fs::write(
        dir.join("captures/sub/calls.jsonl"),
        "{\"response\": {\"status\": 403, \"body\": {\"error\": {\"message\": \"该令牌已超出每日使用上限\"}}}}\n{\"response\": {\"status\": 404}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("captures/old.json.snap"),
        "a capture that is gone\n",
    )
    .unwrap();
    // A key in a capture never reaches its snapshot file.
    let key = "sk-Q7wErTy9UiOpAsDfGhJkLzXcVbNm1234567890abcdEFGHijkl";
    std::fs::write(
        dir.join("captures/keyed.txt"),
        format!("$ curl -i https://api.moleapi.com/v1/chat/completions -H 'Authorization: Bearer {key}'\nHTTP/1.1 401 Unauthorized\n\n{{\"error\": {{\"message\": \"Invalid token: {key}\"}}}}\n"),
    )
    .unwrap();
    std::fs::copy(layer("team.yaml"), dir.join("team.yaml")).unwrap();
    let run = |args: &[&str]| {
        let out = command().current_dir(&dir).args(args).output().unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, text) = run(&["test", "--snapshots", "captures"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("new: captures/sub/calls.jsonl"), "{text}");
    assert!(text.contains("orphaned: captures/old.json.snap"), "{text}");
    let (code, text) = run(&["test", "--snapshots", "captures", "--accept"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!dir.join("captures/old.json.snap").exists());
    let keyed = std::fs::read_to_string(dir.join("captures/keyed.txt.snap")).unwrap();
    assert!(
        keyed.contains("401") && !keyed.contains(&key[3..15]),
        "{keyed}"
    );
    let snapshot = std::fs::read_to_string(dir.join("captures/sub/calls.jsonl.snap")).unwrap();
    assert!(
        snapshot.starts_with("sub/calls.jsonl (line 1)\n"),
        "{snapshot}"
    );
    assert!(
        !snapshot.contains('\u{1b}'),
        "no colour in a snapshot: {snapshot}"
    );
    let (code, text) = run(&["test", "--snapshots", "captures"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("snapshots: 2 unchanged, 0 changed"), "{text}");
    // The team's overlay adds a finding: the snapshot shows it as a change.
    let (code, text) = run(&["test", "--overlay", "team.yaml", "--snapshots", "captures"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("changed: captures/sub/calls.jsonl"), "{text}");
    assert!(
        text.contains("+  1. error   The key's daily limit is reached  team.daily-limit"),
        "{text}"
    );
}

/// An overlay's rules may use the named conditions and the variables of the layers
/// below (`provider_host` and `vars.base_url.host` of the built-in rulebook), `--var`
/// included; alone, they are unknown.
#[test]
fn an_overlay_uses_the_named_conditions_and_variables_below_it() {
    let dir = std::env::temp_dir().join(format!("rulecheck-overlay-named-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let overlay = dir.join("named.yaml");
    std::fs::write(
        &overlay,
        "format: rulecheck/v1\nname: named\nversion: 1.0.0\ncategories: [{ id: team, title: Team }]\nrules:\n  - id: team.provider-429\n    title: A provider host answered 429\n    category: team\n    severity: warning\n    when: { all: [ { status: 429 }, { condition: provider_host } ] }\n    message: \"You called {url.host} directly, not {vars.base_url.host}.\"\n    examples: { match: [ { request: { url: \"https://api.openai.com/v1/chat/completions\" }, response: { status: 429 } } ] }\n",
    )
    .unwrap();
    let none: [&Path; 0] = [];
    let options = LoadOptions {
        vars: [("base_url".to_owned(), "http://127.0.0.1:3000/v1".to_owned())].into(),
        ..Default::default()
    };
    let set = RuleSet::load_layers(&none, std::slice::from_ref(&overlay), &options).unwrap();
    let c = capture(serde_json::json!({
        "request": {"url": "https://api.openai.com/v1/chat/completions"},
        "response": {"status": 429}
    }));
    let d = diagnose(&set, &c, EvalOptions::default());
    let f = d
        .findings
        .iter()
        .find(|f| f.id == "team.provider-429")
        .unwrap();
    assert_eq!(
        f.message,
        "You called api.openai.com directly, not 127.0.0.1."
    );
    let alone = RuleSet::load_paths(&[overlay], &LoadOptions::default()).unwrap_err();
    let codes: Vec<&str> = alone.diagnostics.iter().map(|d| d.code.id()).collect();
    assert!(
        codes.contains(&"RC008") && codes.contains(&"RC010"),
        "{codes:?}"
    );
}

/// Every problem of an overlay in one run: an undeclared category (which stops it
/// compiling) and overrides of rules no layer below defines, together.
#[test]
fn an_overlay_s_problems_are_all_reported_at_once() {
    let dir = std::env::temp_dir().join(format!("rulecheck-overlay-staged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let overlay = dir.join("staged.yaml");
    std::fs::write(
        &overlay,
        "format: rulecheck/v1\nname: staged\nversion: 1.0.0\nrules:\n  - { id: team.x, title: X, category: nosuch, severity: error, when: { status: 401 }, message: m }\noverrides:\n  - disable: key.no-such-rule\n    reason: gone\n  - rule: quota.balanse\n    severity: warning\n",
    )
    .unwrap();
    let none: [&Path; 0] = [];
    let e = RuleSet::load_layers(&none, &[overlay], &LoadOptions::default()).unwrap_err();
    let said: Vec<(&str, String)> = e
        .diagnostics
        .iter()
        .map(|d| (d.code.id(), d.message.clone()))
        .collect();
    assert!(said.iter().any(|(c, _)| *c == "RC007"), "{said:?}");
    assert!(
        said.iter()
            .any(|(c, m)| *c == "RC022" && m.contains("key.no-such-rule")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|(c, m)| *c == "RC022" && m.contains("quota.balanse")),
        "{said:?}"
    );
}
