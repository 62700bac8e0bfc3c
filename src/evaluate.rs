//! Evaluation: every rule of the set runs on a capture's facts; the rules that hold
//! become findings, ranked, with their evidence, and every string that leaves is
//! redacted.
//!
//! Ranking, most useful first: specific findings before generic guidance (the
//! `status.<code>` finding and fallback rules come last); errors before warnings; then
//! the guide's order of categories for the status (`ranking:`), then `priority`, then
//! the order of `categories:` and of the rulebooks. All of it is declared in the
//! rulebook; see [`rank_key`].

use std::borrow::Cow;

use serde::Serialize;

use crate::capture::Capture;
use crate::facts::{Fact, Facts};
use crate::limits::Limits;
use crate::rulebook::{Condition, Lang, Op, Rule, RuleSet, Rulebook, Severity, StatusKey, Variant};

/// The evidence value of a fact whose absence is the point (`key: {exists: false}`).
pub const ABSENT: &str = "(absent)";

/// Evidence for a fact the input could not hold: the part was not captured (an SDK's
/// text has no request headers), so nothing is claimed about it.
pub const NOT_IN_INPUT: &str = "(not in this input)";

/// Evidence for a fact the captured part did not have: the key was not sent.
pub const NONE: &str = "(none)";

/// How evidence shows a fact the capture does not have.
fn absent(fact: &Fact, capture: &Capture) -> &'static str {
    let lacking = crate::input::lacks(capture);
    let part_lacking = fact.part().is_some_and(|part| {
        lacking.contains(&part) || (part.starts_with("response") && lacking.contains(&"response"))
    });
    if part_lacking { NOT_IN_INPUT } else { NONE }
}

/// Options for one evaluation.
#[derive(Clone, Copy, Debug, Default)]
pub struct EvalOptions {
    pub lang: Lang,
    /// Bodies are matched on their first `body_bytes`; messages quote a fact up to
    /// `quote_bytes`. (Bulk mode also reads `line_bytes` and `json_depth` here.)
    pub limits: Limits,
}

/// One fact a finding rests on, as it was in the capture (secrets masked).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence<'s> {
    /// The fact's name, as the rulebook writes it.
    pub fact: &'s str,
    pub value: String,
}

/// A diagnosis: what is wrong, why we think so, and what to do.
///
/// The rulebook's own text (id, category, title, checks, docs, names) is borrowed from
/// the rule set, not copied: a bulk run makes millions of findings from the same few
/// rules. Text rendered for the capture (a message quoting its facts) is owned; text
/// with nothing to render stays borrowed. A finding lives as long as its rule set; to
/// keep one longer, keep its JSON (`serde_json::to_value`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding<'s> {
    /// Stable cause code (`address.missing-v1`, `status.404`, `ok`).
    pub id: Cow<'s, str>,
    pub category: &'s str,
    pub severity: Severity,
    pub title: Cow<'s, str>,
    pub message: Cow<'s, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Cow<'s, str>>,
    /// What to send support, ready to paste (one item per line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support: Option<Cow<'s, str>>,
    pub evidence: Vec<Evidence<'s>>,
    /// The ordered checks of the guide (on `status.<code>` findings).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Cow<'s, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<&'s str>,
    /// The rulebook (name) that produced the finding.
    pub rulebook: &'s str,
    /// The overlays that changed the rule (provenance).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub overridden_by: &'s [String],
}

/// Everything rulecheck concluded about one capture. Its findings borrow the rule set's
/// text (see [`Finding`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnosis<'s> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_error: Option<String>,
    /// The client, as the capture names it (`meta.client`) or its User-Agent says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Bodies longer than rulecheck matches (`max_body_text`): only their start was matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cut: Vec<String>,
    pub findings: Vec<Finding<'s>>,
}

