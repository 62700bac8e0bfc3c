//! A fact's value as a report shows it: masked, and kept for the next use.

use std::borrow::Cow;

use super::{Fact, Facts, is_secret};
use crate::mask;

impl<'c> Facts<'c> {
    /// The value as a report shows it: a secret fact masked whole, any other with the
    /// capture's keys (and anything key-shaped) masked inside it. Every fact value that
    /// leaves rulecheck — messages, evidence, the report's header — passes here.
    pub fn display(&self, fact: &Fact) -> Option<String> {
        self.with_display(fact, |value| value.map(str::to_owned))
    }

    /// [`Facts::display`] lent to `f` rather than copied out (a message's placeholder
    /// is written straight into the message). Kept, like `display`, for the next use.
    pub fn with_display<R>(&self, fact: &Fact, f: impl FnOnce(Option<&str>) -> R) -> R {
        if let Ok(shown) = self.shown.try_borrow()
            && let Some((_, value)) = shown.iter().find(|(kept, _)| kept == fact)
        {
            return f(value.as_deref());
        }
        let value = self.show(fact);
        // Only when `f` itself shows a value not yet kept is the cache busy: then that
        // value is shown without being kept.
        let Ok(mut shown) = self.shown.try_borrow_mut() else {
            return f(value.as_deref());
        };
        if shown.is_empty() {
            // A report shows about ten values: grown one by one, four reallocations.
            shown.reserve(12);
        }
        shown.push((fact.clone(), value));
        f(shown.last().and_then(|(_, value)| value.as_deref()))
    }

    /// [`Facts::display`] without keeping the value, for a value shown only once.
    pub fn show(&self, fact: &Fact) -> Option<String> {
        self.get(fact).map(|v| {
            let value = v.display();
            if is_secret(fact) {
                mask::mask_secret_value(&value)
            } else {
                match self.redactor().redact(&value) {
                    Cow::Borrowed(_) => value,
                    Cow::Owned(masked) => masked,
                }
            }
        })
    }
}
