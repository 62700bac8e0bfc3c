//! Why a rule did or did not fire: every node of its condition with its truth and,
//! for fact tests, the value the fact had. Printed by `rulecheck test` on a failing
//! example (without being asked), by `rulecheck eval --trace`, and counted by
//! `rulecheck test --coverage`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::facts::Facts;
use crate::mask::Redactor;
use crate::rulebook::{Condition, Op, Rulebook};

/// One node of a condition, evaluated.
#[derive(Clone, Debug, Serialize)]
pub struct TraceNode {
    /// `all`, `any`, `not`, `condition: name`, or the test as written (`status equals 401`).
    pub node: String,
    /// A stable path to the node within the rule (`when.any[1].not`), for coverage.
    pub path: String,
    pub truth: bool,
    /// For a fact test: the value the fact had (`(absent)` when the capture lacks it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TraceNode>,
}

/// Evaluates every node (no short-circuit), so the whole tree can be shown.
pub fn trace(
    condition: &Condition,
    facts: &Facts<'_>,
    rb: &Rulebook,
    redactor: &Redactor,
) -> TraceNode {
    let mut unbounded = usize::MAX;
    walk(
        condition,
        facts,
        rb,
        redactor,
        "when".to_owned(),
        0,
        &mut unbounded,
    )
}

/// The label of a node past the trace's budget: evaluated, not shown.
pub const NOT_TRACED: &str = "(not traced: this capture's trace reached --limit trace-nodes)";

fn walk(
    c: &Condition,
    facts: &Facts<'_>,
    rb: &Rulebook,
    r: &Redactor,
    path: String,
    depth: usize,
    budget: &mut usize,
) -> TraceNode {
    let node = |label: String, truth: bool, children: Vec<TraceNode>| TraceNode {
        node: label,
        path: path.clone(),
        truth,
        observed: None,
        children,
    };
    // Named conditions cannot cycle (the compiler refuses that); the depth is a backstop.
    if depth > 64 {
        return node("(too deep)".into(), false, Vec::new());
    }
    // Past the budget the truth is still told, the tree below is not.
    if *budget == 0 {
        return node(
            NOT_TRACED.into(),
            crate::evaluate::holds(c, facts, rb),
            Vec::new(),
        );
    }
    *budget -= 1;
    match c {
        Condition::All(cs) | Condition::Any(cs) => {
            let is_all = matches!(c, Condition::All(_));
            let word = if is_all { "all" } else { "any" };
            let children: Vec<TraceNode> = cs
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    walk(
                        c,
                        facts,
                        rb,
                        r,
                        format!("{path}.{word}[{i}]"),
                        depth + 1,
                        budget,
                    )
                })
                .collect();
            let truth = if is_all {
                children.iter().all(|t| t.truth)
            } else {
                children.iter().any(|t| t.truth)
            };
            node(word.into(), truth, children)
        }
        Condition::Not(inner) => {
            let child = walk(
                inner,
                facts,
                rb,
                r,
                format!("{path}.not"),
                depth + 1,
                budget,
            );
            node("not".into(), !child.truth, vec![child])
        }
        Condition::Named(i, name) => {
            let child = rb.named.get(*i).map(|n| {
                walk(
                    &n.condition,
                    facts,
                    rb,
                    r,
                    format!("{path}.{name}"),
                    depth + 1,
                    budget,
                )
            });
            let truth = child.as_ref().is_some_and(|c| c.truth);
            node(
                format!("condition: {name}"),
                truth,
                child.into_iter().collect(),
            )
        }
        Condition::Test(t) => {
            let value = facts.get(&t.fact);
            let truth = t
                .ops
                .iter()
                .all(|op| op.holds(value.as_ref(), t.ignore_case));
            let ops: Vec<String> = t.ops.iter().map(describe).collect();
            let case = if t.ignore_case {
                " (ignoring case)"
            } else {
                ""
            };
            let observed = facts
                .display(&t.fact)
                .map(|v| r.redact(&v).into_owned())
                .unwrap_or_else(|| crate::evaluate::ABSENT.to_owned());
            TraceNode {
                node: format!("{} {}{case}", t.fact_name, ops.join(" and ")),
                path: path.clone(),
                truth,
                observed: Some(observed),
                children: Vec::new(),
            }
        }
    }
}

