//! Turns a rulebook's node tree into a [`Rulebook`], checking everything the schema
//! cannot: fact names, regexes, templates, references, duplicate ids, versions.
//! Every problem is collected; compilation never stops at the first.

use std::collections::{BTreeMap, HashMap};

use regex::RegexBuilder;
use serde_json::Value as Json;

use super::condition::{Condition, OPERATORS, Op, TYPES, Test};
use super::template::Template;
use super::{
    Category, ENGINE_VERSION, Example, FORMAT, Lifecycle, LoadOptions, Localized, NamedCondition,
    Override, Rule, Rulebook, Severity, SkippedRule, StatusGuide, StatusKey,
};
use crate::capture::Capture;
use crate::diagnostic::{Code, Diagnostic};
use crate::facts::{Derived, DerivedCase, DerivedExtract, DerivedResult, DerivedTest, Fact};
use crate::spelling::suggest;
use crate::yaml::{Node, Pos, Value};
use std::sync::Arc;

/// Keys of the rulebook's top level.
pub const TOP_KEYS: &[&str] = &[
    "format",
    "name",
    "version",
    "requires",
    "description",
    "vars",
    "categories",
    "statuses",
    "unsupported_rules",
    "derive",
    "conditions",
    "rules",
    "overrides",
];
/// Keys of a rule.
pub const RULE_KEYS: &[&str] = &[
    "id",
    "title",
    "category",
    "severity",
    "priority",
    "fallback",
    "status",
    "requires",
    "suppresses",
    "when",
    "message",
    "fix",
    "support",
    "docs",
    "examples",
];
/// Keys of an override in an overlay.
pub const OVERRIDE_KEYS: &[&str] = &[
    "disable", "rule", "reason", "title", "severity", "priority", "message", "fix",
];
/// Rule lifecycles.
pub const LIFECYCLES: &[&str] = &["stable", "preview", "deprecated"];
/// Keys of a category.
pub const CATEGORY_KEYS: &[&str] = &["id", "title"];
/// Keys of a status entry.
pub const STATUS_KEYS: &[&str] = &["meaning", "checks"];
/// Keys of a rule's `examples`.
pub const EXAMPLE_KEYS: &[&str] = &["match", "no_match"];
/// Condition keys that combine other conditions.
pub const COMBINATORS: &[&str] = &["all", "any", "not", "condition"];
/// Languages a text may be given in.
pub const LANGS: &[&str] = &["en", "zh"];

struct Ctx<'a> {
    file: &'a str,
    source: &'a str,
    lazy_regex: bool,
    /// Leave out the rules' examples (see `LoadOptions::skip_examples`).
    skip_examples: bool,
    /// Largest compiled size of one regex (`--limit regex-bytes`).
    regex_bytes: usize,
    source_vars: BTreeMap<String, String>,
    /// The derived facts declared so far, in declaration order.
    derived: Vec<Arc<Derived>>,
    diagnostics: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn error(&mut self, code: Code, pos: Pos, message: impl Into<String>, help: impl Into<String>) {
        let help = help.into();
        let mut d = Diagnostic::error(code, self.file, Some(pos), message);
        if !help.is_empty() {
            d = d.with_help(help);
        }
        self.diagnostics.push(d);
    }

    /// Checks a mapping's keys; reports unknown ones (with a suggestion) and missing
    /// required ones. Returns false when the node is not a mapping at all.
    fn check_keys(&mut self, node: &Node, what: &str, allowed: &[&str], required: &[&str]) -> bool {
        let Some(entries) = node.as_map() else {
            self.error(
                Code::WrongType,
                node.pos,
                format!("{what} must be a mapping, found {}", node.type_name()),
                format!("write {what} as `key: value` lines"),
            );
            return false;
        };
        for (k, _) in entries {
            let name = k.key_text().unwrap_or_default().into_owned();
            if !allowed.contains(&name.as_str()) {
                let help = match suggest(&name, allowed.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("allowed here: {}", allowed.join(", ")),
                };
                self.error(
                    Code::UnknownKey,
                    k.pos,
                    format!("unknown key `{name}` in {what}"),
                    help,
                );
            }
        }
        for req in required {
            if node.get(req).is_none() {
                self.error(
                    Code::MissingKey,
                    node.pos,
                    format!("{what} has no `{req}`"),
                    format!("add `{req}:` to {what}"),
                );
            }
        }
        true
    }

    fn string<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n str> {
        match node.as_str() {
            Some(s) => Some(s),
            None => {
                self.error(
                    Code::WrongType,
                    node.pos,
                    format!("{what} must be a string, found {}", node.type_name()),
                    "quote the value",
                );
                None
            }
        }
    }

    /// A text given either as a string (English) or as `{en: …, zh: …}`.
    fn localized(&mut self, node: &Node, what: &str) -> Option<Localized<(String, Pos)>> {
        if let Some(s) = node.as_str() {
            return Some(Localized {
                en: (s.to_owned(), node.pos),
                zh: None,
            });
        }
        if !self.check_keys(node, what, LANGS, &["en"]) {
            return None;
        }
        let en = node
            .get("en")
            .and_then(|n| self.string(n, what).map(|s| (s.to_owned(), n.pos)))?;
        let zh = node
            .get("zh")
            .and_then(|n| self.string(n, what).map(|s| (s.to_owned(), n.pos)));
        Some(Localized { en, zh })
    }

    fn localized_string(&mut self, node: &Node, what: &str) -> Option<Localized<String>> {
        let l = self.localized(node, what)?;
        Some(Localized {
            en: l.en.0,
            zh: l.zh.map(|z| z.0),
        })
    }

    fn localized_template(&mut self, node: &Node, what: &str) -> Option<Localized<Template>> {
        let l = self.localized(node, what)?;
        let en = self.template(&l.en.0, l.en.1);
        let zh = l.zh.and_then(|(text, pos)| self.template(&text, pos));
        Some(Localized { en: en?, zh })
    }

    fn template(&mut self, text: &str, pos: Pos) -> Option<Template> {
        match Template::compile_with(text, &self.source_vars, &self.derived) {
            Ok(t) => Some(t),
            Err(errors) => {
                for e in errors {
                    let at = offset_pos(self.source, pos, e.offset);
                    let (code, help) = if e.is_fact {
                        (
                            Code::UnknownFact,
                            "use one of the facts listed in docs/rulebook-format.md",
                        )
                    } else {
                        (
                            Code::BadTemplate,
                            "declare the variable under `vars:` or fix the placeholder",
                        )
                    };
                    self.error(code, at, e.message, help);
                }
                None
            }
        }
    }
}

/// The position of the character `offset` inside a scalar that starts at `pos`,
/// allowing for an opening quote. Exact for one-line scalars.
fn offset_pos(source: &str, pos: Pos, offset: usize) -> Pos {
    let line = source
        .lines()
        .nth(pos.line.saturating_sub(1) as usize)
        .unwrap_or("");
    let first = line.chars().nth(pos.column.saturating_sub(1) as usize);
    let quote = usize::from(matches!(first, Some('"' | '\'')));
    Pos {
        line: pos.line,
        column: pos.column + (quote + offset) as u32,
    }
}

