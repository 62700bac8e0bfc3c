//! `overrides:`: changes to rules of the layers loaded before.

use super::*;

/// `overrides:` — an overlay's explicit changes to rules of earlier layers.
pub(super) fn compile_overrides(cx: &mut Ctx<'_>, root: &Node) -> Vec<Override> {
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