/// Diagnoses one capture with a rule set.
pub fn diagnose<'s>(set: &'s RuleSet, capture: &Capture, options: EvalOptions) -> Diagnosis<'s> {
    // Every capture-derived string in a finding or the header is a fact's `display`,
    // which masks keys; the rest is the rulebook's own text.
    let facts = Facts::derive_with(capture, options.limits.body_bytes);
    let mut findings = run_rules(set, &facts, options);
    if let Some(status) = capture.status()
        && status >= 400
    {
        let mut guide = status_finding(set, status, options.lang);
        // The rulebook's own text: only a word-for-word key could be in it.
        let known = |text: &mut Cow<'s, str>| mask_known(&facts, text);
        known(&mut guide.title);
        known(&mut guide.message);
        guide.checks.iter_mut().for_each(known);
        findings.push(guide);
    }
    let display = |fact: Fact| facts.display(&fact);
    Diagnosis {
        method: display(Fact::Method),
        url: display(Fact::Url),
        status: capture.status(),
        request_id: display(Fact::RequestId),
        client_error: display(Fact::ClientError),
        client: client(&facts),
        cut: facts.cut_bodies().iter().map(|s| s.to_string()).collect(),
        findings,
    }
}

/// One rule's finding on a capture, worded as a diagnosis words it, if its condition
/// holds; the other rules are not run (no ranking, no suppression). What `lint` renders
/// to read a rule's own text on its own examples, in time linear in the rules.
pub fn finding_of<'s>(
    rulebook: &'s Rulebook,
    rule: &'s Rule,
    capture: &Capture,
    options: EvalOptions,
) -> Option<Finding<'s>> {
    let facts = Facts::derive_with(capture, options.limits.body_bytes);
    if !holds(&rule.when, &facts, rulebook) {
        return None;
    }
    let fired = Fired {
        rulebook,
        rulebook_index: 0,
        rule_index: 0,
        rule,
        variant: rule
            .variants
            .iter()
            .find(|v| holds(&v.when, &facts, rulebook)),
    };
    Some(finding(&fired, &facts, options))
}

/// The ids of the rules that fire on a capture, ranked (no status guidance).
pub fn matching_rule_ids(set: &RuleSet, capture: &Capture) -> Vec<String> {
    let facts = Facts::derive(capture);
    outcome(set, &facts)
        .ranked()
        .map(|r| r.id.clone())
        .collect()
}

struct Fired<'s> {
    rulebook: &'s Rulebook,
    rulebook_index: usize,
    rule_index: usize,
    rule: &'s Rule,
    /// The first of the rule's `variants:` whose condition holds.
    variant: Option<&'s Variant>,
}

impl Fired<'_> {
    fn severity(&self) -> Severity {
        self.variant
            .and_then(|v| v.severity)
            .unwrap_or(self.rule.severity)
    }
}

/// Masks, in place, the keys the capture holds that the text repeats word for word;
/// borrowed text stays borrowed unless one is found (the rulebook's text rarely does).
/// The values a message quotes were masked whole, fragments included, when shown
/// ([`Facts::display`]): searching the message for fragments again was a third of a
/// finding's cost.
fn mask_known(facts: &Facts<'_>, text: &mut Cow<'_, str>) {
    if let Cow::Owned(masked) = facts.redactor().redact_words(text) {
        *text = Cow::Owned(masked);
    }
}

/// The findings of the rules that fired, with room for the status's own (a vector
/// grown by one reallocates it).
fn run_rules<'s>(set: &'s RuleSet, facts: &Facts<'_>, options: EvalOptions) -> Vec<Finding<'s>> {
    let fired = outcome(set, facts).fired;
    let mut findings = Vec::with_capacity(fired.len() + 1);
    findings.extend(fired.into_iter().map(|f| finding(&f, facts, options)));
    findings
}

/// A rule that held but is not reported: another finding makes it moot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed<'s> {
    pub rule: &'s str,
    /// The finding that makes it moot.
    pub by: &'s str,
    /// The declaration that says so: the suppressing rule's id, or `category <id>`.
    pub via: Via<'s>,
}

/// Where a suppression is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via<'s> {
    /// The suppressing rule's own `suppresses:`.
    Rule,
    /// The `suppresses:` of the suppressing rule's category.
    Category(&'s str),
}

