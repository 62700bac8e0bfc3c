//! Message templates: text with `{fact.name}` and `{vars.name}` placeholders.
//!
//! Placeholders are checked when the rulebook compiles (an unknown fact or variable is
//! an error there, never an empty string at run time). Variables are substituted at
//! compile time; facts when a finding is rendered. `{{` and `}}` write literal braces.

use crate::facts::{Fact, Facts};
use crate::rulebook::Lang;
use std::collections::BTreeMap;

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Text(String),
    Fact(Fact, String),
}

/// A problem in a template, with the character offset of the placeholder.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
    pub is_fact: bool,
}

impl Template {
    /// Compiles `text`, resolving `{vars.*}` from `vars`.
    pub fn compile(
        text: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<Template, Vec<TemplateError>> {
        let mut segments = Vec::new();
        let mut errors = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '{' && chars.get(i + 1) == Some(&'{') {
                literal.push('{');
                i += 2;
                continue;
            }
            if c == '}' && chars.get(i + 1) == Some(&'}') {
                literal.push('}');
                i += 2;
                continue;
            }
            if c == '}' {
                errors.push(TemplateError {
                    offset: i,
                    message: "a lone `}`; write `}}` for a literal brace".into(),
                    is_fact: false,
                });
                i += 1;
                continue;
            }
            if c != '{' {
                literal.push(c);
                i += 1;
                continue;
            }
            let Some(len) = chars[i + 1..].iter().position(|c| *c == '}') else {
                errors.push(TemplateError {
                    offset: i,
                    message: "`{` is never closed; write `{{` for a literal brace".into(),
                    is_fact: false,
                });
                break;
            };
            let name: String = chars[i + 1..i + 1 + len].iter().collect();
            let name = name.trim();
            if let Some(var) = name.strip_prefix("vars.") {
                match vars.get(var) {
                    Some(value) => literal.push_str(value),
                    None => {
                        let mut message =
                            format!("`{{vars.{var}}}`: the rulebook declares no variable `{var}`");
                        if let Some(close) =
                            crate::facts::suggest(var, vars.keys().map(String::as_str))
                        {
                            message.push_str(&format!("; did you mean `vars.{close}`?"));
                        }
                        errors.push(TemplateError {
                            offset: i,
                            message,
                            is_fact: false,
                        });
                    }
                }
            } else {
                match Fact::parse(name) {
                    Ok(fact) => {
                        if !literal.is_empty() {
                            segments.push(Segment::Text(std::mem::take(&mut literal)));
                        }
                        segments.push(Segment::Fact(fact, name.to_owned()));
                    }
                    Err(message) => errors.push(TemplateError {
                        offset: i,
                        message: format!("`{{{name}}}`: {message}"),
                        is_fact: true,
                    }),
                }
            }
            i += len + 2;
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        if errors.is_empty() {
            Ok(Template { segments })
        } else {
            Err(errors)
        }
    }

    /// Renders the template for one capture. Secrets render masked, control
    /// characters escaped (`\n`); a fact the capture lacks renders as "(unknown)".
    pub fn render(&self, facts: &Facts<'_>, lang: Lang) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Fact(fact, _) => match facts.display(fact) {
                    // Messages are one line: control characters show as escapes.
                    Some(v) => out.extend(v.chars().flat_map(|c| {
                        let escape = c.is_control();
                        let (a, b) = if escape {
                            (Some(c.escape_default()), None)
                        } else {
                            (None, Some(c))
                        };
                        a.into_iter().flatten().chain(b)
                    })),
                    None => out.push_str(match lang {
                        Lang::En => "(unknown)",
                        Lang::Zh => "（未知）",
                    }),
                },
            }
        }
        out
    }

    /// The facts the template names.
    pub fn facts(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Fact(_, name) => Some(name.as_str()),
            Segment::Text(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capture;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([(
            "base_url".to_owned(),
            "https://api.moleapi.com/v1".to_owned(),
        )])
    }

    #[test]
    fn facts_and_vars_render() {
        let t = Template::compile(
            "Sent to {url.host}; use {vars.base_url} {{literally}}",
            &vars(),
        )
        .unwrap();
        let c: Capture = serde_json::from_value(
            serde_json::json!({"request": {"url": "https://api.openai.com/v1/x"}}),
        )
        .unwrap();
        let facts = Facts::derive(&c);
        assert_eq!(
            t.render(&facts, Lang::En),
            "Sent to api.openai.com; use https://api.moleapi.com/v1 {literally}"
        );
        let t = Template::compile("{model}", &vars()).unwrap();
        assert_eq!(t.render(&facts, Lang::En), "(unknown)");
        assert_eq!(t.render(&facts, Lang::Zh), "（未知）");
    }

    #[test]
    fn unknown_names_are_compile_errors_with_offsets() {
        let errs = Template::compile("ab {url.hots} {vars.base}", &vars()).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].offset, 3);
        assert!(
            errs[0].message.contains("did you mean `url.host`"),
            "{}",
            errs[0].message
        );
        assert!(
            errs[1].message.contains("did you mean `vars.base_url`"),
            "{}",
            errs[1].message
        );
        assert!(Template::compile("open {url", &vars()).is_err());
        assert!(Template::compile("close }", &vars()).is_err());
    }
}
