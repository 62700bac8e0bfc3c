//! Parsers behind the facts: URLs, keys in headers, error bodies, dates, request ids.

use std::borrow::Cow;

use serde_json::Value as Json;

use crate::capture::Headers;

use super::{FactValue, PathSegment};

/// The parts of a URL, as far as it could be read.
/// Borrowed from the capture's URL: only a scheme or host the `url` crate had to
/// normalise is a copy.
#[derive(Clone, Debug, Default)]
pub(super) struct UrlParts<'c> {
    pub(super) scheme: Option<Cow<'c, str>>,
    pub(super) host: Option<Cow<'c, str>>,
    pub(super) port: Option<u16>,
    pub(super) path: &'c str,
    pub(super) query: Option<&'c str>,
}

/// The API key as sent and where it came from.
#[derive(Clone, Debug)]
pub(super) struct KeyInfo<'c> {
    /// Borrowed from the header it was sent in; a `?key=` value is decoded, so owned.
    pub(super) key: Cow<'c, str>,
    pub(super) source: &'static str,
    pub(super) scheme: Option<&'c str>,
}

/// The error a response body reports; borrowed from the body's text where it can be.
#[derive(Debug, Default, PartialEq)]
pub(super) struct ErrorInfo<'c> {
    pub(super) message: Option<Cow<'c, str>>,
    pub(super) code: Option<Json>,
    pub(super) kind: Option<Cow<'c, str>>,
    pub(super) param: Option<Cow<'c, str>>,
}

pub(super) fn str_value(s: &str) -> FactValue<'_> {
    FactValue::Str(Cow::Borrowed(s))
}

pub(super) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits a URL into parts. A bare path (`/v1/chat/completions`, as in a log line)
/// gives a path and nothing else. The path is kept as sent, not normalised, because
/// rules reason about what the client built.
pub(super) fn parse_url(raw: &str) -> UrlParts<'_> {
    let raw = raw.trim();
    if raw.starts_with('/') {
        let (path, query) = split_query(raw);
        return UrlParts {
            path,
            query,
            ..Default::default()
        };
    }
    let authority = quick_authority(raw)
        .map(|(scheme, host, port)| (Cow::Borrowed(scheme), Some(host), Some(port)))
        .or_else(|| {
            let u = url::Url::parse(raw).ok()?;
            Some((
                Cow::Owned(u.scheme().to_owned()),
                u.host_str().map(|h| {
                    Cow::Owned(h.trim_start_matches('[').trim_end_matches(']').to_owned())
                }),
                u.port_or_known_default(),
            ))
        });
    let Some((scheme, host, port)) = authority else {
        return UrlParts::default();
    };
    // Keep the path as the client wrote it (before dot-segment removal).
    let after_authority = scheme_separator(raw)
        .and_then(|i| raw.get(i + 3..))
        .and_then(|rest| rest.find('/').and_then(|j| rest.get(j..)))
        .unwrap_or("/");
    let (path, query) = split_query(after_authority);
    UrlParts {
        scheme: Some(scheme),
        host,
        port,
        path: path.split('#').next().unwrap_or(""),
        query,
    }
}

/// Where the first `://` of `text` is. `str::find` prepares a two-way search on every
/// call, dearer than the search itself in a URL, whose first `:` is almost always the
/// one: each `:` is checked for the two slashes after it.
pub(super) fn scheme_separator(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b':', bytes).find(|&i| bytes.get(i + 1..i + 3) == Some(b"//"))
}

