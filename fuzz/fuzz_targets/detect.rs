#![no_main]
//! Format detection and whichever reader it picks, on arbitrary bytes.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = rulecheck::input::detect(text);
    }
    let _ = rulecheck::input::read(data);
});
