//! Facts: what rules can ask about a capture, derived once per capture.
//!
//! Rules name facts (`status`, `url.path`, `key`, `error.message`, …). Names are
//! resolved to [`Fact`] values when a rulebook is compiled, so evaluation never looks
//! anything up by string. The list of names is [`FACT_NAMES`] plus the families in
//! [`FACT_FAMILIES`]; `docs/rulebook-format.md` documents each.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value as Json;

use crate::capture::{Body, Capture, Headers};
use crate::mask;

/// A fact a rule can test, resolved from its name at compile time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Fact {
    Status,
    Method,
    Url,
    UrlScheme,
    UrlHost,
    UrlPort,
    UrlPath,
    UrlQuery,
    UrlOrigin,
    RequestHeader(String),
    RequestHeaderCount,
    ResponseHeader(String),
    RequestBody,
    RequestBodyIsJson,
    RequestJson(Vec<PathSegment>),
    ResponseBody,
    ResponseJson(Vec<PathSegment>),
    Key,
    KeyLength,
    KeySource,
    AuthScheme,
    ErrorMessage,
    ErrorCode,
    ErrorType,
    ErrorParam,
    RequestId,
    Model,
    ClientError,
    Meta(String),
    RequestTime,
    RequestTimeSource,
    RequestParams,
    /// `vars.<name>` as written; the compiler replaces it with [`Fact::Const`].
    Var(String),
    /// A rulebook variable's value, fixed at compile time.
    Const(String),
    /// `derived.<name>` as written; the compiler replaces it with [`Fact::Derived`].
    DerivedRef(String),
    /// A fact the rulebook defines from other facts (`derive:`).
    Derived(std::sync::Arc<Derived>),
}

impl Fact {
    /// Whether the fact is read straight from the capture, with no parsing: conditions
    /// test these first.
    pub fn is_cheap(&self) -> bool {
        matches!(
            self,
            Fact::Status
                | Fact::Method
                | Fact::Url
                | Fact::RequestHeader(_)
                | Fact::RequestHeaderCount
                | Fact::ResponseHeader(_)
                | Fact::ClientError
                | Fact::Meta(_)
                | Fact::Const(_)
        )
    }
}

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

/// One step into a JSON body: an object key, or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// Every fixed fact name, with a one-line description (used by docs and suggestions).
pub const FACT_NAMES: &[(&str, &str)] = &[
    ("status", "the response's HTTP status code (number)"),
    ("method", "the request method, upper-case (`POST`)"),
    ("url", "the full request URL as sent"),
    ("url.scheme", "`http` or `https`"),
    ("url.host", "the host name or IP address, lower-case"),
    (
        "url.port",
        "the port (number), explicit or the scheme's default",
    ),
    ("url.path", "the path, as sent (`/v1/chat/completions`)"),
    ("url.query", "the query string without `?`"),
    (
        "url.origin",
        "scheme, host and port (`https://api.moleapi.com`)",
    ),
    (
        "request.header_count",
        "how many request headers the capture holds (0: none captured or none sent)",
    ),
    ("request.body", "the request body as text"),
    (
        "request.body_is_json",
        "true when the request body parses as JSON",
    ),
    ("response.body", "the response body as text"),
    (
        "key",
        "the API key as sent, whitespace included (always shown masked)",
    ),
    ("key.length", "the key's length in characters"),
    (
        "key.source",
        "where the key was found: `authorization`, `x-api-key`, `api-key`, `x-goog-api-key` or `query`",
    ),
    (
        "auth.scheme",
        "the scheme word of the Authorization header as written (`Bearer`); absent when the header has none",
    ),
    (
        "error.message",
        "the error message from the response body (new-api, OpenAI, Claude and plain-text shapes)",
    ),
    ("error.code", "the error code from the response body"),
    ("error.type", "the error type from the response body"),
    ("error.param", "the error's `param` from the response body"),
    (
        "request_id",
        "the request id: the `X-Oneapi-Request-Id` header, the `(request id: …)` suffix, or `x-request-id`",
    ),
    ("model", "the model asked for (the request body's `model`)"),
    (
        "client_error",
        "the error the client raised when no response came back",
    ),
    (
        "request.time",
        "when the request was made: the response's `Date` header, else `meta.time`, else the timestamp inside a new-api/one-api request id",
    ),
    (
        "request.time_source",
        "where `request.time` came from: `the Date header`, `meta.time` or `the request id`",
    ),
    (
        "request.params",
        "the request's parameters for a support ticket: the JSON body with message contents summarised and secrets removed",
    ),
];

