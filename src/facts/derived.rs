//! Facts a rulebook defines from other facts (`derive:`): the first case that holds.

use std::borrow::Cow;

use super::{Fact, FactValue, Facts};

/// A rulebook-defined fact: the value of the first case that holds
/// (`derived.key_platform` is `OpenAI` when `key` starts with `sk-proj-`; `derived.model_named`
/// is what follows "for model" in `error.message`).
pub struct Derived {
    pub name: String,
    pub cases: Vec<DerivedCase>,
}

/// A test on a case's source fact.
pub type DerivedTest = Box<dyn Fn(Option<&FactValue<'_>>) -> bool + Send + Sync>;

/// Pulls the derived value out of the source fact's text (a regex's capture group), or
/// `None` when it is not there.
pub type DerivedExtract = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// One case of a derived fact: the fact it reads, an optional test on it, and the
/// value it gives.
pub struct DerivedCase {
    pub source: Fact,
    /// The source fact's name as written (for evidence).
    pub source_name: String,
    /// Whether the case names its own source rather than the definition's `from`.
    pub own_source: bool,
    pub test: Option<DerivedTest>,
    pub result: DerivedResult,
}

/// What a case that holds gives.
pub enum DerivedResult {
    /// A fixed value (`value: OpenAI`).
    Value(String),
    /// Part of the source fact's own text (`extract: 'for model (\S+)'`); the case
    /// holds only when the part is found.
    Extract(DerivedExtract),
}

impl Derived {
    /// The case that holds on these facts and the value it gives.
    pub fn resolve<'f>(&self, facts: &'f Facts<'_>) -> Option<(&DerivedCase, FactValue<'f>)> {
        self.cases.iter().find_map(|case| {
            let source = facts.get(&case.source);
            if let Some(test) = &case.test
                && !test(source.as_ref())
            {
                return None;
            }
            let value = match &case.result {
                DerivedResult::Value(v) => v.clone(),
                DerivedResult::Extract(extract) => {
                    let source = source?;
                    match source.as_str() {
                        Some(text) => extract(text)?,
                        None => extract(&source.display())?,
                    }
                }
            };
            Some((case, FactValue::Str(Cow::Owned(value))))
        })
    }
}

impl PartialEq for Derived {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Derived {}

impl std::hash::Hash for Derived {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Derived({}, {} cases)", self.name, self.cases.len())
    }
}
