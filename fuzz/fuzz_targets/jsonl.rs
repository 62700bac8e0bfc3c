#![no_main]
//! Bulk JSON Lines: every line a report or a skipped-line error, in order.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rulecheck::bulk::{BulkOptions, run};
use rulecheck::evaluate::EvalOptions;
use rulecheck::rulebook::{LoadOptions, RuleSet};

fn rules() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| RuleSet::default_rulebook(&LoadOptions::default()).expect("built-in rulebook"))
}

fuzz_target!(|data: &[u8]| {
    // Every field given: `BulkOptions::default()` asks the OS for the core count, which
    // costs more than a whole run on a small input.
    // One thread: with worker threads, LeakSanitizer reports the 32 bytes glibc's
    // `__cxa_thread_atexit_impl` allocates for a thread's TLS destructors (not ours);
    // the workers' ordering is covered by bulk's unit tests.
    let mut options = BulkOptions { eval: EvalOptions::default(), threads: 1, batch: 16 };
    options.eval.limits.line_bytes = 4096;
    options.eval.limits.json_depth = 32; // exercises the depth scan, off at the default
    let (mut last_line, mut results) = (0, 0);
    let stats = run(rules(), data, options, |r| {
        let line = match &r {
            Ok(evaluated) => evaluated.line,
            Err(skipped) => skipped.line,
        };
        assert!(line > last_line, "line {line} after line {last_line}");
        (last_line, results) = (line, results + 1);
    });
    if let Ok(stats) = stats {
        assert_eq!(results, stats.captures + stats.skipped);
    }
});
