//! `conditions:`: named, reusable conditions, and the check that they do not refer to each other in a cycle.

use super::*;

pub(super) struct PendingNamed<'n> {
    pub(super) name: String,
    pub(super) node: &'n Node,
}

pub(super) fn compile_named<'n>(cx: &mut Ctx<'_>, root: &'n Node) -> Vec<PendingNamed<'n>> {
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

pub(super) fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Named conditions may use each other, but not in a cycle. Returns them in an order
/// where each comes after the ones it uses, or `None` when a cycle was reported. The
/// walk keeps its own stack: a chain of named conditions may be as long as the file.
pub(super) fn check_cycles(
    cx: &mut Ctx<'_>,
    named: &[NamedCondition],
    root: &Node,
) -> Option<Vec<usize>> {
    let edges: Vec<Vec<usize>> = named
        .iter()
        .map(|n| {
            let mut out = Vec::new();
            uses(&n.condition, &mut |i| out.push(i));
            out
        })
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; named.len()];
    let set = |state: &mut [u8], i: usize, v: u8| {
        if let Some(s) = state.get_mut(i) {
            *s = v;
        }
    };
    let mut order = Vec::with_capacity(named.len());
    for start in 0..named.len() {
        if state.get(start) != Some(&0) {
            continue;
        }
        set(&mut state, start, 1);
        // Each named condition on the path, with the next of its edges to follow.
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some((i, next)) = path.last_mut() {
            let i = *i;
            let Some(&j) = edges.get(i).and_then(|e| e.get(*next)) else {
                set(&mut state, i, 2);
                order.push(i);
                path.pop();
                continue;
            };
            *next += 1;
            match state.get(j) {
                Some(0) => {
                    set(&mut state, j, 1);
                    path.push((j, 0));
                }
                Some(1) => {
                    let from = path.iter().position(|(p, _)| *p == j).unwrap_or(0);
                    let names: Vec<&str> = path
                        .get(from..)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|(i, _)| named.get(*i).map(|n| n.name.as_str()))
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
                    return None;
                }
                _ => {}
            }
        }
    }
    Some(order)
}

/// Calls `f` with the index of every named condition `c` uses directly.
fn uses(c: &Condition, f: &mut impl FnMut(usize)) {
    match c {
        Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| uses(c, f)),
        Condition::Not(c) => uses(c, f),
        Condition::Named(i, _) => f(*i),
        Condition::Test(_) => {}
    }
}

/// What a condition stands for once the named conditions it uses are written out,
/// as evaluation and `--trace` walk it.
#[derive(Clone, Copy, Default)]
pub(super) struct Expanded {
    /// Nodes: each use of a named condition counts its nodes again.
    nodes: usize,
    /// Levels: evaluation goes down one call a level, on a worker thread's stack.
    depth: usize,
}

impl Expanded {
    /// Side by side, as the parts of one `all`, or a rule's `when` and its variants.
    fn beside(self, other: Expanded) -> Expanded {
        Expanded {
            nodes: self.nodes.saturating_add(other.nodes),
            depth: self.depth.max(other.depth),
        }
    }

    /// Under one more node.
    fn under_one(self) -> Expanded {
        Expanded {
            nodes: self.nodes.saturating_add(1),
            depth: self.depth.saturating_add(1),
        }
    }
}

/// `c` with its named conditions written out; `named` holds theirs by index, so this
/// is linear in `c` however many times they are used.
fn expanded(c: &Condition, named: &[Expanded]) -> Expanded {
    let inner = match c {
        Condition::All(cs) | Condition::Any(cs) => cs
            .iter()
            .map(|c| expanded(c, named))
            .fold(Expanded::default(), Expanded::beside),
        Condition::Not(c) => expanded(c, named),
        Condition::Named(i, _) => named.get(*i).copied().unwrap_or_default(),
        Condition::Test(_) => Expanded::default(),
    };
    inner.under_one()
}

