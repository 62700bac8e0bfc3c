//! The one place that knows about YAML.
//!
//! Rulebooks are parsed into a [`Node`] tree in which every value, key included, keeps
//! its line and column. Everything downstream (schema validation, compilation, lint)
//! works on that tree, so any problem can be pointed at precisely. Keeping the YAML
//! crate behind this module means switching parsers is a local change.

mod tree;

pub use tree::{Node, Pos, Value, YamlError, YamlLimits, parse};

impl Node {
    /// Converts the tree to JSON, for schema validation and for example captures.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Value::Str(s) => J::String(s.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.key_text().unwrap_or_default().into_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}
