//! One snapshot per capture fixture: the JSON report, as `rulecheck eval --format json`
//! prints it. Review every change with `cargo insta review`; CI never writes snapshots.

use std::path::Path;

use rulecheck::evaluate::{EvalOptions, diagnose};
use rulecheck::input;
use rulecheck::report::{CaptureReport, Report, render_text};
use rulecheck::rulebook::{Lang, LoadOptions, RuleSet};

fn report_for(path: &Path, lang: Lang) -> Report {
    let rules =
        RuleSet::default_rulebook(&LoadOptions::default()).expect("built-in rulebook loads");
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let reports = input::read(&bytes, input::DEFAULT_MAX_INPUT_BYTES)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|c| CaptureReport {
            source: name.clone(),
            locator: c.locator,
            format: c.format.to_owned(),
            diagnosis: diagnose(&rules, &c.capture, EvalOptions { lang }),
        })
        .collect();
    Report::new(&rules, reports)
}

/// The text as a pipe or `NO_COLOR` terminal gets it.
fn plain(styled: String) -> String {
    anstream::adapter::strip_str(&styled).to_string()
}

#[test]
fn json_report_per_capture_fixture() {
    insta::glob!("fixtures/captures/**/*.json", |path| {
        insta::assert_snapshot!(report_for(path, Lang::En).to_json());
    });
}

#[test]
fn text_report_for_selected_fixtures() {
    insta::glob!(
        "fixtures/captures/{openai-host-401,key-trailing-newline-401,missing-v1-html-200}.json",
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
                .flat_map(|c| c.diagnosis.findings.iter().map(|f| f.id.clone()))
                .collect()
        };
        assert_eq!(ids(&en), ids(&zh), "{}", path.display());
        // And the words do differ: every rule and status entry has a translation.
        let words = |r: &Report| -> Vec<String> {
            r.reports
                .iter()
                .flat_map(|c| c.diagnosis.findings.iter().map(|f| f.message.clone()))
                .collect()
        };
        assert_ne!(words(&en), words(&zh), "{}", path.display());
    });
    assert!(n >= 60);
}