/// Reports `what` if it is over a bound that none of the named conditions it uses
/// directly is over already: only where a blow-up starts is reported, not everything
/// built on it.
fn check_bounds<'c>(
    cx: &mut Ctx<'_>,
    // What and where, found only when reported (`key_pos` reads the mapping).
    place: impl Fn() -> (String, Pos),
    conditions: impl Iterator<Item = &'c Condition> + Clone,
    named: &[Expanded],
) {
    let size = conditions
        .clone()
        .map(|c| expanded(c, named))
        .fold(Expanded::default(), Expanded::beside);
    let mut used = Expanded::default();
    for c in conditions {
        uses(c, &mut |i| {
            if let Some(n) = named.get(i) {
                used.nodes = used.nodes.max(n.nodes);
                used.depth = used.depth.max(n.depth);
            }
        });
    }
    let (nodes, depth) = (cx.condition_nodes, cx.yaml_depth);
    if size.nodes > nodes && used.nodes <= nodes {
        let (what, pos) = place();
        cx.error(
            Code::OverLimit,
            pos,
            format!(
                "{what} stands for {} condition nodes once the named conditions it uses are written out; the limit is {nodes}",
                size.nodes
            ),
            "use named conditions inside each other less (a condition that uses another twice is twice its size, so each level of that doubles), or raise the limit with --limit condition-nodes=N",
        );
    }
    if size.depth > depth && used.depth <= depth {
        let (what, pos) = place();
        cx.error(
            Code::OverLimit,
            pos,
            format!(
                "{what} nests {} levels deep once the named conditions it uses are written out; the limit is {depth}",
                size.depth
            ),
            "use fewer levels of named conditions inside each other (evaluation goes down every level), or raise the limit with --limit yaml-depth=N",
        );
    }
}

/// Each named condition written out (`order` from [`check_cycles`]), refusing those
/// over `--limit condition-nodes` or nested deeper than `--limit yaml-depth`: a
/// rulebook of a few KB whose named conditions each use the one before twice stands
/// for 2^60 nodes, and a chain of them as long as the file would overflow the stack.
pub(super) fn check_named_sizes(
    cx: &mut Ctx<'_>,
    named: &[NamedCondition],
    order: &[usize],
    root: &Node,
) -> Vec<Expanded> {
    let mut sizes = vec![Expanded::default(); named.len()];
    for &i in order {
        let Some(n) = named.get(i) else { continue };
        let place = || {
            let pos = root.key_pos("/conditions", &n.name).unwrap_or_default();
            (format!("the named condition `{}`", n.name), pos)
        };
        check_bounds(cx, place, std::iter::once(&n.condition), &sizes);
        let size = expanded(&n.condition, &sizes);
        if let Some(s) = sizes.get_mut(i) {
            *s = size;
        }
    }
    sizes
}

