//! The schemas in `schemas/` and the Rust code describe the same formats. These tests
//! fail the moment one changes without the other.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::collections::BTreeSet;
use std::path::Path;

use rulecheck::facts::{FACT_FAMILIES, FACT_NAMES, Fact};
use rulecheck::rulebook::compile::{
    CATEGORY_KEYS, COMBINATORS, EXAMPLE_KEYS, LANGS, RULE_KEYS, STATUS_KEYS, TOP_KEYS,
};
use rulecheck::rulebook::condition::OPERATORS;
use serde_json::Value;

fn schema(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn rulebook_schema_lists_the_keys_the_loader_reads() {
    let s = schema("rulebook.schema.json");
    let defs = &s["$defs"];
    assert_eq!(keys(&s["properties"]), set(TOP_KEYS), "top-level keys");
    assert_eq!(
        keys(&defs["rule"]["properties"]),
        set(RULE_KEYS),
        "rule keys"
    );
    assert_eq!(
        keys(&defs["test"]["properties"]),
        set(OPERATORS),
        "operators"
    );
    assert_eq!(
        keys(&defs["condition"]["properties"]),
        set(COMBINATORS),
        "combinators"
    );
    assert_eq!(
        keys(&s["properties"]["categories"]["items"]["properties"]),
        set(CATEGORY_KEYS)
    );
    assert_eq!(
        keys(&s["properties"]["statuses"]["additionalProperties"]["properties"]),
        set(STATUS_KEYS)
    );
    assert_eq!(
        keys(&defs["rule"]["properties"]["examples"]["properties"]),
        set(EXAMPLE_KEYS)
    );
    assert_eq!(keys(&defs["text"]["properties"]), set(LANGS));
    let required: BTreeSet<String> = defs["rule"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        required,
        set(&["id", "title", "category", "severity", "when", "message"])
    );
}

#[test]
fn schema_fact_pattern_accepts_exactly_the_facts_the_loader_knows() {
    let s = schema("rulebook.schema.json");
    let patterns = s["$defs"]["condition"]["patternProperties"]
        .as_object()
        .unwrap();
    assert_eq!(patterns.len(), 1);
    let re = regex::Regex::new(patterns.keys().next().unwrap()).unwrap();
    let mut probes: Vec<String> = FACT_NAMES.iter().map(|(n, _, _)| n.to_string()).collect();
    for (family, _) in FACT_FAMILIES {
        probes.push(
            family
                .replace("<name>", "content-type")
                .replace("<path>", "error.code"),
        );
    }
    probes.extend(
        [
            "url.pth",
            "status.code",
            "headers.authorization",
            "key.len",
            "request.json",
            "error",
            "meta",
            "all_of",
            "request.headers.x.y",
        ]
        .map(String::from),
    );
    for name in &probes {
        assert_eq!(
            re.is_match(name),
            Fact::parse(name).is_ok(),
            "schema and loader disagree on `{name}`"
        );
    }
}

#[test]
fn the_capture_schema_is_the_one_inside_the_rulebook_schema() {
    let mut capture = schema("capture.schema.json");
    for k in ["$schema", "$id", "title"] {
        capture.as_object_mut().unwrap().remove(k);
    }
    let mut in_rulebook = schema("rulebook.schema.json")["$defs"]["capture"].clone();
    // The one difference: a capture keeps fields it does not define, an example
    // written by hand may not have any (most likely a typo).
    assert!(capture["additionalProperties"].is_object());
    assert_eq!(in_rulebook["additionalProperties"], false);
    capture
        .as_object_mut()
        .unwrap()
        .remove("additionalProperties");
    in_rulebook
        .as_object_mut()
        .unwrap()
        .remove("additionalProperties");
    assert_eq!(in_rulebook, capture);
}

#[test]
fn every_fixture_capture_matches_the_capture_schema() {
    let validator = jsonschema::draft202012::new(&schema("capture.schema.json")).unwrap();
    let mut n = 0;
    insta::glob!("fixtures/captures/**/*.json", |path| {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        n += 1;
    });
    assert!(n >= 60);
    // The schema and the capture type agree: an unknown field inside a part is refused,
    // one beside the parts is kept.
    let bad = serde_json::json!({"response": {"staus": 404}});
    assert!(!validator.is_valid(&bad));
    assert!(serde_json::from_value::<rulecheck::capture::Capture>(bad).is_err());
    let extra = serde_json::json!({"id": 7, "level": "error", "response": {"status": 404}});
    assert!(validator.is_valid(&extra));
    assert!(serde_json::from_value::<rulecheck::capture::Capture>(extra).is_ok());
}

/// Editors show each field's description on hover: every field has one.
#[test]
fn every_rulebook_field_is_described() {
    fn walk(node: &Value, path: &str, missing: &mut Vec<String>) {
        let Some(obj) = node.as_object() else { return };
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                if v.get("description").is_none() && v.get("$ref").is_none() {
                    missing.push(format!("{path}.{k}"));
                }
                walk(v, &format!("{path}.{k}"), missing);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(v) = obj.get(key) {
                walk(v, &format!("{path}.{key}"), missing);
            }
        }
        for key in ["$defs", "patternProperties"] {
            if let Some(defs) = obj.get(key).and_then(Value::as_object) {
                for (k, v) in defs {
                    walk(v, &format!("{path}.{k}"), missing);
                }
            }
        }
    }
    let mut missing = Vec::new();
    walk(&schema("rulebook.schema.json"), "", &mut missing);
    assert_eq!(missing, Vec::<String>::new());
}