/// `s` in lower case; borrowed when it is already.
pub(super) fn lower_case(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Scheme, host and port of a plain `http(s)://host[:port]/…` URL, read directly; the
/// `url` crate (several times the cost) reads everything else. "Plain" is what the
/// `url` crate would read the same way: ASCII, no user info, no percent-escapes, a
/// host of letters, digits, dots and dashes that is not an IPv4 address in disguise
/// (`127.1`, `0x7f.1`, `127.000.0.1`) nor punycode, or an IPv4 address written the
/// usual way (`127.0.0.1`). A test compares the two on many URLs.
pub(super) fn quick_authority(raw: &str) -> Option<(&'static str, Cow<'_, str>, u16)> {
    let bytes = raw.as_bytes();
    let colon = memchr::memchr(b':', bytes)?;
    let (scheme, default_port) = match bytes.get(..colon)? {
        s if s.eq_ignore_ascii_case(b"https") => ("https", 443),
        s if s.eq_ignore_ascii_case(b"http") => ("http", 80),
        _ => return None,
    };
    let rest = bytes.get(colon + 1..)?.strip_prefix(b"//")?;
    let plain = |b: &u8| b.is_ascii_graphic() && !matches!(b, b'\\' | b'%' | b'@');
    if !rest.iter().all(plain) {
        return None;
    }
    let end = rest
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let (host, port) = match memchr::memrchr(b':', authority) {
        Some(i) => (authority.get(..i)?, Some(authority.get(i + 1..)?)),
        None => (authority, None),
    };
    let mut labels = host
        .strip_suffix(b".")
        .unwrap_or(host)
        .split(|b| *b == b'.');
    let label_ok = |l: &[u8]| {
        !l.is_empty()
            && !l.starts_with(b"-")
            && l.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && !l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
    };
    if !labels.all(label_ok) {
        return None;
    }
    // The last label decides whether the url crate reads an IPv4 address.
    let last = host
        .strip_suffix(b".")
        .unwrap_or(host)
        .rsplit(|b| *b == b'.')
        .next()?;
    if (!last.iter().any(u8::is_ascii_alphabetic)
        || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case(b"0x")))
        && !is_dotted_quad(host)
    {
        return None;
    }
    let port = match port {
        None => default_port,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(p).ok()?.parse::<u16>().ok()?
        }
        Some(_) => return None,
    };
    let host = lower_case(std::str::from_utf8(host).ok()?);
    Some((scheme, host, port))
}

/// Four decimal numbers of 0–255 without leading zeros (`127.0.0.1`): an IPv4
/// address the `url` crate writes back unchanged (a leading zero would make it octal).
pub(super) fn is_dotted_quad(host: &[u8]) -> bool {
    let mut parts = 0;
    host.split(|b| *b == b'.').all(|part| {
        parts += 1;
        let decimal = !part.is_empty() && part.len() <= 3 && part.iter().all(u8::is_ascii_digit);
        decimal
            && (part.len() == 1 || part.first() != Some(&b'0'))
            && std::str::from_utf8(part)
                .ok()
                .and_then(|p| p.parse::<u8>().ok())
                .is_some()
    }) && parts == 4
}

pub(super) fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((p, q)) => (p, Some(q.split('#').next().unwrap_or(""))),
        None => (s, None),
    }
}

/// The first `max` bytes of `s`, cut on a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// The top-level members of a JSON object, as written: each key and its value's text,
/// in order (`None`: not an object, or a key with an escape in it). `text` must be
/// valid JSON, as a body kept as read is (serde_json checked it): this only finds
/// where each value ends. Strings are skipped by SIMD search for their closing quote,
/// where a parse checks every byte: a request body is mostly its messages' text, and
/// reading one member of it (`request.json.max_tokens`) was 4.5k instructions a
/// capture through serde_json.
pub(super) fn object_members(text: &str) -> Option<Vec<(&str, &str)>> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    let mut members = Vec::new();
    loop {
        at = skip_space(bytes, at);
        match bytes.get(at)? {
            b'}' => return Some(members),
            b',' => {
                at += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = string_end(bytes, at)?;
        let key = text.get(at + 1..key_end - 1)?;
        if key.contains('\\') {
            return None;
        }
        at = skip_space(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(bytes, at + 1);
        let end = value_end(bytes, at)?;
        members.push((key, text.get(at..end)?));
        at = end;
    }
}

/// Where JSON whitespace from `at` ends.
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

/// Just past the closing quote of the string that opens at `at`.
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        match bytes.get(at)? {
            // An escape is two bytes at least (`\"`); `\u1234` has no quote after its two.
            b'\\' => at += 2,
            _ => return Some(at + 1),
        }
    }
}

