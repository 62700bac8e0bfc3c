//! The data flows one way: no module of the library imports a module that imports it
//! back, and the compiler (`src/rulebook/`) never evaluates.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of the library and the top-level modules its code (tests
/// left out) names as `crate::…`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = common::root().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_str().unwrap().to_owned();
        // The binary and its flags are not the library.
        if rel == "main.rs" || rel == "lib.rs" || rel.starts_with("cli/") {
            continue;
        }
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        let text = std::fs::read_to_string(&f).unwrap();
        // Unit tests may reach anywhere; the module's own code may not.
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name != module && !name.is_empty() {
                deps.insert(name);
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(graph.len() >= 15, "{graph:?}");
    for (module, deps) in &graph {
        for dep in deps {
            // Does `dep` reach `module`?
            let mut seen = BTreeSet::new();
            let mut todo = vec![dep.clone()];
            while let Some(m) = todo.pop() {
                if m == *module {
                    panic!("{module} imports {dep}, which leads back to {module}: {graph:#?}");
                }
                if seen.insert(m.clone()) {
                    todo.extend(graph.get(&m).into_iter().flatten().cloned());
                }
            }
        }
    }
}

#[test]
fn the_compiler_never_evaluates() {
    let graph = imports();
    let rulebook = &graph["rulebook"];
    for stage in ["evaluate", "trace", "check", "run", "report", "bulk"] {
        assert!(
            !rulebook.contains(stage),
            "src/rulebook/ imports {stage}: {rulebook:?}"
        );
    }
    // The workbench sits above evaluation; evaluation knows nothing of it.
    for module in ["evaluate", "facts", "trace", "report", "input"] {
        assert!(!graph[module].contains("check"), "{module} imports check");
    }
    // The server is a front end like the command: nothing in the library calls it.
    for (module, deps) in &graph {
        assert!(!deps.contains("serve"), "{module} imports serve");
    }
}