/// Fact families whose last part is chosen by the rule author.
pub const FACT_FAMILIES: &[(&str, &str)] = &[
    (
        "request.headers.<name>",
        "a request header, name in any case",
    ),
    (
        "response.headers.<name>",
        "a response header, name in any case",
    ),
    (
        "request.json.<path>",
        "a value inside the request body's JSON (`request.json.messages.0.role`)",
    ),
    (
        "response.json.<path>",
        "a value inside the response body's JSON",
    ),
    (
        "meta.<name>",
        "a value from the capture's `meta` (`meta.time`, `meta.client`)",
    ),
    (
        "derived.<name>",
        "a fact the rulebook defines under `derive:` from other facts (`derived.key_platform`, `derived.model_asked`)",
    ),
    (
        "vars.<name>",
        "a rulebook variable (constant for a run); URL variables also give `.host`, `.scheme`, `.origin`, `.path`",
    ),
];

/// Facts whose values are secrets: shown masked wherever they appear.
pub fn is_secret(fact: &Fact) -> bool {
    matches!(fact, Fact::Key) || matches!(fact, Fact::RequestHeader(h) if is_secret_header(h))
}

/// Headers that carry credentials.
pub fn is_secret_header(name: &str) -> bool {
    [
        "authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "proxy-authorization",
        "cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

impl Fact {
    /// Resolves a fact name. The error says what is wrong, with a suggestion when one
    /// is close.
    pub fn parse(name: &str) -> Result<Fact, String> {
        let simple = match name {
            "status" => Some(Fact::Status),
            "method" => Some(Fact::Method),
            "url" => Some(Fact::Url),
            "url.scheme" => Some(Fact::UrlScheme),
            "url.host" => Some(Fact::UrlHost),
            "url.port" => Some(Fact::UrlPort),
            "url.path" => Some(Fact::UrlPath),
            "url.query" => Some(Fact::UrlQuery),
            "url.origin" => Some(Fact::UrlOrigin),
            "request.header_count" => Some(Fact::RequestHeaderCount),
            "request.body" => Some(Fact::RequestBody),
            "request.body_is_json" => Some(Fact::RequestBodyIsJson),
            "response.body" => Some(Fact::ResponseBody),
            "key" => Some(Fact::Key),
            "key.length" => Some(Fact::KeyLength),
            "key.source" => Some(Fact::KeySource),
            "auth.scheme" => Some(Fact::AuthScheme),
            "error.message" => Some(Fact::ErrorMessage),
            "error.code" => Some(Fact::ErrorCode),
            "error.type" => Some(Fact::ErrorType),
            "error.param" => Some(Fact::ErrorParam),
            "request_id" => Some(Fact::RequestId),
            "model" => Some(Fact::Model),
            "client_error" => Some(Fact::ClientError),
            "request.time" => Some(Fact::RequestTime),
            "request.time_source" => Some(Fact::RequestTimeSource),
            "request.params" => Some(Fact::RequestParams),
            _ => None,
        };
        if let Some(fact) = simple {
            return Ok(fact);
        }
        let family = |prefix: &str| name.strip_prefix(prefix).filter(|rest| !rest.is_empty());
        let header = |h: &str| {
            if h.contains('.') {
                Err(format!(
                    "`{h}` is not a header name (header names have no `.`)"
                ))
            } else {
                Ok(h.to_ascii_lowercase())
            }
        };
        if let Some(h) = family("request.headers.") {
            return header(h).map(Fact::RequestHeader);
        }
        if let Some(h) = family("response.headers.") {
            return header(h).map(Fact::ResponseHeader);
        }
        if let Some(p) = family("request.json.") {
            return Ok(Fact::RequestJson(parse_path(p)?));
        }
        if let Some(p) = family("response.json.") {
            return Ok(Fact::ResponseJson(parse_path(p)?));
        }
        if let Some(m) = family("meta.") {
            return Ok(Fact::Meta(m.to_owned()));
        }
        if let Some(v) = family("vars.") {
            return Ok(Fact::Var(v.to_owned()));
        }
        if let Some(v) = family("derived.") {
            return Ok(Fact::DerivedRef(v.to_owned()));
        }
        let mut message = format!("`{name}` is not a fact");
        if let Some(close) = crate::spelling::suggest(name, known_names()) {
            message.push_str(&format!("; did you mean `{close}`?"));
        }
        Err(message)
    }
}

fn parse_path(path: &str) -> Result<Vec<PathSegment>, String> {
    path.split('.')
        .map(|part| {
            if part.is_empty() {
                Err(format!("the JSON path `{path}` has an empty part"))
            } else if let Ok(i) = part.parse::<usize>() {
                Ok(PathSegment::Index(i))
            } else {
                Ok(PathSegment::Key(part.to_owned()))
            }
        })
        .collect()
}

/// Every name a rule author can write, families with their prefix.
pub fn known_names() -> impl Iterator<Item = &'static str> {
    FACT_NAMES.iter().map(|(n, _)| *n).chain([
        "request.headers.",
        "response.headers.",
        "request.json.",
        "response.json.",
        "meta.",
        "vars.",
        "derived.",
    ])
}

/// The value of a fact in one capture.
#[derive(Clone, Debug, PartialEq)]
pub enum FactValue<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Bool(bool),
    Json(&'a Json),
}

impl FactValue<'_> {
    /// The value as text, when it is text (a JSON string counts).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FactValue::Str(s) => Some(s),
            FactValue::Json(Json::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The value as a number, when it is one (a numeric string does not count).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FactValue::Int(i) => Some(*i as f64),
            FactValue::Json(Json::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    /// How the value reads in a report.
    pub fn display(&self) -> String {
        match self {
            FactValue::Str(s) => s.to_string(),
            FactValue::Int(i) => i.to_string(),
            FactValue::Bool(b) => b.to_string(),
            FactValue::Json(Json::String(s)) => s.clone(),
            FactValue::Json(j) => j.to_string(),
        }
    }
}

/// The parts of a URL, as far as it could be read.
/// Borrowed from the capture's URL: only a scheme or host the `url` crate had to
/// normalise is a copy.
#[derive(Clone, Debug, Default)]
struct UrlParts<'c> {
    scheme: Option<Cow<'c, str>>,
    host: Option<Cow<'c, str>>,
    port: Option<u16>,
    path: &'c str,
    query: Option<&'c str>,
}

/// The API key as sent and where it came from.
#[derive(Clone, Debug)]
struct KeyInfo<'c> {
    /// Borrowed from the header it was sent in; a `?key=` value is decoded, so owned.
    key: Cow<'c, str>,
    source: &'static str,
    scheme: Option<&'c str>,
}

