//! Works out at build time what a one-capture run would otherwise work out at every
//! start from the built-in rulebook, with the program's own code (included here):
//!
//! - its YAML tree (`yaml::FrozenNode`, in pre-order): no 87 KB of YAML to parse;
//! - its patterns' required literals (`rulebook::literals`): no pattern syntax to
//!   parse for a text that cannot match.
//!
//! If the file does not parse, both tables are left empty and the program parses the
//! text at run time: `rulecheck lint` then reports the error with its line and column.

// A build script that cannot do its job stops the build, loudly: it may panic.
#![allow(clippy::panic, clippy::expect_used, clippy::string_slice)]

use std::fmt::Write;

#[allow(dead_code)]
#[path = "src/yaml/tree.rs"]
mod tree;

#[allow(dead_code)]
#[path = "src/rulebook/literals.rs"]
mod literals;

const RULEBOOK: &str = "rules/moleapi.yaml";

fn main() {
    println!("cargo::rerun-if-changed={RULEBOOK}");
    println!("cargo::rerun-if-changed=src/yaml/tree.rs");
    println!("cargo::rerun-if-changed=src/rulebook/literals.rs");
    let text = std::fs::read_to_string(RULEBOOK)
        .unwrap_or_else(|e| panic!("{RULEBOOK}: cannot read the built-in rulebook: {e}"));
    // `{:?}` writes valid Rust string literals, escapes included.
    let (table, literals) = match tree::parse(&text, tree::YamlLimits::default()) {
        Ok(root) => {
            let mut table = String::from("Some(yaml::FrozenTree { nodes: &[\n");
            let mut strings = String::new();
            freeze(&root, &mut table, &mut strings);
            let _ = writeln!(table, "], strings: {strings:?} }})");
            let mut patterns = Vec::new();
            find_patterns(&root, &mut patterns);
            (table, required_literals(patterns))
        }
        Err(e) => {
            let at = e.pos.map(|p| format!(":{}:{}", p.line, p.column));
            println!(
                "cargo::warning={RULEBOOK}{}: {}; the built-in rulebook will be parsed at run \
                 time (`rulecheck lint {RULEBOOK}` shows the error)",
                at.unwrap_or_default(),
                e.message
            );
            ("None\n".to_owned(), "&[]\n".to_owned())
        }
    };
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for (name, content) in [
        ("moleapi_tree.rs", table),
        ("moleapi_literals.rs", literals),
    ] {
        let out = std::path::Path::new(&out_dir).join(name);
        std::fs::write(&out, content).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    }
}

/// Every `matches:` and `extract:` pattern, with its test's `ignore_case`.
fn find_patterns<'t>(node: &'t tree::Node, out: &mut Vec<(&'t str, bool)>) {
    match &node.value {
        tree::Value::Map(entries) => {
            let ignore_case = entries.iter().any(|(k, v)| {
                k.as_str() == Some("ignore_case") && matches!(v.value, tree::Value::Bool(true))
            });
            for (key, value) in entries {
                match (key.as_str(), value.as_str()) {
                    (Some("matches" | "extract"), Some(pattern)) => {
                        out.push((pattern, ignore_case))
                    }
                    _ => find_patterns(value, out),
                }
            }
        }
        tree::Value::Seq(items) => items.iter().for_each(|item| find_patterns(item, out)),
        _ => {}
    }
}

/// The `rulebook::DEFAULT_RULEBOOK_LITERALS` table, sorted for binary search.
fn required_literals(mut patterns: Vec<(&str, bool)>) -> String {
    patterns.sort();
    patterns.dedup();
    let mut out = String::from("&[\n");
    for (pattern, ignore_case) in patterns {
        let literals = match literals::required_for(pattern, ignore_case) {
            Some(list) => {
                let list: Vec<String> = list
                    .iter()
                    .map(|l| format!("b\"{}\"", l.escape_ascii()))
                    .collect();
                format!("Some(&[{}])", list.join(","))
            }
            None => "None".to_owned(),
        };
        let _ = writeln!(out, "({pattern:?},{ignore_case},{literals}),");
    }
    out.push_str("]\n");
    out
}

/// One line a node, as `n(line, column, value)`, its string (if any) appended to
/// `strings`; see `yaml::Frozen`.
fn freeze(node: &tree::Node, out: &mut String, strings: &mut String) {
    let (line, column) = (node.pos.line, node.pos.column);
    let _ = match &node.value {
        tree::Value::Null => writeln!(out, "n({line},{column},Null),"),
        tree::Value::Bool(b) => writeln!(out, "n({line},{column},Bool({b})),"),
        tree::Value::Int(i) => writeln!(out, "n({line},{column},Int({i})),"),
        tree::Value::Float(f) => writeln!(out, "n({line},{column},Float({:#x})),", f.to_bits()),
        tree::Value::Str(s) => {
            let start = strings.len();
            strings.push_str(s);
            writeln!(out, "n({line},{column},Str({start},{})),", s.len())
        }
        tree::Value::Seq(items) => {
            let _ = writeln!(out, "n({line},{column},Seq({})),", items.len());
            items.iter().for_each(|item| freeze(item, out, strings));
            Ok(())
        }
        tree::Value::Map(entries) => {
            let _ = writeln!(out, "n({line},{column},Map({})),", entries.len());
            for (key, value) in entries {
                freeze(key, out, strings);
                freeze(value, out, strings);
            }
            Ok(())
        }
    };
}
