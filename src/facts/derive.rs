//! [`Facts`]: everything derived from one capture, each part on first use.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value as Json;

use crate::capture::{Body, Capture};
use crate::mask;

use super::parse::*;
use super::{Fact, FactValue, PathSegment, is_secret_header};

/// Everything derived from one capture, each part on first use: a rulebook that never
/// asks for the request body's text never pays for serialising it.
pub struct Facts<'c> {
    pub(super) capture: &'c Capture,
    pub(super) max_body_text: usize,
    pub(super) url: OnceCell<Option<UrlParts<'c>>>,
    pub(super) request_body: BodyView<'c>,
    pub(super) response_body: BodyView<'c>,
    pub(super) key: OnceCell<Option<KeyInfo<'c>>>,
    pub(super) error: OnceCell<ErrorInfo<'c>>,
    pub(super) request_id: OnceCell<Option<String>>,
    pub(super) redactor: OnceCell<mask::Redactor<'c>>,
    pub(super) model: OnceCell<Option<String>>,
    /// Values already shown (masked): a message and its evidence often quote the same
    /// fact, and masking a long message twice is the costly part of a finding.
    pub(super) shown: std::cell::RefCell<Vec<(Fact, Option<String>)>>,
    /// Named conditions already decided on this capture (rulebook, index, truth): many
    /// rules share one (`is_401`), and each is decided once.
    named: std::cell::RefCell<Vec<(usize, usize, bool)>>,
}

/// A body's text (cut to the `body-bytes` limit) and JSON views, each made on first use.
pub(super) struct BodyView<'c> {
    pub(super) body: Option<&'c Body>,
    /// The text matched, and whether it is only the start of the body.
    pub(super) text: OnceCell<Option<(Cow<'c, str>, bool)>>,
    pub(super) json: OnceCell<Option<Cow<'c, Json>>>,
    /// The top-level members of an object body kept as read, each parsed on first use
    /// (`None`: not an object, or a key with an escape in it: the tree is used).
    members: OnceCell<Option<Vec<Member<'c>>>>,
}

/// The JSON type of a value as read (valid JSON), from its first byte.
fn raw_json_type(raw: &str) -> Option<&'static str> {
    Some(match raw.trim_start().bytes().next()? {
        b'"' => "string",
        b'{' => "object",
        b'[' => "array",
        b't' | b'f' => "boolean",
        b'n' => "null",
        _ => "number",
    })
}

/// One top-level member of a JSON body: its text as read, and its value once asked for.
struct Member<'c> {
    key: &'c str,
    raw: &'c str,
    value: OnceCell<Option<Json>>,
}

impl<'c> BodyView<'c> {
    pub(super) fn new(body: Option<&'c Body>) -> BodyView<'c> {
        BodyView {
            body,
            text: OnceCell::new(),
            json: OnceCell::new(),
            members: OnceCell::new(),
        }
    }

    /// The top-level members of a body kept as read, sorted by key, indexed on first
    /// use (`None`: not such a body, or not an object).
    fn members(&self) -> Option<&[Member<'c>]> {
        let Some(Body::Raw(raw)) = self.body else {
            return None;
        };
        self.members
            .get_or_init(|| {
                let mut members = object_members(raw.get())?;
                // A repeated key: the last wins, as in the tree (and as gateways read it).
                // Reversed, then sorted stably, the last of each key comes first.
                members.reverse();
                members.sort_by_key(|(key, _)| *key);
                members.dedup_by_key(|(key, _)| *key);
                Some(
                    members
                        .into_iter()
                        .map(|(key, raw)| Member {
                            key,
                            raw,
                            value: OnceCell::new(),
                        })
                        .collect(),
                )
            })
            .as_deref()
    }

    /// The value at `path` in the JSON body. A body kept as read and not parsed whole
    /// yet is read member by member: a rule that asks for `request.json.max_tokens`
    /// parses that member, not `messages` (the whole body was 9k instructions a
    /// capture for one such test in the bench).
    pub(super) fn at(&self, path: &[PathSegment]) -> Option<&Json> {
        let (Some(Body::Raw(_)), Some((PathSegment::Key(first), rest))) =
            (self.body, path.split_first())
        else {
            return walk(self.json()?, path);
        };
        if self.json.get().is_some() {
            return walk(self.json()?, path);
        }
        let Some(members) = self.members() else {
            return walk(self.json()?, path);
        };
        let at = members
            .binary_search_by(|m| m.key.cmp(first.as_str()))
            .ok()
            .and_then(|i| members.get(i))?;
        let value = at
            .value
            .get_or_init(|| serde_json::from_str(at.raw).ok())
            .as_ref()?;
        walk(value, rest)
    }

    /// The JSON type of the value at `path` (`None`: absent), as [`BodyView::at`]'s
    /// value has it. A top-level member of a body kept as read is typed by its first
    /// byte, not parsed: the built-in rulebook asks whether `messages` is a list, and
    /// parsing it, most of a capture, was a tenth of a diagnosis.
    pub(super) fn type_at(&self, path: &[PathSegment]) -> Option<&'static str> {
        let member = match (self.body, path) {
            (Some(Body::Raw(_)), [PathSegment::Key(key)]) if self.json.get().is_none() => {
                self.members().map(|members| {
                    members
                        .binary_search_by(|m| m.key.cmp(key.as_str()))
                        .ok()
                        .and_then(|i| members.get(i))
                })
            }
            _ => None,
        };
        match member {
            Some(Some(m)) if m.value.get().is_none() => raw_json_type(m.raw),
            Some(None) => None,
            _ => self.at(path).map(super::json_type_name),
        }
    }

