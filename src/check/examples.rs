//! Every rule carries captures it must and must not fire on. This runs them.
//!
//! An example is judged against the whole rule set, as `eval` would see it: a
//! `match` example passes when the rule is among the findings, a `no_match` example
//! when it is not (so a fallback rule such as `ok` is tested with its real meaning).

use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic};
use crate::evaluate::matching_rule_ids;
use crate::rulebook::RuleSet;

/// The outcome of a rule set's examples.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExampleReport {
    pub passed: usize,
    pub failures: Vec<ExampleFailure>,
    /// Rules that have no `match` example (nothing proves they can fire).
    pub without_positive_example: Vec<String>,
}

/// One example that did not behave as declared.
#[derive(Clone, Debug, Serialize)]
pub struct ExampleFailure {
    pub rule: String,
    /// `match` or `no_match`.
    pub kind: &'static str,
    pub index: usize,
    /// The rules that did fire on the example.
    pub fired: Vec<String>,
    pub diagnostic: Diagnostic,
    /// The rule's condition on the example: every node, its truth, each fact's value.
    pub trace: crate::trace::TraceNode,
}

/// Runs every example of every rule in the set.
pub fn run(set: &RuleSet) -> ExampleReport {
    // Preview rules are tested like any other.
    let mut with_preview = set.clone();
    with_preview.include_preview = true;
    let set = &with_preview;
    let mut report = ExampleReport::default();
    for (rb, rule) in set.rules() {
        if rule.examples_match.is_empty() {
            report.without_positive_example.push(rule.id.clone());
        }
        let cases = rule
            .examples_match
            .iter()
            .enumerate()
            .map(|(i, e)| (true, i, e))
            .chain(
                rule.examples_no_match
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (false, i, e)),
            );
        for (must_fire, index, example) in cases {
            let fired = matching_rule_ids(set, &example.capture);
            let did_fire = fired.contains(&rule.id);
            if did_fire == must_fire {
                report.passed += 1;
                continue;
            }
            let (kind, message) = if must_fire {
                (
                    "match",
                    format!(
                        "rule `{}` did not fire on its `match` example #{}",
                        rule.id,
                        index + 1
                    ),
                )
            } else {
                (
                    "no_match",
                    format!(
                        "rule `{}` fired on its `no_match` example #{}",
                        rule.id,
                        index + 1
                    ),
                )
            };
            let help = if fired.is_empty() {
                "no rule fired on this example".to_owned()
            } else {
                format!("rules that fired: {}", fired.join(", "))
            };
            let facts = crate::facts::Facts::derive(&example.capture);
            let redactor = crate::mask::Redactor::new(facts.secrets());
            let trace = crate::trace::trace(&rule.when, &facts, rb, &redactor);
            report.failures.push(ExampleFailure {
                rule: rule.id.clone(),
                kind,
                index,
                trace,
                fired,
                diagnostic: Diagnostic::error(
                    Code::ExampleFails,
                    &rb.source,
                    Some(example.pos),
                    message,
                )
                .with_help(help),
            });
        }
    }
    report
}
