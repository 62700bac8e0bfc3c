//! One snapshot per capture fixture: the JSON report, as `rulecheck eval --format json`
//! prints it. Review every change with `cargo insta review`; CI never writes snapshots.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::path::Path;

use rulecheck::evaluate::{EvalOptions, diagnose};
use rulecheck::input;
use rulecheck::report::{CaptureReport, Report, render_text};
use rulecheck::rulebook::{Lang, LoadOptions, RuleSet};

/// The JSON report with the rulebook's digest blanked: it changes with every edit of
/// the rulebook, and tests/provenance.rs checks it.
fn json(report: &Report) -> String {
    let re = regex::Regex::new(r#""digest": "sha256:[0-9a-f]{64}""#).unwrap();
    re.replace_all(&report.to_json(), r#""digest": "[digest]""#)
        .into_owned()
}

/// The built-in rulebook, loaded once: reports borrow its text.
static RULES: std::sync::LazyLock<RuleSet> = std::sync::LazyLock::new(|| {
    RuleSet::default_rulebook(&LoadOptions::default()).expect("built-in rulebook loads")
});

fn report_for(path: &Path, lang: Lang) -> Report<'static> {
    let rules = &*RULES;
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let reports = input::read(&bytes)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|c| {
            let diagnosis = diagnose(
                rules,
                &c.capture,
                EvalOptions {
                    lang,
                    ..Default::default()
                },
            );
            CaptureReport::new(&name, &c, diagnosis)
        })
        .collect();
    Report::new(rules, reports)
}

/// The text as a pipe or `NO_COLOR` terminal gets it.
fn plain(styled: String) -> String {
    anstream::adapter::strip_str(&styled).to_string()
}

#[test]
fn json_report_per_capture_fixture() {
    insta::glob!("fixtures/captures/**/*.json", |path| {
        insta::assert_snapshot!(json(&report_for(path, Lang::En)));
    });
}

/// One snapshot per input the user might have: curl/HTTPie transcripts, SDK
/// tracebacks, HAR files, gateway logs.
#[test]
fn json_report_per_input_fixture() {
    insta::glob!("fixtures/inputs/**/*.*", |path| {
        insta::assert_snapshot!(json(&report_for(path, Lang::En)));
    });
}

#[test]
fn text_report_for_selected_fixtures() {
    insta::glob!(
        "fixtures/{captures/openai-host-401.json,captures/key-trailing-newline-401.json,captures/missing-v1-html-200.json,inputs/har/mitmproxy-retried-500.har,inputs/sdk/python-1x-key-trailing-space.txt}",
        |path| {
            insta::assert_snapshot!(plain(render_text(&report_for(path, Lang::En), Lang::En)));
        }
    );
}

#[test]
fn chinese_text_report() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures/endpoint-twice-404.json");
    insta::assert_snapshot!(plain(render_text(&report_for(&path, Lang::Zh), Lang::Zh)));
}

#[test]
fn language_changes_words_not_diagnoses() {
    let mut n = 0;
    insta::glob!("fixtures/captures/**/*.json", |path| {
        n += 1;
        let (en, zh) = (report_for(path, Lang::En), report_for(path, Lang::Zh));
        let ids = |r: &Report| -> Vec<String> {
            r.reports
                .iter()
                .flat_map(|c| c.diagnosis.findings.iter().map(|f| f.id.to_string()))
                .collect()
        };
        assert_eq!(ids(&en), ids(&zh), "{}", path.display());
        // And the words do differ: every rule and status entry has a translation.
        let words = |r: &Report| -> Vec<String> {
            r.reports
                .iter()
                .flat_map(|c| c.diagnosis.findings.iter().map(|f| f.message.to_string()))
                .collect()
        };
        assert_ne!(words(&en), words(&zh), "{}", path.display());
    });
    assert!(n >= 60);
}

/// Every snapshot belongs to a fixture that still exists: a renamed or deleted fixture
/// must take its snapshot with it (CI never writes or deletes snapshots).
#[test]
fn no_orphaned_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let bases = [
        (
            "snapshots__json_report_per_capture_fixture",
            "fixtures/captures",
        ),
        (
            "snapshots__json_report_per_input_fixture",
            "fixtures/inputs",
        ),
        ("snapshots__text_report_for_selected_fixtures", "fixtures"),
        (
            "rulebooks__each_invalid_rulebook_is_refused_at_the_right_place",
            "fixtures/rulebooks/invalid",
        ),
    ];
    for entry in std::fs::read_dir(root.join("snapshots")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some((test, fixture)) = name.strip_suffix(".snap").and_then(|n| n.split_once('@'))
        else {
            continue;
        };
        let base = bases
            .iter()
            .find(|(t, _)| *t == test)
            .map(|(_, b)| *b)
            .unwrap_or_else(|| panic!("{name}: no test makes this snapshot"));
        let path = root.join(base).join(fixture.replace("__", "/"));
        assert!(
            path.exists(),
            "{name} is orphaned: {} does not exist",
            path.display()
        );
    }
}