    pub(super) fn text(&self, max: usize) -> Option<&str> {
        self.text
            .get_or_init(|| match self.body? {
                Body::Text(t) => {
                    let view = cut(t, max);
                    Some((Cow::Borrowed(view), view.len() < t.len()))
                }
                // JSON as it was read: the text as sent.
                Body::Raw(raw) => {
                    let view = cut(raw.get(), max);
                    Some((Cow::Borrowed(view), view.len() < raw.get().len()))
                }
                Body::Json(j) => {
                    let mut text = j.to_string();
                    let full = text.len();
                    text.truncate(cut(&text, max).len());
                    let was_cut = text.len() < full;
                    Some((Cow::Owned(text), was_cut))
                }
            })
            .as_ref()
            .map(|(t, _)| t.as_ref())
    }

    pub(super) fn json(&self) -> Option<&Json> {
        self.json
            .get_or_init(|| match self.body? {
                Body::Json(j) => Some(Cow::Borrowed(j)),
                Body::Raw(raw) => serde_json::from_str::<Json>(raw.get()).ok().map(Cow::Owned),
                Body::Text(t) => {
                    let trimmed = t.trim_start();
                    (trimmed.starts_with('{') || trimmed.starts_with('['))
                        .then(|| serde_json::from_str::<Json>(t).ok().map(Cow::Owned))
                        .flatten()
                }
            })
            .as_deref()
    }

    /// The body's text when it looks like a JSON object (kept as read, or text that
    /// starts with `{`): what [`quick_error`] reads.
    pub(super) fn object_text(&self) -> Option<&'c str> {
        let text = match self.body? {
            Body::Raw(raw) => raw.get(),
            Body::Text(t) => t,
            Body::Json(_) => return None,
        };
        text.trim_start().starts_with('{').then_some(text)
    }

    /// Whether only the start of the body's text was matched: a text body over the
    /// limit, or a JSON body whose text was needed and is over it.
    pub(super) fn was_cut(&self, max: usize) -> bool {
        match self.body {
            Some(Body::Text(t)) => t.len() > max,
            Some(Body::Raw(raw)) => raw.get().len() > max,
            Some(Body::Json(_)) => self
                .text
                .get()
                .is_some_and(|t| t.as_ref().is_some_and(|(_, was_cut)| *was_cut)),
            None => false,
        }
    }
}

