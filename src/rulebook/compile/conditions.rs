//! Conditions: `all`/`any`/`not`/`condition`, and each test of a fact with its operator.

use super::*;

/// Compiles a condition mapping. Several entries in one mapping must all hold.
pub(super) fn compile_condition(
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

pub(super) fn compile_list(
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

/// Resolves the names a rulebook defines: a variable is a constant for the whole run,
/// `derived.name` the derived fact declared above.
pub(super) fn resolve_fact(cx: &mut Ctx<'_>, fact: Fact, pos: Pos) -> Option<Fact> {
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

pub(super) fn compile_test(
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
                // An operator left out for a reason already said: on this line, or
                // the patterns' budget that ran out (said once, at the first).
                let said = cx.regex_budget_spent
                    || cx.diagnostics.iter().any(|d| d.line == Some(node.pos.line));
                if !said {
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

pub(super) fn is_class(s: &str) -> bool {
    s.len() == 3
        && s.ends_with("xx")
        && s.as_bytes()
            .first()
            .is_some_and(|b| (b'1'..=b'5').contains(b))
}

/// `4xx` → 4 (callers check [`is_class`] first).
pub(super) fn class_of(s: &str) -> u16 {
    s.as_bytes()
        .first()
        .map(|b| u16::from(b.saturating_sub(b'0')))
        .unwrap_or(0)
}

pub(super) fn compile_op(
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
        "mentions" => Op::Mentions(mentioned_words(cx, node)?),
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
