//! Facts: what rules can ask about a capture, derived once per capture.
//!
//! Rules name facts (`status`, `url.path`, `key`, `error.message`, …). Names are
//! resolved to [`Fact`] values when a rulebook is compiled, so evaluation never looks
//! anything up by string. The list of names is [`FACT_NAMES`] plus the families in
//! [`FACT_FAMILIES`]; `docs/rulebook-format.md` documents each.
//!
//! | file | job |
//! |---|---|
//! | here | fact names: the [`Fact`] registry, name resolution, [`FactValue`] |
//! | `derive.rs` | [`Facts`]: each part of a capture derived on first use, and [`Facts::get`] |
//! | `derived.rs` | facts a rulebook defines from other facts (`derive:`) |
//! | `parse.rs` | parsers: URLs, keys in headers, error bodies, dates, request ids |
//! | `display.rs` | a value as a report shows it: masked, and kept for the next use |

mod derive;
mod derived;
mod display;
mod parse;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use serde_json::Value as Json;

pub use derive::Facts;
pub use derived::{Derived, DerivedCase, DerivedExtract, DerivedResult, DerivedTest};
pub use parse::cut;

/// Declares the fixed facts once: each row gives its variant, its name in rulebooks and
/// a one-line description (docs, suggestions). The macro makes both the [`Fact`] enum
/// and [`FACT_NAMES`], which `Fact::parse` reads; a new fixed fact is one row here and
/// its value in `Facts::get` (the compiler points at the missing arm).
macro_rules! fixed_facts {
    ($($variant:ident = $name:literal: $what:literal,)*) => {
        /// A fact a rule can test, resolved from its name at compile time.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Fact {
            $($variant,)*
            RequestHeader(String),
            ResponseHeader(String),
            RequestJson(Vec<PathSegment>),
            ResponseJson(Vec<PathSegment>),
            Meta(String),
            /// `vars.<name>` as written; the compiler replaces it with [`Fact::Const`].
            Var(String),
            /// A rulebook variable's value, fixed at compile time.
            Const(String),
            /// `derived.<name>` as written; the compiler replaces it with [`Fact::Derived`].
            DerivedRef(String),
            /// A fact the rulebook defines from other facts (`derive:`).
            Derived(std::sync::Arc<Derived>),
        }

        /// Every fixed fact: its name, what it resolves to, and a one-line description.
        pub const FACT_NAMES: &[(&str, Fact, &str)] = &[$(($name, Fact::$variant, $what),)*];
    };
}

fixed_facts! {
    Status = "status": "the response's HTTP status code (number)",
    Method = "method": "the request method, upper-case (`POST`)",
    Url = "url": "the full request URL as sent",
    UrlScheme = "url.scheme": "`http` or `https`",
    UrlHost = "url.host": "the host name or IP address, lower-case",
    UrlPort = "url.port": "the port (number), explicit or the scheme's default",
    UrlPath = "url.path": "the path, as sent (`/v1/chat/completions`)",
    UrlQuery = "url.query": "the query string without `?`",
    UrlOrigin = "url.origin": "scheme, host and port (`https://api.moleapi.com`)",
    RequestHeaderCount = "request.header_count": "how many request headers the capture holds (0: none captured or none sent)",
    RequestBody = "request.body": "the request body as text",
    RequestBodyIsJson = "request.body_is_json": "true when the request body parses as JSON",
    ResponseBody = "response.body": "the response body as text",
    ResponseBodyIsJson = "response.body_is_json": "true when the response body parses as JSON (the API's own answer, not a web page)",
    Key = "key": "the API key as sent, whitespace included (always shown masked)",
    KeyLength = "key.length": "the key's length in characters",
    KeySource = "key.source": "where the key was found: `authorization`, `x-api-key`, `api-key`, `x-goog-api-key` or `query`",
    AuthScheme = "auth.scheme": "the scheme word of the Authorization header as written (`Bearer`); absent when the header has none",
    ErrorMessage = "error.message": "the error message from the response body (new-api, OpenAI, Claude and plain-text shapes)",
    ErrorCode = "error.code": "the error code from the response body",
    ErrorType = "error.type": "the error type from the response body",
    ErrorParam = "error.param": "the error's `param` from the response body",
    ErrorKeyEcho = "error.key_echo": "the masked key the error message quotes (`sk-AbCdE***ijkl`, `[sk-AbC***jkl]`, `sk-...1JMA`): the key the answering server saw",
    ErrorKeyEchoMatches = "error.key_echo_matches": "whether the key the message quotes agrees with the key sent (its visible start and end); `false`: the server saw another key, such as the gateway's own key for its upstream. Absent when either is unknown",
    RequestId = "request_id": "the request id: the `X-Oneapi-Request-Id` header, the `(request id: …)` suffix, or `x-request-id`",
    Model = "model": "the model asked for (the request body's `model`)",
    ClientError = "client_error": "the error the client raised when no response came back",
    RequestTime = "request.time": "when the request was made: the response's `Date` header, else `meta.time`, else the timestamp inside a new-api/one-api request id",
    RequestTimeSource = "request.time_source": "where `request.time` came from: `the Date header`, `meta.time` or `the request id`",
    RequestParams = "request.params": "the request's parameters for a support ticket: the JSON body with message contents summarised and secrets removed",
}

