//! `derive:`: facts a rulebook defines from other facts.

use super::*;

/// A test on one fact: a scalar (equality, or a status class like `4xx`), a list
/// (one of), or a mapping of operators.
/// `derive:` — facts the rulebook defines from other facts. Each case reads a source
/// fact (the definition's `from`, or its own), may test it (operators, as in a
/// condition), and gives a fixed `value` or the part of the source's text an `extract`
/// regex captures; the first case that holds wins.
pub(super) fn compile_derived(cx: &mut Ctx<'_>, root: &Node) {
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
pub(super) fn derived_source(cx: &mut Ctx<'_>, from: &Node) -> Option<(String, Fact)> {
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

pub(super) fn compile_derived_case(
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
pub(super) fn compile_extract(cx: &mut Ctx<'_>, node: &Node) -> Option<DerivedExtract> {
    let source = cx.string(node, "`extract`")?.to_owned();
    let pattern = compile_regex(cx, &source, node, false)?;
    let groups = pattern.group_count();
    let named = pattern.has_group("value");
    if !named && groups != 1 {
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
    Some(Box::new(move |text: &str| {
        let value = pattern.group(text, named.then_some("value"))?;
        (!value.is_empty()).then(|| value.to_owned())
    }))
}
