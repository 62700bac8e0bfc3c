//! Views of the rules in use: `rulecheck list` and `rulecheck explain`.

use std::fmt::Write as _;

use crate::rulebook::{Lang, Lifecycle, RuleSet};

/// `rulecheck list --format json`: one row per rule.
pub fn list_json(set: &RuleSet, lang: Lang) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = set
        .rules()
        .map(|(rb, r)| {
            serde_json::json!({
                "id": r.id,
                "category": r.category,
                "severity": r.severity.name(),
                "priority": r.priority,
                "status": r.status.name(),
                "title": r.title.get(lang),
                "rulebook": rb.name,
                "overridden_by": r.overridden_by,
            })
        })
        .collect();
    serde_json::json!({ "rules": rows })
}

/// `rulecheck list`: a line per rule (id, category, severity, title, notes), then the
/// rules left out.
pub fn list_text(set: &RuleSet, lang: Lang) -> String {
    let mut out = String::new();
    let width = set.rules().map(|(_, r)| r.id.len()).max().unwrap_or(0);
    for (rb, r) in set.rules() {
        let mut notes = Vec::new();
        if r.status != Lifecycle::Stable {
            notes.push(r.status.name().to_owned());
        }
        if set.rulebooks.len() > 1 {
            notes.push(format!("from {}", rb.name));
        }
        if !r.overridden_by.is_empty() {
            notes.push(format!("changed by {}", r.overridden_by.join(", ")));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  [{}]", notes.join("; "))
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<10} {:<7}  {}{notes}",
            r.id,
            r.category,
            r.severity.name(),
            r.title.get(lang)
        );
    }
    for s in set.skipped() {
        let _ = writeln!(out, "{:<width$}  skipped: {}", s.rule, s.reason);
    }
    out
}

/// Where a category ranks, per status of `ranking:`:
/// `category key ranks, among errors: 401 1st, 404 3rd, …; other statuses 3rd (…)`.
fn ranking_line(set: &RuleSet, category: &str, among: &str) -> String {
    let ordinal = |n: usize| match n % 10 {
        1 if n % 100 != 11 => format!("{n}st"),
        2 if n % 100 != 12 => format!("{n}nd"),
        3 if n % 100 != 13 => format!("{n}rd"),
        _ => format!("{n}th"),
    };
    let per_status: Vec<String> = set
        .ranking
        .iter()
        .map(|r| {
            let rank = set.category_rank(Some(r), category).saturating_add(1);
            format!("{} {}", r.key.label(), ordinal(rank))
        })
        .collect();
    let global = set.category_rank(None, category).saturating_add(1);
    let mut line = format!("category {category} ranks, among {among}: ");
    if !per_status.is_empty() {
        line.push_str(&format!("{}; ", per_status.join(", ")));
    }
    line.push_str(&format!(
        "other statuses {} (order of `categories:`)",
        ordinal(global)
    ));
    line
}

/// `rulecheck explain ID`: where the rule is, how it ranks, and its text; `Err` says
/// there is no such rule, with the closest id.
pub fn explain_text(set: &RuleSet, id: &str) -> Result<String, String> {
    let Some((rb, rule)) = set.rules().find(|(_, r)| r.id == id) else {
        let hint = crate::spelling::suggest(id, set.rules().map(|(_, r)| r.id.as_str()))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_else(|| "; `rulecheck list` shows them all".to_owned());
        return Err(format!("no rule `{id}` in the rulebooks in use{hint}"));
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", rule.id, rule.title.en);
    let _ = writeln!(
        out,
        "rulebook {} {} ({}:{})",
        rb.name, rb.version, rb.source, rule.pos.line
    );
    let _ = write!(
        out,
        "category {} · severity {} · priority {} · {}",
        rule.category,
        rule.severity.name(),
        rule.priority,
        rule.status.name()
    );
    if rule.fallback {
        out.push_str(" · fallback");
    }
    if !rule.suppresses.is_empty() {
        let _ = write!(out, " · suppresses {}", rule.suppresses.join(", "));
    }
    if !rule.overridden_by.is_empty() {
        let _ = write!(out, " · changed by {}", rule.overridden_by.join(", "));
    }
    let among = if rule.severity == crate::rulebook::Severity::Error {
        "errors"
    } else {
        "warnings and info (every error ranks above)"
    };
    let _ = write!(out, "\n{}", ranking_line(set, &rule.category, among));
    let _ = writeln!(
        out,
        "\n{} match example(s), {} no_match example(s)\n",
        rule.examples_match.len(),
        rule.examples_no_match.len()
    );
    let _ = writeln!(out, "{}", rb.rule_text(rule));
    Ok(out)
}
