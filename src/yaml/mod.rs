//! The one place that knows about YAML.
//!
//! Rulebooks are parsed into a [`Node`] tree in which every value, key included, keeps
//! its line and column. Everything downstream (schema validation, compilation, lint)
//! works on that tree, so any problem can be pointed at precisely. Keeping the YAML
//! crate behind this module means switching parsers is a local change.
//!
//! The built-in rulebook's tree is parsed once, at build time (`build.rs`, with this
//! module's own parser), and compiled into the binary as a [`FrozenNode`] table: a
//! one-capture run then skips parsing 87 KB of YAML, which was 40% of its work.

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

/// One node of a tree frozen at build time, in pre-order: a sequence of `n` items is
/// followed by its items, a mapping of `n` entries by each key and then its value.
/// Strings are ranges of one text beside the table ([`FrozenTree`]): a table without
/// pointers needs no relocation when the program loads, and its pages are read only
/// by the runs that thaw it.
#[derive(Clone, Copy, Debug)]
pub struct FrozenNode {
    pub line: u32,
    pub column: u32,
    pub value: Frozen,
}

/// A frozen node's value; a collection holds only its length (its items follow it).
#[derive(Clone, Copy, Debug)]
pub enum Frozen {
    Null,
    Bool(bool),
    Int(i64),
    /// The number's bits (`f64::to_bits`), so it comes back exactly.
    Float(u64),
    /// The string's start and length in bytes, in [`FrozenTree::strings`].
    Str(u32, u32),
    Seq(u32),
    Map(u32),
}

/// A tree frozen at build time: its nodes, and the text their strings are in.
#[derive(Clone, Copy, Debug)]
pub struct FrozenTree {
    pub nodes: &'static [FrozenNode],
    pub strings: &'static str,
}

/// Rebuilds a tree from its frozen table; `None` unless the table is exactly one
/// whole tree with its strings in range (callers then parse the YAML text instead).
pub fn thaw(tree: FrozenTree) -> Option<Node> {
    let mut nodes = tree.nodes.iter();
    let root = thaw_next(&mut nodes, tree.strings)?;
    nodes.next().is_none().then_some(root)
}

/// Recursion is bounded by the depth the build-time parse accepted (64).
fn thaw_next(nodes: &mut std::slice::Iter<'_, FrozenNode>, strings: &'static str) -> Option<Node> {
    let frozen = nodes.next()?;
    let value = match frozen.value {
        Frozen::Null => Value::Null,
        Frozen::Bool(b) => Value::Bool(b),
        Frozen::Int(i) => Value::Int(i),
        Frozen::Float(bits) => Value::Float(f64::from_bits(bits)),
        Frozen::Str(start, len) => {
            let start = start as usize;
            Value::Str(strings.get(start..start + len as usize)?.into())
        }
        Frozen::Seq(len) => {
            let mut items = Vec::with_capacity(len.min(1024) as usize);
            for _ in 0..len {
                items.push(thaw_next(nodes, strings)?);
            }
            Value::Seq(items)
        }
        Frozen::Map(len) => {
            let mut entries = Vec::with_capacity(len.min(1024) as usize);
            for _ in 0..len {
                entries.push((thaw_next(nodes, strings)?, thaw_next(nodes, strings)?));
            }
            Value::Map(entries)
        }
    };
    Some(Node {
        pos: Pos {
            line: frozen.line,
            column: frozen.column,
        },
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn n(line: u32, column: u32, value: Frozen) -> FrozenNode {
        FrozenNode {
            line,
            column,
            value,
        }
    }

    #[test]
    fn a_frozen_table_thaws_into_the_tree_it_was_made_from() {
        use Frozen::*;
        static TABLE: [FrozenNode; 8] = [
            n(1, 1, Map(2)),
            n(1, 1, Str(0, 1)),
            n(1, 4, Seq(3)),
            n(1, 5, Int(-7)),
            n(1, 9, Float(0x4004_0000_0000_0000)), // 2.5
            n(1, 14, Null),
            n(2, 1, Str(1, 1)),
            n(2, 4, Bool(false)),
        ];
        let tree = FrozenTree {
            nodes: &TABLE,
            strings: "ab",
        };
        let parsed = parse("a: [-7, 2.5, ~]\nb: false\n", YamlLimits::default()).unwrap();
        assert_eq!(format!("{:?}", thaw(tree)), format!("{:?}", Some(parsed)));
    }

    #[test]
    fn a_table_that_is_not_one_whole_tree_does_not_thaw() {
        use Frozen::*;
        fn thaw_leaked(nodes: Vec<FrozenNode>, strings: &'static str) -> Option<Node> {
            thaw(FrozenTree {
                nodes: nodes.leak(),
                strings,
            })
        }
        // Too few items for its sequence, a second root, strings out of range or
        // not on a character boundary.
        assert!(thaw_leaked(vec![n(1, 1, Seq(2)), n(1, 2, Null)], "").is_none());
        assert!(thaw_leaked(vec![n(1, 1, Null), n(2, 1, Null)], "").is_none());
        assert!(thaw_leaked(vec![], "").is_none());
        assert!(thaw_leaked(vec![n(1, 1, Str(1, 2))], "ab").is_none());
        assert!(thaw_leaked(vec![n(1, 1, Str(0, 1))], "é").is_none());
        assert!(thaw_leaked(vec![n(1, 1, Str(0, 2))], "é").is_some());
    }
}