impl Fact {
    /// The part of a capture that would hold this fact, named as `input::lacks` names
    /// the parts an input did not hold.
    pub fn part(&self) -> Option<&'static str> {
        Some(match self {
            Fact::Url
            | Fact::UrlScheme
            | Fact::UrlHost
            | Fact::UrlPort
            | Fact::UrlPath
            | Fact::UrlQuery
            | Fact::UrlOrigin => "url",
            Fact::RequestHeader(_)
            | Fact::RequestHeaderCount
            | Fact::Key
            | Fact::KeyLength
            | Fact::KeySource
            | Fact::AuthScheme => "request.headers",
            Fact::RequestBody
            | Fact::RequestBodyIsJson
            | Fact::RequestJson(_)
            | Fact::Model
            | Fact::RequestParams => "request.body",
            Fact::Status | Fact::ResponseHeader(_) => "response",
            Fact::ResponseBody
            | Fact::ResponseBodyIsJson
            | Fact::ResponseJson(_)
            | Fact::ErrorMessage
            | Fact::ErrorCode
            | Fact::ErrorType
            | Fact::ErrorParam
            | Fact::ErrorKeyEcho
            | Fact::ErrorKeyEchoMatches => "response.body",
            _ => return None,
        })
    }

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

/// One step into a JSON body: an object key, or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

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

/// Query and form parameters that carry a credential (`?key=`, `?access_token=`, …):
/// their values are secrets wherever else they appear.
pub fn is_secret_param(name: &str) -> bool {
    [
        "key",
        "api_key",
        "apikey",
        "api-key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pwd",
        "sig",
        "signature",
    ]
    .iter()
    .any(|p| name.eq_ignore_ascii_case(p))
}

impl Fact {
    /// Resolves a fact name. The error says what is wrong, with a suggestion when one
    /// is close.
    pub fn parse(name: &str) -> Result<Fact, String> {
        if let Some((_, fact, _)) = FACT_NAMES.iter().find(|(n, _, _)| *n == name) {
            return Ok(fact.clone());
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
    FACT_NAMES.iter().map(|(n, _, _)| *n).chain([
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
    /// The value's type in JSON terms, as `type:` names it.
    pub fn json_type(&self) -> &'static str {
        match self {
            FactValue::Str(_) => "string",
            FactValue::Int(_) => "number",
            FactValue::Bool(_) => "boolean",
            FactValue::Json(j) => json_type_name(j),
        }
    }

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

/// A JSON value's type, as `type:` names it.
pub fn json_type_name(j: &Json) -> &'static str {
    match j {
        Json::String(_) => "string",
        Json::Number(_) => "number",
        Json::Bool(_) => "boolean",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
        Json::Null => "null",
    }
}
