// Captures and rulebooks come from anywhere: the library must not panic on them. The
// lints that say so (unwrap, expect, panic, indexing, string slicing, unreachable,
// todo) are denied for every target in Cargo.toml's [lints]; the few justified
// exceptions (the edit-distance tables, indexed in range by construction) are allowed
// where they stand, with the reason.
#![forbid(unsafe_code)]
//! rulecheck: diagnose failed calls to OpenAI-compatible AI gateways.
//!
//! The data flows one way, one module per stage:
//!
//! ```text
//! input bytes ─[input]→ Capture ─[facts]→ Facts ─[evaluate]→ Diagnosis ─[report]→ text | Markdown | JSON
//! YAML ─[yaml]→ Node tree ─[rulebook: schema + compile]→ Rulebook → RuleSet
//! ```
//!
//! ```
//! use rulecheck::{capture::Capture, evaluate, rulebook::{LoadOptions, RuleSet}};
//!
//! let rules = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
//! let capture: Capture = serde_json::from_str(
//!     r#"{"request": {"url": "https://api.moleapi.com/chat/completions"},
//!         "response": {"status": 200, "headers": {"Content-Type": "text/html"},
//!                      "body": "<!doctype html><title>New API</title>"}}"#,
//! ).unwrap();
//! let diagnosis = evaluate::diagnose(&rules, &capture, Default::default());
//! assert_eq!(diagnosis.findings[0].id, "address.missing-v1");
//! ```

pub mod bulk;
pub mod capture;
pub mod check;
pub mod diagnostic;
pub mod diff;
pub mod evaluate;
pub mod facts;
pub mod fixed_regex;
pub mod input;
pub mod limits;
pub mod mask;
pub mod project;
pub mod report;
pub mod rulebook;
pub mod run;
/// `rulecheck serve`: a page and an HTTP API over [`run`] (default feature `serve`).
#[cfg(feature = "serve")]
pub mod serve;
pub mod spelling;
pub mod summary;
pub mod trace;
pub mod yaml;

/// What the unit tests of several modules share.
#[cfg(test)]
pub(crate) mod test_support {
    /// A deterministic stream of numbers below the bound asked (xorshift), for tests
    /// that build varied text.
    pub(crate) fn numbers_below(mut seed: u64) -> impl FnMut(usize) -> usize {
        move |bound| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        }
    }
}