impl<'c> Facts<'c> {
    /// The facts of a capture, matching bodies up to the default `body-bytes`.
    pub fn derive(capture: &'c Capture) -> Facts<'c> {
        Facts::derive_with(capture, crate::limits::Limits::default().body_bytes)
    }

    /// The facts of a capture, matching bodies up to `max_body_text` bytes. Nothing is
    /// derived yet: each part is, the first time a rule asks.
    pub fn derive_with(capture: &'c Capture, max_body_text: usize) -> Facts<'c> {
        Facts {
            capture,
            max_body_text,
            url: OnceCell::new(),
            request_body: BodyView::new(capture.request.as_ref().and_then(|r| r.body.as_ref())),
            response_body: BodyView::new(capture.response.as_ref().and_then(|r| r.body.as_ref())),
            key: OnceCell::new(),
            error: OnceCell::new(),
            request_id: OnceCell::new(),
            redactor: OnceCell::new(),
            model: OnceCell::new(),
            shown: std::cell::RefCell::new(Vec::new()),
            named: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The truth of named condition `index` of the rulebook at `rulebook` (its address:
    /// one rule set's rulebooks stay put while a capture is diagnosed), decided by
    /// `decide` the first time it is asked on this capture.
    pub fn named_condition(
        &self,
        rulebook: usize,
        index: usize,
        decide: impl FnOnce() -> bool,
    ) -> bool {
        if let Ok(seen) = self.named.try_borrow()
            && let Some(&(_, _, truth)) =
                seen.iter().find(|(r, i, _)| *r == rulebook && *i == index)
        {
            return truth;
        }
        let truth = decide();
        if let Ok(mut seen) = self.named.try_borrow_mut() {
            seen.push((rulebook, index, truth));
        }
        truth
    }

    /// Masks this capture's keys, and anything key-shaped, in text.
    pub fn redactor(&self) -> &mask::Redactor<'c> {
        self.redactor
            .get_or_init(|| mask::Redactor::new(self.secrets()))
    }

    /// The bodies of which only the start was matched (`request.body`, `response.body`).
    pub fn cut_bodies(&self) -> Vec<&'static str> {
        let max = self.max_body_text;
        let mut out = Vec::new();
        if self.request_body.was_cut(max) {
            out.push("request.body");
        }
        if self.response_body.was_cut(max) {
            out.push("response.body");
        }
        out
    }

    pub(super) fn url(&self) -> Option<&UrlParts<'c>> {
        self.url
            .get_or_init(|| {
                let request = self.capture.request.as_ref();
                request.and_then(|r| r.url.as_deref()).map(|u| {
                    let mut parts = parse_url(u);
                    // A bare path (HTTPie, a log line): the Host header names the host.
                    if parts.host.is_none()
                        && let Some(host) = request.and_then(|r| r.headers.get("host"))
                    {
                        let (h, port) = match host.rsplit_once(':') {
                            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => {
                                (h, p.parse().ok())
                            }
                            _ => (host, None),
                        };
                        parts.host = Some(lower_case(h.trim_matches(['[', ']'])));
                        parts.port = port;
                    }
                    parts
                })
            })
            .as_ref()
    }

    pub(super) fn key(&self) -> Option<&KeyInfo<'c>> {
        self.key
            .get_or_init(|| {
                let request = self.capture.request.as_ref()?;
                find_key(&request.headers, self.url())
            })
            .as_ref()
    }

    pub(super) fn error(&self) -> &ErrorInfo<'c> {
        self.error.get_or_init(|| {
            // Most error bodies are a small object read here without building a tree;
            // anything else (and a body already parsed for a rule) as before.
            if self.response_body.json.get().is_none()
                && let Some(info) = self.response_body.object_text().and_then(quick_error)
            {
                return info;
            }
            // Only a body that is not JSON is read as text (HTML pages, plain errors).
            let json = self.response_body.json();
            let text = match json {
                Some(_) => None,
                None => self.response_body.text(self.max_body_text),
            };
            normalise_error(json, text, self.capture.status())
        })
    }

    /// The request body's `model`, when it is a string. A body kept as read is not
    /// parsed whole for it: its members are read once ([`BodyView::at`]), for this and
    /// every other `request.json` test, and only `model` is parsed.
    pub(super) fn model(&self) -> Option<&str> {
        self.model
            .get_or_init(
                || match self.request_body.at(&[PathSegment::Key("model".into())])? {
                    Json::String(m) => Some(m.clone()),
                    _ => None,
                },
            )
            .as_deref()
    }

    pub(super) fn request_id(&self) -> Option<&str> {
        self.request_id
            .get_or_init(|| {
                let response = self.capture.response.as_ref();
                response
                    .and_then(|r| r.headers.get("x-oneapi-request-id"))
                    .map(str::to_owned)
                    .or_else(|| {
                        self.error()
                            .message
                            .as_deref()
                            .and_then(request_id_in_message)
                    })
                    .or_else(|| {
                        response
                            .and_then(|r| r.headers.get("x-request-id"))
                            .map(str::to_owned)
                    })
            })
            .as_deref()
    }

