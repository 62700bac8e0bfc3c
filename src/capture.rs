//! A capture: one request/response pair, normalised from whatever the user had.
//!
//! Every part is optional: an SDK error text has no request headers, a log line has no
//! body. What an input format cannot carry stays absent; nothing is invented.
//! The native JSON form is described by `schemas/capture.schema.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One request/response pair.
///
/// Fields a capture does not define are kept in [`Capture::extra`], never a reason to
/// refuse it: real logs put `id`, `ts`, `level` next to `request` and `response`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Capture {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// An error the client raised before or instead of a response
    /// (`Could not resolve host`, `Illegal header value`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_error: Option<String>,
    /// Free-form facts about the capture: `time`, `client`, `note`, …
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, serde_json::Value>,
    /// Top-level fields the capture format does not define, kept as they were
    /// (written back beside the others). Rules do not read them; a rulebook's
    /// examples may not have any (a typo there would go unnoticed).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl<'de> Deserialize<'de> for Capture {
    // By hand rather than `#[serde(flatten)]`, which buffers the whole capture before
    // reading it: bulk runs read millions.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct CaptureVisitor;
        impl<'de> serde::de::Visitor<'de> for CaptureVisitor {
            type Value = Capture;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a capture: an object with `request`, `response`, `client_error`, `meta`",
                )
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Capture, A::Error> {
                let mut c = Capture::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let seen = match key.as_ref() {
                        "request" => c.request.replace(map.next_value()?).is_some(),
                        "response" => c.response.replace(map.next_value()?).is_some(),
                        "client_error" => c.client_error.replace(map.next_value()?).is_some(),
                        "meta" => !std::mem::replace(&mut c.meta, map.next_value()?).is_empty(),
                        _ => c.extra.insert(key.to_string(), map.next_value()?).is_some(),
                    };
                    if seen {
                        return Err(serde::de::Error::custom(format_args!(
                            "the field `{key}` is given twice"
                        )));
                    }
                }
                Ok(c)
            }
        }
        d.deserialize_map(CaptureVisitor)
    }
}

/// What was sent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// What came back.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A body as captured: JSON when the capture holds a JSON value, otherwise raw text.
/// Raw text that happens to be JSON is parsed when facts are derived.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Body {
    Text(String),
    Json(serde_json::Value),
    /// A JSON value kept as it was read, parsed only when a rule looks inside it: a
    /// request body's messages are most of a capture and rarely matter to a diagnosis.
    Raw(Box<serde_json::value::RawValue>),
}

impl Body {
    /// The body as a JSON value, when it is one (a text body is not parsed here).
    pub fn to_json(&self) -> Option<std::borrow::Cow<'_, serde_json::Value>> {
        match self {
            Body::Text(_) => None,
            Body::Json(j) => Some(std::borrow::Cow::Borrowed(j)),
            Body::Raw(r) => serde_json::from_str(r.get())
                .ok()
                .map(std::borrow::Cow::Owned),
        }
    }
}

impl PartialEq for Body {
    /// Bodies are equal when they hold the same text or the same JSON value.
    fn eq(&self, other: &Body) -> bool {
        match (self, other) {
            (Body::Text(a), Body::Text(b)) => a == b,
            (Body::Text(_), _) | (_, Body::Text(_)) => false,
            (a, b) => a.to_json() == b.to_json(),
        }
    }
}

impl<'de> Deserialize<'de> for Body {
    // Not `untagged`: that buffers every body. A string is text; anything else is
    // JSON, kept as read (one copy, no tree) until a rule needs its fields.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        if raw.get().starts_with('"') {
            return serde_json::from_str(raw.get())
                .map(Body::Text)
                .map_err(serde::de::Error::custom);
        }
        Ok(Body::Raw(raw))
    }
}

/// Headers in the order they were sent; names compare case-insensitively.
///
/// Names and values are kept end to end in one string: a capture's headers cost two
/// allocations, not two a header (bulk runs read millions of them).
#[derive(Clone, Default, PartialEq)]
pub struct Headers {
    text: String,
    /// Where each header's name and value end in `text`; a name starts where the
    /// previous header's value ends.
    ends: Vec<(usize, usize)>,
}

