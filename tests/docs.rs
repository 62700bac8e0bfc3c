//! The docs are product: their examples run, and their lists match the code.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::path::Path;

use rulecheck::check::examples;
use rulecheck::diagnostic::Code;
use rulecheck::facts::{FACT_FAMILIES, FACT_NAMES};
use rulecheck::rulebook::{self, LoadOptions, RuleSet};

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The fenced blocks of a Markdown file with the given info string.
fn blocks(markdown: &str, lang: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == format!("```{lang}") => {
                current = Some((i + 1, String::new()))
            }
            Some((start, text)) if line.trim_start() == "```" => {
                out.push((*start, std::mem::take(text)));
                current = None;
            }
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_yaml_example_in_the_docs_works() {
    let mut rulebooks = 0;
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, block) in blocks(&text, "yaml") {
            let name = format!("{}:{line}", path.display());
            if block.contains("format: rulecheck/v1") {
                // A whole rulebook: it loads (schema on) and its examples hold.
                let rb = rulebook::load_str(&name, &block, &LoadOptions::default())
                    .unwrap_or_else(|d| panic!("{name}: {d:#?}"));
                // An overlay (it has `overrides:`) goes on top of the built-in rulebook.
                let overlay = block.contains("\noverrides:");
                let mut layers = if overlay {
                    RuleSet::default_rulebook(&LoadOptions::default())
                        .unwrap()
                        .rulebooks
                } else {
                    Vec::new()
                };
                layers.push(rb);
                let set = RuleSet::new(layers).unwrap_or_else(|d| panic!("{name}: {d:#?}"));
                let report = examples::run(&set);
                assert!(report.failures.is_empty(), "{name}: {:#?}", report.failures);
                assert!(
                    overlay || report.passed > 0,
                    "{name}: the example rulebook has examples"
                );
                rulebooks += 1;
            } else {
                rulecheck::yaml::parse(&block, Default::default())
                    .unwrap_or_else(|e| panic!("{name}: not valid YAML: {e:?}"));
            }
        }
    }
    assert!(rulebooks >= 1);
}

#[test]
fn every_fact_is_documented() {
    let doc = read("docs/rulebook-format.md");
    for name in FACT_NAMES
        .iter()
        .map(|f| f.0)
        .chain(FACT_FAMILIES.iter().map(|f| f.0))
    {
        assert!(
            doc.contains(&format!("| `{name}` |")),
            "docs/rulebook-format.md lacks the fact `{name}`"
        );
    }
}

#[test]
fn every_diagnostic_code_is_documented_and_no_other() {
    let doc = read("docs/error-codes.md");
    // The table's rows: | `RC0xx` | summary | what to do |
    let rows: Vec<(String, String)> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `RC"))
        .map(|rest| {
            let mut cells = rest.split(" | ");
            let code = format!("RC{}", cells.next().unwrap().trim_end_matches('`'));
            (code, cells.next().unwrap().trim().to_owned())
        })
        .collect();
    let expected: Vec<(String, String)> = Code::ALL
        .iter()
        .map(|c| (c.id().to_owned(), c.info().1.to_owned()))
        .collect();
    assert_eq!(
        rows, expected,
        "docs/error-codes.md and diagnostic::Code differ"
    );
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme = read("README.md");
    let commands: Vec<String> = blocks(&readme, "sh").into_iter().map(|(_, b)| b).collect();
    let first = commands.first().expect("README has a sh block");
    assert!(
        first.contains("cargo run --release -- eval tests/fixtures/captures/"),
        "{first}"
    );
    assert!(first.contains("cargo test"), "{first}");
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run runs the README's test command"
    );
    // The example capture the README names exists.
    let capture = first
        .split_whitespace()
        .find(|w| w.starts_with("tests/fixtures/captures/"))
        .unwrap();
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(capture).exists(),
        "{capture}"
    );
}

#[test]
fn every_default_rule_is_explained_where_its_docs_link_points() {
    let doc = read("docs/diagnoses.md");
    let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    // Where the docs are published: `--var docs=URL`.
    let published = RuleSet::default_rulebook(&LoadOptions {
        vars: [(
            "docs".to_owned(),
            "https://docs.example.com/diagnoses".to_owned(),
        )]
        .into(),
        ..LoadOptions::default()
    })
    .unwrap();
    for ((_, rule), (_, at)) in set.rules().zip(published.rules()) {
        assert!(
            doc.contains(&format!("\n### {}\n", rule.id)),
            "docs/diagnoses.md has no section for {}",
            rule.id
        );
        // …which says what evidence the diagnosis needs and what it never claims.
        let start = doc.find(&format!("\n### {}\n", rule.id)).unwrap() + 1;
        let section = doc[start..].split("\n#").next().unwrap_or_default();
        for label in ["**Evidence:**", "**Never claims:**"] {
            assert!(
                section.contains(label),
                "docs/diagnoses.md: the section for {} lacks {label}",
                rule.id
            );
        }
        // GitHub's anchor for `### address.missing-v1` is `#addressmissing-v1`.
        let anchor = rule.id.replace('.', "");
        assert_eq!(
            at.docs.as_deref(),
            Some(format!("https://docs.example.com/diagnoses#{anchor}").as_str()),
            "{}",
            rule.id
        );
        // Unpublished, a finding points at what works offline, from any installed binary.
        assert_eq!(
            rule.docs.as_deref(),
            Some(format!("rulecheck explain {}", rule.id).as_str()),
        );
    }
}

#[test]
fn every_limit_is_documented_with_its_default() {
    let doc = read("docs/limits.md");
    let defaults = rulecheck::limits::Limits::default();
    for l in rulecheck::limits::LIMITS {
        let row = doc
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", l.name)))
            .unwrap_or_else(|| panic!("docs/limits.md lacks the limit `{}`", l.name));
        let shown = rulecheck::limits::show(l, (l.get)(&defaults));
        // 64MiB in code reads "64 MiB" in the docs; 10000 reads "10,000".
        let spaced = shown.replace("MiB", " MiB").replace("KiB", " KiB");
        let grouped = (l.get)(&defaults)
            .to_string()
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(",");
        assert!(
            row.contains(&spaced) || row.contains(&grouped),
            "docs/limits.md gives `{}` a default other than {shown}: {row}",
            l.name
        );
    }
}
