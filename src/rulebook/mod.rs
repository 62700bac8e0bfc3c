//! Rulebooks: load (YAML → node tree), validate (JSON Schema + semantics), compile
//! (regexes, fact names, templates, references resolved once) into a [`Rulebook`]
//! that evaluation only reads.
//!
//! All problems of a file are collected and returned together as
//! [`Diagnostic`]s, each with file, line and column.

pub mod compile;
pub mod condition;
pub mod pattern;
pub mod schema;
pub mod template;

use std::collections::BTreeMap;
use std::path::Path;

pub use compile::compile;
pub use condition::{Condition, Op, Test};
pub use pattern::Pattern;
pub use template::Template;

use crate::capture::Capture;
use crate::diagnostic::{Code, Diagnostic};
use crate::yaml::{self, Pos, YamlLimits};

/// The rulebook format this engine reads.
pub const FORMAT: &str = "rulecheck/v1";

/// This engine's version, matched against each rulebook's `requires`.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The rulebooks a folder holds, as `--rules DIR` loads them: its `*.yaml` and `*.yml`
/// files (not its subfolders), in name order.
pub fn rulebooks_in(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut found: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    found.sort();
    Ok(found)
}

/// What names the built-in rulebook where a rulebook path goes (`--rules builtin`,
/// `rulecheck lint builtin team.yaml`), unless a file of that name exists.
pub const BUILTIN: &str = "builtin";

/// The default rulebook's text, compiled into the binary.
const DEFAULT_RULEBOOK_TEXT: &str = include_str!("../../rules/moleapi.yaml");

/// The default rulebook, compiled into the binary, as its source is named wherever a
/// path would be (reports, `explain`, lint): `builtin:NAME@VERSION`, which means the
/// same outside a checkout as in it.
pub fn default_rulebook_source() -> (String, &'static str) {
    (builtin_source(DEFAULT_RULEBOOK_TEXT), DEFAULT_RULEBOOK_TEXT)
}

/// `builtin:NAME@VERSION` from a rulebook's top-level `name:` and `version:` lines
/// (read before it is parsed, as its problems are reported under this name).
fn builtin_source(text: &str) -> String {
    let top = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().trim_matches(['"', '\''].as_slice()))
            .filter(|v| !v.is_empty())
    };
    match (top("name:"), top("version:")) {
        (Some(name), Some(version)) => format!("{BUILTIN}:{name}@{version}"),
        (Some(name), None) => format!("{BUILTIN}:{name}"),
        _ => BUILTIN.to_owned(),
    }
}

/// A language for messages. English is the fallback for any text without a translation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// Picks the language from a locale string such as `zh_CN.UTF-8`.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// Text in English with an optional Chinese translation.
#[derive(Clone, Debug, PartialEq)]
pub struct Localized<T> {
    pub en: T,
    pub zh: Option<T>,
}

impl<T> Localized<T> {
    pub fn get(&self, lang: Lang) -> &T {
        match lang {
            Lang::Zh => self.zh.as_ref().unwrap_or(&self.en),
            Lang::En => &self.en,
        }
    }
}

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A category of causes; their order in the rulebook is the order of the guide's checks.
#[derive(Clone, Debug)]
pub struct Category {
    pub id: String,
    pub title: Localized<String>,
    /// Rules any finding of this category makes moot (`quota` makes `rate.frequency`
    /// moot: an empty balance is not a rate limit). Ids or `prefix.*` patterns.
    pub suppresses: Vec<String>,
    pub pos: Pos,
}

/// The guide's rule of thumb for one status (`401`) or class (`4xx`): which categories
/// rank first ("for 401, the key first"). Categories it does not list follow in the
/// order of `categories:`.
#[derive(Clone, Debug)]
pub struct Ranking {
    pub key: StatusKey,
    pub order: Vec<String>,
    pub pos: Pos,
}

impl StatusKey {
    /// `404` or `4xx`, as the rulebook writes it.
    pub fn label(&self) -> String {
        match self {
            StatusKey::Code(c) => c.to_string(),
            StatusKey::Class(c) => format!("{c}xx"),
        }
    }
}

/// Whether a `suppresses` entry names a rule: its id, or a `prefix.*` pattern
/// (`key.*` names every rule whose id starts with `key.`).
pub fn suppression_targets(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('.') => id.starts_with(prefix),
        _ => pattern == id,
    }
}