    /// The capture these facts were derived from.
    pub fn capture(&self) -> &'c Capture {
        self.capture
    }

    /// Every API key the capture holds, for redaction of all output.
    pub fn secrets(&self) -> Vec<Cow<'c, str>> {
        let mut out = Vec::new();
        let key = self.key();
        if let Some(k) = key {
            out.push(k.key.clone());
        }
        // The header the key was read from holds nothing else secret: the key and its
        // scheme word (`Bearer`). Every other credential header is a secret whole.
        let key_text = key.and_then(|k| match &k.key {
            Cow::Borrowed(text) => Some(text.as_bytes().as_ptr_range()),
            Cow::Owned(_) => None,
        });
        if let Some(req) = &self.capture.request {
            for (name, value) in req.headers.iter() {
                let holds_key = key_text.as_ref().is_some_and(|k| {
                    let v = value.as_bytes().as_ptr_range();
                    v.start <= k.start && k.end <= v.end
                });
                if is_secret_header(name) && !holds_key {
                    out.push(Cow::Borrowed(value));
                }
            }
            if let Some(url) = req.url.as_deref() {
                url_secrets(url, &mut out);
            }
        }
        out
    }

    /// The JSON type of `fact`'s value (`None`: absent), as `type:` names it; a body's
    /// top-level member is typed without being parsed ([`BodyView::type_at`]).
    pub fn json_type(&self, fact: &Fact) -> Option<&'static str> {
        match fact {
            Fact::RequestJson(path) => self.request_body.type_at(path),
            Fact::ResponseJson(path) => self.response_body.type_at(path),
            _ => self.get(fact).map(|v| v.json_type()),
        }
    }

    /// The value of `fact` in this capture; `None` when the capture does not hold it.
    pub fn get(&self, fact: &Fact) -> Option<FactValue<'_>> {
        let request = self.capture.request.as_ref();
        let response = self.capture.response.as_ref();
        let s = |v: &'c str| Some(FactValue::Str(Cow::Borrowed(v)));
        match fact {
            Fact::Status => self.capture.status().map(|s| FactValue::Int(i64::from(s))),
            Fact::Method => request?
                .method
                .as_deref()
                .map(|m| FactValue::Str(Cow::Owned(m.to_ascii_uppercase()))),
            Fact::Url => s(request?.url.as_deref()?),
            Fact::UrlScheme => self.url()?.scheme.as_deref().map(str_value),
            Fact::UrlHost => self.url()?.host.as_deref().map(str_value),
            Fact::UrlPort => self.url()?.port.map(|p| FactValue::Int(i64::from(p))),
            Fact::UrlPath => Some(str_value(self.url()?.path)),
            Fact::UrlQuery => self.url()?.query.map(str_value),
            Fact::UrlOrigin => {
                let u = self.url()?;
                let (scheme, host) = (u.scheme.as_deref()?, u.host.as_deref()?);
                let default = default_port(scheme);
                let origin = match u.port {
                    Some(p) if Some(p) != default => format!("{scheme}://{host}:{p}"),
                    _ => format!("{scheme}://{host}"),
                };
                Some(FactValue::Str(Cow::Owned(origin)))
            }
            Fact::RequestHeader(name) => s(request?.headers.get(name)?),
            Fact::RequestHeaderCount => Some(FactValue::Int(request?.headers.len() as i64)),
            Fact::ResponseHeader(name) => s(response?.headers.get(name)?),
            Fact::RequestBody => self.request_body.text(self.max_body_text).map(str_value),
            Fact::RequestBodyIsJson => {
                let is_json = match self.request_body.body? {
                    // Read as JSON already: no need to build the value to know.
                    Body::Raw(_) | Body::Json(_) => true,
                    Body::Text(_) => self.request_body.json().is_some(),
                };
                Some(FactValue::Bool(is_json))
            }
            Fact::RequestJson(path) => self.request_body.at(path).map(FactValue::Json),
            Fact::ResponseBody => self.response_body.text(self.max_body_text).map(str_value),
            Fact::ResponseBodyIsJson => {
                let is_json = match self.response_body.body? {
                    Body::Raw(_) | Body::Json(_) => true,
                    Body::Text(_) => self.response_body.json().is_some(),
                };
                Some(FactValue::Bool(is_json))
            }
            Fact::ResponseJson(path) => self.response_body.at(path).map(FactValue::Json),
            Fact::Key => self.key().map(|k| str_value(&k.key)),
            Fact::KeyLength => self
                .key()
                .map(|k| FactValue::Int(k.key.chars().count() as i64)),
            Fact::KeySource => self.key().map(|k| str_value(k.source)),
            Fact::AuthScheme => self.key()?.scheme.map(str_value),
            Fact::ErrorMessage => self.error().message.as_deref().map(str_value),
            Fact::ErrorCode => match self.error().code.as_ref()? {
                Json::String(c) if c.is_empty() => None,
                Json::Null => None,
                code => Some(FactValue::Json(code)),
            },
            Fact::ErrorType => self.error().kind.as_deref().map(str_value),
            Fact::ErrorParam => self.error().param.as_deref().map(str_value),
            Fact::ErrorKeyEcho => {
                key_echo(self.error().message.as_deref()?).map(|e| str_value(e.text))
            }
            Fact::ErrorKeyEchoMatches => {
                let echo = key_echo(self.error().message.as_deref()?)?;
                let sent = self
                    .key()?
                    .key
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'');
                Some(FactValue::Bool(
                    sent.starts_with(echo.start) && sent.ends_with(echo.end),
                ))
            }
            Fact::RequestId => self.request_id().map(str_value),
            Fact::Model => self.model().map(str_value),
            Fact::ClientError => self.capture.client_error.as_deref().map(str_value),
            Fact::Meta(name) => self.capture.meta.get(name).map(FactValue::Json),
            Fact::RequestTime => self
                .request_time()
                .map(|(t, _)| FactValue::Str(Cow::Owned(t))),
            Fact::RequestTimeSource => self.request_time().map(|(_, s)| str_value(s)),
            Fact::RequestParams => self
                .request_body
                .json()
                .and_then(support_params)
                .map(|p| FactValue::Str(Cow::Owned(p))),
            Fact::Var(_) => None,
            Fact::Const(value) => Some(FactValue::Str(Cow::Owned(value.clone()))),
            Fact::DerivedRef(_) => None,
            Fact::Derived(d) => d.resolve(self).map(|(_, v)| v),
        }
    }

    /// When the request was made, and where that was read from.
    pub(super) fn request_time(&self) -> Option<(String, &'static str)> {
        let response = self.capture.response.as_ref();
        if let Some(date) = response.and_then(|r| r.headers.get("date")) {
            return Some((
                http_date(date).unwrap_or_else(|| date.to_owned()),
                "the Date header",
            ));
        }
        if let Some(t) = self.capture.meta.get("time") {
            let t = match t {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            return Some((t, "meta.time"));
        }
        let id = self.request_id()?;
        Some((request_id_time(id)?, "the request id"))
    }
}

