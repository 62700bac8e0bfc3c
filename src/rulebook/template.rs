//! Message templates: text with `{fact.name}` and `{vars.name}` placeholders.
//!
//! Placeholders are checked when the rulebook compiles (an unknown fact or variable is
//! an error there, never an empty string at run time). Variables are substituted at
//! compile time; facts when a finding is rendered. `{{` and `}}` write literal braces.

use crate::facts::{Derived, Fact, Facts};
use crate::rulebook::Lang;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    Text(String),
    Fact(Fact, String),
    /// `{[ … ]}`: rendered only when every fact inside is in the capture.
    Optional(Vec<Segment>),
}

/// Renders segments; a fact's value is quoted up to `max_quote` bytes.
fn render_segments(
    segments: &[Segment],
    facts: &Facts<'_>,
    lang: Lang,
    max_quote: usize,
    out: &mut String,
) {
    for seg in segments {
        match seg {
            Segment::Text(t) => out.push_str(t),
            Segment::Fact(fact, _) => facts.with_display(fact, |value| match value {
                Some(v) => {
                    // A fact can be a whole body: a message quotes at most its start.
                    let shown = crate::facts::cut(v, max_quote);
                    push_escaped(out, shown);
                    if shown.len() < v.len() {
                        out.push('…');
                    }
                }
                None => out.push_str(match lang {
                    Lang::En => "(unknown)",
                    Lang::Zh => "（未知）",
                }),
            }),
            Segment::Optional(inner) => {
                let complete = inner.iter().all(|s| match s {
                    // `display` is cached: the value is masked once, for here and below.
                    Segment::Fact(fact, _) => facts.with_display(fact, |v| v.is_some()),
                    _ => true,
                });
                if complete {
                    render_segments(inner, facts, lang, max_quote, out);
                }
            }
        }
    }
}

