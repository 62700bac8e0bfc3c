//! Loading rulebooks: every kind of mistake is refused with its code, file, line and
//! column; valid rulebooks load; every rule's examples hold.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use rulecheck::check::examples;
use rulecheck::rulebook::{self, LoadOptions, RuleSet};

mod common;
use common::root;

/// `# expect: RC005 14:34 [RC003 16:5 …]` on the first line of each invalid fixture.
fn expected(text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or("");
    let list = first
        .strip_prefix("# expect: ")
        .expect("first line is `# expect: CODE line:col`");
    list.split_whitespace()
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|c| c.join(" "))
        .collect()
}

#[test]
fn each_invalid_rulebook_is_refused_at_the_right_place() {
    insta::glob!("fixtures/rulebooks/invalid/*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let err = RuleSet::load_paths(&[path], &LoadOptions::default()).expect_err(&name);
        let got: Vec<String> = err
            .diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{} {}:{}",
                    d.code.id(),
                    d.line.unwrap_or(0),
                    d.column.unwrap_or(0)
                )
            })
            .collect();
        assert_eq!(got, expected(&text), "{name}");
        for d in &err.diagnostics {
            assert!(
                d.file.ends_with(&name),
                "{name}: diagnostic names {}",
                d.file
            );
            assert!(
                d.help.is_some(),
                "{name}: every diagnostic says how to fix it"
            );
        }
        let rendered = err.render().replace(&format!("{}/", root().display()), "");
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn all_mistakes_of_a_file_are_reported_together() {
    let path = root().join("tests/fixtures/rulebooks/several-mistakes.yaml");
    let err = RuleSet::load_paths(&[&path], &LoadOptions::default()).unwrap_err();
    let got: Vec<_> = err
        .diagnostics
        .iter()
        .map(|d| (d.code.id(), d.line))
        .collect();
    assert_eq!(
        got,
        vec![
            ("RC005", Some(14)),
            ("RC007", Some(18)),
            ("RC009", Some(28))
        ]
    );
}