/// Just past the JSON value that starts at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = at;
            loop {
                match bytes.get(at)? {
                    b'"' => {
                        at = string_end(bytes, at)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        // A number, `true`, `false` or `null`: up to what follows a value.
        _ => Some(
            at + bytes
                .get(at..)?
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(bytes.len() - at),
        ),
    }
}

pub(super) fn walk<'j>(mut json: &'j Json, path: &[PathSegment]) -> Option<&'j Json> {
    for seg in path {
        json = match seg {
            PathSegment::Key(k) => json.get(k.as_str())?,
            PathSegment::Index(i) => json.get(*i)?,
        };
    }
    Some(json)
}

/// Finds the API key the way gateways read it: `Authorization` first, then the
/// `x-api-key` family, then `?key=`. The key keeps any whitespace it was sent with.
pub(super) fn find_key<'c>(headers: &'c Headers, url: Option<&UrlParts>) -> Option<KeyInfo<'c>> {
    if let Some(value) = headers.get("authorization") {
        let (scheme, key) = split_auth(value);
        return Some(KeyInfo {
            key: Cow::Borrowed(key),
            source: "authorization",
            scheme,
        });
    }
    for name in ["x-api-key", "api-key", "x-goog-api-key"] {
        if let Some(value) = headers.get(name) {
            return Some(KeyInfo {
                key: Cow::Borrowed(value),
                source: match name {
                    "x-api-key" => "x-api-key",
                    "api-key" => "api-key",
                    _ => "x-goog-api-key",
                },
                scheme: None,
            });
        }
    }
    let query = url?.query?;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "key").then(|| KeyInfo {
            key: Cow::Owned(percent_decode(value)),
            source: "query",
            scheme: None,
        })
    })
}

/// Splits `Bearer sk-…` into the scheme word and the key. Exactly one space after the
/// scheme is a separator; any more is kept as part of the key, because that is what
/// the server will see.
pub(super) fn split_auth(value: &str) -> (Option<&str>, &str) {
    let word_end = value
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map(|(i, _)| i)
        .unwrap_or(value.len());
    let (word, rest) = value.split_at_checked(word_end).unwrap_or((value, ""));
    let known = ["bearer", "basic", "token", "apikey", "key"];
    if known.iter().any(|k| word.eq_ignore_ascii_case(k)) {
        let key = rest.strip_prefix(' ').unwrap_or(rest);
        return (Some(word), key);
    }
    (None, value)
}

pub(super) fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

pub(super) fn request_id_in_message(message: &str) -> Option<String> {
    const OPENING: &str = "(request id: ";
    if !message.contains(OPENING) {
        return None;
    }
    static REQUEST_ID: crate::fixed_regex::Fixed =
        crate::fixed_regex::Fixed::new(r"\(request id: ([0-9A-Za-z]{16,64})\)");
    REQUEST_ID
        .captures(message)
        .and_then(|c| c.get(1))
        .map(str::to_owned)
}

