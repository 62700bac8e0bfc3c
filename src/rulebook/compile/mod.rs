//! Turns a rulebook's node tree into a [`Rulebook`], checking everything the schema
//! cannot: fact names, regexes, templates, references, duplicate ids, versions.
//! Every problem is collected; compilation never stops at the first.

mod categories;
mod conditions;
mod derived;
mod header;
mod named;
mod overrides;
mod patterns;
mod rules;
mod vars;
mod words;

use categories::*;
use conditions::*;
use derived::*;
pub use header::rules_to_skip;
use header::*;
use named::*;
use overrides::*;
use patterns::*;
use rules::*;
use vars::*;
use words::*;

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use super::condition::{Condition, OPERATORS, Op, TYPES, Test};
use super::template::Template;
use super::{
    Category, ENGINE_VERSION, Example, FORMAT, Lifecycle, LoadOptions, Localized, NamedCondition,
    Override, Ranking, Rule, Rulebook, Severity, SkippedRule, StatusGuide, StatusKey, Variant,
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
    "ranking",
    "unsupported_rules",
    "words",
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
    "variants",
    "examples",
];

/// Keys of a rule's variant.
pub const VARIANT_KEYS: &[&str] = &["when", "severity", "message", "fix"];

/// Keys of an override in an overlay.
pub const OVERRIDE_KEYS: &[&str] = &[
    "disable", "rule", "reason", "title", "severity", "priority", "message", "fix",
];

/// Rule lifecycles.
pub const LIFECYCLES: &[&str] = &["stable", "preview", "deprecated"];

/// Keys of a category.
pub const CATEGORY_KEYS: &[&str] = &["id", "title", "suppresses"];

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
    /// Leave out the rules' examples (see `LoadOptions::skip_examples`).
    skip_examples: bool,
    /// Largest compiled size of one regex (`--limit regex-bytes`).
    regex_bytes: usize,
    /// The budget of all the rulebook's patterns ran out, and that was said.
    regex_budget_spent: bool,
    /// What the patterns built so far are charged (see `patterns::charge`).
    regex_charged: usize,
    /// Patterns charged `regex_bytes`, to measure if the charges pass the budget.
    regex_unmeasured: Vec<(String, bool)>,
    /// Categories the layers below declare (`LoadOptions::inherited_categories`).
    inherited_categories: &'a [String],
    /// The whole budget (`--limit regex-total-bytes`), for its error.
    regex_total_bytes: usize,
    /// Most condition nodes a rule or named condition stands for, named ones written
    /// out (`--limit condition-nodes`).
    condition_nodes: usize,
    /// Deepest nesting, YAML or conditions with named ones written out
    /// (`--limit yaml-depth`).
    yaml_depth: usize,
    source_vars: BTreeMap<String, String>,
    /// The derived facts declared so far, in declaration order.
    derived: Vec<Arc<Derived>>,
    /// The vocabulary declared under `words:`.
    words: Vec<super::condition::Word>,
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
        skip_examples: options.skip_examples,
        regex_bytes: options.limits.regex_bytes,
        regex_budget_spent: false,
        regex_charged: 0,
        regex_unmeasured: Vec::new(),
        regex_total_bytes: options.limits.regex_total_bytes,
        inherited_categories: &options.inherited_categories,
        condition_nodes: options.limits.condition_nodes,
        yaml_depth: options.limits.yaml_depth,
        source_vars: options.inherited_vars.clone(),
        derived: Vec::new(),
        words: Vec::new(),
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
    cx.words = compile_words(&mut cx, root);
    compile_derived(&mut cx, root);
    let categories = compile_categories(&mut cx, root);
    let statuses = compile_statuses(&mut cx, root);
    let ranking = compile_ranking(&mut cx, root, &categories);
    let named = compile_named(&mut cx, root);
    // The layers below come first (their conditions index among themselves), then this
    // rulebook's own, which may use theirs and shadow a name.
    let inherited = &options.inherited_named;
    let named_index: HashMap<String, usize> = inherited
        .iter()
        .map(|n| n.name.clone())
        .chain(named.iter().map(|n| n.name.clone()))
        .enumerate()
        .map(|(i, name)| (name, i))
        .collect();
    let named: Vec<NamedCondition> = inherited
        .iter()
        .cloned()
        .chain(named.into_iter().map(|n| {
            NamedCondition {
                condition: compile_condition(&mut cx, n.node, &named_index)
                    .unwrap_or(Condition::All(Vec::new())),
                name: n.name,
            }
        }))
        .collect();
    // Sizes only without a cycle: a cycle has none.
    let named_sizes = check_cycles(&mut cx, &named, root)
        .map(|order| check_named_sizes(&mut cx, &named, &order, root));

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

    if let Some(sizes) = &named_sizes {
        check_rule_sizes(&mut cx, &rules, sizes);
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
            ranking,
            inherited_named: options.inherited_named.len(),
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

/// `sha256:` and the hex digest of a rulebook's text (what `sha256sum` prints).
pub fn digest(text: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(text.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
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