/// The rules that held on one capture: the reported ones ranked, the suppressed ones
/// with who suppressed them. What `--trace` explains.
pub struct Outcome<'s> {
    fired: Vec<Fired<'s>>,
    pub suppressed: Vec<Suppressed<'s>>,
    /// The guide's order that ranked them (the status's, else its class's).
    pub ranking: Option<&'s crate::rulebook::Ranking>,
}

impl<'s> Outcome<'s> {
    /// The reported rules, best first.
    pub fn ranked(&self) -> impl Iterator<Item = &'s Rule> + '_ {
        self.fired.iter().map(|f| f.rule)
    }

    /// The reported rules with their severity (a variant's, if one applies), best first.
    pub fn ranked_with_severity(&self) -> impl Iterator<Item = (&'s Rule, Severity)> + '_ {
        self.fired.iter().map(|f| (f.rule, f.severity()))
    }
}

/// Runs every rule, applies the declared suppressions and ranks what is left.
pub fn outcome<'s>(set: &'s RuleSet, facts: &Facts<'_>) -> Outcome<'s> {
    let mut fired: Vec<Fired<'_>> = Vec::new();
    for fallback_pass in [false, true] {
        if fallback_pass && !fired.is_empty() {
            break;
        }
        for (rulebook_index, rb) in set.rulebooks.iter().enumerate() {
            for (rule_index, rule) in rb.rules.iter().enumerate() {
                let runs =
                    set.include_preview || rule.status != crate::rulebook::Lifecycle::Preview;
                if runs && rule.fallback == fallback_pass && holds(&rule.when, facts, rb) {
                    fired.push(Fired {
                        rulebook: rb,
                        rulebook_index,
                        rule_index,
                        rule,
                        variant: rule.variants.iter().find(|v| holds(&v.when, facts, rb)),
                    });
                }
            }
        }
    }
    // Declared precedence: a finding makes moot the rules its rule, or its category,
    // suppresses. A suppressed rule still suppresses others (it held).
    let mut suppressed: Vec<Suppressed<'s>> = Vec::new();
    for f in &fired {
        let by_category = set
            .category_suppresses
            .iter()
            .filter(|(c, _)| *c == f.rule.category)
            .flat_map(|(c, targets)| targets.iter().map(move |t| (t, Via::Category(c.as_str()))));
        let by_rule = f.rule.suppresses.iter().map(|t| (t, Via::Rule));
        for (target, via) in by_rule.chain(by_category) {
            for other in &fired {
                let id = other.rule.id.as_str();
                if id != f.rule.id
                    && crate::rulebook::suppression_targets(target, id)
                    && !suppressed.iter().any(|s| s.rule == id)
                {
                    suppressed.push(Suppressed {
                        rule: id,
                        by: &f.rule.id,
                        via,
                    });
                }
            }
        }
    }
    fired.retain(|f| !suppressed.iter().any(|s| s.rule == f.rule.id));
    let ranking = facts.capture().status().and_then(|s| set.ranking_for(s));
    fired.sort_by_key(|f| rank_key(set, ranking, f));
    Outcome {
        fired,
        suppressed,
        ranking,
    }
}

/// The ranking, most useful first: fallbacks last; errors before everything else (a
/// warning never outranks an error); then the guide's order of categories for the
/// status ("for 401, the key first"); then `priority`; then the order of `categories:`
/// and of the rulebooks.
fn rank_key(
    set: &RuleSet,
    ranking: Option<&crate::rulebook::Ranking>,
    f: &Fired<'_>,
) -> (
    bool,
    bool,
    usize,
    std::cmp::Reverse<i64>,
    usize,
    usize,
    usize,
) {
    (
        f.rule.fallback,
        f.severity() != Severity::Error,
        set.category_rank(ranking, &f.rule.category),
        std::cmp::Reverse(f.rule.priority),
        set.category_rank(None, &f.rule.category),
        f.rulebook_index,
        f.rule_index,
    )
}

/// Why `first` ranks above `second`, in words (`--trace`): the first part of the
/// ranking that tells them apart.
pub fn rank_reason(
    set: &RuleSet,
    ranking: Option<&crate::rulebook::Ranking>,
    (first, first_severity): (&Rule, Severity),
    (second, second_severity): (&Rule, Severity),
) -> String {
    let order = |r: &Rule| set.category_rank(ranking, &r.category);
    if first.fallback != second.fallback {
        format!(
            "{} is a fallback, given only when nothing else fits",
            second.id
        )
    } else if (first_severity == Severity::Error) != (second_severity == Severity::Error) {
        format!(
            "an {} outranks a {}",
            first_severity.name(),
            second_severity.name()
        )
    } else if order(first) != order(second) {
        let whose = match ranking {
            Some(r) => format!("the order for {}", r.key.label()),
            None => "the order of `categories:`".to_owned(),
        };
        format!(
            "{} comes before {} in {whose}",
            first.category, second.category
        )
    } else if first.priority != second.priority {
        format!("priority {} > {}", first.priority, second.priority)
    } else {
        "same category and priority: the rulebook's order".to_owned()
    }
}

/// What a summary counts of one capture: its top diagnosis and where the call went.
/// Cheaper than a [`Diagnosis`]: no message is rendered and no evidence kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Classified<'s> {
    pub status: Option<u16>,
    /// The URL, keys masked.
    pub url: Option<String>,
    /// The client, as [`Diagnosis::client`].
    pub client: Option<String>,
    /// The top finding's id and category (the rule set's own text); `None` when no
    /// rule fired.
    pub top: Option<(&'s str, &'s str)>,
}

