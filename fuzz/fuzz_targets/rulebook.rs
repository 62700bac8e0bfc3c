#![no_main]
//! The rulebook loader (YAML, schema, compile) on arbitrary text: a rulebook or
//! diagnostics, never a panic.
use libfuzzer_sys::fuzz_target;
use rulecheck::rulebook::{LoadOptions, load_str};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = load_str("fuzz.yaml", text, &LoadOptions::default());
    }
});