/// Compiles a rulebook from its node tree; `source` is the text it was parsed from
/// (used to place carets exactly inside quoted strings).
pub fn compile(
    file: &str,
    source: &str,
    root: &Node,
    options: &LoadOptions,
) -> Result<Rulebook, Vec<Diagnostic>> {
    let mut cx = Ctx {
        file,
        source,
        lazy_regex: options.lazy_regex,
        skip_examples: options.skip_examples,
        regex_bytes: options.limits.regex_bytes,
        source_vars: BTreeMap::new(),
        derived: Vec::new(),
        diagnostics: Vec::new(),
    };
    if !cx.check_keys(
        root,
        "the rulebook",
        TOP_KEYS,
        &["format", "name", "version", "rules"],
    ) {
        return Err(cx.diagnostics);
    }
    // Compatibility first: a rulebook for another format or engine is refused whole.
    if !check_compatibility(&mut cx, root) {
        return Err(cx.diagnostics);
    }
    let name = root.get("name").and_then(|n| {
        let s = cx.string(n, "`name`")?;
        if !valid_id(s) {
            cx.error(
                Code::NotAllowed,
                n.pos,
                format!("the rulebook name `{s}` is not allowed"),
                "use lower-case letters, digits, `.`, `_` and `-`",
            );
        }
        Some(s.to_owned())
    });
    let version = root.get("version").and_then(|n| {
        let text = match &n.value {
            Value::Str(s) => s.to_string(),
            _ => {
                cx.error(
                    Code::BadSemver,
                    n.pos,
                    format!(
                        "`version` must be a semver string such as \"1.0.0\", found {}",
                        n.type_name()
                    ),
                    "write all three parts in quotes: version: \"1.0.0\"",
                );
                return None;
            }
        };
        semver::Version::parse(&text)
            .map_err(|e| {
                cx.error(
                    Code::BadSemver,
                    n.pos,
                    format!("`{text}` is not a semver version: {e}"),
                    "write MAJOR.MINOR.PATCH, e.g. 1.2.0",
                )
            })
            .ok()
    });
    let requires = root.get("requires").and_then(|n| {
        let s = cx.string(n, "`requires`")?;
        semver::VersionReq::parse(s).ok()
    });
    let description = root
        .get("description")
        .and_then(|n| cx.string(n, "`description`").map(str::to_owned));

    // Variables, with the user's overrides for those this rulebook declares.
    if let Some(vars) = root.get("vars") {
        if vars.as_map().is_none() {
            cx.error(
                Code::WrongType,
                vars.pos,
                "`vars` must be a mapping of name to value",
                "write `base_url: https://…` lines",
            );
        }
        {
            for (k, v) in vars.as_map().unwrap_or(&[]) {
                let key = k.key_text().unwrap_or_default().into_owned();
                let value = match &v.value {
                    Value::Str(s) => s.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Float(f) => f.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        cx.error(
                            Code::WrongType,
                            v.pos,
                            format!("the variable `{key}` must be a string"),
                            "quote the value",
                        );
                        continue;
                    }
                };
                let value = options.vars.get(&key).cloned().unwrap_or(value);
                cx.source_vars.insert(key, value);
            }
        }
    }
    add_url_parts(&mut cx.source_vars);
    compile_derived(&mut cx, root);
    let categories = compile_categories(&mut cx, root);
    let statuses = compile_statuses(&mut cx, root);
    let named = compile_named(&mut cx, root);
    let named_index: HashMap<String, usize> = named
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.clone(), i))
        .collect();
    let named: Vec<NamedCondition> = named
        .into_iter()
        .map(|n| NamedCondition {
            condition: compile_condition(&mut cx, n.node, &named_index)
                .unwrap_or(Condition::All(Vec::new())),
            name: n.name,
        })
        .collect();
    check_cycles(&mut cx, &named, root);

    let skip_unsupported = match root.get("unsupported_rules") {
        None => false,
        Some(n) => match n.as_str() {
            Some("skip") => true,
            Some("error") => false,
            _ => {
                cx.error(
                    Code::NotAllowed,
                    n.pos,
                    "`unsupported_rules` must be `skip` or `error`",
                    "`skip` leaves out rules that need a newer rulecheck, with the reason in the report",
                );
                false
            }
        },
    };
    let rulebook_name = name.clone().unwrap_or_default();
    let mut skipped = Vec::new();
    let mut rules = Vec::new();
    let mut ids: HashMap<String, Pos> = HashMap::new();
    let max_rules = options.limits.rules;
    match root.get("rules").map(|n| (&n.value, n.pos)) {
        Some((Value::Seq(items), pos)) if items.len() > max_rules => cx.error(
            Code::OverLimit,
            pos,
            format!(
                "the rulebook has {} rules; the limit is {max_rules}",
                items.len()
            ),
            "split it into several rulebooks (--overlay), or raise the limit with --limit rules=N",
        ),
        Some((Value::Seq(items), _)) => {
            for item in items {
                // A rule that needs a newer engine is not compiled at all: it may use
                // operators or facts this engine does not know.
                if let Some(reason) = unsupported(&mut cx, item, skip_unsupported) {
                    let rule = item
                        .get("id")
                        .and_then(Node::as_str)
                        .unwrap_or("?")
                        .to_owned();
                    skipped.push(SkippedRule {
                        rulebook: rulebook_name.clone(),
                        rule,
                        reason,
                    });
                    continue;
                }
                if let Some(rule) = compile_rule(&mut cx, item, &categories, &named_index) {
                    if let Some(first) = ids.get(&rule.id) {
                        cx.error(
                            Code::DuplicateId,
                            rule_id_pos(item),
                            format!(
                                "the rule id `{}` is used twice (first at line {})",
                                rule.id, first.line
                            ),
                            "give each rule its own id",
                        );
                    } else {
                        ids.insert(rule.id.clone(), rule.pos);
                    }
                    rules.push(rule);
                }
            }
        }
        Some((_, pos)) => cx.error(
            Code::WrongType,
            pos,
            "`rules` must be a list of rules",
            "start each rule with `- id: …`",
        ),
        None => {}
    }

    let overrides = compile_overrides(&mut cx, root);
    if cx.diagnostics.is_empty()
        && let (Some(name), Some(version)) = (name, version)
    {
        return Ok(Rulebook {
            name,
            version,
            requires,
            description,
            source: file.to_owned(),
            vars: cx.source_vars,
            categories,
            statuses,
            named,
            derived: cx.derived,
            rules,
            skipped,
            overrides,
            digest: digest(source),
            text: source.to_owned(),
        });
    }
    crate::diagnostic::sort(&mut cx.diagnostics);
    Err(cx.diagnostics)
}

fn severity(cx: &mut Ctx<'_>, n: &Node) -> Option<Severity> {
    match n.as_str() {
        Some("error") => Some(Severity::Error),
        Some("warning") => Some(Severity::Warning),
        Some("info") => Some(Severity::Info),
        _ => {
            cx.error(
                Code::NotAllowed,
                n.pos,
                "`severity` must be `error`, `warning` or `info`",
                "pick one of the three",
            );
            None
        }
    }
}

