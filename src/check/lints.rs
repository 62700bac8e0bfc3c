//! Warnings about rulebooks that load but are probably wrong: a condition that can
//! never be true, a rule that never comes first on its own examples, a rule with no
//! example proving it can fire. `rulecheck lint` reports them; `--deny-warnings`
//! makes them fail.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::diagnostic::{Code, Diagnostic, Level};
use crate::evaluate::EvalOptions;
use crate::rulebook::{Condition, Op, RuleSet, Rulebook, Test};

/// Every warning for a loaded rule set.
pub fn lint(set: &RuleSet) -> Vec<Diagnostic> {
    lint_within(set, crate::limits::Limits::default().lint_rule_runs)
}

/// [`lint`], running at most `rule_runs` rule conditions for RC031 (`--limit
/// lint-rule-runs`); the rest of the lints are linear in the rulebook.
pub fn lint_within(set: &RuleSet, rule_runs: usize) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rb in &set.rulebooks {
        // Its own named conditions: the first ones are the layers' below.
        for n in rb.named.iter().skip(rb.inherited_named) {
            never_true(&n.condition, rb, &mut out);
        }
        for rule in &rb.rules {
            never_true(&rule.when, rb, &mut out);
            if rule.examples_match.is_empty() {
                out.push(warning(
                    Code::NoMatchExample,
                    rb,
                    rule.pos,
                    format!(
                        "the rule `{}` has no `match` example: nothing proves it can fire",
                        rule.id
                    ),
                    "add a capture it must fire on under `examples: match:`",
                ));
            }
        }
    }
    out.extend(same_conditions(set));
    out.extend(never_first(set, rule_runs));
    out.extend(placeholders_shown(set));
    out.extend(set.rulebooks.iter().filter_map(requires_too_low));
    crate::diagnostic::sort(&mut out);
    out
}

/// Rulebook features and the rulecheck version that introduced each. `lint` reports
/// the lowest version a rulebook really needs from the features it uses.
pub const FEATURES: &[(&str, &str)] = &[
    ("format rulecheck/v1", "0.1.0"),
    ("derive", "0.1.0"),
    ("near", "0.1.0"),
    ("type", "0.1.0"),
    ("suppresses", "0.1.0"),
    ("optional template sections", "0.1.0"),
    ("support", "0.1.0"),
    ("status", "0.1.0"),
    ("rule requires", "0.1.0"),
    ("overrides", "0.1.0"),
    ("derive extract", "0.2.0"),
    ("derive case from", "0.2.0"),
    ("ranking", "0.3.0"),
    ("words and mentions", "0.3.0"),
    ("variants", "0.3.0"),
    ("category suppresses", "0.3.0"),
    ("suppresses prefix.*", "0.3.0"),
];

