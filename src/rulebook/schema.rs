//! Validation against `schemas/rulebook.schema.json`, the format's single written
//! description (editors use the same file for completion). Errors are placed back on
//! the YAML line and column through the node tree.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;

use crate::diagnostic::{Code, Diagnostic};
use crate::yaml::Node;

/// The rulebook schema, as shipped in `schemas/`.
pub const RULEBOOK_SCHEMA: &str = include_str!("../../schemas/rulebook.schema.json");

fn validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: serde_json::Value = serde_json::from_str(RULEBOOK_SCHEMA)
                .map_err(|e| format!("the built-in schema is not JSON: {e}"))?;
            jsonschema::draft202012::new(&schema)
                .map_err(|e| format!("the built-in schema does not compile: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Validates a rulebook's node tree; one diagnostic per schema violation.
pub fn validate(file: &str, root: &Node) -> Vec<Diagnostic> {
    validate_except(file, root, &[])
}

/// Validates, ignoring the rules at these indices (rules for a newer engine, which may
/// use syntax this engine's schema does not know).
pub fn validate_except(file: &str, root: &Node, skipped_rules: &[usize]) -> Vec<Diagnostic> {
    let validator = match validator() {
        Ok(v) => v,
        Err(e) => return vec![Diagnostic::error(Code::Schema, file, None, e)],
    };
    let instance = root.to_json();
    let mut out = Vec::new();
    for error in validator.iter_errors(&instance) {
        let pointer = error.instance_path().as_str().to_owned();
        if skipped_rules.iter().any(|i| {
            let p = format!("/rules/{i}");
            pointer == p || pointer.starts_with(&format!("{p}/"))
        }) {
            continue;
        }
        let node_pos = root.pointer(&pointer).map(|n| n.pos);
        let (pos, message) = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let key = unexpected.first().map(String::as_str).unwrap_or("");
                (
                    root.key_pos(&pointer, key).or(node_pos),
                    format!(
                        "`{key}` is not allowed here (at {})",
                        display_path(&pointer)
                    ),
                )
            }
            _ => (
                node_pos,
                format!("{} (at {})", error, display_path(&pointer)),
            ),
        };
        out.push(
            Diagnostic::error(Code::Schema, file, pos, message)
                .with_help("see docs/rulebook-format.md for the shape of this part"),
        );
    }
    out
}

fn display_path(pointer: &str) -> String {
    if pointer.is_empty() {
        "the top level".to_owned()
    } else {
        pointer.trim_start_matches('/').replace('/', ".")
    }
}
