#![no_main]
//! The secrets oracle (issue 21): libFuzzer's bytes choose a key's shape, the input
//! format, where it is labelled and where it is echoed, and how (`tests/oracle/mod.rs`,
//! shared with the property test `tests/secret_oracle.rs`). Every output mode of
//! `eval` runs through the masking boundary; 12 characters of the key's secret part in
//! any output is a crash.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rulecheck::rulebook::{LoadOptions, RuleSet};

#[path = "../../tests/oracle/mod.rs"]
mod oracle;

fn rules() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| RuleSet::default_rulebook(&LoadOptions::default()).expect("built-in rulebook"))
}

fuzz_target!(|data: &[u8]| {
    if let Err(leak) = oracle::check(rules(), data) {
        panic!("{leak}");
    }
});
