#![no_main]
//! Evaluation of arbitrary captures against the default rulebook, with rendering,
//! traces and redaction: never a panic.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rulecheck::evaluate::{EvalOptions, diagnose};
use rulecheck::rulebook::{LoadOptions, RuleSet};

fn rules() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| RuleSet::default_rulebook(&LoadOptions::default()).expect("built-in rulebook"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(captures) = rulecheck::input::read(data) else { return };
    for c in captures {
        let d = diagnose(rules(), &c.capture, EvalOptions::default());
        let _ = serde_json_len(&d);
        let _ = rulecheck::trace::trace_all(rules(), &c.capture, rulecheck::limits::Limits::default().body_bytes);
    }
});

fn serde_json_len(d: &rulecheck::evaluate::Diagnosis) -> usize {
    d.findings.iter().map(|f| f.message.len()).sum()
}