#[test]
fn the_schema_also_refuses_structural_mistakes() {
    // These mistakes are about shape, which the schema describes; schema and loader
    // must agree on them, or one of the two has drifted.
    for name in [
        "unknown-rule-key",
        "wrong-type-priority",
        "unknown-fact",
        "unknown-operator",
        "bad-severity",
        "missing-message",
        "newer-format",
        "not-a-mapping",
        "bad-status-key",
        "bad-example-capture",
        "bad-version",
    ] {
        let path = root().join(format!("tests/fixtures/rulebooks/invalid/{name}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let node = rulecheck::yaml::parse(&text, Default::default()).unwrap();
        let schema_errors = rulebook::schema::validate(name, &node);
        assert!(!schema_errors.is_empty(), "the schema accepts {name}");
    }
}

#[test]
fn valid_rulebooks_load_with_schema_validation_on() {
    let paths = [
        root().join("rules"),
        root().join("tests/fixtures/rulebooks/valid"),
    ];
    for p in &paths {
        let set = RuleSet::load_paths(&[p], &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}:\n{}", p.display(), e.render()));
        assert!(set.rules().count() > 0);
        for rb in &set.rulebooks {
            let text = std::fs::read_to_string(&rb.source).unwrap();
            let node = rulecheck::yaml::parse(&text, Default::default()).unwrap();
            assert_eq!(
                rulebook::schema::validate(&rb.source, &node),
                vec![],
                "{}",
                rb.source
            );
        }
    }
}

#[test]
fn the_built_in_rulebook_is_the_one_on_disk() {
    let on_disk = std::fs::read_to_string(root().join("rules/moleapi.yaml")).unwrap();
    let (source, text) = rulebook::default_rulebook_source();
    assert_eq!(on_disk, text);
    // Named as it is versioned, so a report says which built-in rules made it.
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let rb = &set.rulebooks[0];
    assert_eq!(source, format!("builtin:{}@{}", rb.name, rb.version));
    assert_eq!(rb.source, source);
}

/// One road: the built-in rulebook is loaded as the same file from disk is, so both
/// give every capture fixture the same diagnosis, and both are checked the same way
/// (an oversized pattern is refused in either).
#[test]
fn the_built_in_rulebook_takes_the_road_of_one_on_disk() {
    let options = LoadOptions::default();
    let built_in = RuleSet::default_rulebook(&options).unwrap();
    let disk = RuleSet::load_paths(&[root().join("rules/moleapi.yaml")], &options).unwrap();
    assert_eq!(built_in.rulebooks[0].digest, disk.rulebooks[0].digest);
    let mut n = 0;
    insta::glob!("fixtures/captures/**/*.json", |path| {
        for c in rulecheck::input::read(&std::fs::read(path).unwrap()).unwrap() {
            let a = rulecheck::evaluate::diagnose(&built_in, &c.capture, Default::default());
            let b = rulecheck::evaluate::diagnose(&disk, &c.capture, Default::default());
            assert_eq!(
                serde_json::to_value(&a).unwrap(),
                serde_json::to_value(&b).unwrap(),
                "{}",
                path.display()
            );
            n += 1;
        }
    });
    assert!(n >= 60);
    let tight = LoadOptions {
        limits: rulecheck::limits::Limits {
            regex_bytes: 1000,
            ..Default::default()
        },
        ..Default::default()
    };
    let err = RuleSet::default_rulebook(&tight).unwrap_err();
    assert!(
        err.diagnostics.iter().any(|d| d.code.id() == "RC005"),
        "{:?}",
        err.diagnostics
    );
}

#[test]
fn every_rule_example_holds_and_every_rule_has_one() {
    let set = RuleSet::load_paths(&[root().join("rules")], &LoadOptions::default()).unwrap();
    let report = examples::run(&set);
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| f.diagnostic.render(None))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(report.without_positive_example, Vec::<String>::new());
    let rules_with_negatives = set
        .rules()
        .filter(|(_, r)| !r.examples_no_match.is_empty())
        .count();
    assert_eq!(
        rules_with_negatives,
        set.rules().count(),
        "every rule has a near miss"
    );
    assert!(report.passed >= 2 * set.rules().count());
}

#[test]
fn a_contradicting_example_is_reported() {
    let set = RuleSet::load_paths(
        &[root().join("tests/fixtures/rulebooks/failing-example.yaml")],
        &LoadOptions::default(),
    )
    .unwrap();
    let report = examples::run(&set);
    assert_eq!(report.failures.len(), 1);
    let f = &report.failures[0];
    assert_eq!((f.rule.as_str(), f.kind), ("key.rejected", "match"));
    assert_eq!(f.diagnostic.line, Some(18));
}

#[test]
fn rule_ids_must_be_unique_across_rulebooks() {
    let valid = root().join("tests/fixtures/rulebooks/valid/minimal.yaml");
    let err = RuleSet::load_paths(&[&valid, &valid], &LoadOptions::default()).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1);
    assert_eq!(err.diagnostics[0].code.id(), "RC006");
}

#[test]
fn variables_can_be_overridden_and_unknown_ones_are_refused() {
    let mut options = LoadOptions::default();
    options
        .vars
        .insert("base_url".into(), "http://127.0.0.1:3000/v1".into());
    let set = RuleSet::default_rulebook(&options).unwrap();
    assert_eq!(
        set.rulebooks[0].vars["base_url"],
        "http://127.0.0.1:3000/v1"
    );
    options.vars.insert("base_ur".into(), "x".into());
    let err = rulebook::check_vars(&set.rulebooks, &options).unwrap_err();
    assert_eq!(err[0].help.as_deref(), Some("did you mean `base_url`?"));
}

/// `derive:` cases with their own `from` and an `extract` regex: the first case that
/// holds gives the value, the message quotes it, and the evidence names the source the
/// value came from.
#[test]
fn derived_facts_extract_from_text_and_fall_back_across_sources() {
    let text = r#"
format: rulecheck/v1
name: derive-test
version: 1.0.0
requires: ">=0.2"
categories:
  - id: request
    title: Request
derive:
  model_asked:
    from: error.message
    cases:
      - { from: model, extract: '^(.+)$' }
      - { extract: 'for model (?P<value>\S+) under group (\S+)' }
      - { when: { contains: "no model" }, value: none }
rules:
  - id: request.model
    title: The model
    category: request
    severity: info
    when:
      derived.model_asked: { exists: true }
    message: "model={derived.model_asked}"
"#;
    let rb = rulebook::load_str("derive-test.yaml", text, &LoadOptions::default()).unwrap();
    assert_eq!(
        rulecheck::check::lints::needs(&rb).0,
        semver::Version::new(0, 2, 0),
        "extract and a case's own `from` need rulecheck 0.2"
    );
    derived_facts_extract(RuleSet::new(vec![rb]).unwrap());
}