/// The guide's generic advice for a status code (`404`) or class (`5xx`).
#[derive(Clone, Debug)]
pub struct StatusGuide {
    /// The code (`404`) or the class's hundred (`5` for `5xx`).
    pub key: StatusKey,
    pub meaning: Localized<String>,
    pub checks: Vec<Localized<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKey {
    Code(u16),
    Class(u16),
}

/// A reusable condition declared under `conditions:`.
#[derive(Clone, Debug)]
pub struct NamedCondition {
    pub name: String,
    pub condition: Condition,
}

/// A captured example a rule must (or must not) fire on.
#[derive(Clone, Debug)]
pub struct Example {
    pub capture: Capture,
    pub pos: Pos,
}

/// One compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub title: Localized<String>,
    pub category: String,
    pub severity: Severity,
    /// Higher comes first when several rules fire.
    pub priority: i64,
    /// Fires only when no other rule of the rulebook set fired (e.g. `ok`).
    pub fallback: bool,
    pub status: Lifecycle,
    /// Names of the layers that overrode this rule (provenance).
    pub overridden_by: Vec<String>,
    /// Rules this one makes moot: when this rule fires, they are not reported
    /// (a request to api.openai.com makes "key invalid" moot).
    pub suppresses: Vec<String>,
    pub when: Condition,
    pub message: Localized<Template>,
    pub fix: Option<Localized<Template>>,
    /// What to send support, ready to paste (one item per line).
    pub support: Option<Localized<Template>>,
    pub docs: Option<String>,
    /// Other wordings for other situations: the first whose `when` holds replaces the
    /// rule's severity, message or fix (a success is worded as a success; a symptom
    /// that only suggests the cause is hedged).
    pub variants: Vec<Variant>,
    pub examples_match: Vec<Example>,
    pub examples_no_match: Vec<Example>,
    pub pos: Pos,
}

/// One of a rule's `variants:`.
#[derive(Clone, Debug)]
pub struct Variant {
    pub when: Condition,
    pub severity: Option<Severity>,
    pub message: Option<Localized<Template>>,
    pub fix: Option<Localized<Template>>,
    pub pos: Pos,
}

/// A compiled rulebook: everything resolved, nothing left to parse.
#[derive(Clone, Debug)]
pub struct Rulebook {
    pub name: String,
    pub version: semver::Version,
    pub requires: Option<semver::VersionReq>,
    pub description: Option<String>,
    /// Where it was loaded from (a path, or `builtin:moleapi@VERSION` for the built-in one).
    pub source: String,
    pub vars: BTreeMap<String, String>,
    pub categories: Vec<Category>,
    pub statuses: Vec<StatusGuide>,
    /// Per status or class, the categories that rank first.
    pub ranking: Vec<Ranking>,
    /// Its named conditions, after copies of those of the layers below it (the first
    /// `inherited_named`): its rules may use either.
    pub named: Vec<NamedCondition>,
    /// How many of `named` are copies of the layers below (not its own).
    pub inherited_named: usize,
    /// The facts it defines under `derive:`, in declaration order.
    pub derived: Vec<std::sync::Arc<crate::facts::Derived>>,
    pub rules: Vec<Rule>,
    /// Rules left out because they need a newer engine (`unsupported_rules: skip`).
    pub skipped: Vec<SkippedRule>,
    /// Changes this layer makes to rules of earlier layers.
    pub overrides: Vec<Override>,
    /// `sha256:` of the rulebook's text, for provenance.
    pub digest: String,
    /// The rulebook's text, to quote rules as written (`explain`, `diff`).
    pub text: String,
}

impl Rulebook {
    /// A rule as written in the rulebook: from its line to the next rule's.
    pub fn rule_text(&self, rule: &Rule) -> String {
        let start = rule.pos.line as usize;
        let next = self
            .rules
            .iter()
            .map(|r| r.pos.line as usize)
            .filter(|l| *l > start)
            .min()
            .unwrap_or(usize::MAX);
        let lines: Vec<&str> = self.text.lines().collect();
        let from = start.saturating_sub(1).min(lines.len());
        let to = next.saturating_sub(1).min(lines.len()).max(from);
        let mut body: Vec<&str> = lines.get(from..to).unwrap_or(&[]).to_vec();
        // Trailing blank and comment lines belong to the next rule or section.
        while body
            .last()
            .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            body.pop();
        }
        // A rule in the middle of `rules:` ends where a top-level key starts.
        if let Some(end) = body
            .iter()
            .skip(1)
            .position(|l| !l.starts_with(' ') && !l.trim().is_empty())
        {
            body.truncate(end + 1);
        }
        body.join("\n")
    }
}