/// Classifies one capture for a summary: the same rules, ranking and masking as
/// [`diagnose`], without rendering findings.
pub fn classify<'s>(set: &'s RuleSet, capture: &Capture, options: EvalOptions) -> Classified<'s> {
    let facts = Facts::derive_with(capture, options.limits.body_bytes);
    let top = outcome(set, &facts)
        .ranked()
        .next()
        .map(|r| (r.id.as_str(), r.category.as_str()));
    // Each value is shown once: no need to keep it for a message to quote.
    Classified {
        status: capture.status(),
        url: facts.show(&Fact::Url),
        client: CLIENT_FACTS.iter().find_map(|f| facts.show(f)),
        top,
    }
}

/// Where the client is named: `meta.client`, else the User-Agent. Built once.
static CLIENT_FACTS: std::sync::LazyLock<[Fact; 2]> = std::sync::LazyLock::new(|| {
    [
        Fact::Meta("client".into()),
        Fact::RequestHeader("user-agent".into()),
    ]
});

/// The client, as the capture names it (`meta.client`) or its User-Agent says.
fn client(facts: &Facts<'_>) -> Option<String> {
    CLIENT_FACTS.iter().find_map(|f| facts.display(f))
}

/// Whether a condition holds (no evidence kept: the fast path for every rule).
pub fn holds(condition: &Condition, facts: &Facts<'_>, rb: &Rulebook) -> bool {
    match condition {
        // Tests on facts read straight from the capture (status, method, headers) go
        // first: when one fails, the body is never parsed for the rest. The result is
        // the same in any order; only the work differs.
        Condition::All(cs) => {
            cs.iter()
                .filter(|c| is_cheap(c))
                .all(|c| holds(c, facts, rb))
                && cs
                    .iter()
                    .filter(|c| !is_cheap(c))
                    .all(|c| holds(c, facts, rb))
        }
        Condition::Any(cs) => cs.iter().any(|c| holds(c, facts, rb)),
        Condition::Not(c) => !holds(c, facts, rb),
        Condition::Named(i, _) => {
            facts.named_condition(std::ptr::from_ref(rb) as usize, *i, || {
                rb.named
                    .get(*i)
                    .is_some_and(|n| holds(&n.condition, facts, rb))
            })
        }
        Condition::Test(t) if t.ops.iter().all(Op::needs_only_type) => {
            let json_type = facts.json_type(&t.fact);
            t.ops.iter().all(|op| op.holds_for_type(json_type))
        }
        Condition::Test(t) => {
            let value = facts.get(&t.fact);
            t.ops
                .iter()
                .all(|op| op.holds(value.as_ref(), t.ignore_case))
        }
    }
}

fn is_cheap(c: &Condition) -> bool {
    matches!(c, Condition::Test(t) if t.fact.is_cheap())
}