fn derived_facts_extract(set: RuleSet) {
    let run = |capture: serde_json::Value| {
        let capture: rulecheck::capture::Capture = serde_json::from_value(capture).unwrap();
        let d = rulecheck::evaluate::diagnose(&set, &capture, Default::default());
        d.findings
            .iter()
            .find(|f| f.id == "request.model")
            .map(|f| {
                let evidence: Vec<String> = f
                    .evidence
                    .iter()
                    .map(|e| format!("{}={}", e.fact, e.value))
                    .collect();
                (f.message.clone(), evidence)
            })
    };
    let message = |m: &str| serde_json::json!({ "response": { "status": 503, "body": { "error": { "message": m } } } });

    // Only the gateway's message: the named group, not the group after it.
    let (msg, evidence) = run(message(
        "No available channel for model gpt-4o-mni under group default (distributor)",
    ))
    .unwrap();
    assert_eq!(msg, "model=gpt-4o-mni");
    assert_eq!(
        evidence[0],
        format!(
            "error.message={}",
            "No available channel for model gpt-4o-mni under group default (distributor)"
        )
    );
    assert_eq!(evidence[1], "derived.model_asked=gpt-4o-mni");

    // The request's own model wins over the message, and the evidence says so.
    let (msg, evidence) = run(serde_json::json!({
        "request": { "method": "POST", "url": "https://h/v1/chat/completions", "body": { "model": "gpt-4o" } },
        "response": { "status": 503, "body": { "error": { "message": "No available channel for model other under group g (distributor)" } } }
    }))
    .unwrap();
    assert_eq!(msg, "model=gpt-4o");
    assert_eq!(evidence[0], "model=gpt-4o");

    // A fixed value after the extracts; and nothing when no case holds.
    assert_eq!(run(message("there is no model")).unwrap().0, "model=none");
    assert_eq!(run(message("system cpu overloaded")), None);
}

/// The default rulebook names the model (and group) from each of the gateway's
/// messages that carry one (fact sheet §2.3, §2.5), as an SDK traceback holds nothing else.
#[test]
fn the_default_rulebook_names_the_model_from_the_gateway_message() {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let cases = [
        (
            503,
            "No available channel for model gpt-4o-mni under group auto(default) (distributor) (request id: 2026)",
            "model.not-found",
            "\"gpt-4o-mni\" in the group auto(default)",
        ),
        (
            503,
            "分组 default 下模型 gpt-4o-mni 无可用渠道（distributor）",
            "model.not-found",
            "\"gpt-4o-mni\" in the group default",
        ),
        (
            503,
            "当前分组 default 下对于模型 gpt-4o-mni 无可用渠道",
            "model.not-found",
            "\"gpt-4o-mni\" in the group default",
        ),
        (
            404,
            "The model `gpt-9` does not exist or you do not have access to it.",
            "model.not-found",
            "\"gpt-9\" is not available to you:",
        ),
        (
            403,
            "This token has no access to model gpt-4o (request id: 2026)",
            "permission.model",
            "(gpt-4o)",
        ),
        (
            403,
            "该令牌无权访问模型 gpt-4o",
            "permission.model",
            "(gpt-4o)",
        ),
        (
            403,
            "该令牌无权使用模型：gpt-4o",
            "permission.model",
            "(gpt-4o)",
        ),
        (
            400,
            "模型 gpt-9 的价格尚未由管理员配置，暂时无法使用；Model gpt-9 has not been priced by the administrator yet.",
            "model.not-priced",
            "the model gpt-9 but",
        ),
        (
            500,
            "模型 gpt-9 倍率或价格未配置, 请联系管理员设置；Model gpt-9 ratio or price not set, please contact administrator to set",
            "model.not-priced",
            "the model gpt-9 but",
        ),
        // No model in the message: the sentence reads without one.
        (
            400,
            "Model name not specified, model name cannot be empty",
            "request.missing-field",
            "model",
        ),
    ];
    for (status, message, id, expect) in cases {
        let capture: rulecheck::capture::Capture = serde_json::from_value(serde_json::json!({
            "response": { "status": status, "body": { "error": { "message": message, "type": "new_api_error" } } }
        }))
        .unwrap();
        let d = rulecheck::evaluate::diagnose(&set, &capture, Default::default());
        let f = d.findings.iter().find(|f| f.id == id).unwrap_or_else(|| {
            panic!(
                "{message}: no {id} in {:?}",
                d.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
            )
        });
        assert!(f.message.contains(expect), "{message}: {}", f.message);
    }
}