/// Everything derived from one capture, each part on first use: a rulebook that never
/// asks for the request body's text never pays for serialising it.
pub struct Facts<'c> {
    capture: &'c Capture,
    max_body_text: usize,
    url: OnceCell<Option<UrlParts<'c>>>,
    request_body: BodyView<'c>,
    response_body: BodyView<'c>,
    key: OnceCell<Option<KeyInfo<'c>>>,
    error: OnceCell<ErrorInfo<'c>>,
    request_id: OnceCell<Option<String>>,
    redactor: OnceCell<mask::Redactor<'c>>,
    model: OnceCell<Option<String>>,
    /// Values already shown (masked): a message and its evidence often quote the same
    /// fact, and masking a long message twice is the costly part of a finding.
    shown: std::cell::RefCell<Vec<(Fact, Option<String>)>>,
}

/// A body's text (cut to the `body-bytes` limit) and JSON views, each made on first use.
struct BodyView<'c> {
    body: Option<&'c Body>,
    /// The text matched, and whether it is only the start of the body.
    text: OnceCell<Option<(Cow<'c, str>, bool)>>,
    json: OnceCell<Option<Cow<'c, Json>>>,
}

impl<'c> BodyView<'c> {
    fn new(body: Option<&'c Body>) -> BodyView<'c> {
        BodyView {
            body,
            text: OnceCell::new(),
            json: OnceCell::new(),
        }
    }

    fn text(&self, max: usize) -> Option<&str> {
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

    fn json(&self) -> Option<&Json> {
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
    fn object_text(&self) -> Option<&'c str> {
        let text = match self.body? {
            Body::Raw(raw) => raw.get(),
            Body::Text(t) => t,
            Body::Json(_) => return None,
        };
        text.trim_start().starts_with('{').then_some(text)
    }

    /// Whether only the start of the body's text was matched: a text body over the
    /// limit, or a JSON body whose text was needed and is over it.
    fn was_cut(&self, max: usize) -> bool {
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

/// The error a response body reports; borrowed from the body's text where it can be.
#[derive(Debug, Default, PartialEq)]
struct ErrorInfo<'c> {
    message: Option<Cow<'c, str>>,
    code: Option<Json>,
    kind: Option<Cow<'c, str>>,
    param: Option<Cow<'c, str>>,
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
        }
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

    fn url(&self) -> Option<&UrlParts<'c>> {
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

    fn key(&self) -> Option<&KeyInfo<'c>> {
        self.key
            .get_or_init(|| {
                let request = self.capture.request.as_ref()?;
                find_key(&request.headers, self.url())
            })
            .as_ref()
    }

    fn error(&self) -> &ErrorInfo<'c> {
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
    /// parsed whole for it: only `model` is read, the messages skipped.
    fn model(&self) -> Option<&str> {
        #[derive(serde::Deserialize)]
        struct OnlyModel<'a> {
            #[serde(borrow)]
            model: Option<Cow<'a, str>>,
        }
        self.model
            .get_or_init(|| {
                if let Some(Body::Raw(raw)) = self.request_body.body
                    && self.request_body.json.get().is_none()
                    && let Ok(m) = serde_json::from_str::<OnlyModel<'_>>(raw.get())
                {
                    return m.model.map(Cow::into_owned);
                }
                // A parsed body, or one the quick read refused (a repeated `model`: the
                // last wins, as gateways read it; a model that is not a string).
                match walk(
                    self.request_body.json()?,
                    &[PathSegment::Key("model".into())],
                )? {
                    Json::String(m) => Some(m.clone()),
                    _ => None,
                }
            })
            .as_deref()
    }