/// A masked key quoted in an error message: the visible start and end around the mask.
struct KeyEcho<'m> {
    text: &'m str,
    start: &'m str,
    end: &'m str,
}

/// Servers quote the key they saw masked: OpenAI `sk-AbCdE***…***ijkl` or `sk-...1JMA`,
/// new-api `[sk-AbC***jkl]`: an ellipsis, or a run of at least three `*`, `•` or `.`,
/// between a visible start and end of key characters.
static KEY_ECHO: crate::fixed_regex::Fixed = crate::fixed_regex::Fixed::new(
    r"([A-Za-z0-9][A-Za-z0-9_-]{1,15}?)([*•.]*…[*•.…]*|[*•.]{3,})([A-Za-z0-9_-]{2,8})\b",
);

/// What a message quoting a masked key must hold, as searchers built once (building
/// one for each search cost more than the search on a message of a hundred bytes).
static MASK_MARKS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 4]> =
    std::sync::LazyLock::new(|| {
        ["***", "…", "...", "•••"].map(|mark| memchr::memmem::Finder::new(mark.as_bytes()))
    });

fn key_echo(message: &str) -> Option<KeyEcho<'_>> {
    // Most messages quote no key: a mask character must be there before the search
    // that takes groups (the slow engine) runs.
    let bytes = message.as_bytes();
    let masked = MASK_MARKS.iter().any(|mark| mark.find(bytes).is_some());
    if !masked {
        return None;
    }
    let g = KEY_ECHO.captures(message)?;
    let (start, end) = (g.get(1)?, g.get(3)?);
    let text = g.get(0)?;
    Some(KeyEcho { text, start, end })
}

