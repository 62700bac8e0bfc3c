//! `categories:` (their order is the ranking) and `statuses:` (the guide's meaning and checks per status).

use super::*;

pub(super) fn compile_categories(cx: &mut Ctx<'_>, root: &Node) -> Vec<Category> {
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

pub(super) fn compile_statuses(cx: &mut Ctx<'_>, root: &Node) -> Vec<StatusGuide> {
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