/// A rule this engine cannot run, and why.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SkippedRule {
    pub rulebook: String,
    pub rule: String,
    pub reason: String,
}

/// The lifecycle of a rule: preview rules run only with `--preview`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lifecycle {
    #[default]
    Stable,
    Preview,
    Deprecated,
}

impl Lifecycle {
    pub fn name(self) -> &'static str {
        match self {
            Lifecycle::Stable => "stable",
            Lifecycle::Preview => "preview",
            Lifecycle::Deprecated => "deprecated",
        }
    }
}

/// An overlay's explicit change to a rule of an earlier layer.
#[derive(Clone, Debug)]
pub struct Override {
    pub target: String,
    pub pos: Pos,
    pub disable: bool,
    pub title: Option<Localized<String>>,
    pub severity: Option<Severity>,
    pub priority: Option<i64>,
    pub message: Option<Localized<Template>>,
    pub fix: Option<Localized<Template>>,
}

/// Options that shape how rulebooks compile.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--var name=value`: overrides a rulebook variable (e.g. `base_url`).
    pub vars: BTreeMap<String, String>,
    /// Leave out each rule's examples: they are test data (`rulecheck test`, `lint`
    /// and `explain` read them), evaluation does not, and reading them into captures
    /// was a tenth of a one-capture run. Their mistakes are then not reported
    /// either: `rulecheck lint` and `test` report them.
    pub skip_examples: bool,
    /// Rulebook size, rule count, regex size, YAML depth and aliases.
    pub limits: crate::limits::Limits,
    /// The categories the layers below this rulebook declare: an overlay's rules and
    /// `ranking:` may use them without declaring them again.
    pub inherited_categories: Vec<String>,
    /// The named conditions of the layers below (the last layer's `named`, which holds
    /// those below it): an overlay's rules may use them by name.
    pub inherited_named: Vec<NamedCondition>,
    /// The variables of the layers below: an overlay's texts and patterns may use them.
    pub inherited_vars: BTreeMap<String, String>,
}

/// RC022: an override of `target`, which none of the `known` rules of the layers
/// below defines.
fn unknown_override(source: &str, target: &str, pos: Pos, known: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(
        Code::UnknownOverride,
        source,
        Some(pos),
        format!("the override names `{target}`, which no earlier layer defines"),
    );
    match crate::spelling::suggest(target, known.iter().copied()) {
        Some(close) => d.with_help(format!("did you mean `{close}`?")),
        // An overlay checked alone: nothing is loaded before it.
        None if known.is_empty() => d.with_help(format!(
            "this overlay changes rules of a base rulebook: check it on top of one, `rulecheck lint --overlay {source}` (the built-in rulebook) or `rulecheck lint builtin {source}`; in `rulecheck diff`, name the side `builtin+{source}`"
        )),
        None => d.with_help(
            "overrides change rules of the rulebooks loaded before this one (the built-in one, or --rules)",
        ),
    }
}

/// The overrides of a rulebook that did not compile whose targets no layer below
/// defines: said with its other problems, not after they are fixed.
fn unknown_overrides_of_broken(
    source: &str,
    text: &str,
    known: &[&str],
    options: &LoadOptions,
) -> Vec<Diagnostic> {
    let limits = YamlLimits {
        max_depth: options.limits.yaml_depth,
        max_alias_events: options.limits.yaml_aliases,
    };
    let Ok(root) = yaml::parse(text, limits) else {
        return Vec::new();
    };
    let Some(yaml::Value::Seq(items)) = root.get("overrides").map(|n| &n.value) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let node = item.get("disable").or_else(|| item.get("rule"))?;
            let target = node.as_str()?;
            (!known.contains(&target)).then(|| unknown_override(source, target, node.pos, known))
        })
        .collect()
}