/// Reads the error out of the common body shapes: OpenAI/new-api
/// `{"error": {"message", "type", "param", "code"}}`, Claude
/// `{"type": "error", "error": {…}}`, `{"error": "text"}`, the dashboard's
/// `{"success": false, "message"}`, `{"detail": …}`, and for error statuses a
/// plain-text body or an HTML page's title.
pub(super) fn normalise_error(
    json: Option<&Json>,
    text: Option<&str>,
    status: Option<u16>,
) -> ErrorInfo<'static> {
    let as_text = |v: &Json| match v {
        Json::String(s) => Some(Cow::Owned(s.clone())),
        Json::Null => None,
        other => Some(Cow::Owned(other.to_string())),
    };
    if let Some(json) = json {
        let inner = json.get("error");
        match inner {
            Some(Json::Object(e)) => {
                return ErrorInfo {
                    message: e.get("message").and_then(as_text),
                    code: e.get("code").filter(|c| !c.is_null()).cloned(),
                    kind: e.get("type").and_then(as_text),
                    param: e.get("param").and_then(as_text).filter(|p| !p.is_empty()),
                };
            }
            Some(Json::String(m)) => {
                return ErrorInfo {
                    message: Some(Cow::Owned(m.clone())),
                    code: json.get("code").filter(|c| !c.is_null()).cloned(),
                    kind: json.get("type").and_then(as_text),
                    param: None,
                };
            }
            _ => {}
        }
        let message = ["message", "detail", "description", "msg"]
            .iter()
            .find_map(|k| json.get(*k).and_then(as_text));
        if message.is_some() {
            return ErrorInfo {
                message,
                code: json.get("code").filter(|c| !c.is_null()).cloned(),
                kind: json.get("type").and_then(as_text),
                param: None,
            };
        }
        return ErrorInfo::default();
    }
    let is_error = status.is_some_and(|s| s >= 400);
    match text {
        Some(t) if is_error && !t.trim().is_empty() => ErrorInfo {
            message: Some(Cow::Owned(
                html_title(t).unwrap_or_else(|| first_chars(t.trim(), 500)),
            )),
            ..Default::default()
        },
        _ => ErrorInfo::default(),
    }
}

/// [`normalise_error`] for a body that is one JSON object, read from its text: only
/// the error fields are read (borrowed when they hold no escapes), the rest skipped,
/// no tree built. `None` when the text is not read this way (bad JSON, a field given
/// twice): the caller then parses the body whole, as before. A test checks both agree.
pub(super) fn quick_error(text: &str) -> Option<ErrorInfo<'_>> {
    #[derive(serde::Deserialize)]
    struct Outer<'a> {
        #[serde(borrow, default)]
        error: ErrorField<'a>,
        #[serde(borrow, default)]
        message: FieldText<'a>,
        #[serde(borrow, default)]
        detail: FieldText<'a>,
        #[serde(borrow, default)]
        description: FieldText<'a>,
        #[serde(borrow, default)]
        msg: FieldText<'a>,
        code: Option<Json>,
        #[serde(borrow, default, rename = "type")]
        kind: FieldText<'a>,
    }
    let outer: Outer<'_> = serde_json::from_str(text).ok()?;
    let message = match outer.error {
        ErrorField::Object(inner) => {
            return Some(ErrorInfo {
                message: inner.message.0,
                code: inner.code,
                kind: inner.kind.0,
                param: inner.param.0.filter(|p| !p.is_empty()),
            });
        }
        ErrorField::Text(m) => Some(m),
        ErrorField::Other => [outer.message, outer.detail, outer.description, outer.msg]
            .into_iter()
            .find_map(|f| f.0),
    };
    Some(match message {
        None => ErrorInfo::default(),
        Some(m) => ErrorInfo {
            message: Some(m),
            code: outer.code,
            kind: outer.kind.0,
            param: None,
        },
    })
}

