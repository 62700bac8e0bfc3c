//! The secrets oracle as a property test (issue 21): random byte strings choose a key's
//! shape, the input format, the labelled place and the echoes (`tests/oracle/mod.rs`);
//! no output mode of `eval` may show 12 characters of the key's secret part. On a
//! failure proptest shrinks the bytes to a small planting and prints it. The fuzz target
//! `secrets` runs the same oracle on libFuzzer's bytes (docs/fuzzing.md).

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::sync::OnceLock;

use proptest::prelude::*;
use rulecheck::rulebook::{LoadOptions, RuleSet};

mod oracle;

fn rules() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| RuleSet::default_rulebook(&LoadOptions::default()).unwrap())
}

/// 300 cases (seven output modes each) take about 15 s in a debug build; a longer run:
/// `ORACLE_CASES=20000 cargo test --release --test secret_oracle`. The seed is fixed so
/// CI is repeatable; `ORACLE_SEED=N` explores others.
fn config() -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("ORACLE_CASES").map_or(300, |n| n as u32),
        rng_seed: proptest::test_runner::RngSeed::Fixed(env("ORACLE_SEED").unwrap_or(21)),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_planted_key_reaches_any_output(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        if let Err(leak) = oracle::check(rules(), &bytes) {
            panic!("bytes {bytes:?}: {leak}");
        }
    }
}

/// Inputs that leaked before their fix, found by the property test and the fuzz
/// target (written out: a change to the oracle's choices would plant other inputs
/// from the same bytes).
#[test]
fn the_leaks_found_so_far_stay_fixed() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrbStIIhD9SFj5kHVqiVkB6vUE5jtz0AqETD4cKGE.wvdxVX1dZCEH98YfofZG1teqUNjs_CgG8P-TPgVE697";
    let (jwt_head, jwt_tail) = jwt.split_at(37);
    let aiza = "AIza0nN8K6P8ddkQPb8osufOsvlrRo356plrSJD";
    let hex = "69169a7fd8a0951364ae6e73b82fbc62";
    let cases: Vec<(&str, String, &str)> = vec![
        // A key wrapped in a response header, its head too short for its shape; the
        // key is whole in curl's `Connected to` line and the body.
        (
            "curl-v.txt",
            format!(
                "* Connected to user:{aiza}@api.moleapi.com port 443\n> POST /v1/responses HTTP/1.1\n> Host: api.moleapi.com\n> \n{{\"model\":\"{aiza}\"}}\n< HTTP/1.1 400 Error\n< x-echo: {}\n  {}\n< content-type: application/json\n< \n{{\"error\":{{\"message\":\"Invalid token\"}}}}\n",
                &aiza[..12],
                &aiza[12..]
            ),
            &aiza[4..],
        ),
        // A cookie in a wrong-type capture's error.
        (
            "calls.jsonl",
            format!(
                "{{\"request\": {{\"headers\": \"Cookie: theme=dark; session={hex}\"}}}}\n{{\"response\": {{\"status\": 429}}}}\n"
            ),
            hex,
        ),
        // fuzz: a cookie header value an HTTP library refused, in a traceback.
        (
            "traceback.txt",
            format!(
                "Traceback (most recent call last):\n  File \"app.py\", line 9, in <module>\nhttpcore.LocalProtocolError: Illegal header value b'theme=dark; session={hex} '\n"
            ),
            hex,
        ),
        // A JWT wrapped after a dot, in an error message.
        (
            "capture.json",
            format!(
                "{{\"response\": {{\"status\": 401, \"body\": {{\"error\": {{\"message\": \"Incorrect API key provided: {jwt_head}\\n{jwt_tail}.\"}}}}}}}}"
            ),
            &jwt[37..],
        ),
    ];
    for (name, input, secret) in &cases {
        for (mode, printed) in oracle::outputs(rules(), name, input.as_bytes()) {
            assert_eq!(
                oracle::leak(&printed, secret),
                None,
                "{mode}: {input}\n---\n{printed}"
            );
        }
    }
}

/// The oracle plants what it says: every shape, format and label comes out of some
/// bytes, and a planted input holds its key (or, for a broken input, its label).
#[test]
fn the_oracle_plants_every_shape_in_every_format() {
    let mut shapes = std::collections::BTreeSet::new();
    let mut formats = std::collections::BTreeSet::new();
    for first in 0..=255u8 {
        for format in 0..=255u8 {
            // Byte 0: shape; 1: label; 2: path; 3: status; 4: format.
            let p = oracle::plant(&[first, first / 8, 0, 1, format, 3, 1, 2, 3, 4]);
            shapes.insert(p.key.shape);
            formats.insert(p.name.clone());
            let text = String::from_utf8_lossy(&p.input);
            assert!(
                text.contains(&p.key.key) || text.contains(&p.key.secret[..12]),
                "{}: {text}",
                p.plan
            );
        }
    }
    assert_eq!(shapes.len(), 8, "{shapes:?}");
    assert_eq!(formats.len(), 6, "{formats:?}");
}

/// The oracle sees a leak: an output that quotes the key's secret part fails it, one
/// that shows the key masked does not.
#[test]
fn the_oracle_sees_a_leak() {
    let p = oracle::plant(&[0; 8]);
    let masked = rulecheck::mask::mask_key(&p.key.key);
    assert_eq!(oracle::leak(&format!("key: {masked}"), &p.key.secret), None);
    let shown = &p.key.secret[5..17];
    assert_eq!(
        oracle::leak(&format!("echo …{shown}…"), &p.key.secret).as_deref(),
        Some(shown)
    );
}