/// The lowest rulecheck version that can run this rulebook, and the features that
/// decide it.
pub fn needs(rb: &Rulebook) -> (semver::Version, Vec<&'static str>) {
    use crate::rulebook::template::Segment;
    fn ops_used(c: &Condition, out: &mut Vec<&'static str>, depth: usize) {
        if depth > 64 {
            return;
        }
        match c {
            Condition::All(cs) | Condition::Any(cs) => {
                cs.iter().for_each(|c| ops_used(c, out, depth + 1))
            }
            Condition::Not(c) => ops_used(c, out, depth + 1),
            Condition::Named(..) => {}
            Condition::Test(t) => {
                if matches!(t.fact, crate::facts::Fact::Derived(_)) {
                    out.push("derive");
                }
                for op in &t.ops {
                    match op {
                        Op::Near { .. } => out.push("near"),
                        Op::Type(_) => out.push("type"),
                        Op::Mentions(_) => out.push("words and mentions"),
                        _ => {}
                    }
                }
            }
        }
    }
    let mut used = vec!["format rulecheck/v1"];
    for n in rb.named.iter().skip(rb.inherited_named) {
        ops_used(&n.condition, &mut used, 0);
    }
    for r in &rb.rules {
        ops_used(&r.when, &mut used, 0);
        for v in &r.variants {
            ops_used(&v.when, &mut used, 0);
            used.push("variants");
        }
        if !r.suppresses.is_empty() {
            used.push("suppresses");
        }
        if r.suppresses.iter().any(|s| s.ends_with(".*")) {
            used.push("suppresses prefix.*");
        }
        if r.support.is_some() {
            used.push("support");
        }
        if r.status != crate::rulebook::Lifecycle::Stable {
            used.push("status");
        }
        let templates = [Some(&r.message.en), r.fix.as_ref().map(|f| &f.en)];
        if templates
            .iter()
            .flatten()
            .any(|t| t.segments.iter().any(|s| matches!(s, Segment::Optional(_))))
        {
            used.push("optional template sections");
        }
    }
    if !rb.derived.is_empty() {
        used.push("derive");
    }
    if !rb.ranking.is_empty() {
        used.push("ranking");
    }
    if rb.categories.iter().any(|c| !c.suppresses.is_empty()) {
        used.push("category suppresses");
    }
    for case in rb.derived.iter().flat_map(|d| d.cases.iter()) {
        if matches!(case.result, crate::facts::DerivedResult::Extract(_)) {
            used.push("derive extract");
        }
        if case.own_source {
            used.push("derive case from");
        }
    }
    if !rb.skipped.is_empty() {
        used.push("rule requires");
    }
    if !rb.overrides.is_empty() {
        used.push("overrides");
    }
    used.sort();
    used.dedup();
    let since = |f: &str| {
        FEATURES
            .iter()
            .find(|(n, _)| *n == f)
            .and_then(|(_, v)| semver::Version::parse(v).ok())
            .unwrap_or(semver::Version::new(0, 1, 0))
    };
    let version = used
        .iter()
        .map(|f| since(f))
        .max()
        .unwrap_or(semver::Version::new(0, 1, 0));
    let deciding = used.into_iter().filter(|f| since(f) == version).collect();
    (version, deciding)
}

/// A warning when `requires` admits rulecheck versions older than the rulebook needs.
pub fn requires_too_low(rb: &Rulebook) -> Option<Diagnostic> {
    let req = rb.requires.as_ref()?;
    let (needed, features) = needs(rb);
    let below = if needed.patch > 0 {
        semver::Version::new(needed.major, needed.minor, needed.patch - 1)
    } else if needed.minor > 0 {
        semver::Version::new(needed.major, needed.minor - 1, u64::MAX)
    } else if needed.major > 0 {
        semver::Version::new(needed.major - 1, u64::MAX, u64::MAX)
    } else {
        return None;
    };
    // `below` is the newest version under `needed` (its parts may be u64::MAX): what
    // `requires` admits is said as "older than", never as that made-up number.
    req.matches(&below).then(|| {
        // At the `requires:` line itself, not the file's first line (often a comment).
        let line = rb
            .text
            .lines()
            .position(|l| l.starts_with("requires:"))
            .and_then(|i| u32::try_from(i + 1).ok())
            .unwrap_or(1);
        warning(
            Code::RequiresTooOld,
            rb,
            crate::yaml::Pos { line, column: 1 },
            format!(
                "`requires: {req}` admits rulecheck versions older than {needed}, which cannot read this rulebook ({})",
                features.join(", ")
            ),
            &format!("write `requires: \">={needed}\"`"),
        )
    })
}

/// Checks a rulebook against its changelog: the newest entry (`## 1.2.0 — sha256:…`)
/// must name the rulebook's `version` and its current digest, so a rule changed
/// without a version bump and a changelog entry is caught.
pub fn changelog(changelog_file: &str, changelog: &str, rb: &Rulebook) -> Option<Diagnostic> {
    let entry = changelog
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("## "));
    let help = format!(
        "bump `version` in {} and add `## <version> — {}` at the top of {changelog_file}",
        rb.source, rb.digest
    );
    let refuse = |pos, message: String| {
        Some(
            Diagnostic::error(Code::NoVersionBump, changelog_file, pos, message)
                .with_help(help.clone()),
        )
    };
    let Some((i, line)) = entry else {
        return refuse(
            None,
            "the changelog has no `## <version> — sha256:…` entry".to_owned(),
        );
    };
    let pos = Some(crate::yaml::Pos {
        line: i as u32 + 1,
        column: 1,
    });
    let mut words = line
        .get(3..)
        .unwrap_or("")
        .split_whitespace()
        .filter(|w| *w != "—" && *w != "-");
    let version = words.next().unwrap_or("");
    let digest = words.find(|w| w.starts_with("sha256:")).unwrap_or("");
    if version != rb.version.to_string() {
        return refuse(
            pos,
            format!(
                "the newest entry is {version}, but {} is version {}",
                rb.source, rb.version
            ),
        );
    }
    if digest != rb.digest {
        return refuse(
            pos,
            format!(
                "{} changed since its entry {version} was written",
                rb.source
            ),
        );
    }
    None
}

