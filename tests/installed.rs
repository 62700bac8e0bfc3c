//! The binary alone, as `cargo install --locked` leaves it: run in an empty directory
//! far from any checkout, everything it prints must work there — the rulebook it names,
//! the docs it points at, the schemas.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::path::Path;
use std::process::Output;

mod common;
use common::{command, fixture, text};

/// Runs the binary in `dir`, with nothing of the checkout in reach.
fn in_dir(dir: &Path, args: &[&str]) -> Output {
    command().current_dir(dir).args(args).output().unwrap()
}

fn empty_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rulecheck-installed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn what_a_report_points_at_exists_outside_a_checkout() {
    let dir = empty_dir();
    std::fs::copy(
        fixture("captures/key-trailing-newline-401.json"),
        dir.join("capture.json"),
    )
    .unwrap();

    // The JSON names the built-in rulebook by name and version, not by a repo path.
    let out = in_dir(&dir, &["eval", "capture.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rulebook = &report["rulebooks"][0];
    assert_eq!(
        rulebook["source"],
        format!("builtin:moleapi@{}", rulebook["version"].as_str().unwrap())
    );

    // Every finding's docs is a command this binary runs, here, offline.
    let findings = report["reports"][0]["findings"].as_array().unwrap();
    let mut explained = 0;
    for docs in findings.iter().filter_map(|f| f["docs"].as_str()) {
        let words: Vec<&str> = docs.split_whitespace().collect();
        assert_eq!(words[..2], ["rulecheck", "explain"], "{docs}");
        let out = in_dir(&dir, &words[1..]);
        assert_eq!(out.status.code(), Some(0), "{docs}: {}", text(&out));
        // …and `explain` says where the rule is in the same terms.
        assert!(
            text(&out).contains("(builtin:moleapi@"),
            "{docs}: {}",
            text(&out)
        );
        explained += 1;
    }
    assert!(explained > 0, "{findings:?}");

    // The schemas come from the binary.
    for which in ["rulebook", "capture", "report"] {
        let out = in_dir(&dir, &["schema", which]);
        assert_eq!(out.status.code(), Some(0));
        let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(schema["$schema"].is_string(), "{which}");
    }
}