    fn request_id(&self) -> Option<&str> {
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
        }
        out
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
            Fact::RequestJson(path) => walk(self.request_body.json()?, path).map(FactValue::Json),
            Fact::ResponseBody => self.response_body.text(self.max_body_text).map(str_value),
            Fact::ResponseJson(path) => walk(self.response_body.json()?, path).map(FactValue::Json),
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
    fn request_time(&self) -> Option<(String, &'static str)> {
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

fn str_value(s: &str) -> FactValue<'_> {
    FactValue::Str(Cow::Borrowed(s))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Splits a URL into parts. A bare path (`/v1/chat/completions`, as in a log line)
/// gives a path and nothing else. The path is kept as sent, not normalised, because
/// rules reason about what the client built.
fn parse_url(raw: &str) -> UrlParts<'_> {
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
    let after_authority = raw
        .find("://")
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

/// `s` in lower case; borrowed when it is already.
fn lower_case(s: &str) -> Cow<'_, str> {
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
fn quick_authority(raw: &str) -> Option<(&'static str, Cow<'_, str>, u16)> {
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
fn is_dotted_quad(host: &[u8]) -> bool {
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

fn split_query(s: &str) -> (&str, Option<&str>) {
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

fn walk<'j>(mut json: &'j Json, path: &[PathSegment]) -> Option<&'j Json> {
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
fn find_key<'c>(headers: &'c Headers, url: Option<&UrlParts>) -> Option<KeyInfo<'c>> {
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
fn split_auth(value: &str) -> (Option<&str>, &str) {
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

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("k={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

fn request_id_in_message(message: &str) -> Option<String> {
    const OPENING: &str = "(request id: ";
    if !message.contains(OPENING) {
        return None;
    }
    static REQUEST_ID: crate::two_stage::Fixed =
        crate::two_stage::Fixed::new(r"\(request id: ([0-9A-Za-z]{16,64})\)");
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
fn normalise_error(
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
fn quick_error(text: &str) -> Option<ErrorInfo<'_>> {
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
struct FieldText<'a>(Option<Cow<'a, str>>);

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

fn json_text(v: Json) -> FieldText<'static> {
    FieldText(Some(Cow::Owned(v.to_string())))
}

/// The fields of an `{"error": {…}}` object.
#[derive(serde::Deserialize)]
struct ErrorObject<'a> {
    #[serde(borrow, default)]
    message: FieldText<'a>,
    code: Option<Json>,
    #[serde(borrow, default, rename = "type")]
    kind: FieldText<'a>,
    #[serde(borrow, default)]
    param: FieldText<'a>,
}

/// The `error` field of an error body: an object of fields, a message, or neither.
#[derive(Default)]
enum ErrorField<'a> {
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
fn http_date(date: &str) -> Option<String> {
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
fn request_id_time(id: &str) -> Option<String> {
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
const CONTENT_KEYS: &[&str] = &[
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
fn support_params(body: &Json) -> Option<String> {
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

fn html_title(text: &str) -> Option<String> {
    let lower = text.get(..text.len().min(4096))?.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = lower.get(start..)?.find("</title>")? + start;
    Some(text.get(start..end)?.trim().to_owned())
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn capture(v: serde_json::Value) -> Capture {
        serde_json::from_value(v).unwrap()
    }

    fn get(c: &Capture, name: &str) -> Option<String> {
        let facts = Facts::derive(c);
        facts.get(&Fact::parse(name).unwrap()).map(|v| v.display())
    }

    #[test]
    fn a_value_lent_is_the_value_shown_and_kept_for_the_next_use() {
        let key = "sk-Q7wErTy9UiOpAsDfGhJkLzXcVbNm1234567890abcdEFGH";
        let c = capture(json!({
            "request": {"method": "POST", "url": format!("https://h/v1/x?key={key}"),
                        "headers": {"Authorization": format!("Bearer {key}\n")}},
            "response": {"status": 401}
        }));
        let facts = Facts::derive(&c);
        for fact in [Fact::Key, Fact::Url, Fact::Model] {
            let lent = facts.with_display(&fact, |v| v.map(str::to_owned));
            assert_eq!(lent, facts.show(&fact), "{fact:?}");
            assert_eq!(facts.display(&fact), lent, "{fact:?}, kept");
        }
        assert!(
            !facts
                .display(&Fact::Url)
                .unwrap()
                .contains(key.get(3..).unwrap())
        );
        // A value shown while another is lent (not yet kept) is shown all the same.
        let fresh = Facts::derive(&c);
        let nested = fresh.with_display(&Fact::Url, |outer| {
            let inner = fresh.with_display(&Fact::Method, |inner| inner.map(str::to_owned));
            (outer.map(str::to_owned), inner)
        });
        assert_eq!(nested, (facts.show(&Fact::Url), Some("POST".to_owned())));
    }

    #[test]
    fn plain_urls_are_read_as_the_url_crate_reads_them() {
        let urls = [
            "https://api.moleapi.com/v1/chat/completions",
            "HTTPS://API.MoleAPI.com:443/v1/models?x=1#frag",
            "http://127.0.0.1:3000/v1",
            "http://10.0.255.1/v1",
            "http://0.0.0.0/v1",
            "http://127.000.0.1/v1",
            "http://0127.0.0.1/v1",
            "http://127.0.0.01/v1",
            "http://256.0.0.1/v1",
            "http://1.2.3.4.5/v1",
            "http://1.2.3.4./v1",
            "http://1.2.3/v1",
            "http://1.2.3.1000/v1",
            "http://127.1/v1",
            "http://0x7f.0.0.1/v1",
            "http://localhost",
            "http://localhost:8080?key=sk-abc",
            "https://api.moleapi.com:65536/v1",
            "https://api.moleapi.com:99999999/v1",
            "https://api.moleapi.com:/v1",
            "https://user:pw@api.moleapi.com/v1",
            "https://api.mole api.com/v1",
            "https://api.moleapi.com/v1/chat%20completions",
            "https://xn--fsq.com/v1",
            "https://例え.jp/v1",
            "https://[::1]:3000/v1",
            "https://-bad.com/v1",
            "https://a..b/v1",
            "https://api.moleapi.com./v1",
            "https://1.2.3.4.example/v1",
            "https://example.123/v1",
            "https://a-.com/v1",
            "HTTP://API.MoleAPI.COM:3000",
            "https://api.moleapi.com:0443/v1",
            "https:/api.moleapi.com/v1",
            "https:api.moleapi.com",
            "ftp://files.example.com/x",
            "https://api.moleapi.com/v1/../v1/./chat",
            "https:///v1",
            "https://",
        ];
        for raw in urls {
            let Some(quick) = quick_authority(raw) else {
                continue;
            };
            let u = url::Url::parse(raw)
                .unwrap_or_else(|e| panic!("{raw}: the url crate refuses it: {e}"));
            let slow = (
                u.scheme().to_owned(),
                u.host_str().map(str::to_owned),
                u.port_or_known_default(),
            );
            let quick = (
                quick.0.to_owned(),
                Some(quick.1.into_owned()),
                Some(quick.2),
            );
            assert_eq!(quick, slow, "{raw}");
        }
        for common in ["https://api.moleapi.com/v1", "http://127.0.0.1:3000/v1"] {
            assert!(
                quick_authority(common).is_some(),
                "{common} is read quickly"
            );
        }
    }

    #[test]
    fn the_model_is_read_from_a_raw_body_as_from_a_parsed_one() {
        let raw = |body: &str| -> Capture {
            serde_json::from_str(&format!(r#"{{"request": {{"body": {body}}}}}"#)).unwrap()
        };
        let c = raw(
            r#"{"messages": [{"role": "user", "content": "hi \"model\""}], "model": "gpt-4o"}"#,
        );
        assert!(matches!(
            c.request.as_ref().unwrap().body,
            Some(Body::Raw(_))
        ));
        assert_eq!(get(&c, "model").as_deref(), Some("gpt-4o"));
        // As a gateway reads JSON: the last of a repeated key wins.
        assert_eq!(
            get(&raw(r#"{"model": "a", "model": "b"}"#), "model").as_deref(),
            Some("b")
        );
        assert_eq!(get(&raw(r#"{"model": 4}"#), "model"), None);
        assert_eq!(get(&raw(r#"[{"model": "x"}]"#), "model"), None);
        assert_eq!(
            get(&raw(r#"{"model": "x"}"#), "request.body_is_json").as_deref(),
            Some("true")
        );
        assert_eq!(
            get(&raw(r#"{"model": "x", "n": 1}"#), "request.json.n").as_deref(),
            Some("1")
        );
        assert_eq!(
            get(&raw(r#"{"model":  "x"}"#), "request.body").as_deref(),
            Some(r#"{"model":  "x"}"#),
            "the text as sent"
        );
    }

    #[test]
    fn url_parts_are_kept_as_sent() {
        let c = capture(
            json!({"request": {"url": "HTTPS://API.MoleAPI.com/v1/./chat/completions?x=1"}}),
        );
        assert_eq!(get(&c, "url.scheme").as_deref(), Some("https"));
        assert_eq!(get(&c, "url.host").as_deref(), Some("api.moleapi.com"));
        assert_eq!(get(&c, "url.port").as_deref(), Some("443"));
        assert_eq!(
            get(&c, "url.path").as_deref(),
            Some("/v1/./chat/completions")
        );
        assert_eq!(get(&c, "url.query").as_deref(), Some("x=1"));
        assert_eq!(
            get(&c, "url.origin").as_deref(),
            Some("https://api.moleapi.com")
        );
    }

    #[test]
    fn origin_keeps_a_non_default_port_and_bare_paths_have_no_host() {
        let c = capture(json!({"request": {"url": "http://127.0.0.1:3000/chat/completions"}}));
        assert_eq!(
            get(&c, "url.origin").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        let c = capture(json!({"request": {"url": "/v1/embeddings"}}));
        assert_eq!(get(&c, "url.path").as_deref(), Some("/v1/embeddings"));
        assert_eq!(get(&c, "url.host"), None);
    }

    #[test]
    fn a_bare_path_takes_its_host_from_the_host_header() {
        let c = capture(
            json!({"request": {"url": "/v1/models", "headers": {"Host": "API.moleapi.com:8443"}}}),
        );
        assert_eq!(get(&c, "url.host").as_deref(), Some("api.moleapi.com"));
        assert_eq!(get(&c, "url.port").as_deref(), Some("8443"));
        assert_eq!(get(&c, "url.scheme"), None, "the scheme stays unknown");
    }

    #[test]
    fn key_is_read_from_each_place_and_keeps_whitespace() {
        let c = capture(json!({"request": {"headers": {"Authorization": "Bearer  sk-abc\n"}}}));
        assert_eq!(get(&c, "key").as_deref().map(|k| k.len()), Some(8));
        assert_eq!(get(&c, "auth.scheme").as_deref(), Some("Bearer"));
        let c = capture(json!({"request": {"headers": {"Authorization": "sk-abc"}}}));
        assert_eq!(get(&c, "auth.scheme"), None);
        assert_eq!(get(&c, "key.length").as_deref(), Some("6"));
        let c = capture(json!({"request": {"headers": {"x-api-key": "sk-ant-x"}}}));
        assert_eq!(get(&c, "key.source").as_deref(), Some("x-api-key"));
        let c = capture(json!({"request": {"url": "https://h/v1beta/models?key=AIza%2Bx"}}));
        assert_eq!(get(&c, "key.source").as_deref(), Some("query"));
        let facts = Facts::derive(&c);
        assert_eq!(facts.get(&Fact::Key).unwrap().display(), "AIza+x");
        let c = capture(json!({"request": {"headers": {}}}));
        assert_eq!(get(&c, "key"), None);
    }

    #[test]
    fn key_display_is_masked() {
        let key = format!("sk-{}", "A1b2C3d4".repeat(6));
        let c =
            capture(json!({"request": {"headers": {"Authorization": format!("Bearer {key}")}}}));
        let facts = Facts::derive(&c);
        let shown = facts.display(&Fact::Key).unwrap();
        assert!(!shown.contains(key.get(3..20).unwrap()), "{shown}");
        let shown = facts
            .display(&Fact::RequestHeader("authorization".into()))
            .unwrap();
        assert!(!shown.contains(key.get(3..20).unwrap()), "{shown}");
    }

    #[test]
    fn every_credential_is_a_secret_but_not_the_scheme_word() {
        let key = format!("sk-{}", "A1b2C3d4".repeat(6));
        let other = format!("other{}", "Z9y8X7w6".repeat(3));
        let c = capture(json!({"request": {"headers": [
            ["Authorization", format!("apikey {key}")],
            ["Authorization", other.clone()],
            ["X-Api-Key", "short-but-secret"],
        ]}}));
        let facts = Facts::derive(&c);
        let secrets = facts.secrets();
        assert_eq!(secrets, [key.as_str(), other.as_str(), "short-but-secret"]);
        let shown = facts
            .redactor()
            .redact(&format!("apikey {key} / {other} / short-but-secret"))
            .into_owned();
        assert!(shown.starts_with("apikey sk-"), "{shown}");
        for secret in [
            key.get(3..20).unwrap(),
            other.get(..20).unwrap(),
            "short-but-secret",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn error_fields_read_from_the_text_match_the_parsed_body() {
        let bodies = [
            r#"{"error":{"message":"No available channel","type":"new_api_error","param":"","code":"model_not_found"}}"#,
            r#"  {"error": {"message": "quote \" and \u4e2d", "code": 429, "param": "model", "extra": [1, {"a": null}]}}"#,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"m"}}"#,
            r#"{"error":"bad key","code":"invalid_api_key","type":"auth"}"#,
            r#"{"error":null,"message":null,"detail":[{"loc":["body"],"msg":"x"}],"code":null}"#,
            r#"{"success":false,"message":"无权进行此操作"}"#,
            r#"{"error":{"message":{"nested":true},"type":7,"code":null,"param":null}}"#,
            r#"{"error":5,"msg":"short","description":"later"}"#,
            r#"{"error":{}}"#,
            r#"{}"#,
            r#"{"data":[],"object":"list"}"#,
            r#"{"error":{"message":"a\nb\\n","type":"x"}} "#,
            r#"{"error":[1,{"a":[]}],"message":1.5,"type":true}"#,
            r#"{"error":true,"detail":-3,"type":{"b":1,"a":[null]}}"#,
            r#"{"error":2.0,"description":false}"#,
            r#"{"error":"esc \"aped\" \u00e9","type":"t","code":{"x":1}}"#,
            r#"{"error":{"message":[1,"two",{"z":0,"y":null}],"type":18446744073709551615,"param":-1}}"#,
            r#"{"error":{"message":null,"type":null,"param":"p\u0041"}}"#,
            r#"{"error":[],"message":"","msg":"later"}"#,
        ];
        for body in bodies {
            let parsed: Json = serde_json::from_str(body).unwrap();
            let expected = normalise_error(Some(&parsed), None, Some(400));
            assert_eq!(quick_error(body), Some(expected), "{body}");
        }
        // Not read this way: the body is then parsed whole (a repeated field: the
        // last wins there), or is not an object.
        for body in [
            r#"{"error":{"message":"first","message":"second"}}"#,
            r#"{"message":"a","message":"b"}"#,
            r#"{"error":"a","error":{"message":"b"}}"#,
            r#"{"error":{"message":"x"}"#,
            r#"{"error":{"message":"x"}} trailing"#,
        ] {
            assert_eq!(quick_error(body), None, "{body}");
        }
        // Strings without escapes are borrowed from the body.
        let info = quick_error(bodies[0]).unwrap();
        assert!(matches!(info.message, Some(Cow::Borrowed(_))));
        let c = capture(json!({"response": {"status": 400,
            "body": r#"{"error":{"message":"first","message":"second"}}"#}}));
        assert_eq!(get(&c, "error.message").as_deref(), Some("second"));
    }

    #[test]
    fn errors_are_normalised_from_common_shapes() {
        let c = capture(json!({"response": {"status": 401, "body":
            {"error": {"code": "", "message": "无效的令牌 (request id: 20250423020142736330894dLoIRrS6)", "type": "new_api_error"}}}}));
        assert_eq!(get(&c, "error.type").as_deref(), Some("new_api_error"));
        assert_eq!(get(&c, "error.code"), None, "empty code is absent");
        assert_eq!(
            get(&c, "request_id").as_deref(),
            Some("20250423020142736330894dLoIRrS6")
        );

        let c = capture(
            json!({"response": {"status": 503, "headers": {"X-Oneapi-Request-Id": "abc123"},
            "body": "{\"error\":{\"message\":\"No available channel\",\"type\":\"new_api_error\",\"param\":\"\",\"code\":\"model_not_found\"}}"}}),
        );
        assert_eq!(get(&c, "error.code").as_deref(), Some("model_not_found"));
        assert_eq!(get(&c, "error.param"), None);
        assert_eq!(get(&c, "request_id").as_deref(), Some("abc123"));

        let c = capture(
            json!({"response": {"status": 502, "body": "<html><head><title>502 Bad Gateway</title></head></html>"}}),
        );
        assert_eq!(get(&c, "error.message").as_deref(), Some("502 Bad Gateway"));

        let c = capture(
            json!({"response": {"status": 200, "body": "<!doctype html><title>New API</title>"}}),
        );
        assert_eq!(get(&c, "error.message"), None, "a 200 page is not an error");

        let c = capture(
            json!({"response": {"status": 401, "body": {"success": false, "message": "无权进行此操作"}}}),
        );
        assert_eq!(get(&c, "error.message").as_deref(), Some("无权进行此操作"));

        let c = capture(
            json!({"response": {"status": 400, "body": {"type": "error", "error": {"type": "invalid_request_error", "message": "m"}}}}),
        );
        assert_eq!(
            get(&c, "error.type").as_deref(),
            Some("invalid_request_error")
        );
    }

    #[test]
    fn support_facts_time_and_params() {
        let c = capture(json!({
            "request": {"body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "secret plans"}], "temperature": 0.2, "api_key": "sk-x", "max_tokens": 10}},
            "response": {"status": 500, "headers": {"Date": "Wed, 19 Aug 2026 09:33:13 GMT"}}}));
        assert_eq!(
            get(&c, "request.time").as_deref(),
            Some("2026-08-19 09:33:13 UTC")
        );
        assert_eq!(
            get(&c, "request.time_source").as_deref(),
            Some("the Date header")
        );
        let params = get(&c, "request.params").unwrap();
        assert!(
            !params.contains("secret plans") && !params.contains("sk-x"),
            "{params}"
        );
        assert!(
            params.contains("\"messages\":\"[1 items]\"") && params.contains("\"max_tokens\":10"),
            "{params}"
        );
        let c = capture(
            json!({"response": {"status": 500, "headers": {"X-Oneapi-Request-Id": "202608190933135792535838268d9d6rhgZmzsh"}}}),
        );
        assert_eq!(
            get(&c, "request.time").as_deref(),
            Some("2026-08-19 09:33:13")
        );
        assert_eq!(
            get(&c, "request.time_source").as_deref(),
            Some("the request id")
        );
        let c =
            capture(json!({"response": {"status": 500}, "meta": {"time": "2026-11-27T10:00:00Z"}}));
        assert_eq!(
            get(&c, "request.time").as_deref(),
            Some("2026-11-27T10:00:00Z")
        );
        let c =
            capture(json!({"response": {"status": 500, "headers": {"X-Request-Id": "req_abc"}}}));
        assert_eq!(get(&c, "request.time"), None);
    }

    #[test]
    fn bodies_are_addressable_by_path() {
        let c = capture(
            json!({"request": {"body": "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\"}]}"}}),
        );
        assert_eq!(get(&c, "model").as_deref(), Some("gpt-4o"));
        assert_eq!(
            get(&c, "request.json.messages.0.role").as_deref(),
            Some("user")
        );
        assert_eq!(get(&c, "request.body_is_json").as_deref(), Some("true"));
        let c = capture(json!({"request": {"body": "{\"model\": \"gpt-4o\",}"}}));
        assert_eq!(get(&c, "request.body_is_json").as_deref(), Some("false"));
        assert_eq!(get(&c, "model"), None);
    }

    #[test]
    fn fact_names_resolve_and_typos_get_suggestions() {
        for (name, _) in FACT_NAMES {
            assert!(Fact::parse(name).is_ok(), "{name}");
        }
        assert_eq!(
            Fact::parse("request.headers.Content-Type"),
            Ok(Fact::RequestHeader("content-type".into()))
        );
        let err = Fact::parse("url.pth").unwrap_err();
        assert!(err.contains("did you mean `url.path`"), "{err}");
        assert!(Fact::parse("request.json.a..b").is_err());
    }
}