fn warning(
    code: Code,
    rb: &Rulebook,
    pos: crate::yaml::Pos,
    message: String,
    help: &str,
) -> Diagnostic {
    let mut d = Diagnostic::error(code, &rb.source, Some(pos), message).with_help(help);
    d.level = Level::Warning;
    d
}

/// What values a test allows: a finite set, or a range of numbers (a status class is
/// one: `4xx` is 400 to 499). `None`: the test is not of that kind (`contains`, …).
#[derive(Clone, Debug)]
enum Allowed {
    Values(Vec<String>),
    /// From `lo` to `hi`, each end left out when its flag says so.
    Range {
        lo: f64,
        lo_open: bool,
        hi: f64,
        hi_open: bool,
    },
}

impl Allowed {
    fn range(lo: f64, lo_open: bool, hi: f64, hi_open: bool) -> Allowed {
        Allowed::Range {
            lo,
            lo_open,
            hi,
            hi_open,
        }
    }

    fn holds_number(&self, n: f64) -> bool {
        match self {
            Allowed::Values(vs) => vs.iter().any(|v| v.parse::<f64>().ok() == Some(n)),
            Allowed::Range {
                lo,
                lo_open,
                hi,
                hi_open,
            } => (n > *lo || (!lo_open && n == *lo)) && (n < *hi || (!hi_open && n == *hi)),
        }
    }
}

/// What one operator allows, if it is of a kind [`Allowed`] can say.
fn allowed_by(op: &Op, ignore_case: bool) -> Option<Allowed> {
    let key = |v: &Json| match v {
        Json::String(s) if ignore_case => s.to_lowercase(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let inf = f64::INFINITY;
    Some(match op {
        Op::Equals(v) => Allowed::Values(vec![key(v)]),
        Op::In(vs) => Allowed::Values(vs.iter().map(key).collect()),
        Op::Class(c) => {
            let lo = f64::from(*c) * 100.0;
            Allowed::range(lo, false, lo + 99.0, false)
        }
        Op::Gt(n) => Allowed::range(*n, true, inf, false),
        Op::Gte(n) => Allowed::range(*n, false, inf, false),
        Op::Lt(n) => Allowed::range(-inf, false, *n, true),
        Op::Lte(n) => Allowed::range(-inf, false, *n, false),
        Op::Between(a, b) => Allowed::range(*a, false, *b, false),
        _ => return None,
    })
}

/// Whether no value is allowed by both.
fn disjoint(a: &Allowed, b: &Allowed) -> bool {
    match (a, b) {
        (Allowed::Values(x), Allowed::Values(y)) => !x.iter().any(|v| y.contains(v)),
        (Allowed::Values(v), range @ Allowed::Range { .. })
        | (range @ Allowed::Range { .. }, Allowed::Values(v)) => !v
            .iter()
            .any(|v| v.parse::<f64>().is_ok_and(|n| range.holds_number(n))),
        (
            Allowed::Range {
                lo: a_lo,
                lo_open: a_lo_open,
                hi: a_hi,
                hi_open: a_hi_open,
            },
            Allowed::Range {
                lo: b_lo,
                lo_open: b_lo_open,
                hi: b_hi,
                hi_open: b_hi_open,
            },
        ) => {
            // The higher low end against the lower high end.
            let (lo, lo_open) = if a_lo > b_lo || (a_lo == b_lo && *a_lo_open) {
                (a_lo, *a_lo_open)
            } else {
                (b_lo, *b_lo_open)
            };
            let (hi, hi_open) = if a_hi < b_hi || (a_hi == b_hi && *a_hi_open) {
                (a_hi, *a_hi_open)
            } else {
                (b_hi, *b_hi_open)
            };
            lo > hi || (lo == hi && (lo_open || hi_open))
        }
    }
}

/// A condition written out in one order: the parts of `all` and `any`, and a test's
/// operators, sorted, so two conditions that differ only in the order they were
/// written read the same.
fn canonical(c: &Condition) -> String {
    let sorted = |cs: &[Condition]| {
        let mut parts: Vec<String> = cs.iter().map(canonical).collect();
        parts.sort();
        parts.join(", ")
    };
    match c {
        Condition::All(cs) => format!("all({})", sorted(cs)),
        Condition::Any(cs) => format!("any({})", sorted(cs)),
        Condition::Not(c) => format!("not({})", canonical(c)),
        Condition::Named(_, name) => format!("condition {name}"),
        Condition::Test(t) => {
            let mut ops: Vec<String> = t.ops.iter().map(crate::trace::describe).collect();
            ops.sort();
            let case = if t.ignore_case { " ignoring case" } else { "" };
            format!("{} {}{case}", t.fact_name, ops.join(" and "))
        }
    }
}

/// Rules with the same condition, whatever order it was written in: wherever one
/// fires the other does, so one of them adds nothing (or they should say the same).
fn same_conditions(set: &RuleSet) -> Vec<Diagnostic> {
    let mut first: BTreeMap<String, &crate::rulebook::Rule> = BTreeMap::new();
    let mut out = Vec::new();
    for (rb, rule) in set.rules() {
        match first.entry(canonical(&rule.when)) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(rule);
            }
            std::collections::btree_map::Entry::Occupied(e) => out.push(warning(
                Code::SameCondition,
                rb,
                rule.pos,
                format!(
                    "the rules `{}` and `{}` have the same condition: wherever one fires, the other does",
                    e.get().id,
                    rule.id
                ),
                "merge them into one rule, or tell them apart with another test",
            )),
        }
    }
    out
}

