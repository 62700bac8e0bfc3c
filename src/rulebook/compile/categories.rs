//! `categories:` (their order is the default ranking), `ranking:` (the guide's order
//! per status) and `statuses:` (the guide's meaning and checks per status).

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
        let suppresses = compile_suppresses(cx, item);
        if let (Some((id, pos)), Some(title), Some(suppresses)) = (id, title, suppresses) {
            if out.iter().any(|c| c.id == id) {
                cx.error(
                    Code::DuplicateId,
                    pos,
                    format!("the category `{id}` is declared twice"),
                    "keep one declaration",
                );
                continue;
            }
            out.push(Category {
                id,
                title,
                suppresses,
                pos,
            });
        }
    }
    out
}

/// `ranking:`: per status code or class, the categories to rank first.
pub(super) fn compile_ranking(
    cx: &mut Ctx<'_>,
    root: &Node,
    categories: &[Category],
) -> Vec<Ranking> {
    let mut out = Vec::new();
    let Some(node) = root.get("ranking") else {
        return out;
    };
    let Some(entries) = node.as_map() else {
        cx.error(
            Code::WrongType,
            node.pos,
            "`ranking` must be a mapping of status code to a list of categories",
            "write `401: [key, address]`",
        );
        return out;
    };
    for (k, v) in entries {
        let text = k.key_text().unwrap_or_default().into_owned();
        let Some(key) = status_key(cx, &text, k.pos) else {
            continue;
        };
        let Value::Seq(items) = &v.value else {
            cx.error(
                Code::WrongType,
                v.pos,
                format!("the ranking for `{text}` must be a list of categories"),
                "write `401: [key, address]`",
            );
            continue;
        };
        let mut order: Vec<String> = Vec::new();
        for item in items {
            let Some(c) = cx.string(item, "a category") else {
                continue;
            };
            if !categories.iter().any(|k| k.id == c)
                && !cx.inherited_categories.iter().any(|k| k == c)
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
                    item.pos,
                    format!(
                        "the ranking for `{text}` names `{c}`, which is not a declared category"
                    ),
                    help,
                );
            } else if order.iter().any(|o| o == c) {
                cx.error(
                    Code::DuplicateId,
                    item.pos,
                    format!("the ranking for `{text}` lists `{c}` twice"),
                    "list each category once",
                );
            } else {
                order.push(c.to_owned());
            }
        }
        out.push(Ranking {
            key,
            order,
            pos: k.pos,
        });
    }
    out
}

/// A status code (`404`) or class (`4xx`), as a key of `statuses:` or `ranking:`.
fn status_key(cx: &mut Ctx<'_>, text: &str, pos: Pos) -> Option<StatusKey> {
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
    if key.is_none() {
        cx.error(
            Code::NotAllowed,
            pos,
            format!("`{text}` is not a status code or class"),
            "use a code from 100 to 599 (`404`) or a class (`4xx`)",
        );
    }
    key
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
        let Some(key) = status_key(cx, &text, k.pos) else {
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
