//! `rules:`: each rule's keys, texts, severity and examples.

use super::*;

pub(super) fn compile_rule(
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
        if !categories.iter().any(|k| k.id == c) && !cx.inherited_categories.iter().any(|k| k == c)
        {
            let help = match suggest(
                c,
                categories
                    .iter()
                    .map(|k| k.id.as_str())
                    .chain(cx.inherited_categories.iter().map(String::as_str)),
            ) {
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
    let suppresses = compile_suppresses(cx, node);
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
    let variants = compile_variants(cx, node, named);
    let (examples_match, examples_no_match) = if cx.skip_examples {
        (Vec::new(), Vec::new())
    } else {
        compile_examples(cx, node.get("examples"))
    };
    let id = id?;
    let docs = docs.map(|link| published_or_explain(link, &id));
    Some(Rule {
        id,
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
        variants: variants?,
        examples_match,
        examples_no_match,
        pos: node.pos,
    })
}

pub(super) fn severity(cx: &mut Ctx<'_>, n: &Node) -> Option<Severity> {
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

pub(super) fn compile_examples(
    cx: &mut Ctx<'_>,
    node: Option<&Node>,
) -> (Vec<Example>, Vec<Example>) {
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

/// `suppresses:` of a rule or a category: rule ids, or `prefix.*` patterns.
pub(super) fn compile_suppresses(cx: &mut Ctx<'_>, node: &Node) -> Option<Vec<String>> {
    let Some(n) = node.get("suppresses") else {
        return Some(Vec::new());
    };
    match &n.value {
        Value::Seq(items) => items
            .iter()
            .map(|i| cx.string(i, "a rule id in `suppresses`").map(str::to_owned))
            .collect::<Option<Vec<_>>>(),
        _ => {
            cx.error(
                Code::WrongType,
                n.pos,
                "`suppresses` takes a list of rule ids",
                "write `suppresses: [key.invalid-or-expired]` (or `[key.*]` for every rule whose id starts with `key.`)",
            );
            None
        }
    }
}

/// `variants:`: other wordings of a rule, each with the condition it is for.
fn compile_variants(
    cx: &mut Ctx<'_>,
    node: &Node,
    named: &HashMap<String, usize>,
) -> Option<Vec<Variant>> {
    let Some(list) = node.get("variants") else {
        return Some(Vec::new());
    };
    let Value::Seq(items) = &list.value else {
        cx.error(
            Code::WrongType,
            list.pos,
            "`variants` must be a list",
            "write `- when: …` entries, each with a `message`, `fix` or `severity`",
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        if !cx.check_keys(item, "a variant", VARIANT_KEYS, &["when"]) {
            ok = false;
            continue;
        }
        if ["severity", "message", "fix"]
            .iter()
            .all(|k| item.get(k).is_none())
        {
            cx.error(
                Code::MissingKey,
                item.pos,
                "the variant changes nothing",
                "give it a `message`, a `fix` or a `severity`",
            );
            ok = false;
            continue;
        }
        let when = item
            .get("when")
            .and_then(|n| compile_condition(cx, n, named));
        let severity = item.get("severity").map(|n| severity(cx, n));
        let message = item
            .get("message")
            .map(|n| cx.localized_template(n, "a variant's message"));
        let fix = item
            .get("fix")
            .map(|n| cx.localized_template(n, "a variant's fix"));
        // Each part is `None` when absent, `Some(None)` when it failed to compile.
        let failed = severity.as_ref().is_some_and(Option::is_none)
            || message.as_ref().is_some_and(Option::is_none)
            || fix.as_ref().is_some_and(Option::is_none);
        match when {
            Some(when) if !failed => out.push(Variant {
                when,
                severity: severity.flatten(),
                message: message.flatten(),
                fix: fix.flatten(),
                pos: item.pos,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

/// A rule's `docs` as a reader can follow it anywhere: the link when it is a published
/// page (`http://` or `https://`, e.g. from `--var docs=URL`), else the command that
/// explains the rule from the binary itself, offline (`rulecheck explain ID`) — a path
/// such as `docs/diagnoses.md#…` exists only in a checkout.
fn published_or_explain(link: String, id: &str) -> String {
    let lower = link.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        link
    } else {
        format!("rulecheck explain {id}")
    }
}