/// Indices of the rules a newer engine is needed for, when the rulebook allows
/// skipping them (so the schema does not judge syntax this engine cannot know).
pub fn rules_to_skip(root: &Node) -> Vec<usize> {
    if root.get("unsupported_rules").and_then(Node::as_str) != Some("skip") {
        return Vec::new();
    }
    let engine = semver::Version::parse(ENGINE_VERSION).unwrap_or(semver::Version::new(0, 0, 0));
    let Some(Value::Seq(rules)) = root.get("rules").map(|n| &n.value) else {
        return Vec::new();
    };
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.get("requires")
                .and_then(Node::as_str)
                .and_then(|t| semver::VersionReq::parse(t).ok())
                .is_some_and(|req| !req.matches(&engine))
        })
        .map(|(i, _)| i)
        .collect()
}

/// `sha256:` and the hex digest of a rulebook's text (what `sha256sum` prints).
pub fn digest(text: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(text.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// `Some(reason)` when a rule declares `requires` that this engine does not meet and
/// the rulebook allows skipping it; an error when it does not allow that.
fn unsupported(cx: &mut Ctx<'_>, rule: &Node, skip_allowed: bool) -> Option<String> {
    let node = rule.get("requires")?;
    let Some(text) = node.as_str() else {
        cx.error(
            Code::BadSemver,
            node.pos,
            "a rule's `requires` must be a semver range such as \">=0.2\"",
            "quote it",
        );
        return None;
    };
    let req = match semver::VersionReq::parse(text) {
        Ok(r) => r,
        Err(e) => {
            cx.error(
                Code::BadSemver,
                node.pos,
                format!("`requires` is not a semver requirement: {e}"),
                "write a range such as \">=0.2\"",
            );
            return None;
        }
    };
    let engine = semver::Version::parse(ENGINE_VERSION).unwrap_or(semver::Version::new(0, 0, 0));
    if req.matches(&engine) {
        return None;
    }
    let reason = format!("needs rulecheck {req}; this is rulecheck {ENGINE_VERSION}");
    if skip_allowed {
        Some(reason)
    } else {
        let id = rule.get("id").and_then(Node::as_str).unwrap_or("?");
        cx.error(
            Code::IncompatibleVersion,
            node.pos,
            format!("the rule `{id}` {reason}"),
            "upgrade rulecheck, or set `unsupported_rules: skip` so such rules are left out with a reason",
        );
        None
    }
}

/// `overrides:` — an overlay's explicit changes to rules of earlier layers.
fn compile_overrides(cx: &mut Ctx<'_>, root: &Node) -> Vec<Override> {
    let Some(node) = root.get("overrides") else {
        return Vec::new();
    };
    let Value::Seq(items) = &node.value else {
        cx.error(
            Code::WrongType,
            node.pos,
            "`overrides` must be a list",
            "write `- disable: rule.id` or `- rule: rule.id` entries",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        if !cx.check_keys(item, "an override", OVERRIDE_KEYS, &[]) {
            continue;
        }
        let (target, disable) = match (item.get("disable"), item.get("rule")) {
            (Some(d), None) => (d, true),
            (None, Some(r)) => (r, false),
            _ => {
                cx.error(
                    Code::MissingKey,
                    item.pos,
                    "an override names its rule with either `disable: id` or `rule: id`",
                    "use `disable:` to turn a rule off, `rule:` to change its fields",
                );
                continue;
            }
        };
        let Some(id) = cx.string(target, "a rule id").map(str::to_owned) else {
            continue;
        };
        if disable && OVERRIDE_KEYS.iter().skip(3).any(|k| item.get(k).is_some()) {
            cx.error(
                Code::NotAllowed,
                item.pos,
                format!("`disable: {id}` cannot also change the rule's fields"),
                "drop the other keys",
            );
            continue;
        }
        let title = item
            .get("title")
            .and_then(|n| cx.localized_string(n, "a rule title"));
        let severity = item.get("severity").and_then(|n| severity(cx, n));
        let priority = item.get("priority").and_then(|n| match n.value {
            Value::Int(i) => Some(i),
            _ => {
                cx.error(
                    Code::WrongType,
                    n.pos,
                    "`priority` must be a whole number",
                    "",
                );
                None
            }
        });
        let message = item
            .get("message")
            .and_then(|n| cx.localized_template(n, "a rule message"));
        let fix = item
            .get("fix")
            .and_then(|n| cx.localized_template(n, "a rule fix"));
        if !disable
            && title.is_none()
            && severity.is_none()
            && priority.is_none()
            && message.is_none()
            && fix.is_none()
        {
            cx.error(
                Code::MissingKey,
                item.pos,
                format!("the override of `{id}` changes nothing"),
                "set at least one of title, severity, priority, message, fix",
            );
            continue;
        }
        out.push(Override {
            target: id,
            pos: target.pos,
            disable,
            title,
            severity,
            priority,
            message,
            fix,
        });
    }
    out
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn rule_id_pos(rule: &Node) -> Pos {
    rule.get("id").map(|n| n.pos).unwrap_or(rule.pos)
}

/// `format` and `requires`: refuse the whole rulebook when this engine cannot run it.
fn check_compatibility(cx: &mut Ctx<'_>, root: &Node) -> bool {
    let mut ok = true;
    if let Some(node) = root.get("format") {
        match node.as_str() {
            Some(FORMAT) => {}
            Some(other) => {
                ok = false;
                let newer = other
                    .strip_prefix("rulecheck/v")
                    .and_then(|v| v.parse::<u32>().ok())
                    .filter(|v| *v > 1);
                match newer {
                    Some(v) => cx.error(
                        Code::IncompatibleVersion,
                        node.pos,
                        format!("this rulebook is in format rulecheck/v{v}; rulecheck {ENGINE_VERSION} reads {FORMAT}"),
                        "upgrade rulecheck to a version that reads this format, or use a rulebook written for rulecheck/v1",
                    ),
                    None => cx.error(
                        Code::NotAllowed,
                        node.pos,
                        format!("unknown rulebook format `{other}`"),
                        format!("write `format: {FORMAT}`"),
                    ),
                }
            }
            None => {
                ok = false;
                cx.error(
                    Code::WrongType,
                    node.pos,
                    "`format` must be a string",
                    format!("write `format: {FORMAT}`"),
                );
            }
        }
    }
    if let Some(node) = root.get("requires") {
        match node.as_str().map(semver::VersionReq::parse) {
            Some(Ok(req)) => {
                let engine =
                    semver::Version::parse(ENGINE_VERSION).unwrap_or(semver::Version::new(0, 0, 0));
                if !req.matches(&engine) {
                    ok = false;
                    cx.error(
                        Code::IncompatibleVersion,
                        node.pos,
                        format!("this rulebook requires rulecheck {req}; this is rulecheck {ENGINE_VERSION}"),
                        "upgrade rulecheck, or use a version of the rulebook made for this one",
                    );
                }
            }
            Some(Err(e)) => {
                ok = false;
                cx.error(
                    Code::BadSemver,
                    node.pos,
                    format!("`requires` is not a semver requirement: {e}"),
                    "write a range such as \">=0.1\" or \"^0.1\"",
                );
            }
            None => {
                ok = false;
                cx.error(
                    Code::BadSemver,
                    node.pos,
                    "`requires` must be a string such as \">=0.1\"",
                    "quote the requirement",
                );
            }
        }
    }
    ok
}

fn compile_categories(cx: &mut Ctx<'_>, root: &Node) -> Vec<Category> {
    let mut out: Vec<Category> = Vec::new();
    let Some(node) = root.get("categories") else {
        return out;
    };
    let Value::Seq(items) = &node.value else {
        cx.error(
            Code::WrongType,
            node.pos,
            "`categories` must be a list",
            "write `- id: address` entries",
        );
        return out;
    };
    for item in items {
        if !cx.check_keys(item, "a category", CATEGORY_KEYS, &["id", "title"]) {
            continue;
        }
        let id = item
            .get("id")
            .and_then(|n| cx.string(n, "a category id").map(|s| (s.to_owned(), n.pos)));
        let title = item
            .get("title")
            .and_then(|n| cx.localized_string(n, "a category title"));
        if let (Some((id, pos)), Some(title)) = (id, title) {
            if out.iter().any(|c| c.id == id) {
                cx.error(
                    Code::DuplicateId,
                    pos,
                    format!("the category `{id}` is declared twice"),
                    "keep one declaration",
                );
                continue;
            }
            out.push(Category { id, title });
        }
    }
    out
}

fn compile_statuses(cx: &mut Ctx<'_>, root: &Node) -> Vec<StatusGuide> {
    let mut out = Vec::new();
    let Some(node) = root.get("statuses") else {
        return out;
    };
    let Some(entries) = node.as_map() else {
        cx.error(
            Code::WrongType,
            node.pos,
            "`statuses` must be a mapping of status code to guidance",
            "write `404:` entries",
        );
        return out;
    };
    for (k, v) in entries {
        let text = k.key_text().unwrap_or_default().into_owned();
        let key = if let Some(class) = text.strip_suffix("xx") {
            class
                .parse::<u16>()
                .ok()
                .filter(|c| (1..=5).contains(c))
                .map(StatusKey::Class)
        } else {
            text.parse::<u16>()
                .ok()
                .filter(|c| (100..=599).contains(c))
                .map(StatusKey::Code)
        };
        let Some(key) = key else {
            cx.error(
                Code::NotAllowed,
                k.pos,
                format!("`{text}` is not a status code or class"),
                "use a code from 100 to 599 (`404`) or a class (`4xx`)",
            );
            continue;
        };
        if !cx.check_keys(
            v,
            &format!("the status `{text}`"),
            STATUS_KEYS,
            &["meaning"],
        ) {
            continue;
        }
        let meaning = v
            .get("meaning")
            .and_then(|n| static_text(cx, n, "a status meaning"));
        let mut checks = Vec::new();
        if let Some(list) = v.get("checks") {
            match &list.value {
                Value::Seq(items) => {
                    for item in items {
                        if let Some(t) = static_text(cx, item, "a check") {
                            checks.push(t);
                        }
                    }
                }
                _ => cx.error(
                    Code::WrongType,
                    list.pos,
                    "`checks` must be a list",
                    "write one `- …` line per check",
                ),
            }
        }
        if let Some(meaning) = meaning {
            out.push(StatusGuide {
                key,
                meaning,
                checks,
            });
        }
    }
    out
}

/// A text with `{vars.*}` substituted (status guidance names no facts).
fn static_text(cx: &mut Ctx<'_>, node: &Node, what: &str) -> Option<Localized<String>> {
    let l = cx.localized(node, what)?;
    let en = substitute_vars(cx, &l.en.0, l.en.1, false)?;
    let zh = match l.zh {
        Some((text, pos)) => Some(substitute_vars(cx, &text, pos, false)?),
        None => None,
    };
    Some(Localized { en, zh })
}

struct PendingNamed<'n> {
    name: String,
    node: &'n Node,
}

fn compile_named<'n>(cx: &mut Ctx<'_>, root: &'n Node) -> Vec<PendingNamed<'n>> {
    let Some(node) = root.get("conditions") else {
        return Vec::new();
    };
    let Some(entries) = node.as_map() else {
        cx.error(
            Code::WrongType,
            node.pos,
            "`conditions` must be a mapping of name to condition",
            "write `name:` entries",
        );
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| {
            let name = k.key_text()?.into_owned();
            if !valid_name(&name) {
                cx.error(
                    Code::NotAllowed,
                    k.pos,
                    format!("`{name}` is not a valid condition name"),
                    "use letters, digits and `_`",
                );
            }
            Some(PendingNamed { name, node: v })
        })
        .collect()
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Named conditions may use each other, but not in a cycle.
fn check_cycles(cx: &mut Ctx<'_>, named: &[NamedCondition], root: &Node) {
    fn refs(c: &Condition, out: &mut Vec<usize>) {
        match c {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| refs(c, out)),
            Condition::Not(c) => refs(c, out),
            Condition::Named(i, _) => out.push(*i),
            Condition::Test(_) => {}
        }
    }
    let edges: Vec<Vec<usize>> = named
        .iter()
        .map(|n| {
            let mut out = Vec::new();
            refs(&n.condition, &mut out);
            out
        })
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; named.len()];
    fn visit(
        i: usize,
        edges: &[Vec<usize>],
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        let set = |state: &mut [u8], i: usize, v: u8| {
            if let Some(s) = state.get_mut(i) {
                *s = v;
            }
        };
        set(state, i, 1);
        path.push(i);
        for &j in edges.get(i).map(Vec::as_slice).unwrap_or(&[]) {
            match state.get(j) {
                Some(1) => {
                    let start = path.iter().position(|p| *p == j).unwrap_or(0);
                    return Some(path.get(start..).unwrap_or(&[]).to_vec());
                }
                Some(0) => {
                    if let Some(cycle) = visit(j, edges, state, path) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        set(state, i, 2);
        None
    }
    for i in 0..named.len() {
        if state.get(i) == Some(&0)
            && let Some(cycle) = visit(i, &edges, &mut state, &mut Vec::new())
        {
            let names: Vec<&str> = cycle
                .iter()
                .filter_map(|i| named.get(*i).map(|n| n.name.as_str()))
                .collect();
            let first = names.first().copied().unwrap_or("");
            let pos = root.key_pos("/conditions", first).unwrap_or_default();
            cx.error(
                Code::ConditionCycle,
                pos,
                format!(
                    "named conditions refer to each other in a cycle: {} → {first}",
                    names.join(" → ")
                ),
                "break the cycle: a named condition cannot use itself, directly or through others",
            );
            return;
        }
    }
}

fn compile_rule(
    cx: &mut Ctx<'_>,
    node: &Node,
    categories: &[Category],
    named: &HashMap<String, usize>,
) -> Option<Rule> {
    let required = ["id", "title", "category", "severity", "when", "message"];
    let what = match node.get("id").and_then(Node::as_str) {
        Some(id) => format!("the rule `{id}`"),
        None => "a rule".to_owned(),
    };
    if !cx.check_keys(node, &what, RULE_KEYS, &required) {
        return None;
    }
    let id = node.get("id").and_then(|n| {
        let s = cx.string(n, "a rule id")?;
        if !valid_id(s) {
            cx.error(
                Code::NotAllowed,
                n.pos,
                format!("the rule id `{s}` is not allowed"),
                "use lower-case letters, digits, `.`, `_` and `-`, e.g. `address.missing-v1`",
            );
        }
        Some(s.to_owned())
    });
    let title = node
        .get("title")
        .and_then(|n| cx.localized_string(n, "a rule title"));
    let category = node.get("category").and_then(|n| {
        let c = cx.string(n, "a category")?;
        if !categories.iter().any(|k| k.id == c) {
            let help = match suggest(c, categories.iter().map(|k| k.id.as_str())) {
                Some(close) => format!("did you mean `{close}`?"),
                None => "declare it under `categories:` first".to_owned(),
            };
            cx.error(
                Code::UndeclaredCategory,
                n.pos,
                format!("the category `{c}` is not declared"),
                help,
            );
        }
        Some(c.to_owned())
    });
    let severity = node.get("severity").and_then(|n| severity(cx, n));
    let status = match node.get("status") {
        None => Some(Lifecycle::Stable),
        Some(n) => match n.as_str() {
            Some("stable") => Some(Lifecycle::Stable),
            Some("preview") => Some(Lifecycle::Preview),
            Some("deprecated") => Some(Lifecycle::Deprecated),
            _ => {
                cx.error(
                    Code::NotAllowed,
                    n.pos,
                    format!("`status` must be one of {}", LIFECYCLES.join(", ")),
                    "preview rules run only with --preview",
                );
                None
            }
        },
    };
    let priority = match node.get("priority") {
        None => Some(0),
        Some(n) => match n.value {
            Value::Int(i) => Some(i),
            _ => {
                cx.error(
                    Code::WrongType,
                    n.pos,
                    "`priority` must be a whole number",
                    "higher numbers rank first, e.g. 80",
                );
                None
            }
        },
    };
    let fallback = match node.get("fallback") {
        None => Some(false),
        Some(n) => match n.value {
            Value::Bool(b) => Some(b),
            _ => {
                cx.error(
                    Code::WrongType,
                    n.pos,
                    "`fallback` must be true or false",
                    "",
                );
                None
            }
        },
    };
    let suppresses = match node.get("suppresses") {
        None => Some(Vec::new()),
        Some(n) => match &n.value {
            Value::Seq(items) => items
                .iter()
                .map(|i| cx.string(i, "a rule id in `suppresses`").map(str::to_owned))
                .collect::<Option<Vec<_>>>(),
            _ => {
                cx.error(
                    Code::WrongType,
                    n.pos,
                    "`suppresses` takes a list of rule ids",
                    "write `suppresses: [key.invalid-or-expired]`",
                );
                None
            }
        },
    };
    let when = node
        .get("when")
        .and_then(|n| compile_condition(cx, n, named));
    let message = node
        .get("message")
        .and_then(|n| cx.localized_template(n, "a rule message"));
    let fix = match node.get("fix") {
        Some(n) => cx.localized_template(n, "a rule fix").map(Some),
        None => Some(None),
    };
    let support = match node.get("support") {
        Some(n) => cx
            .localized_template(n, "a rule's support details")
            .map(Some),
        None => Some(None),
    };
    let docs = node.get("docs").and_then(|n| {
        let text = cx.string(n, "`docs`")?.to_owned();
        substitute_vars(cx, &text, n.pos, false)
    });
    let (examples_match, examples_no_match) = if cx.skip_examples {
        (Vec::new(), Vec::new())
    } else {
        compile_examples(cx, node.get("examples"))
    };
    Some(Rule {
        id: id?,
        title: title?,
        category: category?,
        severity: severity?,
        priority: priority?,
        fallback: fallback?,
        status: status?,
        overridden_by: Vec::new(),
        suppresses: suppresses?,
        when: when?,
        message: message?,
        fix: fix?,
        support: support?,
        docs,
        examples_match,
        examples_no_match,
        pos: node.pos,
    })
}

fn compile_examples(cx: &mut Ctx<'_>, node: Option<&Node>) -> (Vec<Example>, Vec<Example>) {
    let Some(node) = node else {
        return (Vec::new(), Vec::new());
    };
    if !cx.check_keys(node, "`examples`", EXAMPLE_KEYS, &[]) {
        return (Vec::new(), Vec::new());
    }
    let mut list = |key: &str| -> Vec<Example> {
        let Some(n) = node.get(key) else {
            return Vec::new();
        };
        let Value::Seq(items) = &n.value else {
            cx.error(
                Code::WrongType,
                n.pos,
                format!("`{key}` must be a list of captures"),
                "start each capture with `- `",
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| match Capture::from_json_strict(item.to_json()) {
                Ok(capture) => Some(Example { capture, pos: item.pos }),
                Err(e) => {
                    cx.error(
                        Code::BadExample,
                        item.pos,
                        format!("this example is not a valid capture: {e}"),
                        "see schemas/capture.schema.json: `request` (method, url, headers, body) and `response` (status, headers, body)",
                    );
                    None
                }
            })
            .collect()
    };
    (list("match"), list("no_match"))
}

/// Compiles a condition mapping. Several entries in one mapping must all hold.
fn compile_condition(
    cx: &mut Ctx<'_>,
    node: &Node,
    named: &HashMap<String, usize>,
) -> Option<Condition> {
    let Some(entries) = node.as_map() else {
        cx.error(
            Code::WrongType,
            node.pos,
            format!("a condition must be a mapping, found {}", node.type_name()),
            "write `fact: value`, or `all:`/`any:`/`not:`/`condition:`",
        );
        return None;
    };
    if entries.is_empty() {
        cx.error(
            Code::NotAllowed,
            node.pos,
            "an empty condition",
            "write at least one `fact: value` test",
        );
        return None;
    }
    let mut parts = Vec::new();
    let mut ok = true;
    for (k, v) in entries {
        let key = k.key_text().unwrap_or_default().into_owned();
        let part = match key.as_str() {
            "all" | "any" => compile_list(cx, &key, v, named).map(|cs| {
                if key == "all" {
                    Condition::All(cs)
                } else {
                    Condition::Any(cs)
                }
            }),
            "not" => compile_condition(cx, v, named).map(|c| Condition::Not(Box::new(c))),
            "condition" => match v.as_str() {
                Some(name) => match named.get(name) {
                    Some(i) => Some(Condition::Named(*i, name.to_owned())),
                    None => {
                        let help = match suggest(name, named.keys().map(String::as_str)) {
                            Some(close) => format!("did you mean `{close}`?"),
                            None => "declare it under `conditions:`".to_owned(),
                        };
                        cx.error(
                            Code::UnknownNamedCondition,
                            v.pos,
                            format!("there is no named condition `{name}`"),
                            help,
                        );
                        None
                    }
                },
                None => {
                    cx.error(
                        Code::WrongType,
                        v.pos,
                        "`condition` takes the name of a named condition",
                        "",
                    );
                    None
                }
            },
            fact_name => match Fact::parse(fact_name) {
                Ok(fact) => compile_test(cx, fact, fact_name, k.pos, v),
                Err(message) => {
                    let help = if let Some(close) = suggest(fact_name, COMBINATORS.iter().copied())
                    {
                        format!("did you mean `{close}`?")
                    } else {
                        "use a fact from docs/rulebook-format.md, or all/any/not/condition"
                            .to_owned()
                    };
                    cx.error(Code::UnknownFact, k.pos, message, help);
                    None
                }
            },
        };
        match part {
            Some(p) => parts.push(p),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    Some(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Condition::All(parts)
    })
}

fn compile_list(
    cx: &mut Ctx<'_>,
    key: &str,
    node: &Node,
    named: &HashMap<String, usize>,
) -> Option<Vec<Condition>> {
    let Value::Seq(items) = &node.value else {
        cx.error(
            Code::WrongType,
            node.pos,
            format!(
                "`{key}` takes a list of conditions, found {}",
                node.type_name()
            ),
            "start each condition with `- `",
        );
        return None;
    };
    if items.is_empty() {
        cx.error(
            Code::NotAllowed,
            node.pos,
            format!("`{key}` has no conditions"),
            "add at least one",
        );
        return None;
    }
    let out: Vec<Option<Condition>> = items
        .iter()
        .map(|i| compile_condition(cx, i, named))
        .collect();
    out.into_iter().collect()
}

/// A test on one fact: a scalar (equality, or a status class like `4xx`), a list
/// (one of), or a mapping of operators.
/// `derive:` — facts the rulebook defines from other facts. Each case reads a source
/// fact (the definition's `from`, or its own), may test it (operators, as in a
/// condition), and gives a fixed `value` or the part of the source's text an `extract`
/// regex captures; the first case that holds wins.
fn compile_derived(cx: &mut Ctx<'_>, root: &Node) {
    let Some(node) = root.get("derive") else {
        return;
    };
    let Some(entries) = node.as_map() else {
        cx.error(
            Code::WrongType,
            node.pos,
            "`derive` must be a mapping of name to definition",
            "write `key_platform:` entries",
        );
        return;
    };
    for (k, v) in entries {
        let name = k.key_text().unwrap_or_default().into_owned();
        if !valid_name(&name) {
            cx.error(
                Code::NotAllowed,
                k.pos,
                format!("`{name}` is not a valid name for a derived fact"),
                "use letters, digits and `_`",
            );
            continue;
        }
        if !cx.check_keys(
            v,
            &format!("the derived fact `{name}`"),
            &["from", "cases"],
            &["cases"],
        ) {
            continue;
        }
        let default_source = match v.get("from") {
            Some(from) => match derived_source(cx, from) {
                Some(source) => Some(source),
                None => continue,
            },
            None => None,
        };
        let Some(cases_node) = v.get("cases") else {
            continue;
        };
        let Value::Seq(items) = &cases_node.value else {
            cx.error(
                Code::WrongType,
                cases_node.pos,
                "`cases` must be a list",
                "write `- when: {…}` and `value: …` entries",
            );
            continue;
        };
        if items.is_empty() {
            cx.error(
                Code::NotAllowed,
                cases_node.pos,
                format!("the derived fact `{name}` has no cases"),
                "add at least one case, or remove the derived fact",
            );
        }
        // Declared even when a case has an error, so rules that use it are not also refused.
        let cases: Vec<DerivedCase> = items
            .iter()
            .filter_map(|item| compile_derived_case(cx, item, default_source.as_ref()))
            .collect();
        cx.derived.push(Arc::new(Derived { name, cases }));
    }
}

/// A derived fact's `from`: the fact's name as written and the fact.
fn derived_source(cx: &mut Ctx<'_>, from: &Node) -> Option<(String, Fact)> {
    let name = cx.string(from, "`from`")?.to_owned();
    let fact = match Fact::parse(&name) {
        Ok(f) => f,
        Err(message) => {
            cx.error(
                Code::UnknownFact,
                from.pos,
                message,
                "name a fact from docs/rulebook-format.md",
            );
            return None;
        }
    };
    let fact = resolve_fact(cx, fact, from.pos)?;
    Some((name, fact))
}

fn compile_derived_case(
    cx: &mut Ctx<'_>,
    item: &Node,
    default_source: Option<&(String, Fact)>,
) -> Option<DerivedCase> {
    if !cx.check_keys(item, "a case", &["from", "when", "value", "extract"], &[]) {
        return None;
    }
    let own_source = item.get("from").is_some();
    let (source_name, source) = match item.get("from") {
        Some(from) => derived_source(cx, from)?,
        None => match default_source {
            Some(s) => s.clone(),
            None => {
                cx.error(
                    Code::MissingKey,
                    item.pos,
                    "a case has no `from`, and its derived fact has none either",
                    "add `from: <fact>` to the derived fact (or to the case)",
                );
                return None;
            }
        },
    };
    let test = match item.get("when") {
        Some(when) => {
            let Some(Condition::Test(test)) =
                compile_test(cx, source.clone(), &source_name, when.pos, when)
            else {
                return None;
            };
            let Test {
                ops, ignore_case, ..
            } = test;
            let test: DerivedTest =
                Box::new(move |v| ops.iter().all(|op| op.holds(v, ignore_case)));
            Some(test)
        }
        None => None,
    };
    let result = match (item.get("value"), item.get("extract")) {
        (Some(value), None) => {
            DerivedResult::Value(cx.string(value, "a case's `value`")?.to_owned())
        }
        (None, Some(extract)) => DerivedResult::Extract(compile_extract(cx, extract)?),
        (Some(_), Some(_)) => {
            cx.error(
                Code::NotAllowed,
                item.pos,
                "a case has both `value` and `extract`",
                "give a fixed `value`, or `extract` it from the source's text: not both",
            );
            return None;
        }
        (None, None) => {
            cx.error(
                Code::MissingKey,
                item.pos,
                "a case has neither `value` nor `extract`",
                "add `value: <text>`, or `extract: '<regex with one capture group>'`",
            );
            return None;
        }
    };
    if test.is_none() && matches!(result, DerivedResult::Value(_)) {
        cx.error(
            Code::MissingKey,
            item.pos,
            "a case with a fixed `value` has no `when`",
            "add `when: { … }`: the test on the source fact that gives this value",
        );
        return None;
    }
    Some(DerivedCase {
        source,
        source_name,
        own_source,
        test,
        result,
    })
}

/// An `extract:` regex: the derived value is its group named `value`, or its only
/// capture group. Compiled at once: extracts are few, and the group count is checked here.
fn compile_extract(cx: &mut Ctx<'_>, node: &Node) -> Option<DerivedExtract> {
    let source = cx.string(node, "`extract`")?.to_owned();
    let pattern = compile_regex(cx, &source, node, false)?;
    // The group to keep is checked when the rulebook is compiled eagerly (`lint`,
    // rulebooks from disk); at run time it is the one named `value`, else the only one.
    if !cx.lazy_regex {
        let hir = regex_syntax::Parser::new().parse(&source).ok()?;
        let groups = hir.properties().explicit_captures_len();
        if value_group(&hir).is_none() && groups != 1 {
            cx.error(
                Code::NotAllowed,
                node.pos,
                format!(
                    "`extract` needs exactly one capture group (or one named `value`); this pattern has {groups}"
                ),
                "wrap the part to keep in ( ), make other groups non-capturing with (?: ), or name it (?P<value> )",
            );
            return None;
        }
    }
    let named = ["(?P<value>", "(?<value>"]
        .iter()
        .any(|n| source.contains(n));
    Some(Box::new(move |text: &str| {
        let m = pattern.group(text, named)?;
        (!m.is_empty()).then(|| m.to_owned())
    }))
}

/// The index of the capture group named `value`, if the pattern has one.
fn value_group(hir: &regex_syntax::hir::Hir) -> Option<usize> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some("value") => usize::try_from(c.index).ok(),
        HirKind::Capture(c) => value_group(&c.sub),
        HirKind::Repetition(r) => value_group(&r.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().find_map(value_group),
        _ => None,
    }
}

/// A variable holding a URL also gives its parts: `base_url.host`, `.scheme`,
/// `.origin`, `.path` (unless the rulebook declares those names itself).
fn add_url_parts(vars: &mut BTreeMap<String, String>) {
    let mut derived = Vec::new();
    for (name, value) in vars.iter() {
        let Ok(url) = url::Url::parse(value) else {
            continue;
        };
        let Some(host) = url.host_str() else {
            continue;
        };
        let origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/').to_owned();
        for (part, v) in [
            ("host", host.to_owned()),
            ("scheme", url.scheme().to_owned()),
            ("origin", origin),
            ("path", path),
        ] {
            derived.push((format!("{name}.{part}"), v));
        }
    }
    for (k, v) in derived {
        vars.entry(k).or_insert(v);
    }
}

/// Resolves the names a rulebook defines: a variable is a constant for the whole run,
/// `derived.name` the derived fact declared above.
fn resolve_fact(cx: &mut Ctx<'_>, fact: Fact, pos: Pos) -> Option<Fact> {
    Some(match fact {
        Fact::Var(name) => match cx.source_vars.get(&name) {
            Some(value) => Fact::Const(value.clone()),
            None => {
                let help = match suggest(&name, cx.source_vars.keys().map(String::as_str)) {
                    Some(close) => format!("did you mean `vars.{close}`?"),
                    None => "declare it under `vars:`".to_owned(),
                };
                cx.error(
                    Code::BadTemplate,
                    pos,
                    format!("the rulebook declares no variable `{name}`"),
                    help,
                );
                return None;
            }
        },
        Fact::DerivedRef(name) => match cx.derived.iter().find(|d| d.name == name) {
            Some(d) => Fact::Derived(d.clone()),
            None => {
                let help = match suggest(&name, cx.derived.iter().map(|d| d.name.as_str())) {
                    Some(close) => format!("did you mean `derived.{close}`?"),
                    None => "declare it under `derive:` (before it is used)".to_owned(),
                };
                cx.error(
                    Code::UnknownFact,
                    pos,
                    format!("the rulebook derives no fact `{name}`"),
                    help,
                );
                return None;
            }
        },
        other => other,
    })
}

fn compile_test(
    cx: &mut Ctx<'_>,
    fact: Fact,
    fact_name: &str,
    pos: Pos,
    node: &Node,
) -> Option<Condition> {
    let fact = resolve_fact(cx, fact, pos)?;
    let mut test = Test {
        fact,
        fact_name: fact_name.to_owned(),
        ops: Vec::new(),
        ignore_case: false,
        pos,
    };
    match &node.value {
        Value::Seq(items) => {
            let values: Option<Vec<Json>> = items.iter().map(|i| scalar(cx, i)).collect();
            test.ops.push(Op::In(values?));
        }
        Value::Map(entries) => {
            test.ignore_case = entries.iter().any(|(k, v)| {
                k.as_str() == Some("ignore_case") && matches!(v.value, Value::Bool(true))
            });
            for (k, v) in entries {
                let name = k.key_text().unwrap_or_default().into_owned();
                if let Some(op) = compile_op(cx, &name, k.pos, v, test.ignore_case) {
                    test.ops.extend(op);
                }
            }
            if test.ops.is_empty() {
                if !cx.diagnostics.iter().any(|d| d.line == Some(node.pos.line)) {
                    cx.error(
                        Code::NotAllowed,
                        node.pos,
                        format!("no operator given for `{fact_name}`"),
                        "add e.g. `equals:` or `matches:`",
                    );
                }
                return None;
            }
        }
        Value::Str(s) if is_class(s) => {
            test.ops.push(Op::Class(class_of(s)));
        }
        _ => {
            let value = scalar(cx, node)?;
            test.ops.push(Op::Equals(value));
        }
    }
    Some(Condition::Test(test))
}

fn is_class(s: &str) -> bool {
    s.len() == 3
        && s.ends_with("xx")
        && s.as_bytes()
            .first()
            .is_some_and(|b| (b'1'..=b'5').contains(b))
}

/// `4xx` → 4 (callers check [`is_class`] first).
fn class_of(s: &str) -> u16 {
    s.as_bytes()
        .first()
        .map(|b| u16::from(b.saturating_sub(b'0')))
        .unwrap_or(0)
}

/// A scalar operand; `{vars.NAME}` inside strings is substituted.
fn scalar(cx: &mut Ctx<'_>, node: &Node) -> Option<Json> {
    match &node.value {
        Value::Str(s) => substitute_vars(cx, s, node.pos, false).map(Json::String),
        Value::Seq(_) | Value::Map(_) => {
            cx.error(
                Code::WrongType,
                node.pos,
                format!("expected a single value here, found {}", node.type_name()),
                "write a string, number or boolean",
            );
            None
        }
        _ => Some(node.to_json()),
    }
}

fn substitute_vars(cx: &mut Ctx<'_>, text: &str, pos: Pos, escape_regex: bool) -> Option<String> {
    if !text.contains("{vars.") {
        return Some(text.to_owned());
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some((before, from)) = rest.find("{vars.").and_then(|i| rest.split_at_checked(i)) {
        out.push_str(before);
        let after = from.strip_prefix("{vars.").unwrap_or(from);
        let Some((name, _)) = after.split_once('}') else {
            out.push_str(from);
            rest = "";
            break;
        };
        match cx.source_vars.get(name) {
            Some(v) => out.push_str(&if escape_regex {
                regex::escape(v)
            } else {
                v.clone()
            }),
            None => {
                cx.error(
                    Code::BadTemplate,
                    pos,
                    format!("`{{vars.{name}}}`: the rulebook declares no variable `{name}`"),
                    "declare it under `vars:`",
                );
                return None;
            }
        }
        rest = after.get(name.len() + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Some(out)
}

fn number(cx: &mut Ctx<'_>, op: &str, node: &Node) -> Option<f64> {
    match node.value {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => {
            cx.error(
                Code::WrongType,
                node.pos,
                format!("`{op}` takes a number, found {}", node.type_name()),
                "write a number without quotes",
            );
            None
        }
    }
}

fn compile_op(
    cx: &mut Ctx<'_>,
    name: &str,
    key_pos: Pos,
    node: &Node,
    ignore_case: bool,
) -> Option<Vec<Op>> {
    let lower = |s: String| if ignore_case { s.to_lowercase() } else { s };
    let op = match name {
        "ignore_case" => {
            if !matches!(node.value, Value::Bool(_)) {
                cx.error(
                    Code::WrongType,
                    node.pos,
                    "`ignore_case` must be true or false",
                    "",
                );
            }
            return Some(Vec::new());
        }
        "equals" => Op::Equals(scalar(cx, node)?),
        "in" => match &node.value {
            Value::Seq(items) => {
                let values: Option<Vec<Json>> = items.iter().map(|i| scalar(cx, i)).collect();
                Op::In(values?)
            }
            _ => {
                cx.error(
                    Code::WrongType,
                    node.pos,
                    "`in` takes a list of values",
                    "write `in: [401, 403]`",
                );
                return None;
            }
        },
        "gt" => Op::Gt(number(cx, name, node)?),
        "gte" => Op::Gte(number(cx, name, node)?),
        "lt" => Op::Lt(number(cx, name, node)?),
        "lte" => Op::Lte(number(cx, name, node)?),
        "between" => match &node.value {
            Value::Seq(items) if items.len() == 2 => {
                let (Some(lo), Some(hi)) = (items.first(), items.get(1)) else {
                    return None;
                };
                let lo = number(cx, name, lo)?;
                let hi = number(cx, name, hi)?;
                if lo > hi {
                    cx.error(Code::NotAllowed, node.pos, format!("`between: [{lo}, {hi}]` can never hold: the low end is above the high end"), "swap the two numbers");
                    return None;
                }
                Op::Between(lo, hi)
            }
            _ => {
                cx.error(
                    Code::WrongType,
                    node.pos,
                    "`between` takes two numbers, low and high",
                    "write `between: [500, 599]`",
                );
                return None;
            }
        },
        "class" => {
            let text = node.key_text().unwrap_or_default().into_owned();
            let class = if is_class(&text) {
                Some(class_of(&text))
            } else {
                text.parse::<u16>().ok().filter(|c| (1..=5).contains(c))
            };
            match class {
                Some(c) => Op::Class(c),
                None => {
                    cx.error(
                        Code::NotAllowed,
                        node.pos,
                        format!("`{text}` is not a status class"),
                        "write `1xx` … `5xx`",
                    );
                    return None;
                }
            }
        }
        "matches" => {
            let pattern = cx.string(node, "`matches`")?;
            let pattern = substitute_vars(cx, pattern, node.pos, true)?;
            Op::Matches(compile_regex(cx, &pattern, node, ignore_case)?)
        }
        "starts_with" | "ends_with" | "contains" => {
            let s = cx.string(node, &format!("`{name}`"))?;
            let s = lower(substitute_vars(cx, s, node.pos, false)?);
            match name {
                "starts_with" => Op::StartsWith(s),
                "ends_with" => Op::EndsWith(s),
                _ => Op::Contains(s),
            }
        }
        "exists" => match node.value {
            Value::Bool(b) => Op::Exists(b),
            _ => {
                cx.error(
                    Code::WrongType,
                    node.pos,
                    "`exists` must be true or false",
                    "",
                );
                return None;
            }
        },
        "len" => match &node.value {
            Value::Int(i) => Op::Len(vec![Op::Equals(Json::from(*i))]),
            Value::Map(entries) => {
                let mut ops = Vec::new();
                for (k, v) in entries {
                    let n = k.key_text().unwrap_or_default().into_owned();
                    if !["equals", "in", "gt", "gte", "lt", "lte", "between"].contains(&n.as_str())
                    {
                        cx.error(
                            Code::UnknownKey,
                            k.pos,
                            format!("`len` cannot use `{n}`"),
                            "use equals, in, gt, gte, lt, lte or between",
                        );
                        continue;
                    }
                    ops.extend(compile_op(cx, &n, k.pos, v, false)?);
                }
                Op::Len(ops)
            }
            _ => {
                cx.error(
                    Code::WrongType,
                    node.pos,
                    "`len` takes a number or numeric operators",
                    "write `len: {lt: 51}`",
                );
                return None;
            }
        },
        "near" => {
            if !cx.check_keys(node, "`near`", &["to", "max"], &["to"]) {
                return None;
            }
            let to: Vec<String> = match node.get("to").map(|n| (&n.value, n.pos)) {
                Some((Value::Seq(items), _)) => {
                    let mut out = Vec::new();
                    for i in items {
                        let t = cx.string(i, "a `near` target")?;
                        out.push(substitute_vars(cx, t, i.pos, false)?.to_lowercase());
                    }
                    out
                }
                Some((_, pos)) => {
                    cx.error(
                        Code::WrongType,
                        pos,
                        "`to` takes a list of texts",
                        "write `to: [api.moleapi.com]`",
                    );
                    return None;
                }
                None => return None,
            };
            let max = match node.get("max").map(|n| (&n.value, n.pos)) {
                None => 2,
                Some((Value::Int(i), _)) if (1..=10).contains(i) => *i as usize,
                Some((_, pos)) => {
                    cx.error(
                        Code::NotAllowed,
                        pos,
                        "`max` must be a number of edits from 1 to 10",
                        "2 catches most typos",
                    );
                    return None;
                }
            };
            Op::Near { to, max }
        }
        "type" => {
            let names: Vec<&Node> = match &node.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![node],
            };
            let mut types = Vec::new();
            for n in names {
                let t = cx.string(n, "a type")?;
                if !TYPES.contains(&t) {
                    let help = match suggest(t, TYPES.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("types: {}", TYPES.join(", ")),
                    };
                    cx.error(
                        Code::NotAllowed,
                        n.pos,
                        format!("`{t}` is not a JSON type"),
                        help,
                    );
                    return None;
                }
                types.push(t.to_owned());
            }
            Op::Type(types)
        }
        other => {
            let help = match suggest(other, OPERATORS.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("operators: {}", OPERATORS.join(", ")),
            };
            cx.error(
                Code::UnknownKey,
                key_pos,
                format!("unknown operator `{other}`"),
                help,
            );
            return None;
        }
    };
    Some(vec![op])
}

/// Patterns come from `matches:` and `extract:` only; `build.rs` works out the
/// built-in rulebook's required literals for exactly those.
fn compile_regex(
    cx: &mut Ctx<'_>,
    pattern: &str,
    node: &Node,
    ignore_case: bool,
) -> Option<super::condition::Pattern> {
    if cx.lazy_regex {
        // Trusted (the built-in rulebook): build the matcher when a text could match it.
        return Some(super::condition::Pattern::lazy(
            pattern,
            ignore_case,
            cx.regex_bytes,
        ));
    }
    compile_regex_now(cx, pattern, node, ignore_case).map(Into::into)
}

fn compile_regex_now(
    cx: &mut Ctx<'_>,
    pattern: &str,
    node: &Node,
    ignore_case: bool,
) -> Option<regex::Regex> {
    match RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .size_limit(cx.regex_bytes)
        .build()
    {
        Ok(re) => Some(re),
        Err(e) => {
            // regex-syntax knows where in the pattern the problem is.
            let (offset, reason) = match regex_syntax::Parser::new().parse(pattern) {
                Err(regex_syntax::Error::Parse(p)) => (p.span().start.offset, p.kind().to_string()),
                Err(regex_syntax::Error::Translate(t)) => {
                    (t.span().start.offset, t.kind().to_string())
                }
                _ => (
                    0,
                    e.to_string().lines().last().unwrap_or("").trim().to_owned(),
                ),
            };
            let char_offset = pattern
                .get(..offset)
                .map(|p| p.chars().count())
                .unwrap_or(0);
            let mut help =
                String::from("the regex crate's syntax has no look-around or back-references");
            if reason.contains("look-around") || pattern.contains("(?=") || pattern.contains("(?!")
            {
                help = "look-ahead/look-behind are not supported: match the text itself, or use `not:` around a second test".into();
            } else if pattern.contains("\\1") || reason.contains("backreference") {
                help = "back-references are not supported: spell out the alternatives".into();
            } else if reason.contains("size limit") || e.to_string().contains("size limit") {
                help = "the pattern compiles too large: simplify it or split it into several tests"
                    .into();
            }
            let pos = offset_pos(cx.source, node.pos, char_offset);
            cx.error(
                Code::BadRegex,
                pos,
                format!("the regex does not compile: {reason}"),
                help,
            );
            None
        }
    }
}