/// Appends `text` with control characters escaped (`\n`): messages are one line.
fn push_escaped(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(char::is_control) {
        let (plain, from_control) = rest.split_at(at);
        out.push_str(plain);
        let mut chars = from_control.chars();
        if let Some(c) = chars.next() {
            out.extend(c.escape_default());
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
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
        Template::compile_with(text, vars, &[])
    }

    /// Compiles `text`, resolving `{vars.*}` and `{derived.*}` as the rulebook declares them.
    pub fn compile_with(
        text: &str,
        vars: &BTreeMap<String, String>,
        derived: &[Arc<Derived>],
    ) -> Result<Template, Vec<TemplateError>> {
        let mut errors = Vec::new();
        // The outer segments, and those of an open optional section `{[ … ]}`.
        let mut outer: Vec<Segment> = Vec::new();
        let mut section: Option<(usize, Vec<Segment>)> = None;
        let mut literal = String::new();
        // Byte positions (every character the syntax uses is ASCII); errors give
        // character offsets.
        let bytes = text.as_bytes();
        let offset = |byte: usize| text.get(..byte).map_or(0, |t| t.chars().count());
        let mut i = 0;
        fn flush(literal: &mut String, into: &mut Vec<Segment>) {
            if !literal.is_empty() {
                into.push(Segment::Text(std::mem::take(literal)));
            }
        }
        while let Some(&c) = bytes.get(i) {
            let next = bytes.get(i + 1).copied();
            let in_section = section.is_some();
            match (c, next) {
                (b'{', Some(b'{')) | (b'}', Some(b'}')) => {
                    literal.push(char::from(c));
                    i += 2;
                }
                (b'{', Some(b'[')) => {
                    if in_section {
                        errors.push(TemplateError {
                            offset: offset(i),
                            message: "optional sections `{[ … ]}` cannot be nested".into(),
                            is_fact: false,
                        });
                    } else {
                        flush(&mut literal, &mut outer);
                        section = Some((i, Vec::new()));
                    }
                    i += 2;
                }
                (b']', Some(b'}')) if in_section => {
                    if let Some((_, mut segs)) = section.take() {
                        flush(&mut literal, &mut segs);
                        outer.push(Segment::Optional(segs));
                    }
                    i += 2;
                }
                (b'}', _) => {
                    errors.push(TemplateError {
                        offset: offset(i),
                        message: "a lone `}`; write `}}` for a literal brace".into(),
                        is_fact: false,
                    });
                    i += 1;
                }
                (b'{', _) => {
                    let rest = text.get(i + 1..).unwrap_or("");
                    let Some(len) = rest.find('}') else {
                        errors.push(TemplateError {
                            offset: offset(i),
                            message: "`{` is never closed; write `{{` for a literal brace".into(),
                            is_fact: false,
                        });
                        break;
                    };
                    let name = rest.get(..len).unwrap_or("").trim();
                    if let Some(var) = name.strip_prefix("vars.") {
                        match vars.get(var) {
                            Some(value) => literal.push_str(value),
                            None => {
                                let mut message = format!(
                                    "`{{vars.{var}}}`: the rulebook declares no variable `{var}`"
                                );
                                if let Some(close) =
                                    crate::spelling::suggest(var, vars.keys().map(String::as_str))
                                {
                                    message.push_str(&format!("; did you mean `vars.{close}`?"));
                                }
                                errors.push(TemplateError {
                                    offset: offset(i),
                                    message,
                                    is_fact: false,
                                });
                            }
                        }
                    } else {
                        let resolved = Fact::parse(name).and_then(|fact| match fact {
                            Fact::DerivedRef(d) => derived
                                .iter()
                                .find(|arc| arc.name == d)
                                .map(|arc| Fact::Derived(arc.clone()))
                                .ok_or_else(|| format!("the rulebook derives no fact `{d}` (declare it under `derive:`)")),
                            other => Ok(other),
                        });
                        match resolved {
                            Ok(fact) => {
                                let current = match &mut section {
                                    Some((_, segs)) => segs,
                                    None => &mut outer,
                                };
                                flush(&mut literal, current);
                                current.push(Segment::Fact(fact, name.to_owned()));
                            }
                            Err(message) => errors.push(TemplateError {
                                offset: offset(i),
                                message: format!("`{{{name}}}`: {message}"),
                                is_fact: true,
                            }),
                        }
                    }
                    i += len + 2;
                }
                _ => {
                    // A run of ordinary text at once (a `]` outside `]}` is ordinary).
                    let rest = text.get(i..).unwrap_or("");
                    let first = rest.chars().next().map_or(1, char::len_utf8);
                    let end = rest
                        .get(first..)
                        .and_then(|r| r.find(['{', '}', ']']))
                        .map_or(text.len(), |j| i + first + j);
                    literal.push_str(text.get(i..end).unwrap_or(""));
                    i = end;
                }
            }
        }
        if let Some((start, _)) = section {
            errors.push(TemplateError {
                offset: offset(start),
                message: "the optional section `{[` is never closed with `]}`".into(),
                is_fact: false,
            });
        }
        flush(&mut literal, &mut outer);
        if errors.is_empty() {
            Ok(Template { segments: outer })
        } else {
            Err(errors)
        }
    }

    /// Renders the template for one capture. Secrets render masked, control
    /// characters escaped (`\n`); a fact the capture lacks renders as "(unknown)",
    /// and an optional section `{[ … ]}` is left out when any fact inside is missing.
    /// A fact's value is quoted up to `max_quote` bytes (then `…`): a fact can be a
    /// whole body.
    pub fn render(&self, facts: &Facts<'_>, lang: Lang, max_quote: usize) -> Cow<'_, str> {
        // Plain text (most fixes, many messages): nothing to render.
        if let Some(text) = self.plain() {
            return Cow::Borrowed(text);
        }
        match self.segments.as_slice() {
            [] => Cow::Borrowed(""),
            segments => {
                let literal: usize = segments
                    .iter()
                    .map(|s| match s {
                        Segment::Text(t) => t.len(),
                        _ => 32,
                    })
                    .sum();
                let mut out = String::with_capacity(literal);
                render_segments(segments, facts, lang, max_quote, &mut out);
                Cow::Owned(out)
            }
        }
    }

    /// The template's text, when it is plain text with nothing to render: what
    /// [`Template::render`] then shows as it is, borrowed.
    pub fn plain(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// The facts the template names.
    pub fn facts(&self) -> Vec<&str> {
        fn walk<'a>(segments: &'a [Segment], out: &mut Vec<&'a str>) {
            for s in segments {
                match s {
                    Segment::Fact(_, name) => out.push(name),
                    Segment::Optional(inner) => walk(inner, out),
                    Segment::Text(_) => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.segments, &mut out);
        out
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
            t.render(&facts, Lang::En, 1000),
            "Sent to api.openai.com; use https://api.moleapi.com/v1 {literally}"
        );
        let t = Template::compile("{model}", &vars()).unwrap();
        assert_eq!(t.render(&facts, Lang::En, 1000), "(unknown)");
        assert_eq!(t.render(&facts, Lang::Zh, 1000), "（未知）");
    }

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_borrowed() {
        // The straightforward way, a character at a time: what `push_escaped` must equal.
        let one_by_one = |text: &str| -> String {
            text.chars()
                .flat_map(|c| {
                    let escaped: Vec<char> = if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        vec![c]
                    };
                    escaped
                })
                .collect()
        };
        for text in [
            "",
            "plain",
            "\n",
            "sk-abc\n",
            "\tlead and trail\r\n",
            "a\u{0}\u{7f}\u{85}b",
            "中文\n密钥\u{1b}[0m",
            "\n\n\n",
        ] {
            let mut out = String::from(">");
            push_escaped(&mut out, text);
            assert_eq!(out, format!(">{}", one_by_one(text)), "{text:?}");
        }
        let c: Capture =
            serde_json::from_value(serde_json::json!({"response": {"status": 401}})).unwrap();
        let facts = Facts::derive(&c);
        let plain = Template::compile("Copy the key again {{exactly}}", &vars()).unwrap();
        assert!(matches!(
            plain.render(&facts, Lang::En, 100),
            Cow::Borrowed("Copy the key again {exactly}")
        ));
        let empty = Template::compile("", &vars()).unwrap();
        assert!(matches!(
            empty.render(&facts, Lang::En, 100),
            Cow::Borrowed("")
        ));
        let with_fact = Template::compile("Status {status}.", &vars()).unwrap();
        assert_eq!(with_fact.render(&facts, Lang::En, 100), "Status 401.");
    }

    #[test]
    fn optional_sections_need_all_their_facts() {
        let t = Template::compile("Sent{[ to {url.host}]}.{[ Model {model}.]}", &vars()).unwrap();
        let c: Capture =
            serde_json::from_value(serde_json::json!({"request": {"url": "https://h/x"}})).unwrap();
        assert_eq!(t.render(&Facts::derive(&c), Lang::En, 1000), "Sent to h.");
        assert_eq!(t.facts(), ["url.host", "model"]);
        assert!(Template::compile("{[ open", &vars()).is_err());
        assert!(Template::compile("{[ {[ nested ]} ]}", &vars()).is_err());
        assert!(
            Template::compile("a ]} b", &vars()).is_err(),
            "a stray `]}}` is a lone brace"
        );
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
        // Offsets count characters, not bytes.
        let errs = Template::compile("密钥 {url.hots} 和 }", &vars()).unwrap_err();
        assert_eq!(errs.iter().map(|e| e.offset).collect::<Vec<_>>(), [3, 16]);
    }

    #[test]
    fn text_around_placeholders_is_kept_whole() {
        let t = Template::compile(
            "{[密钥为 \"{status}\"。]}前后 [x] {{literal}} ]{[（“{status}”）]}",
            &vars(),
        )
        .unwrap();
        let c: Capture =
            serde_json::from_value(serde_json::json!({"response": {"status": 401}})).unwrap();
        let facts = Facts::derive(&c);
        assert_eq!(
            t.render(&facts, Lang::En, 100),
            "密钥为 \"401\"。前后 [x] {literal} ]（“401”）"
        );
    }
}
