#![no_main]
//! The log reader on arbitrary bytes: captures or a clean error, never a panic.
use libfuzzer_sys::fuzz_target;
use rulecheck::input::{Format, ReadOptions, read_with};

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions { format: Some(Format::Log), ..Default::default() };
    let _ = read_with(data, options);
});