/// An operator as a rule author wrote it.
pub fn describe(op: &Op) -> String {
    let num = |n: &f64| {
        if n.fract() == 0.0 {
            format!("{}", *n as i64)
        } else {
            n.to_string()
        }
    };
    match op {
        Op::Equals(v) => format!("equals {v}"),
        Op::In(vs) => format!(
            "in [{}]",
            vs.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Op::Gt(n) => format!("gt {}", num(n)),
        Op::Gte(n) => format!("gte {}", num(n)),
        Op::Lt(n) => format!("lt {}", num(n)),
        Op::Lte(n) => format!("lte {}", num(n)),
        Op::Between(a, b) => format!("between [{}, {}]", num(a), num(b)),
        Op::Class(c) => format!("class {c}xx"),
        Op::Matches(re) => format!("matches '{}'", re.as_str()),
        Op::StartsWith(s) => format!("starts_with {s:?}"),
        Op::EndsWith(s) => format!("ends_with {s:?}"),
        Op::Contains(s) => format!("contains {s:?}"),
        Op::Exists(b) => format!("exists {b}"),
        Op::Len(ops) => format!(
            "len {}",
            ops.iter().map(describe).collect::<Vec<_>>().join(" and ")
        ),
        Op::Near { to, max } => format!("near [{}] (max {max})", to.join(", ")),
        Op::Type(ts) => format!("type [{}]", ts.join(", ")),
        Op::Mentions(words) => format!(
            "mentions [{}]",
            words
                .iter()
                .map(|w| w.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The tree as indented lines: `✓`/`✗`, the node, and what the fact was.
pub fn render(node: &TraceNode, indent: usize, out: &mut String) {
    let mark = if node.truth { "✓" } else { "✗" };
    let pad = "  ".repeat(indent);
    match &node.observed {
        Some(v) => {
            let _ = writeln!(
                out,
                "{pad}{mark} {}   ← {} was {}",
                node.node,
                fact_of(&node.node),
                quote(v)
            );
        }
        None => {
            let _ = writeln!(out, "{pad}{mark} {}", node.node);
        }
    }
    for c in &node.children {
        render(c, indent + 1, out);
    }
}

fn fact_of(label: &str) -> &str {
    label.split_whitespace().next().unwrap_or(label)
}

fn quote(v: &str) -> String {
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) || v == crate::evaluate::ABSENT {
        v.to_owned()
    } else {
        format!("{v:?}")
    }
}

/// One rule's condition on one capture, and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct RuleTrace {
    pub rule: String,
    /// Whether the condition held (the rule may still be suppressed or ranked low).
    pub holds: bool,
    /// `reported` (with its rank), `suppressed` (with by whom and why) or `not fired`.
    pub outcome: Outcome,
    pub tree: TraceNode,
}

/// What became of a rule on one capture.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Reported at `rank` (1 = top); `why`: why it ranks above the next finding.
    Reported {
        rank: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    /// It held, but another finding makes it moot.
    Suppressed {
        by: String,
        why: String,
    },
    /// It held, but is not run here (a fallback when other rules fired, a preview rule
    /// without `--preview`).
    Skipped {
        why: String,
    },
    NotFired,
}

impl Outcome {
    /// One line for the text report.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Reported {
                rank,
                why: Some(why),
            } => format!("reported #{rank}: {why}"),
            Outcome::Reported { rank, why: None } => format!("reported #{rank}"),
            Outcome::Suppressed { by, why } => format!("held, but suppressed by {by} ({why})"),
            Outcome::Skipped { why } => format!("held, but {why}"),
            Outcome::NotFired => "did not fire".to_owned(),
        }
    }
}

