//! No output shows a key whole. A randomized property test puts generated keys in
//! every place a capture can hold one — Authorization, x-api-key, the URL query, the
//! request body, a response body that quotes it back, a curl command line, an SDK
//! traceback — and checks that no output (text or JSON, English or Chinese, with a
//! trace) contains any 12 consecutive characters of the key's secret part.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use rulecheck::evaluate::{EvalOptions, diagnose};
use rulecheck::input;
use rulecheck::report::{CaptureReport, Report, render_text};
use rulecheck::rulebook::{Lang, LoadOptions, RuleSet};

mod common;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn secret(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[(self.next() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

/// A key of some platform, and its secret part (what must never show whole).
fn key(g: &mut Gen) -> (String, String) {
    let prefix = g.pick(&[
        "sk-",
        "sk-proj-",
        "sk-ant-api03-",
        "AIza",
        "gsk_",
        "xai-",
        "",
    ]);
    let len = [48usize, 64, 93, 35, 52, 80, 32][(g.next() % 7) as usize];
    let secret = g.secret(len);
    let suffix = g.pick(&["", "", "", "\n", " ", "\\n"]);
    (format!("{prefix}{secret}{suffix}"), secret)
}

fn leaks(output: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(12)
        .map(|w| w.iter().collect::<String>())
        .find(|w| output.contains(w.as_str()))
}

/// An input in one of the formats, holding the key in one of the places.
fn input_with(g: &mut Gen, key: &str) -> Vec<u8> {
    let json_key = serde_json::to_string(key).unwrap();
    let plain = key.trim_end_matches(['\n', ' ']).trim_end_matches("\\n");
    match g.next() % 8 {
        0 => format!(
            r#"{{"request": {{"url": "https://api.moleapi.com/v1/chat/completions", "headers": {{"Authorization": {}}}}}, "response": {{"status": 401}}}}"#,
            serde_json::to_string(&format!("Bearer {key}")).unwrap()
        ),
        1 => format!(r#"{{"request": {{"url": "https://api.moleapi.com/v1/messages", "headers": {{"x-api-key": {json_key}}}}}, "response": {{"status": 401}}}}"#),
        2 => format!(r#"{{"request": {{"url": "https://api.moleapi.com/v1beta/models/gemini:generateContent?key={plain}"}}, "response": {{"status": 400}}}}"#),
        3 => format!(r#"{{"request": {{"url": "https://api.moleapi.com/v1/chat/completions", "body": {{"model": "gpt-4o", "api_key": {json_key}}}}}, "response": {{"status": 500}}}}"#),
        4 => format!(r#"{{"response": {{"status": 401, "body": {{"error": {{"message": {}, "type": "invalid_request_error"}}}}}}}}"#, serde_json::to_string(&format!("Incorrect API key provided: {plain}. You can find your API key at https://platform.openai.com/account/api-keys.")).unwrap()),
        5 => format!("$ curl -i https://api.moleapi.com/v1/chat/completions -H 'Authorization: Bearer {plain}' -d '{{\"model\": \"gpt-4o\"}}'\nHTTP/1.1 401 Unauthorized\nContent-Type: application/json\n\n{{\"error\": {{\"message\": \"Invalid token\"}}}}\n"),
        6 => format!("Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\nhttpcore.LocalProtocolError: Illegal header value b'Bearer {plain} '\nopenai.APIConnectionError: Connection error.\n"),
        _ => format!(r#"{{"request": {{"url": "https://api.moleapi.com/v1/chat/completions", "headers": {{"Authorization": {}}}}}, "response": {{"status": 401}}, "client_error": {}}}"#, serde_json::to_string(&format!("Bearer {key}")).unwrap(), serde_json::to_string(&format!("refused header value b'Bearer {plain}'")).unwrap()),
    }
    .into_bytes()
}

#[test]
fn no_output_contains_a_key_whole() {
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let cases = 2000;
    for case in 0..cases {
        let (key, secret) = key(&mut g);
        let bytes = input_with(&mut g, &key);
        let captures = input::read(&bytes)
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{}", String::from_utf8_lossy(&bytes)));
        let lang = if case % 2 == 0 { Lang::En } else { Lang::Zh };
        let reports: Vec<CaptureReport> = captures
            .iter()
            .map(|c| {
                let mut r = CaptureReport::new(
                    "input",
                    c,
                    diagnose(
                        &set,
                        &c.capture,
                        EvalOptions {
                            lang,
                            ..Default::default()
                        },
                    ),
                );
                if case % 20 == 0 {
                    r.trace = Some(rulecheck::trace::trace_all(
                        &set,
                        &c.capture,
                        rulecheck::limits::Limits::default().body_bytes,
                    ));
                }
                r
            })
            .collect();
        let report = Report::new(&set, reports);
        let output = format!("{}\n{}", report.to_json(), render_text(&report, lang));
        if let Some(w) = leaks(&output, &secret) {
            panic!(
                "case {case} leaked `{w}` of key {key:?}:\n{}\n---\n{output}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

#[test]
fn errors_that_echo_input_do_not_leak_keys() {
    // A request with an unknown field next to a key: the error names the field only.
    let key = format!("sk-{}", "Zz9".repeat(16));
    let text = format!(
        r#"{{"request": {{"headers": {{"Authorization": "Bearer {key}"}}, "methd": "POST"}}}}"#
    );
    let err = input::read(text.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("methd"), "{err}");
    assert!(leaks(&err, &key[3..]).is_none(), "{err}");
}

/// rulecheck never opens a network connection: it runs the same in a network
/// namespace with no network at all.
#[test]
fn runs_with_networking_unavailable() {
    let probe = std::process::Command::new("unshare")
        .args(["--net", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        // Without the privilege to make a network namespace, the check cannot be made
        // here; say so rather than pass silently.
        eprintln!("runs_with_networking_unavailable: unshare --net is not available here");
        return;
    }
    let capture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures/openai-host-401.json");
    let out = std::process::Command::new("unshare")
        .args([
            "--net",
            env!("CARGO_BIN_EXE_rulecheck"),
            "eval",
            capture.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v = common::json_ok(&out);
    assert_eq!(v["reports"][0]["findings"][0]["id"], "address.openai-host");
}