/// A field of an error body as text, read in the same pass as the body: a string as
/// it is (borrowed when it holds no escapes), `null` as absent, anything else as its
/// JSON text.
#[derive(Default)]
pub(super) struct FieldText<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for FieldText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = FieldText<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(FieldText(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(FieldText(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(FieldText(Some(Cow::Owned(v))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(FieldText(None))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(json_text(Json::from(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(json_text(Json::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(json_text(Json::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(json_text(Json::from(v)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                use serde::Deserialize;
                Json::deserialize(serde::de::value::SeqAccessDeserializer::new(a)).map(json_text)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                use serde::Deserialize;
                Json::deserialize(serde::de::value::MapAccessDeserializer::new(a)).map(json_text)
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

pub(super) fn json_text(v: Json) -> FieldText<'static> {
    FieldText(Some(Cow::Owned(v.to_string())))
}

/// The fields of an `{"error": {…}}` object.
#[derive(serde::Deserialize)]
pub(super) struct ErrorObject<'a> {
    #[serde(borrow, default)]
    pub(super) message: FieldText<'a>,
    pub(super) code: Option<Json>,
    #[serde(borrow, default, rename = "type")]
    pub(super) kind: FieldText<'a>,
    #[serde(borrow, default)]
    pub(super) param: FieldText<'a>,
}

/// The `error` field of an error body: an object of fields, a message, or neither.
#[derive(Default)]
pub(super) enum ErrorField<'a> {
    Object(ErrorObject<'a>),
    Text(Cow<'a, str>),
    #[default]
    Other,
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for ErrorField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = ErrorField<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ErrorField::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ErrorField::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(ErrorField::Text(Cow::Owned(v)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(ErrorField::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ErrorField::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ErrorField::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ErrorField::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ErrorField::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(ErrorField::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                use serde::Deserialize;
                ErrorObject::deserialize(serde::de::value::MapAccessDeserializer::new(a))
                    .map(ErrorField::Object)
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

/// `Wed, 19 Aug 2026 09:33:13 GMT` → `2026-08-19 09:33:13 UTC`.
pub(super) fn http_date(date: &str) -> Option<String> {
    let parts: Vec<&str> = date.split_whitespace().collect();
    let [_, day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? + 1;
    let day: u32 = day.parse().ok()?;
    let zone = if zone.eq_ignore_ascii_case("GMT") {
        "UTC"
    } else {
        zone
    };
    Some(format!("{year}-{month:02}-{day:02} {time} {zone}"))
}

/// new-api and one-api request ids start with `YYYYMMDDhhmmss`.
pub(super) fn request_id_time(id: &str) -> Option<String> {
    let digits = id.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<u32>().ok());
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(4..6)?,
        n(6..8)?,
        n(8..10)?,
        n(10..12)?,
        n(12..14)?,
    );
    let plausible = (2020..=2100).contains(&y)
        && (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && h < 24
        && mi < 60
        && s < 61;
    plausible.then(|| format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
}

/// Keys whose values are conversation content: summarised, never copied to a ticket.
pub(super) const CONTENT_KEYS: &[&str] = &[
    "messages",
    "input",
    "prompt",
    "contents",
    "system",
    "instructions",
    "tools",
    "functions",
    "documents",
    "query",
];

/// The request's parameters, fit for a support ticket: content summarised,
/// anything that looks like a credential removed, compact JSON.
pub(super) fn support_params(body: &Json) -> Option<String> {
    let Json::Object(map) = body else {
        return None;
    };
    let mut out = serde_json::Map::new();
    for (k, v) in map {
        let lower = k.to_ascii_lowercase();
        let value = if CONTENT_KEYS.contains(&lower.as_str()) {
            Json::String(match v {
                Json::Array(a) => format!("[{} items]", a.len()),
                Json::String(s) => format!("[{} characters]", s.chars().count()),
                Json::Object(o) => format!("[{} fields]", o.len()),
                other => other.to_string(),
            })
        } else if ["key", "token", "secret", "authorization", "password"]
            .iter()
            .any(|w| lower.contains(w))
            && !lower.starts_with("max_")
        {
            Json::String("[removed]".into())
        } else {
            v.clone()
        };
        out.insert(k.clone(), value);
    }
    Some(Json::Object(out).to_string())
}

pub(super) fn html_title(text: &str) -> Option<String> {
    let lower = text.get(..text.len().min(4096))?.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = lower.get(start..)?.find("</title>")? + start;
    Some(text.get(start..end)?.trim().to_owned())
}

pub(super) fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
