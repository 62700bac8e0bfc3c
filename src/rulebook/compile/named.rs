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

/// Named conditions may use each other, but not in a cycle.
pub(super) fn check_cycles(cx: &mut Ctx<'_>, named: &[NamedCondition], root: &Node) {
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
