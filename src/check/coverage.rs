//! Coverage: whether each rule, and each node of its condition, was ever true and ever
//! false across the examples and case files (`rulecheck test --coverage`).

use serde::Serialize;

use crate::trace::{for_each, trace_all};

/// Whether each rule, and each node of its condition, was ever true and ever false
/// across a corpus (the rules' examples and the case files).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Coverage {
    pub captures: usize,
    pub rules: Vec<RuleCoverage>,
}

/// One rule's coverage.
#[derive(Clone, Debug, Serialize)]
pub struct RuleCoverage {
    pub rule: String,
    /// Captures on which the condition held / did not hold.
    pub held: usize,
    pub failed: usize,
    pub nodes: Vec<NodeCoverage>,
}

/// One node's coverage.
#[derive(Clone, Debug, Serialize)]
pub struct NodeCoverage {
    pub path: String,
    pub node: String,
    pub true_count: usize,
    pub false_count: usize,
}

impl Coverage {
    /// The coverage for a terminal: the count, rules that never held or never failed,
    /// and the nodes not exercised both ways.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let both = self
            .rules
            .iter()
            .filter(|r| r.held > 0 && r.failed > 0)
            .count();
        let _ = writeln!(
            out,
            "coverage over {} captures: {} of {} rules held on some and failed on others",
            self.captures,
            both,
            self.rules.len()
        );
        for r in &self.rules {
            if r.held == 0 {
                let _ = writeln!(
                    out,
                    "  rule {} never held: nothing proves it can fire",
                    r.rule
                );
            } else if r.failed == 0 {
                let _ = writeln!(
                    out,
                    "  rule {} held on every capture: nothing proves it can stay silent",
                    r.rule
                );
            }
        }
        let gaps = self.gaps();
        if gaps.is_empty() {
            let _ = writeln!(out, "  every condition node was both true and false");
        } else {
            let _ = writeln!(
                out,
                "  {} condition nodes were not exercised both ways:",
                gaps.len()
            );
            for (rule, node, what) in gaps {
                let _ = writeln!(out, "    {rule} {} ({}): {what}", node.path, node.node);
            }
        }
        out
    }

    /// Nodes never true or never false, as `(rule, node, what was never seen)`.
    pub fn gaps(&self) -> Vec<(&str, &NodeCoverage, &'static str)> {
        let mut out = Vec::new();
        for r in &self.rules {
            for n in &r.nodes {
                if n.true_count == 0 {
                    out.push((r.rule.as_str(), n, "never true"));
                } else if n.false_count == 0 {
                    out.push((r.rule.as_str(), n, "never false"));
                }
            }
        }
        out
    }
}

/// Measures coverage of every rule of the set over the captures.
pub fn coverage<'c>(
    set: &crate::rulebook::RuleSet,
    captures: impl IntoIterator<Item = &'c crate::capture::Capture>,
) -> Coverage {
    let mut cov = Coverage {
        captures: 0,
        rules: set
            .rules()
            .map(|(_, r)| RuleCoverage {
                rule: r.id.clone(),
                held: 0,
                failed: 0,
                nodes: Vec::new(),
            })
            .collect(),
    };
    for capture in captures {
        cov.captures += 1;
        for (i, t) in trace_all(set, capture, crate::limits::Limits::default().body_bytes)
            .into_iter()
            .enumerate()
        {
            let Some(rc) = cov.rules.get_mut(i) else {
                continue;
            };
            if t.holds {
                rc.held += 1;
            } else {
                rc.failed += 1;
            }
            for_each(&t.tree, &mut |n| {
                let index = match rc.nodes.iter().position(|e| e.path == n.path) {
                    Some(i) => i,
                    None => {
                        rc.nodes.push(NodeCoverage {
                            path: n.path.clone(),
                            node: n.node.clone(),
                            true_count: 0,
                            false_count: 0,
                        });
                        rc.nodes.len() - 1
                    }
                };
                let Some(entry) = rc.nodes.get_mut(index) else {
                    return;
                };
                if n.truth {
                    entry.true_count += 1;
                } else {
                    entry.false_count += 1;
                }
            });
        }
    }
    cov
}