/// Lets the rulebooks loaded after `rb` use its categories, named conditions and
/// variables.
fn inherit_from(options: &mut LoadOptions, rb: &Rulebook) {
    for c in &rb.categories {
        if !options.inherited_categories.contains(&c.id) {
            options.inherited_categories.push(c.id.clone());
        }
    }
    // `rb.named` starts with what it inherited: the whole chain, in its own indices.
    options.inherited_named = rb.named.clone();
    options
        .inherited_vars
        .extend(rb.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
}

/// A rulebook that failed to load: every problem found, and the source to quote.
#[derive(Clone, Debug)]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: BTreeMap<String, String>,
}

impl LoadError {
    /// All diagnostics rendered as rustc-style frames.
    pub fn render(&self) -> String {
        crate::diagnostic::render_all(&self.diagnostics, |file| {
            self.sources.get(file).map(String::as_str)
        })
    }
}

/// Loads and compiles one rulebook from its text. `file` is used in diagnostics.
pub fn load_str(
    file: &str,
    text: &str,
    options: &LoadOptions,
) -> Result<Rulebook, Vec<Diagnostic>> {
    load_text(file, text, options, Schema::Validate)
}

/// Whether a rulebook's tree is checked against the schema before it is compiled.
#[derive(Clone, Copy, PartialEq)]
enum Schema {
    Validate,
    /// The built-in rulebook: its text is fixed when rulecheck is built, and the test
    /// suite validates that text (`the_built_in_rulebook_is_valid_against_the_schema`).
    /// Checking it again at every start cost 14M instructions and 2.8 MB of resident
    /// memory (the validator's code and its compiled schema), for nothing it could
    /// find. It is parsed and compiled like any other.
    AlreadyValidated,
}

fn load_text(
    file: &str,
    text: &str,
    options: &LoadOptions,
    check: Schema,
) -> Result<Rulebook, Vec<Diagnostic>> {
    let yaml_limits = YamlLimits {
        max_depth: options.limits.yaml_depth,
        max_alias_events: options.limits.yaml_aliases,
    };
    let root = yaml::parse(text, yaml_limits).map_err(|e| {
        vec![
            Diagnostic::error(Code::YamlSyntax, file, e.pos, e.message)
                .with_help("fix the YAML syntax at this position (indentation, quotes, brackets)"),
        ]
    })?;
    load_tree(file, text, &root, options, check)
}

/// Compiles one rulebook from its parsed tree; `text` is the YAML it came from.
fn load_tree(
    file: &str,
    text: &str,
    root: &yaml::Node,
    options: &LoadOptions,
    check: Schema,
) -> Result<Rulebook, Vec<Diagnostic>> {
    let diagnostics = match check {
        Schema::Validate => schema::validate_except(file, root, &compile::rules_to_skip(root)),
        Schema::AlreadyValidated => Vec::new(),
    };
    match compile(file, text, root, options) {
        Ok(rulebook) if diagnostics.is_empty() => Ok(rulebook),
        Ok(_) => Err(diagnostics),
        Err(compile_diagnostics) => Err(merge(compile_diagnostics, diagnostics)),
    }
}

/// Semantic diagnostics explain a mistake better than the schema's; a schema
/// diagnostic is kept only where no semantic one points at the same line.
fn merge(mut semantic: Vec<Diagnostic>, schema: Vec<Diagnostic>) -> Vec<Diagnostic> {
    for d in schema {
        if !semantic.iter().any(|s| s.line == d.line) {
            semantic.push(d);
        }
    }
    crate::diagnostic::sort(&mut semantic);
    semantic
}

/// The rulebooks in use, in the order given. Rule ids are unique across the set.
#[derive(Clone, Debug)]
pub struct RuleSet {
    pub rulebooks: Vec<Rulebook>,
    /// Category ids in display order: the first rulebook's order, then new ones.
    pub category_order: Vec<String>,
    /// Per status or class, the categories that rank first; a later rulebook's entry
    /// for the same key replaces an earlier one.
    pub ranking: Vec<Ranking>,
    /// Per category, the rules any finding of it makes moot (all rulebooks' together).
    pub category_suppresses: Vec<(String, Vec<String>)>,
    /// Run `status: preview` rules too (`--preview`).
    pub include_preview: bool,
}