/// The credentials a URL carries: the values of credential parameters in its query
/// (`?token=…`, as written and decoded) and the password of its userinfo.
fn url_secrets<'c>(url: &'c str, out: &mut Vec<Cow<'c, str>>) {
    if let Some((_, query)) = url.split_once('?') {
        let query = query.split('#').next().unwrap_or("");
        for pair in query.split('&') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() || !super::is_secret_param(name) {
                continue;
            }
            out.push(Cow::Borrowed(value));
            for (_, decoded) in url::form_urlencoded::parse(pair.as_bytes()) {
                if decoded != value {
                    out.push(Cow::Owned(decoded.into_owned()));
                }
            }
        }
    }
    let authority = scheme_separator(url)
        .and_then(|i| url.get(i + 3..))
        .map_or("", |rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    if let Some((userinfo, _)) = authority.rsplit_once('@')
        && let Some((_, password)) = userinfo.split_once(':')
        && !password.is_empty()
    {
        out.push(Cow::Borrowed(password));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL's credentials are the capture's secrets: masked wherever else they appear.
    #[test]
    fn a_url_carries_its_query_credentials_and_password() {
        let mut out = Vec::new();
        url_secrets(
            "https://bot:pa55w0rd-x@gw.example/v1/chat?model=m&access_token=ab%2Dcd12345678&Key=k1#sig=no",
            &mut out,
        );
        assert_eq!(
            out,
            ["ab%2Dcd12345678", "ab-cd12345678", "k1", "pa55w0rd-x"]
        );
        let mut none = Vec::new();
        url_secrets("https://gw.example/v1/chat?model=m&stream=true", &mut none);
        assert!(none.is_empty(), "{none:?}");
    }

    /// A body kept as read answers a path member by member exactly as the parsed tree
    /// does: nested keys, indexes, a repeated key (the last wins), an escaped key, a
    /// body that is not an object, an absent member.
    #[test]
    fn a_json_path_reads_the_member_it_needs_as_the_tree_would() {
        let key = |k: &str| PathSegment::Key(k.to_owned());
        let paths = [
            vec![key("max_tokens")],
            vec![key("messages"), PathSegment::Index(1), key("content")],
            vec![key("model")],
            vec![key("a\"b")],
            vec![key("stream_options"), key("include_usage")],
            vec![key("absent")],
            vec![PathSegment::Index(0)],
            vec![key("s")],
            vec![key("o")],
            vec![key("t")],
            vec![key("f")],
            vec![key("num")],
            vec![key("neg")],
        ];
        let bodies = [
            r#"{"model":"m1","messages":[{"role":"system","content":"x"},{"role":"user","content":"hi \u00e9"}],"max_tokens":8192,"model":"m2","stream_options":{"include_usage":true}}"#,
            r#"{"a\"b": 1, "max_tokens": null}"#,
            r#"[{"max_tokens": 1}]"#,
            r#"{}"#,
            r#"{ "s" : "x", "o" : { }, "messages" : [ ], "t" : true, "f" : false, "max_tokens" : null, "num" : 12, "neg" : -1.5e3 }"#,
        ];
        for body in bodies {
            // Read as a capture file is read: the body kept as its text.
            let capture: Capture =
                serde_json::from_str(&format!(r#"{{"request": {{"body": {body}}}}}"#)).unwrap();
            assert!(matches!(
                capture.request.as_ref().and_then(|r| r.body.as_ref()),
                Some(Body::Raw(_))
            ));
            let tree: Json = serde_json::from_str(body).unwrap();
            for path in &paths {
                let facts = Facts::derive(&capture);
                assert_eq!(
                    facts.request_body.at(path),
                    walk(&tree, path),
                    "{body} at {path:?}"
                );
                // Typed alike, whether read before or after the member was parsed.
                let fresh = Facts::derive(&capture);
                let want = walk(&tree, path).map(super::super::json_type_name);
                assert_eq!(fresh.request_body.type_at(path), want, "{body} at {path:?}");
                assert_eq!(facts.request_body.type_at(path), want, "{body} at {path:?}");
            }
            // A member typed is not parsed.
            let facts = Facts::derive(&capture);
            facts.request_body.type_at(&[key("messages")]);
            let parsed = facts.request_body.members().into_iter().flatten();
            assert!(
                parsed.into_iter().all(|m| m.value.get().is_none()),
                "{body}"
            );
        }
    }
}