/// Tests that no single value can satisfy: two operators of one test (`status: {gt:
/// 500, lt: 400}`), or two tests of one fact in one `all` (`status: 404` and `status:
/// 401`).
fn never_true(c: &Condition, rb: &Rulebook, out: &mut Vec<Diagnostic>) {
    match c {
        Condition::All(cs) => {
            let mut seen: BTreeMap<&str, Vec<(&Test, Vec<Allowed>)>> = BTreeMap::new();
            for child in cs {
                if let Condition::Test(t) = child {
                    let allows = test_allows(t, rb, out);
                    let earlier = seen.entry(t.fact_name.as_str()).or_default();
                    let clash = earlier
                        .iter()
                        .find(|(_, e)| e.iter().any(|x| allows.iter().any(|y| disjoint(x, y))));
                    if let Some((first, _)) = clash {
                        out.push(warning(
                            Code::NeverTrue,
                            rb,
                            t.pos,
                            format!(
                                "this condition can never be true: `{}` cannot match both this test and the one at line {}",
                                t.fact_name, first.pos.line
                            ),
                            "use `any:` for alternatives, or `in: [..]` for several values",
                        ));
                    }
                    earlier.push((t, allows));
                } else {
                    never_true(child, rb, out);
                }
            }
        }
        Condition::Any(cs) => cs.iter().for_each(|c| never_true(c, rb, out)),
        Condition::Not(c) => never_true(c, rb, out),
        Condition::Test(t) => {
            test_allows(t, rb, out);
        }
        Condition::Named(..) => {}
    }
}

/// What each operator of a test allows; warns when two of them allow nothing together.
fn test_allows(t: &Test, rb: &Rulebook, out: &mut Vec<Diagnostic>) -> Vec<Allowed> {
    let allows: Vec<Allowed> = t
        .ops
        .iter()
        .filter_map(|op| allowed_by(op, t.ignore_case))
        .collect();
    let contradicts = allows
        .iter()
        .enumerate()
        .any(|(i, a)| allows.iter().skip(i + 1).any(|b| disjoint(a, b)));
    if contradicts {
        out.push(warning(
            Code::NeverTrue,
            rb,
            t.pos,
            format!(
                "this condition can never be true: no value of `{}` passes all of its operators",
                t.fact_name
            ),
            "check the bounds: e.g. `gt: 500` with `lt: 400` allows nothing; use `any:` for alternatives",
        ));
    }
    allows
}