impl RuleSet {
    /// Builds a set, refusing a rule id defined by two rulebooks.
    pub fn new(mut rulebooks: Vec<Rulebook>) -> Result<RuleSet, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        // Overrides first, layer by layer: each changes or disables a rule of an
        // earlier layer, explicitly; an override of a missing rule is an error.
        for layer in 0..rulebooks.len() {
            let (earlier, rest) = rulebooks.split_at_mut(layer);
            let Some(rb) = rest.first() else { continue };
            for o in &rb.overrides {
                let found = earlier.iter_mut().rev().find_map(|e| {
                    e.rules
                        .iter()
                        .position(|r| r.id == o.target)
                        .map(|i| (e, i))
                });
                let Some((owner, index)) = found else {
                    let known: Vec<&str> = earlier
                        .iter()
                        .flat_map(|e| e.rules.iter().map(|r| r.id.as_str()))
                        .collect();
                    diagnostics.push(unknown_override(&rb.source, &o.target, o.pos, &known));
                    continue;
                };
                if o.disable {
                    owner.rules.remove(index);
                    continue;
                }
                let Some(rule) = owner.rules.get_mut(index) else {
                    continue;
                };
                if let Some(t) = &o.title {
                    rule.title = t.clone();
                }
                if let Some(s) = o.severity {
                    rule.severity = s;
                }
                if let Some(p) = o.priority {
                    rule.priority = p;
                }
                if let Some(m) = &o.message {
                    rule.message = m.clone();
                }
                if let Some(f) = &o.fix {
                    rule.fix = Some(f.clone());
                }
                rule.overridden_by.push(rb.name.clone());
            }
        }
        let disabled: Vec<String> = rulebooks
            .iter()
            .flat_map(|rb| {
                rb.overrides
                    .iter()
                    .filter(|o| o.disable)
                    .map(|o| o.target.clone())
            })
            .collect();
        let mut seen: BTreeMap<&str, &Rulebook> = BTreeMap::new();
        for rb in &rulebooks {
            for rule in &rb.rules {
                if let Some(first) = seen.insert(&rule.id, rb) {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::DuplicateId,
                            &rb.source,
                            Some(rule.pos),
                            format!("the rule id `{}` is already defined in {}", rule.id, first.source),
                        )
                        .with_help(
                            "rule ids must be unique across all rulebooks in use: rename one, or change the earlier \
                             rule with `overrides:` (`disable:` it first to replace it whole)",
                        ),
                    );
                }
            }
        }
        for rb in &rulebooks {
            let declared = rb
                .rules
                .iter()
                .map(|r| (r.id.as_str(), &r.suppresses, r.pos))
                .chain(
                    rb.categories
                        .iter()
                        .map(|c| (c.id.as_str(), &c.suppresses, c.pos)),
                );
            for (owner, targets, pos) in declared {
                for target in targets {
                    // Suppressing a rule an overlay disabled is harmless.
                    let known = seen.keys().any(|id| suppression_targets(target, id))
                        || disabled.iter().any(|id| suppression_targets(target, id));
                    if known {
                        continue;
                    }
                    let mut d = Diagnostic::error(
                        Code::UnknownSuppressed,
                        &rb.source,
                        Some(pos),
                        format!("`{owner}` suppresses `{target}`, which names no rule in use"),
                    );
                    d = match crate::spelling::suggest(target, seen.keys().copied()) {
                        Some(close) => d.with_help(format!("did you mean `{close}`?")),
                        None => d.with_help(
                            "name a rule id, or `prefix.*` for every rule whose id starts with `prefix.`; \
                             or load the rulebook that defines it",
                        ),
                    };
                    diagnostics.push(d);
                }
            }
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let mut category_order: Vec<String> = Vec::new();
        for rb in &rulebooks {
            for c in &rb.categories {
                if !category_order.contains(&c.id) {
                    category_order.push(c.id.clone());
                }
            }
        }
        let mut ranking: Vec<Ranking> = Vec::new();
        let mut category_suppresses: Vec<(String, Vec<String>)> = Vec::new();
        for rb in &rulebooks {
            for r in &rb.ranking {
                ranking.retain(|known| known.key != r.key);
                ranking.push(r.clone());
            }
            for c in rb.categories.iter().filter(|c| !c.suppresses.is_empty()) {
                match category_suppresses.iter_mut().find(|(id, _)| *id == c.id) {
                    Some((_, targets)) => targets.extend(c.suppresses.iter().cloned()),
                    None => category_suppresses.push((c.id.clone(), c.suppresses.clone())),
                }
            }
        }
        Ok(RuleSet {
            rulebooks,
            category_order,
            ranking,
            category_suppresses,
            include_preview: false,
        })
    }

    /// The guide's order for a status: its own entry, else its class's.
    pub fn ranking_for(&self, status: u16) -> Option<&Ranking> {
        self.ranking
            .iter()
            .find(|r| r.key == StatusKey::Code(status))
            .or_else(|| {
                self.ranking
                    .iter()
                    .find(|r| r.key == StatusKey::Class(status / 100))
            })
    }

    /// Where a category ranks for a status: first the status's (or class's) order,
    /// then the order of `categories:`. Lower ranks first.
    pub fn category_rank(&self, ranking: Option<&Ranking>, category: &str) -> usize {
        let listed = ranking.and_then(|r| r.order.iter().position(|c| c == category));
        let global = self.category_order.iter().position(|c| c == category);
        match (listed, global) {
            (Some(i), _) => i,
            (None, Some(g)) => ranking.map_or(0, |r| r.order.len()) + g,
            (None, None) => usize::MAX,
        }
    }

    /// Rules that need a newer engine and were left out, with the reason.
    pub fn skipped(&self) -> impl Iterator<Item = &SkippedRule> {
        self.rulebooks.iter().flat_map(|rb| rb.skipped.iter())
    }

    /// The built-in default rulebook: compiled into the binary as text, and loaded
    /// exactly as a rulebook from disk is (schema, compiler, patterns).
    pub fn default_rulebook(options: &LoadOptions) -> Result<RuleSet, LoadError> {
        let (file, text) = default_rulebook_source();
        let loaded = load_text(&file, text, options, Schema::AlreadyValidated);
        let rb = loaded.map_err(|d| LoadError {
            diagnostics: d,
            sources: BTreeMap::from([(file, text.to_owned())]),
        })?;
        RuleSet::new(vec![rb]).map_err(|d| LoadError {
            diagnostics: d,
            sources: BTreeMap::new(),
        })
    }

    /// Loads rulebooks from files and directories (every `*.yaml`/`*.yml` inside, in
    /// name order). All problems of all files are collected before failing.
    pub fn load_paths(
        paths: &[impl AsRef<Path>],
        options: &LoadOptions,
    ) -> Result<RuleSet, LoadError> {
        let (rulebooks, sources) = RuleSet::load_paths_unchecked(paths, &[], options)?;
        RuleSet::checked(rulebooks, sources, options)
    }

    /// A set from loaded rulebooks, once `--var`s and ids across layers check out.
    fn checked(
        rulebooks: Vec<Rulebook>,
        sources: BTreeMap<String, String>,
        options: &LoadOptions,
    ) -> Result<RuleSet, LoadError> {
        if let Err(diagnostics) = check_vars(&rulebooks, options) {
            return Err(LoadError {
                diagnostics,
                sources,
            });
        }
        RuleSet::new(rulebooks).map_err(|diagnostics| LoadError {
            diagnostics,
            sources,
        })
    }

    /// Loads every rulebook of the paths, collecting all their problems.
    fn load_paths_unchecked(
        paths: &[impl AsRef<Path>],
        below: &[Rulebook],
        options: &LoadOptions,
    ) -> Result<(Vec<Rulebook>, BTreeMap<String, String>), LoadError> {
        // Each file sees the categories of the layers below it: `below`, then the files
        // before it here.
        let mut options = options.clone();
        for rb in below {
            inherit_from(&mut options, rb);
        }
        // `None` stands for the built-in rulebook, named `builtin` where a path goes.
        let mut files: Vec<Option<std::path::PathBuf>> = Vec::new();
        let mut diagnostics = Vec::new();
        for path in paths {
            let path = path.as_ref();
            if path == Path::new(BUILTIN) && !path.exists() {
                files.push(None);
            } else if path.is_dir() {
                match rulebooks_in(path) {
                    Ok(found) => {
                        if found.is_empty() {
                            diagnostics.push(
                                Diagnostic::error(Code::Unreadable, &path.display().to_string(), None, "no *.yaml rulebooks in this directory")
                                    .with_help("point --rules at a rulebook file or a directory that holds some"),
                            );
                        }
                        files.extend(found.into_iter().map(Some));
                    }
                    Err(e) => diagnostics.push(Diagnostic::error(
                        Code::Unreadable,
                        &path.display().to_string(),
                        None,
                        format!("cannot read the directory: {e}"),
                    )),
                }
            } else {
                files.push(Some(path.to_path_buf()));
            }
        }
        let mut sources = BTreeMap::new();
        let mut rulebooks = Vec::new();
        for file in files {
            let (name, text) = match file {
                None => {
                    let (name, text) = default_rulebook_source();
                    (name, text.to_owned())
                }
                Some(file) => match read_rulebook(&file, options.limits.rulebook_bytes) {
                    Ok(t) => (file.display().to_string(), t),
                    Err(d) => {
                        diagnostics.push(d);
                        continue;
                    }
                },
            };
            match load_str(&name, &text, &options) {
                Ok(rb) => {
                    inherit_from(&mut options, &rb);
                    rulebooks.push(rb);
                }
                Err(d) => {
                    diagnostics.extend(d);
                    let known: Vec<&str> = below
                        .iter()
                        .chain(&rulebooks)
                        .flat_map(|rb| rb.rules.iter().map(|r| r.id.as_str()))
                        .collect();
                    diagnostics.extend(unknown_overrides_of_broken(&name, &text, &known, &options));
                }
            }
            sources.insert(name, text);
        }
        if !diagnostics.is_empty() {
            return Err(LoadError {
                diagnostics,
                sources,
            });
        }
        Ok((rulebooks, sources))
    }

    /// The rulebooks in use: `base` (the built-in rulebook when empty), then each
    /// overlay on top. Rule ids stay unique across all layers; `--var` must name a
    /// variable some layer declares.
    pub fn load_layers(
        base: &[impl AsRef<Path>],
        overlays: &[impl AsRef<Path>],
        options: &LoadOptions,
    ) -> Result<RuleSet, LoadError> {
        let (mut rulebooks, mut sources) = if base.is_empty() {
            (
                RuleSet::default_rulebook(options)?.rulebooks,
                BTreeMap::new(),
            )
        } else {
            RuleSet::load_paths_unchecked(base, &[], options)?
        };
        if !overlays.is_empty() {
            let (more, more_sources) =
                RuleSet::load_paths_unchecked(overlays, &rulebooks, options)?;
            rulebooks.extend(more);
            sources.extend(more_sources);
        }
        RuleSet::checked(rulebooks, sources, options)
    }

    /// Each rulebook's source name and text, to quote in diagnostics.
    pub fn sources(&self) -> BTreeMap<String, String> {
        self.rulebooks
            .iter()
            .map(|rb| (rb.source.clone(), rb.text.clone()))
            .collect()
    }

    /// Every text of the rule set that a finding shows as it is, borrowed: rule ids,
    /// categories, titles, plain messages, fixes and support notes, the guide's
    /// meanings and checks, docs links, rulebook names and overlays, and the fact
    /// names evidence is shown under. A report line's prose is mostly these
    /// ([`crate::mask::CleanTexts`] finds them clean once for a whole run).
    pub fn texts(&self) -> Vec<&str> {
        fn localized<'a>(text: &'a Localized<String>, out: &mut Vec<&'a str>) {
            out.extend(
                std::iter::once(&text.en)
                    .chain(&text.zh)
                    .map(String::as_str),
            );
        }
        fn template<'a>(text: &'a Localized<Template>, out: &mut Vec<&'a str>) {
            let plain = std::iter::once(&text.en).chain(&text.zh);
            out.extend(plain.filter_map(Template::plain));
        }
        fn condition<'a>(when: &'a Condition, out: &mut Vec<&'a str>) {
            match when {
                Condition::All(all) | Condition::Any(all) => {
                    all.iter().for_each(|c| condition(c, out))
                }
                Condition::Not(inner) => condition(inner, out),
                Condition::Named(..) => {}
                Condition::Test(test) => out.push(&test.fact_name),
            }
        }
        let mut out = Vec::new();
        for rb in &self.rulebooks {
            out.push(rb.name.as_str());
            for guide in &rb.statuses {
                localized(&guide.meaning, &mut out);
                guide.checks.iter().for_each(|c| localized(c, &mut out));
            }
            rb.named
                .iter()
                .for_each(|n| condition(&n.condition, &mut out));
            for derived in &rb.derived {
                out.extend(derived.cases.iter().map(|c| c.source_name.as_str()));
            }
            for rule in &rb.rules {
                out.extend([rule.id.as_str(), rule.category.as_str()]);
                out.extend(rule.docs.as_deref());
                out.extend(rule.overridden_by.iter().map(String::as_str));
                localized(&rule.title, &mut out);
                template(&rule.message, &mut out);
                rule.fix
                    .iter()
                    .chain(&rule.support)
                    .for_each(|t| template(t, &mut out));
                condition(&rule.when, &mut out);
                for variant in &rule.variants {
                    variant
                        .message
                        .iter()
                        .chain(&variant.fix)
                        .for_each(|t| template(t, &mut out));
                    condition(&variant.when, &mut out);
                }
            }
        }
        out
    }

    /// Every rule with its rulebook, in rulebook order.
    pub fn rules(&self) -> impl Iterator<Item = (&Rulebook, &Rule)> {
        self.rulebooks
            .iter()
            .flat_map(|rb| rb.rules.iter().map(move |r| (rb, r)))
    }
}