/// The facts on the path that made a (true) condition true; negated parts and absent
/// facts are not evidence.
fn evidence<'r>(
    condition: &'r Condition,
    facts: &Facts<'_>,
    rb: &'r Rulebook,
    out: &mut Vec<&'r crate::rulebook::Test>,
) {
    match condition {
        Condition::All(cs) => cs.iter().for_each(|c| evidence(c, facts, rb, out)),
        Condition::Any(cs) => {
            if let Some(c) = cs.iter().find(|c| holds(c, facts, rb)) {
                evidence(c, facts, rb, out);
            }
        }
        Condition::Not(_) => {}
        Condition::Named(i, _) => {
            if let Some(n) = rb.named.get(*i) {
                evidence(&n.condition, facts, rb, out);
            }
        }
        Condition::Test(t) => {
            let shows_absence = t
                .ops
                .iter()
                .any(|op| matches!(op, crate::rulebook::Op::Exists(false)));
            if shows_absence || facts.get(&t.fact).is_some() {
                out.push(t);
            }
        }
    }
}

fn finding<'s>(fired: &Fired<'s>, facts: &Facts<'_>, options: EvalOptions) -> Finding<'s> {
    let (rb, rule, variant) = (fired.rulebook, fired.rule, fired.variant);
    let (lang, quote) = (options.lang, options.limits.quote_bytes);
    let mut tests = Vec::new();
    evidence(&rule.when, facts, rb, &mut tests);
    if let Some(v) = variant {
        evidence(&v.when, facts, rb, &mut tests);
    }
    let mut evidence: Vec<Evidence<'s>> = Vec::new();
    let mut push = |name: &'s str, fact: &Fact| {
        if !evidence.iter().any(|e| e.fact == name) {
            // A fact can be a whole body: evidence quotes at most its start, as messages do.
            let value = match facts.display(fact) {
                Some(v) if v.len() > quote => format!("{}…", crate::facts::cut(&v, quote)),
                Some(v) => v,
                None => absent(fact, facts.capture()).to_owned(),
            };
            evidence.push(Evidence { fact: name, value });
        }
    };
    for t in tests {
        // A derived fact rests on its source: show both (`key`, then `derived.key_platform`).
        // When no case held, every source it was looked for in.
        if let Fact::Derived(d) = &t.fact {
            match d.resolve(facts) {
                Some((case, _)) => push(&case.source_name, &case.source),
                None => d
                    .cases
                    .iter()
                    .for_each(|case| push(&case.source_name, &case.source)),
            }
        }
        push(&t.fact_name, &t.fact);
    }
    // Fact values come masked from `display`; the rulebook's text around them could
    // still repeat a key word for word (a placeholder key quoted as an example).
    let known = |mut s: Cow<'s, str>| {
        mask_known(facts, &mut s);
        s
    };
    let render = |t: &'s crate::rulebook::Localized<crate::rulebook::template::Template>| {
        known(t.get(lang).render(facts, lang, quote))
    };
    Finding {
        id: Cow::Borrowed(&rule.id),
        category: &rule.category,
        severity: fired.severity(),
        title: known(Cow::Borrowed(rule.title.get(lang))),
        message: render(
            variant
                .and_then(|v| v.message.as_ref())
                .unwrap_or(&rule.message),
        ),
        fix: variant
            .and_then(|v| v.fix.as_ref())
            .or(rule.fix.as_ref())
            .map(render),
        support: rule.support.as_ref().map(render),
        evidence,
        checks: Vec::new(),
        docs: rule.docs.as_deref(),
        rulebook: &rb.name,
        overridden_by: &rule.overridden_by,
    }
}