/// The guidance for a 4xx the guide has no entry for lists the guide's checks one by
/// one, each a check of its own (it read "Check, in this order: 1. Check, in order: …").
#[test]
fn an_unlisted_4xx_gets_the_guides_checks_one_by_one() {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    for status in [405, 409, 413, 415, 422] {
        let capture: rulecheck::capture::Capture =
            serde_json::from_value(serde_json::json!({ "response": { "status": status } }))
                .unwrap();
        let d = rulecheck::evaluate::diagnose(&set, &capture, Default::default());
        let guide = d.findings.last().unwrap();
        assert!(guide.checks.len() >= 4, "{status}: {:?}", guide.checks);
        assert!(
            guide
                .checks
                .iter()
                .all(|c| !c.to_lowercase().starts_with("check")),
            "{status}: {:?}",
            guide.checks
        );
        assert!(
            guide.checks[0].contains("Base URL"),
            "{status}: the address first"
        );
    }
}

/// The default rulebook has no lint warning: no condition that can never hold, no rule
/// never on top of its own examples, and no message that reads "(unknown)" on one of
/// them (its examples include captures with no URL and no key, as SDK tracebacks are).
#[test]
fn the_default_rulebook_lints_clean() {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let warnings: Vec<String> = rulecheck::check::lints::lint(&set)
        .iter()
        .map(|d| d.render(None))
        .collect();
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));
}

fn diagnose_json(capture: serde_json::Value) -> Vec<(String, String, String)> {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let c: rulecheck::capture::Capture = serde_json::from_value(capture).unwrap();
    rulecheck::evaluate::diagnose(&set, &c, Default::default())
        .findings
        .iter()
        .map(|f| {
            (
                f.id.to_string(),
                f.severity.name().to_owned(),
                f.message.to_string(),
            )
        })
        .collect()
}

/// A call that worked is worded as one: `ok` first, what is worth fixing after it as a
/// warning that says the call worked (1.2.0 called a trimmed key an error that "makes
/// the gateway look up a key that does not exist", and dropped `ok`).
#[test]
fn a_success_with_something_to_fix_is_ok_plus_a_warning_worded_for_success() {
    let key = "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl";
    let found = diagnose_json(serde_json::json!({
        "request": {"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions",
                    "headers": {"Authorization": format!("Bearer {key} ")}},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"},
                     "body": {"id": "chatcmpl-1", "choices": []}}
    }));
    let ids: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(ids, ["ok", "key.whitespace"], "{found:?}");
    let (_, severity, message) = &found[1];
    assert_eq!(severity, "warning");
    assert!(message.contains("This call worked"), "{message}");
    assert!(!message.contains("does not exist"), "{message}");
}

/// Where only a symptom is at hand, the message says what it suggests, and never shows
/// a hole: a DNS failure alone names no "typo away" host, an SDK's TypeError does not
/// claim the call "got an HTML page", a refused connection with no URL reads whole.
#[test]
fn a_symptom_is_worded_as_a_symptom_and_no_message_has_a_hole() {
    let dns = diagnose_json(serde_json::json!({
        "client_error": "Error: getaddrinfo ENOTFOUND api.moleapi.com"
    }));
    assert_eq!(dns[0].0, "address.unknown-host");
    assert!(
        !dns[0].2.contains("(unknown)") && !dns[0].2.contains("typo away"),
        "{}",
        dns[0].2
    );
    let node = diagnose_json(serde_json::json!({
        "client_error": "TypeError: Cannot read properties of undefined (reading '0')"
    }));
    assert_eq!(node[0].0, "address.html-response");
    assert!(!node[0].2.contains("got an HTML page"), "{}", node[0].2);
    assert!(node[0].2.contains("is what SDKs raise"), "{}", node[0].2);
    let refused = diagnose_json(serde_json::json!({
        "client_error": "httpx.ConnectError: [Errno 111] Connection refused"
    }));
    assert_eq!(refused[0].0, "address.unreachable");
    assert!(!refused[0].2.contains("(unknown)"), "{}", refused[0].2);
}