/// Text a message shows for a fact the capture does not hold, when the rule author did
/// not make the placeholder optional.
const HOLES: &[&str] = &["(unknown)", "(absent)", "（未知）"];

/// A rule whose message, fix or support text, rendered on one of its own `match`
/// examples (in either language), shows a hole: "could not connect to (unknown)".
fn placeholders_shown(set: &RuleSet) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (rb, rule) in set.rules() {
        'examples: for (i, e) in rule.examples_match.iter().enumerate() {
            for lang in [crate::rulebook::Lang::En, crate::rulebook::Lang::Zh] {
                let options = EvalOptions {
                    lang,
                    ..EvalOptions::default()
                };
                // The rule's own text: the others need not run.
                let Some(f) = crate::evaluate::finding_of(rb, rule, &e.capture, options) else {
                    continue;
                };
                let texts = [Some(&f.message), f.fix.as_ref(), f.support.as_ref()];
                let hole = texts
                    .into_iter()
                    .flatten()
                    .find_map(|t| HOLES.iter().find(|h| t.contains(*h)).map(|h| (t, *h)));
                if let Some((text, hole)) = hole {
                    out.push(warning(
                        Code::PlaceholderShown,
                        rb,
                        e.pos,
                        format!(
                            "on `match` example #{} of `{}`, a message reads {hole}: \"{text}\"",
                            i + 1,
                            rule.id
                        ),
                        "wrap the placeholder and the words around it in `{[ … ]}`, or add a `variants:` entry worded for captures without it",
                    ));
                    break 'examples;
                }
            }
        }
    }
    out
}