/// The guide's generic advice for a status: the code's own entry, else its class's.
fn status_finding(set: &RuleSet, status: u16, lang: Lang) -> Finding<'_> {
    let guide = set
        .rulebooks
        .iter()
        .find_map(|rb| {
            rb.statuses
                .iter()
                .find(|s| s.key == StatusKey::Code(status))
                .map(|s| (rb, s))
        })
        .or_else(|| {
            set.rulebooks.iter().find_map(|rb| {
                rb.statuses
                    .iter()
                    .find(|s| s.key == StatusKey::Class(status / 100))
                    .map(|s| (rb, s))
            })
        });
    let (meaning, checks, rulebook) = match guide {
        Some((rb, g)) => (
            Cow::Borrowed(g.meaning.get(lang).as_str()),
            g.checks
                .iter()
                .map(|c| Cow::Borrowed(c.get(lang).as_str()))
                .collect(),
            rb.name.as_str(),
        ),
        None => (
            Cow::Owned(match lang {
                Lang::En => format!("HTTP status {status}"),
                Lang::Zh => format!("HTTP 状态码 {status}"),
            }),
            Vec::new(),
            "rulecheck",
        ),
    };
    Finding {
        id: Cow::Owned(format!("status.{status}")),
        category: "status",
        severity: Severity::Info,
        title: Cow::Owned(format!("{status}: {meaning}")),
        message: meaning,
        fix: None,
        support: None,
        evidence: vec![Evidence {
            fact: "status",
            value: status.to_string(),
        }],
        checks,
        docs: None,
        rulebook,
        overridden_by: &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::{LoadOptions, load_str};

    /// Every text a finding borrows from the rule set is among [`RuleSet::texts`], the
    /// texts a JSON Lines run finds clean once, by address: on every fixture, in both
    /// languages, with the built-in rulebook and an overlay that changes a rule.
    #[test]
    fn the_rule_sets_texts_are_all_a_finding_borrows() {
        let overlay = "format: rulecheck/v1\nname: local\nversion: 1.0.0\n\
            rules: []\noverrides:\n  - rule: key.whitespace\n    title: Our title\n";
        let mut rulebooks = RuleSet::default_rulebook(&LoadOptions::default())
            .unwrap()
            .rulebooks;
        rulebooks.push(load_str("local.yaml", overlay, &LoadOptions::default()).unwrap());
        let set = RuleSet::new(rulebooks).unwrap();
        let places: std::collections::HashSet<(usize, usize)> = set
            .texts()
            .iter()
            .map(|t| (t.as_ptr() as usize, t.len()))
            .collect();
        let mut checked = std::collections::BTreeSet::new();
        let mut check = |what: &str, text: &str, finding: &Finding| {
            assert!(
                places.contains(&(text.as_ptr() as usize, text.len())),
                "{}: {what} {text:?} is not among the rule set's texts",
                finding.id
            );
            checked.insert(what.to_owned());
        };
        let mut files = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from("tests/fixtures/captures")];
        while let Some(dir) = dirs.pop() {
            for path in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 50);
        for file in files {
            let Ok(inputs) = crate::input::read(&std::fs::read(&file).unwrap()) else {
                continue;
            };
            for input in inputs {
                for lang in [Lang::En, Lang::Zh] {
                    let options = EvalOptions {
                        lang,
                        ..Default::default()
                    };
                    for f in diagnose(&set, &input.capture, options).findings {
                        let engine_own = f.id.starts_with("status.");
                        let cows = [("id", Some(&f.id)), ("title", Some(&f.title))]
                            .into_iter()
                            .chain([("message", Some(&f.message))])
                            .chain([("fix", f.fix.as_ref()), ("support", f.support.as_ref())])
                            .chain(f.checks.iter().map(|c| ("checks", Some(c))));
                        for (what, text) in cows {
                            if let Some(Cow::Borrowed(text)) = text {
                                check(what, text, &f);
                            }
                        }
                        if !engine_own {
                            check("category", f.category, &f);
                            check("rulebook", f.rulebook, &f);
                            f.evidence
                                .iter()
                                .for_each(|e| check("evidence", e.fact, &f));
                        }
                        f.docs.iter().for_each(|d| check("docs", d, &f));
                        f.overridden_by
                            .iter()
                            .for_each(|o| check("overridden_by", o, &f));
                    }
                }
            }
        }
        let all = [
            "category",
            "checks",
            "docs",
            "evidence",
            "fix",
            "id",
            "message",
            "overridden_by",
            "rulebook",
            "title",
        ];
        assert_eq!(checked.iter().map(String::as_str).collect::<Vec<_>>(), all);
    }

    /// A one-rule rulebook with the given condition (YAML, indented under `when:`).
    fn set_with(when: &str) -> RuleSet {
        let text = format!(
            "format: rulecheck/v1\nname: t\nversion: 1.0.0\ncategories: [{{id: c, title: C}}]\n\
             conditions:\n  is_401: {{ status: 401 }}\n\
             rules:\n  - id: r\n    title: R\n    category: c\n    severity: error\n    when:\n{when}\n    message: m\n"
        );
        let rb =
            load_str("t.yaml", &text, &LoadOptions::default()).unwrap_or_else(|d| panic!("{d:#?}"));
        RuleSet::new(vec![rb]).unwrap()
    }

    fn fires(set: &RuleSet, capture: serde_json::Value) -> bool {
        let c: Capture = serde_json::from_value(capture).unwrap();
        matching_rule_ids(set, &c) == ["r"]
    }

    /// A named condition is decided once a capture, for its own rulebook: two
    /// rulebooks' conditions with one name and index are not mistaken for each other.
    #[test]
    fn named_conditions_are_remembered_per_rulebook() {
        let book = |name: &str, status: u16, rule: &str| {
            let text = format!(
                "format: rulecheck/v1\nname: {name}\nversion: 1.0.0\ncategories: [{{id: c{name}, title: C}}]\n\
                 conditions:\n  hit: {{ status: {status} }}\n\
                 rules:\n  - id: {rule}\n    title: R\n    category: c{name}\n    severity: error\n    when: {{ condition: hit }}\n    message: m\n\
                 \x20 - id: {rule}-again\n    title: R\n    category: c{name}\n    severity: error\n    when: {{ all: [{{ condition: hit }}, {{ not: {{ status: 500 }} }}] }}\n    message: m\n"
            );
            load_str(&format!("{name}.yaml"), &text, &LoadOptions::default())
                .unwrap_or_else(|d| panic!("{d:#?}"))
        };
        let set = RuleSet::new(vec![book("a", 401, "a.hit"), book("b", 404, "b.hit")]).unwrap();
        for (status, fired) in [
            (401, ["a.hit", "a.hit-again"]),
            (404, ["b.hit", "b.hit-again"]),
        ] {
            let c: Capture =
                serde_json::from_value(serde_json::json!({"response": {"status": status}}))
                    .unwrap();
            let mut ids = matching_rule_ids(&set, &c);
            ids.sort();
            assert_eq!(ids, fired, "{status}");
        }
    }

    #[test]
    fn all_any_not_and_named_conditions() {
        let s401 = serde_json::json!({"response": {"status": 401}});
        let s404 = serde_json::json!({"response": {"status": 404}});
        let none = serde_json::json!({"request": {"url": "https://h/x"}});

        let all = set_with("      all:\n        - status: 4xx\n        - status: { lt: 402 }");
        assert!(fires(&all, s401.clone()));
        assert!(!fires(&all, s404.clone()));
        assert!(!fires(&all, none.clone()), "absent status fails every test");

        let any = set_with("      any:\n        - status: 404\n        - status: 401");
        assert!(fires(&any, s401.clone()) && fires(&any, s404.clone()));
        assert!(!fires(&any, none.clone()));

        let not = set_with("      not: { status: 401 }");
        assert!(!fires(&not, s401.clone()));
        assert!(fires(&not, s404.clone()));
        assert!(
            fires(&not, none.clone()),
            "not of an absent fact's test holds"
        );

        let named = set_with("      condition: is_401");
        assert!(fires(&named, s401.clone()));
        assert!(!fires(&named, s404.clone()));

        let implicit_and = set_with("      status: 401\n      url.host: h");
        assert!(
            !fires(&implicit_and, s401.clone()),
            "both entries of a mapping must hold"
        );
        assert!(fires(
            &implicit_and,
            serde_json::json!({"request": {"url": "https://h/"}, "response": {"status": 401}})
        ));
    }

    #[test]
    fn evidence_follows_the_branch_that_held_and_skips_negations() {
        let set = set_with(
            "      any:\n        - status: 404\n        - url.host: h\n      not: { key: { exists: true } }",
        );
        let c: Capture = serde_json::from_value(
            serde_json::json!({"request": {"url": "https://h/"}, "response": {"status": 401}}),
        )
        .unwrap();
        let d = diagnose(&set, &c, EvalOptions::default());
        let facts: Vec<&str> = d.findings[0].evidence.iter().map(|e| e.fact).collect();
        assert_eq!(facts, ["url.host"]);
    }

    #[test]
    fn rulebook_text_is_borrowed_unless_it_repeats_the_captures_key() {
        let key = "sk-Q7wErTy9UiOpAsDfGhJkLzXcVbNm1234567890abcdEFGH";
        let text = format!(
            "format: rulecheck/v1\nname: t\nversion: 1.0.0\ncategories: [{{id: c, title: C}}]\n\
             statuses:\n  401:\n    meaning: Unauthorised\n    checks: [\"Not {key}\", \"Plain\"]\n\
             rules:\n  - id: quoted\n    title: \"Example {key}\"\n    category: c\n    severity: error\n\
             \x20   when: {{ status: 401 }}\n    message: \"Like {key}\"\n    fix: \"Not {key} again\"\n\
             \x20 - id: plain\n    title: Plain\n    category: c\n    severity: error\n\
             \x20   when: {{ status: 401 }}\n    message: \"Sent to {{url.host}}\"\n    fix: Plain fix\n    docs: https://d\n"
        );
        let rb = load_str("t.yaml", &text, &crate::rulebook::LoadOptions::default())
            .unwrap_or_else(|d| panic!("{d:#?}"));
        let set = RuleSet::new(vec![rb]).unwrap();
        let c: Capture = serde_json::from_value(serde_json::json!({
            "request": {"url": "https://h/v1/x", "headers": {"Authorization": format!("Bearer {key}")}},
            "response": {"status": 401}
        }))
        .unwrap();
        let d = diagnose(&set, &c, EvalOptions::default());
        let json = serde_json::to_string(&d).unwrap();
        assert!(!json.contains(key.get(3..).unwrap()), "{json}");
        let ids: Vec<&str> = d.findings.iter().map(|f| f.id.as_ref()).collect();
        assert_eq!(ids, ["quoted", "plain", "status.401"]);
        let [quoted, plain, guide] = &d.findings[..] else {
            panic!("three findings")
        };
        // Text that held the key is a masked copy; text that did not is the rule set's.
        for text in [&quoted.title, &quoted.message, &guide.checks[0]] {
            assert!(
                matches!(text, Cow::Owned(_)) && text.contains("sk-Q7w…FGH"),
                "{text}"
            );
        }
        assert!(
            quoted
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("sk-Q7w…FGH"))
        );
        let rule = &set.rulebooks[0].rules[1];
        assert!(
            matches!(&plain.title, Cow::Borrowed(t) if std::ptr::eq(*t, rule.title.get(Lang::En).as_str()))
        );
        assert!(matches!(&plain.fix, Some(Cow::Borrowed("Plain fix"))));
        assert_eq!(plain.message, "Sent to h");
        assert!(matches!(&guide.checks[1], Cow::Borrowed("Plain")));
        assert!(matches!(&guide.message, Cow::Borrowed("Unauthorised")));
        assert_eq!(
            (plain.docs, plain.rulebook, guide.rulebook),
            (Some("https://d"), "t", "t")
        );
    }

    #[test]
    fn status_guidance_comes_last_and_falls_back_to_the_class() {
        let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
        let c: Capture =
            serde_json::from_value(serde_json::json!({"response": {"status": 502}})).unwrap();
        let d = diagnose(&set, &c, EvalOptions::default());
        let last = d.findings.last().unwrap();
        assert_eq!(last.id, "status.502");
        assert!(!last.checks.is_empty(), "5xx guidance applies to 502");
        let ok: Capture =
            serde_json::from_value(serde_json::json!({"response": {"status": 200}})).unwrap();
        let d = diagnose(&set, &ok, EvalOptions::default());
        assert!(
            d.findings.iter().all(|f| !f.id.starts_with("status.")),
            "no status guidance for 2xx"
        );
    }
}