/// The same bounds on each rule: its `when` and its variants' together.
pub(super) fn check_rule_sizes(cx: &mut Ctx<'_>, rules: &[Rule], named: &[Expanded]) {
    for rule in rules {
        let conditions = std::iter::once(&rule.when).chain(rule.variants.iter().map(|v| &v.when));
        let place = || (format!("the rule `{}`", rule.id), rule.pos);
        check_bounds(cx, place, conditions, named);
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Code;
    use crate::rulebook::{LoadOptions, RuleSet, load_str};

    /// A rulebook whose named condition `c<i>` uses `c<i-1>` twice: `levels` levels
    /// stand for 2^(levels+1) nodes, written in a few KB. `rule_uses` is the named
    /// condition its one rule uses (twice).
    fn doubling(levels: usize, rule_uses: usize) -> String {
        let mut text = String::from(
            "format: rulecheck/v1\nname: doubling\nversion: 1.0.0\ncategories:\n  - { id: c, title: C }\nconditions:\n  c0: { status: 500 }\n",
        );
        for i in 1..levels {
            text.push_str(&format!(
                "  c{i}: {{ all: [{{ condition: c{p} }}, {{ condition: c{p} }}] }}\n",
                p = i - 1
            ));
        }
        text.push_str(&format!(
            "rules:\n  - id: r\n    title: t\n    category: c\n    severity: error\n    message: m\n    when: {{ all: [{{ condition: c{rule_uses} }}, {{ condition: c{rule_uses} }}] }}\n"
        ));
        text
    }

    fn line_of(text: &str, start: &str) -> u32 {
        let i = text.lines().position(|l| l.starts_with(start)).unwrap();
        u32::try_from(i + 1).unwrap()
    }

    /// 40 levels stand for 2^41 nodes: before the bound, loading succeeded and the
    /// first capture never finished evaluating. Only the first named condition over the
    /// limit is reported, with its line, size, the limit and what to do.
    #[test]
    fn named_conditions_that_double_are_refused_at_load() {
        let text = doubling(40, 39);
        let errors = load_str("doubling.yaml", &text, &LoadOptions::default()).unwrap_err();
        let nodes: Vec<_> = errors
            .iter()
            .filter(|e| e.message.contains("condition nodes"))
            .collect();
        assert_eq!(nodes.len(), 1, "{errors:#?}");
        let e = nodes[0];
        // c<i> stands for 2^(i+2) - 3 nodes: c15 is the first over 100,000.
        assert_eq!(e.code, Code::OverLimit);
        assert_eq!(e.file, "doubling.yaml");
        assert_eq!(e.line, Some(line_of(&text, "  c15:")));
        assert!(
            e.message
                .contains("`c15` stands for 131069 condition nodes")
                && e.message.contains("the limit is 100000"),
            "{}",
            e.message
        );
        assert!(
            e.help
                .as_deref()
                .is_some_and(|h| h.contains("--limit condition-nodes=N")),
            "{e:?}"
        );
    }

    /// A rule over the limit whose named conditions are each within it is reported at
    /// the rule; raising the limit lets the same rulebook load.
    #[test]
    fn a_rule_over_the_limit_is_reported_at_the_rule_and_the_limit_can_be_raised() {
        // c14 stands for 65,533 nodes; the rule uses it twice: 2 × 65,534 + 1.
        let text = doubling(15, 14);
        let errors = load_str("rule.yaml", &text, &LoadOptions::default()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].line, Some(line_of(&text, "  - id: r")));
        assert!(
            errors[0]
                .message
                .contains("the rule `r` stands for 131069 condition nodes"),
            "{}",
            errors[0].message
        );
        let mut raised = LoadOptions::default();
        raised.limits.set("condition-nodes=131069").unwrap();
        assert!(load_str("rule.yaml", &text, &raised).is_ok());
    }

    #[test]
    fn the_default_rulebook_is_well_within_the_limit() {
        let mut tight = LoadOptions::default();
        tight.limits.condition_nodes = 1_000;
        assert!(RuleSet::default_rulebook(&tight).is_ok());
    }

    /// `c<i>` is `{ condition: c<i-1> }`: i + 1 levels deep; the rule uses the last.
    fn chain(levels: usize) -> String {
        let mut text = String::from(
            "format: rulecheck/v1\nname: chain\nversion: 1.0.0\ncategories:\n  - { id: c, title: C }\nconditions:\n  c0: { status: 500 }\n",
        );
        for i in 1..levels {
            text.push_str(&format!("  c{i}: {{ condition: c{} }}\n", i - 1));
        }
        text.push_str(&format!(
            "rules:\n  - {{ id: r, title: t, category: c, severity: error, message: m, when: {{ condition: c{} }} }}\n",
            levels - 1
        ));
        text
    }

    /// Evaluation goes down a level per named condition: a chain of 50,000 loaded before
    /// and overflowed the stack on the first capture. It is refused where it passes
    /// `yaml-depth`; checking it recurses on nothing per level.
    #[test]
    fn a_chain_of_named_conditions_deeper_than_yaml_depth_is_refused() {
        let text = chain(50_000);
        let errors = load_str("chain.yaml", &text, &LoadOptions::default()).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].line, Some(line_of(&text, "  c64:")));
        assert!(
            errors[0]
                .message
                .contains("`c64` nests 65 levels deep once the named conditions it uses are written out; the limit is 64"),
            "{}",
            errors[0].message
        );
        assert!(
            errors[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("--limit yaml-depth=N"))
        );
    }

    /// At the limit a chain loads and evaluates as before.
    #[test]
    fn a_chain_within_yaml_depth_loads_and_fires() {
        // The rule's `when` is one level above c62's 63.
        let rb = load_str("chain.yaml", &chain(63), &LoadOptions::default()).unwrap();
        let set = RuleSet::new(vec![rb]).unwrap();
        let capture = crate::input::read(br#"{"response": {"status": 500}}"#).unwrap();
        let d = crate::evaluate::diagnose(&set, &capture[0].capture, Default::default());
        assert!(d.findings.iter().any(|f| f.id == "r"), "{d:?}");
        let errors = load_str("chain.yaml", &chain(64), &LoadOptions::default()).unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("the rule `r` nests 65 levels deep"),
            "{errors:#?}"
        );
    }
}