/// Rules that, on every one of their own `match` examples, are outranked by another
/// specific finding. Each example is diagnosed against every rule: at most `rule_runs`
/// rule conditions are run, and past that the rules left unchecked are said, not
/// passed over in silence.
fn never_first(set: &RuleSet, rule_runs: usize) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let per_example = set.rules().count().max(1);
    let mut left = rule_runs;
    let mut unchecked: Vec<(&crate::rulebook::Rulebook, &crate::rulebook::Rule)> = Vec::new();
    for (rb, rule) in set.rules() {
        if rule.fallback || rule.examples_match.is_empty() {
            continue;
        }
        let cost = per_example.saturating_mul(rule.examples_match.len());
        if !unchecked.is_empty() || cost > left {
            unchecked.push((rb, rule));
            continue;
        }
        left -= cost;
        let mut above: Option<String> = None;
        let mut always_below = true;
        let mut suppressor: Option<String> = None;
        let mut always_suppressed = true;
        for e in &rule.examples_match {
            let facts = crate::facts::Facts::derive(&e.capture);
            let outcome = crate::evaluate::outcome(set, &facts);
            match outcome.suppressed.iter().find(|s| s.rule == rule.id) {
                Some(s) => {
                    suppressor.get_or_insert_with(|| s.by.to_owned());
                }
                None => always_suppressed = false,
            }
            let ranked: Vec<&str> = outcome.ranked().map(|r| r.id.as_str()).collect();
            let first = ranked.iter().find(|id| !id.starts_with("status."));
            match first {
                Some(f) if *f != rule.id && ranked.contains(&rule.id.as_str()) => {
                    above.get_or_insert_with(|| f.to_string());
                }
                _ => always_below = false,
            }
        }
        if always_suppressed && let Some(by) = suppressor {
            out.push(warning(
                Code::AlwaysSuppressed,
                rb,
                rule.pos,
                format!(
                    "the rule `{}` is suppressed on every one of its own examples (by `{by}`): it is never reported",
                    rule.id
                ),
                "narrow the suppressing rule's condition or its `suppresses:`, or give this rule an example where it is the cause",
            ));
        } else if always_below && let Some(other) = above {
            out.push(warning(
                    Code::NeverTop,
                    rb,
                    rule.pos,
                    format!("the rule `{}` is never the top finding on its own examples: `{other}` outranks it", rule.id),
                    "raise its `priority`, or give it an example where it is the main cause",
                ));
        }
    }
    if let Some((rb, first)) = unchecked.first() {
        out.push(warning(
            Code::NeverTop,
            rb,
            first.pos,
            format!(
                "{} rules, from `{}` on, were not checked for being outranked on their examples: each example is diagnosed against all {per_example} rules, and that would run more than {rule_runs} rule conditions",
                unchecked.len(),
                first.id
            ),
            "raise the limit to check them all: --limit lint-rule-runs=N (the check takes about a second per 10,000,000)",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::{LoadOptions, load_str};

    fn set(rules: &str) -> RuleSet {
        let text = format!(
            "format: rulecheck/v1\nname: t\nversion: 1.0.0\ncategories: [{{id: c, title: C}}]\nrules:\n{rules}"
        );
        RuleSet::new(vec![
            load_str("t.yaml", &text, &LoadOptions::default()).unwrap(),
        ])
        .unwrap()
    }

    /// A placeholder outside an optional section, on an example that lacks its fact,
    /// is a hole the user would read; inside `{[ … ]}`, or worded by a variant, it is not.
    #[test]
    fn a_message_with_a_hole_on_an_example_is_found() {
        let rule = |message: &str, variants: &str| {
            format!(
                "  - id: r\n    title: R\n    category: c\n    severity: error\n\
                 \x20   when: {{ client_error: {{ exists: true }} }}\n    message: \"{message}\"\n{variants}\
                 \x20   examples:\n      match:\n        - client_error: \"Connection refused\"\n\
                 \x20       - {{ request: {{ url: \"http://h:1/v1\" }}, client_error: refused }}\n"
            )
        };
        let holes = |s: &RuleSet| {
            placeholders_shown(s)
                .into_iter()
                .map(|d| d.message)
                .collect::<Vec<_>>()
        };
        let found = holes(&set(&rule("Could not connect to {url.origin}.", "")));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("example #1") && found[0].contains("(unknown)"),
            "{found:?}"
        );
        assert!(holes(&set(&rule("Could not connect{[ to {url.origin}]}.", ""))).is_empty());
        let worded = "    variants:\n      - when: { url: { exists: false } }\n        message: Could not connect.\n";
        assert!(holes(&set(&rule("Could not connect to {url.origin}.", worded))).is_empty());
    }

    #[test]
    fn contradictions_in_one_all_are_found() {
        let s = set(
            "  - id: r\n    title: R\n    category: c\n    severity: error\n    when:\n      all:\n        - status: 404\n        - status: 401\n    message: m\n    examples: { match: [{ response: { status: 404 } }] }\n",
        );
        let w = lint(&s);
        assert_eq!(
            w.iter().map(|d| (d.code, d.line)).collect::<Vec<_>>(),
            [(Code::NeverTrue, Some(13))]
        );
        let s = set(
            "  - id: r\n    title: R\n    category: c\n    severity: error\n    when:\n      all:\n        - status: 4xx\n        - status: [500, 503]\n    message: m\n    examples: { match: [{ response: { status: 404 } }] }\n",
        );
        assert_eq!(lint(&s)[0].code, Code::NeverTrue);
        let fine = set(
            "  - id: r\n    title: R\n    category: c\n    severity: error\n    when:\n      all:\n        - status: 4xx\n        - status: [401, 500]\n    message: m\n    examples: { match: [{ response: { status: 401 } }] }\n",
        );
        assert!(lint(&fine).is_empty(), "{:?}", lint(&fine));
    }

    #[test]
    fn the_engine_a_rulebook_needs_is_computed() {
        let s = set(
            "  - id: r\n    title: R\n    category: c\n    severity: error\n    when: { url.host: { near: { to: [a.b.c] } } }\n    message: m\n    examples: { match: [{ request: { url: \"https://a.b.d/\" } }] }\n",
        );
        let (v, features) = needs(&s.rulebooks[0]);
        assert_eq!(v, semver::Version::new(0, 1, 0));
        assert!(features.contains(&"near"), "{features:?}");
        let mut rb = s.rulebooks[0].clone();
        rb.requires = Some(semver::VersionReq::parse(">=0.0.1").unwrap());
        rb.text = format!("# a comment first\nrequires: \">=0.0.1\"\n{}", rb.text);
        let d = requires_too_low(&rb).unwrap();
        assert_eq!(d.code, Code::RequiresTooOld);
        assert_eq!(d.line, Some(2), "{d:?}");
        assert!(
            d.message
                .contains("admits rulecheck versions older than 0.1.0")
                && !d.message.contains("18446744073709551615"),
            "{}",
            d.message
        );
        rb.requires = Some(semver::VersionReq::parse(">=0.1").unwrap());
        assert!(requires_too_low(&rb).is_none());
    }

    #[test]
    fn missing_examples_and_hidden_rules_are_warned() {
        let s = set(
            "  - id: a\n    title: A\n    category: c\n    severity: error\n    priority: 10\n    when: { status: 4xx }\n    message: m\n    examples: { match: [{ response: { status: 404 } }] }\n  - id: b\n    title: B\n    category: c\n    severity: error\n    when: { status: 404 }\n    message: m\n    examples: { match: [{ response: { status: 404 } }] }\n  - id: c\n    title: C\n    category: c\n    severity: error\n    when: { status: 500 }\n    message: m\n",
        );
        let codes: Vec<_> = lint(&s)
            .iter()
            .map(|d| {
                (
                    d.code,
                    d.message.contains("`b`") || d.message.contains("`c`"),
                )
            })
            .collect();
        assert_eq!(
            codes,
            [(Code::NeverTop, true), (Code::NoMatchExample, true)]
        );
        assert!(lint(&s).iter().all(|d| d.level == Level::Warning));
    }

    /// Rules that can never matter: a test whose own bounds allow nothing, two tests of
    /// one fact whose ranges do not meet, the same condition in another order, and a
    /// rule another always suppresses. Each names what it is about.
    #[test]
    fn dead_rules_are_warned() {
        let rule = |id: &str, when: &str, example: &str, extra: &str| {
            format!(
                "  - id: {id}\n    title: T\n    category: c\n    severity: error\n    when: {when}\n    message: m\n    examples: {{ match: [ {example} ] }}\n{extra}"
            )
        };
        let codes = |text: &str| -> Vec<(Code, String)> {
            lint(&set(text))
                .into_iter()
                .map(|d| (d.code, d.message))
                .collect()
        };
        let e401 = "{ response: { status: 401 } }";
        let found = codes(&rule("a", "{ status: { gt: 500, lt: 400 } }", e401, ""));
        assert!(
            found.iter().any(|(c, _)| *c == Code::NeverTrue),
            "{found:?}"
        );
        let found = codes(&rule(
            "a",
            "{ all: [ { status: 4xx }, { status: { gt: 499 } } ] }",
            e401,
            "",
        ));
        assert!(
            found.iter().any(|(c, _)| *c == Code::NeverTrue),
            "{found:?}"
        );
        for fine in [
            "{ status: { gte: 400, lt: 500 } }",
            "{ all: [ { status: 4xx }, { status: { between: [401, 403] } } ] }",
        ] {
            let found = codes(&rule("a", fine, e401, ""));
            assert!(found.is_empty(), "{fine}: {found:?}");
        }
        let body = "{ response: { status: 401, body: { error: { message: x } } } }";
        let found = codes(&format!(
            "{}{}",
            rule(
                "b",
                "{ all: [ { status: 401 }, { error.message: { contains: x } } ] }",
                body,
                ""
            ),
            rule(
                "c",
                "{ all: [ { error.message: { contains: x } }, { status: 401 } ] }",
                body,
                ""
            ),
        ));
        assert!(
            found
                .iter()
                .any(|(c, m)| *c == Code::SameCondition && m.contains("`b` and `c`")),
            "{found:?}"
        );
        let found = codes(&format!(
            "{}{}",
            rule("a", "{ status: 401 }", e401, "    suppresses: [b]\n"),
            rule("b", "{ status: { in: [401, 403] } }", e401, ""),
        ));
        assert!(
            found.iter().any(|(c, m)| *c == Code::AlwaysSuppressed
                && m.contains("`b`")
                && m.contains("`a`")),
            "{found:?}"
        );
    }
}