fn read_rulebook(path: &Path, max_bytes: usize) -> Result<String, Diagnostic> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| {
        Diagnostic::error(
            Code::Unreadable,
            &name,
            None,
            format!("cannot read the rulebook: {e}"),
        )
        .with_help("check the path given to --rules")
    })?;
    if meta.len() > max_bytes as u64 {
        return Err(Diagnostic::error(
            Code::Unreadable,
            &name,
            None,
            format!(
                "the rulebook is {} bytes; the limit is {max_bytes}",
                meta.len()
            ),
        )
        .with_help(
            "split it into several rulebooks (or raise the limit with --limit rulebook-bytes=SIZE)",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error(
            Code::Unreadable,
            &name,
            None,
            format!("cannot read the rulebook: {e}"),
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e
            .as_bytes()
            .get(..offset)
            .unwrap_or(&[])
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        Diagnostic::error(
            Code::Unreadable,
            &name,
            Some(Pos {
                line: line as u32,
                column: 1,
            }),
            "the rulebook is not UTF-8 text",
        )
        .with_help("save the file as UTF-8")
    })
}

/// A `--var` that no rulebook declares is almost certainly a typo.
pub fn check_vars(rulebooks: &[Rulebook], options: &LoadOptions) -> Result<(), Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    for name in options.vars.keys() {
        if !rulebooks.iter().any(|rb| rb.vars.contains_key(name)) {
            let declared: Vec<&str> = rulebooks
                .iter()
                .flat_map(|rb| rb.vars.keys().map(String::as_str))
                .collect();
            let mut d = Diagnostic::error(
                Code::BadTemplate,
                "--var",
                None,
                format!("no rulebook in use declares the variable `{name}`"),
            );
            if let Some(close) = crate::spelling::suggest(name, declared.iter().copied()) {
                d = d.with_help(format!("did you mean `{close}`?"));
            } else {
                d = d.with_help(format!("declared variables: {}", declared.join(", ")));
            }
            diagnostics.push(d);
        }
    }
    if diagnostics.is_empty() {
        Ok(())
    } else {
        Err(diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What lets the built-in rulebook skip the schema at start ([`Schema::AlreadyValidated`]):
    /// the very text built in passes it, and loads alike with the check on.
    #[test]
    fn the_built_in_rulebook_is_valid_against_the_schema() {
        let (file, text) = default_rulebook_source();
        let root = yaml::parse(text, YamlLimits::default()).unwrap();
        assert_eq!(schema::validate(&file, &root), vec![]);
        let checked = load_str(&file, text, &LoadOptions::default()).unwrap();
        let built_in = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
        let ids = |rules: &[Rule]| rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&checked.rules), ids(&built_in.rulebooks[0].rules));
    }

    #[test]
    fn skipping_examples_leaves_only_the_examples_out() {
        let with = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
        let options = LoadOptions {
            skip_examples: true,
            ..Default::default()
        };
        let without = RuleSet::default_rulebook(&options).unwrap();
        let ids = |set: &RuleSet| set.rules().map(|(_, r)| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&with), ids(&without));
        assert!(with.rules().any(|(_, r)| !r.examples_match.is_empty()));
        assert!(
            without
                .rules()
                .all(|(_, r)| r.examples_match.is_empty() && r.examples_no_match.is_empty())
        );
    }
}