/// What became of each rule that held on these facts: its rank and why it ranks above
/// the next one, or who suppressed it and by which declaration.
pub fn outcomes(set: &crate::rulebook::RuleSet, facts: &Facts<'_>) -> Vec<(String, Outcome)> {
    use crate::evaluate::Via;
    let outcome = crate::evaluate::outcome(set, facts);
    let ranked: Vec<_> = outcome.ranked_with_severity().collect();
    let mut out = Vec::new();
    for (i, (rule, severity)) in ranked.iter().enumerate() {
        let why = ranked.get(i + 1).map(|(next, next_severity)| {
            format!(
                "above {}: {}",
                next.id,
                crate::evaluate::rank_reason(
                    set,
                    outcome.ranking,
                    (rule, *severity),
                    (next, *next_severity)
                )
            )
        });
        out.push((rule.id.clone(), Outcome::Reported { rank: i + 1, why }));
    }
    for s in &outcome.suppressed {
        let why = match s.via {
            Via::Rule => format!("{} lists {} under `suppresses`", s.by, s.rule),
            Via::Category(c) => format!("its category {c} lists {} under `suppresses`", s.rule),
        };
        out.push((
            s.rule.to_owned(),
            Outcome::Suppressed {
                by: s.by.to_owned(),
                why,
            },
        ));
    }
    out
}

/// Traces every rule of a set on one capture, every node shown (`rulecheck test
/// --coverage` counts them all).
pub fn trace_all(
    set: &crate::rulebook::RuleSet,
    capture: &crate::capture::Capture,
    max_body_text: usize,
) -> Vec<RuleTrace> {
    trace_all_within(set, capture, max_body_text, usize::MAX)
}

/// Traces every rule of a set on one capture (`rulecheck eval --trace`), showing at
/// most `max_nodes` nodes (`--limit trace-nodes`): a rulebook may hold thousands of
/// rules of thousands of nodes each. Past that, each rule's truth is still given.
pub fn trace_all_within(
    set: &crate::rulebook::RuleSet,
    capture: &crate::capture::Capture,
    max_body_text: usize,
    max_nodes: usize,
) -> Vec<RuleTrace> {
    let facts = Facts::derive_with(capture, max_body_text);
    let redactor = Redactor::new(facts.secrets());
    let outcomes = outcomes(set, &facts);
    let mut budget = max_nodes;
    set.rules()
        .map(|(rb, rule)| {
            let tree = walk(
                &rule.when,
                &facts,
                rb,
                &redactor,
                "when".to_owned(),
                0,
                &mut budget,
            );
            let skipped = |why: &str| Outcome::Skipped {
                why: why.to_owned(),
            };
            let outcome = match outcomes.iter().find(|(id, _)| *id == rule.id) {
                Some((_, o)) => o.clone(),
                None if !tree.truth => Outcome::NotFired,
                None if rule.fallback => {
                    skipped("is a fallback, given only when no other rule fires")
                }
                None => skipped("is a preview rule, run only with --preview"),
            };
            RuleTrace {
                rule: rule.id.clone(),
                holds: tree.truth,
                outcome,
                tree,
            }
        })
        .collect()
}

/// Visits every node of a trace.
pub fn for_each<'a>(node: &'a TraceNode, f: &mut impl FnMut(&'a TraceNode)) {
    f(node);
    for c in &node.children {
        for_each(c, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capture;
    use crate::rulebook::{LoadOptions, RuleSet};

    #[test]
    fn the_tree_shows_every_node_with_observed_values() {
        let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
        let (rb, rule) = set
            .rules()
            .find(|(_, r)| r.id == "key.invalid-or-expired")
            .unwrap();
        let c: Capture =
            serde_json::from_value(serde_json::json!({"response": {"status": 429}})).unwrap();
        let facts = Facts::derive(&c);
        let t = trace(&rule.when, &facts, rb, &Redactor::default());
        assert!(!t.truth);
        let mut text = String::new();
        render(&t, 0, &mut text);
        assert!(
            text.contains("✗ status equals 401   ← status was 429"),
            "{text}"
        );
        assert!(text.contains("key matches"), "{text}");
        assert!(text.contains("was (absent)"), "{text}");
        let mut paths = Vec::new();
        for_each(&t, &mut |n| paths.push(n.path.clone()));
        assert!(
            paths.iter().any(|p| p.starts_with("when.all[1].any[0]")),
            "{paths:?}"
        );
    }
}
