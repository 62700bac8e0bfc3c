//! What a dozen HTTP libraries and frameworks printed for the misconfigurations of
//! docs/diagnoses.md (tests/fixtures/clients/, recorded by
//! tests/fixtures/gateway/record_clients.sh against the fake gateway), against the
//! native capture of the same call.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use rulecheck::evaluate::{Diagnosis, diagnose};
use rulecheck::input::{self, InputCapture};
use rulecheck::rulebook::{LoadOptions, RuleSet};

/// The top diagnosis: the first specific finding, else the status guidance.
fn top(d: &Diagnosis) -> Option<String> {
    d.findings
        .iter()
        .find(|f| !f.id.starts_with("status."))
        .or(d.findings.first())
        .map(|f| f.id.to_string())
}

fn read(path: &std::path::Path) -> Result<Vec<InputCapture>, input::InputError> {
    input::read(&std::fs::read(path).unwrap())
}

/// Fixtures whose text holds the evidence get the native capture's top diagnosis;
/// the others say what their text lacked. The count that agree may only go up.
#[test]
fn client_output_gets_the_native_captures_diagnosis_or_says_what_it_lacked() {
    let dir = common::fixture("clients");
    let manifest: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let clients: std::collections::BTreeSet<&str> = manifest
        .iter()
        .map(|e| e["client"].as_str().unwrap())
        .collect();
    assert!(clients.len() >= 10, "{clients:?}");
    let (mut agree, mut lacking, mut succeeded, mut counted) = (0, Vec::new(), 0, 0);
    for entry in &manifest {
        let file = entry["file"].as_str().unwrap();
        let expected = match entry["native_capture"].as_str() {
            Some(native) => {
                let c = read(&dir.join(native)).unwrap().remove(0);
                top(&diagnose(&set, &c.capture, Default::default()))
            }
            None => entry["diagnosis"].as_str().map(str::to_owned),
        };
        let read = read(&dir.join(file));
        // The client trimmed the key and the call worked: the output holds no failure.
        if expected.as_deref() == Some("ok") && read.is_err() {
            succeeded += 1;
            continue;
        }
        let captures = read.unwrap_or_else(|e| panic!("{file}: {e}"));
        let last = captures.last().unwrap();
        // A client that counts its tries is believed (the gateway saw as many).
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        if text.contains("Failed after ") {
            assert_eq!(
                Some(last.attempts as u64),
                entry["attempts"].as_u64(),
                "{file}: attempts"
            );
            counted += 1;
        }
        let got = top(&diagnose(&set, &last.capture, Default::default()));
        if got == expected {
            agree += 1;
            continue;
        }
        // Where the diagnosis differs, the report says which parts the text lacked.
        // …and what it lacked is a part the diagnoses rest on: the URL, the key, the
        // response or its body.
        let lacks = input::lacks(&last.capture);
        assert!(
            lacks
                .iter()
                .any(|p| ["url", "request.headers", "response", "response.body"].contains(p)),
            "{file}: got {got:?}, the native capture {expected:?}, and it lacks only {lacks:?}"
        );
        // …and names the client whose output hid it, where the output shows one.
        let d = diagnose(&set, &last.capture, Default::default());
        let shows_client = ["site-packages/", "node_modules/", "/urllib/"]
            .iter()
            .any(|frame| text.contains(frame));
        assert!(
            d.client.is_some() || !shows_client,
            "{file}: no client named"
        );
        lacking.push(format!(
            "{file}: {got:?} (native {expected:?}), lacks {lacks:?} in what {} printed",
            d.client.as_deref().unwrap_or_default()
        ));
    }
    eprintln!(
        "{agree} of {} agree; {succeeded} succeeded; lacking evidence:\n{}",
        manifest.len(),
        lacking.join("\n")
    );
    // 62: the six outputs of a 429 that print no body now get the guide's checklist
    // (balance first) where the native capture, which has the body, gets the rate
    // limit it names: a bare status is no evidence of a cause (issue 20).
    assert!(
        agree >= 62,
        "{agree} agree (was 62): a reader or rule lost evidence"
    );
    assert!(
        counted >= 2,
        "the AI SDK's retry counts were read ({counted})"
    );
}