impl Headers {
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// How many headers there are (a repeated header counts each time).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The headers as (name, value), in the order they were sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0;
        self.ends.iter().map(move |&(name_end, value_end)| {
            let name = self.text.get(start..name_end).unwrap_or("");
            let value = self.text.get(name_end..value_end).unwrap_or("");
            start = value_end;
            (name, value)
        })
    }

    /// The first value of the header `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Adds `more` to the end of the last header's value (a value that went on past a
    /// line break in a transcript).
    pub fn extend_last(&mut self, more: &str) {
        if let Some(last) = self.ends.last_mut() {
            self.text.push_str(more);
            last.1 = self.text.len();
        }
    }

    pub fn push(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        self.text.push_str(name.as_ref());
        self.push_value(value.as_ref());
    }

    /// Ends the header whose name was just appended to `text` with `value`.
    fn push_value(&mut self, value: &str) {
        let name_end = self.text.len();
        self.text.push_str(value);
        self.ends.push((name_end, self.text.len()));
    }
}

impl<N: AsRef<str>, V: AsRef<str>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(pairs: I) -> Headers {
        let mut out = Headers::default();
        for (name, value) in pairs {
            out.push(name, value);
        }
        out
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Appends the string it reads to a header text: no string of its own per name or value.
struct AppendStr<'b>(&'b mut String);

impl<'de> serde::de::DeserializeSeed<'de> for AppendStr<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AppendStr<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

/// A header's value (one string, the usual case, or a list of them), appended after
/// its name, which has just been appended at `name_start`.
struct HeaderValues<'b> {
    headers: &'b mut Headers,
    name_start: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for HeaderValues<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for HeaderValues<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a header value (a string, or a list of strings)")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.headers.push_value(v);
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // A list of values (rare): each value gets its own copy of the name.
        let name = self.headers.text.split_off(self.name_start);
        while let Some(value) = seq.next_element::<String>()? {
            self.headers.push(&name, value);
        }
        Ok(())
    }
}

/// Headers are accepted as a map (`{"Name": "value"}` or `{"Name": ["v1", "v2"]}`)
/// or as a list of `{"name": …, "value": …}` objects (HAR style) or `[name, value]`
/// pairs. Read with a visitor, not `untagged` enums, which would buffer every header.
impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};
        const EXPECTED: &str = "headers as a map of name to string (or list of strings), or a list of {name, value} objects or [name, value] pairs";

        struct Entry(String, String);
        impl<'de> Deserialize<'de> for Entry {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match serde_json::Value::deserialize(d)? {
                    serde_json::Value::Object(mut o) => {
                        let name = o.remove("name");
                        let value = o.remove("value");
                        match (name, value) {
                            (
                                Some(serde_json::Value::String(n)),
                                Some(serde_json::Value::String(v)),
                            ) => Ok(Entry(n, v)),
                            _ => Err(D::Error::custom(EXPECTED)),
                        }
                    }
                    serde_json::Value::Array(a) => match <[serde_json::Value; 2]>::try_from(a) {
                        Ok([serde_json::Value::String(n), serde_json::Value::String(v)]) => {
                            Ok(Entry(n, v))
                        }
                        _ => Err(D::Error::custom(EXPECTED)),
                    },
                    _ => Err(D::Error::custom(EXPECTED)),
                }
            }
        }

        struct HeadersVisitor;
        impl<'de> Visitor<'de> for HeadersVisitor {
            type Value = Headers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut out = Headers {
                    text: String::with_capacity(256),
                    ends: Vec::with_capacity(map.size_hint().unwrap_or(8).min(64)),
                };
                loop {
                    let name_start = out.text.len();
                    if map.next_key_seed(AppendStr(&mut out.text))?.is_none() {
                        break;
                    }
                    map.next_value_seed(HeaderValues {
                        headers: &mut out,
                        name_start,
                    })?;
                }
                Ok(out)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Headers, A::Error> {
                let mut out = Headers::default();
                while let Some(Entry(n, v)) = seq.next_element()? {
                    out.push(n, v);
                }
                Ok(out)
            }
        }
        d.deserialize_any(HeadersVisitor)
    }
}

impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for (name, value) in self.iter() {
            seq.serialize_element(&[name, value])?;
        }
        seq.end()
    }
}

impl Capture {
    /// A capture written by hand (a rulebook's examples, a case file): there a field
    /// the format does not define is most likely a typo, so it is refused by name.
    pub fn from_json_strict(value: serde_json::Value) -> Result<Capture, String> {
        let capture: Capture = serde_json::from_value(value).map_err(|e| e.to_string())?;
        match capture.extra.keys().next() {
            Some(field) => Err(format!(
                "unknown field `{field}`, expected one of `request`, `response`, `client_error`, `meta`"
            )),
            None => Ok(capture),
        }
    }

    /// The response status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref()?.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_accept_map_list_and_pairs_and_compare_case_insensitively() {
        for json in [
            r#"{"Authorization": "Bearer x"}"#,
            r#"[{"name": "authorization", "value": "Bearer x"}]"#,
            r#"[["AUTHORIZATION", "Bearer x"]]"#,
            r#"{"authorization": ["Bearer x", "Bearer y"]}"#,
        ] {
            let h: Headers = serde_json::from_str(json).unwrap();
            assert_eq!(h.get("Authorization"), Some("Bearer x"), "{json}");
        }
    }

    #[test]
    fn header_lists_repeat_the_name_and_keep_the_order() {
        let h: Headers = serde_json::from_str(
            r#"{"A": "1", "Set-Cookie": ["x", "y", "z"], "Empty": [], "B\u00e9": "", "C": ["only"], "D": "4"}"#,
        )
        .unwrap();
        let pairs: Vec<(&str, &str)> = h.iter().collect();
        assert_eq!(
            pairs,
            [
                ("A", "1"),
                ("Set-Cookie", "x"),
                ("Set-Cookie", "y"),
                ("Set-Cookie", "z"),
                ("Bé", ""),
                ("C", "only"),
                ("D", "4")
            ]
        );
        assert_eq!(h.len(), 7);
        // The same headers pushed one by one are equal, and survive a round trip.
        let pushed: Headers = pairs.iter().copied().collect();
        assert_eq!(pushed, h);
        let again: Headers = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(again, h);
        assert_eq!(format!("{h:?}").matches("Set-Cookie").count(), 3);
        for bad in [
            r#"{"A": null}"#,
            r#"{"A": ["x", 1]}"#,
            r#"{"A": 1}"#,
            r#"[["A"]]"#,
        ] {
            assert!(serde_json::from_str::<Headers>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bodies_keep_text_and_json_apart() {
        let c: Capture = serde_json::from_str(
            r#"{"request": {"body": "{\"model\": 1}"}, "response": {"status": 400, "body": {"error": {}}}}"#,
        )
        .unwrap();
        assert!(matches!(c.request.unwrap().body, Some(Body::Text(_))));
        let body = c.response.unwrap().body.unwrap();
        assert!(matches!(body, Body::Raw(_)), "kept as read");
        assert_eq!(body, Body::Json(serde_json::json!({"error": {}})));
        // The same from a JSON value (rulebook examples are read that way).
        let c: Capture = serde_json::from_value(
            serde_json::json!({"response": {"status": 400, "body": {"error": {"code": 1}}}}),
        )
        .unwrap();
        assert_eq!(
            c.response
                .unwrap()
                .body
                .unwrap()
                .to_json()
                .unwrap()
                .into_owned(),
            serde_json::json!({"error": {"code": 1}})
        );
    }

    #[test]
    fn unknown_fields_are_kept_but_refused_in_hand_written_captures() {
        let c =
            serde_json::from_str::<Capture>(r#"{"respone": {"status": 404}, "id": 3}"#).unwrap();
        assert_eq!(c.extra.len(), 2);
        assert_eq!(c.extra["id"], 3);
        let value = serde_json::json!({"respone": {"status": 404}});
        let err = Capture::from_json_strict(value).unwrap_err();
        assert!(err.contains("`respone`"), "{err}");
        // Inside a request or response a field that is not defined is still an error.
        assert!(serde_json::from_str::<Capture>(r#"{"response": {"staus": 404}}"#).is_err());
    }
}
