//! The floor under every format: what any text proves about a failed call, whatever
//! client printed it. Format readers are more exact where they know the format; this
//! reader needs none, so a client rulecheck has no fixture for still gets a diagnosis.
//!
//! Each kind of evidence is one family of phrasings, not one client's sentence:
//!
//! - the status: `Error code: 403`, `status code 403`, `statusCode: 403`,
//!   `"status": 403`, `status=403`, `HTTP/1.1 403`, `403 Client Error`,
//!   `HTTP Error 403`, `<Response [403]>`, `403 Forbidden`, a status right before a
//!   JSON body (`request failed: 403 {"error": …}`);
//! - the call: `POST https://…`, `url: 'https://…'`, `for url: https://…`, else the
//!   first URL with an API path; the method from `method: 'post'`; the gateway's own
//!   echo of what it could not route (`Invalid URL (POST /chat/completions)`);
//! - the error body: the first object holding an `error` (or a `message`) anywhere in
//!   the text — JSON, a Python `repr`, or Node's `util.inspect` — also inside a field
//!   that holds JSON as a string (`responseBody: '{"error": …}'`);
//! - a request id, the key from a header dump (masked downstream like any key), the
//!   model asked for, the client library (from its stack frames or User-Agent);
//! - the exception's class as a last resort: `AuthenticationError` stands for 401,
//!   `APIConnectionError`/`ECONNREFUSED` for no response — never above a status the
//!   gateway sent.
//!
//! Nothing is guessed: a fact the text does not show stays absent. Every pattern runs
//! once over the text (linear time), and bodies are looked for only in the text's
//! outermost brackets.

use std::sync::LazyLock;

use regex::Regex;

use crate::capture::{Body, Capture, Headers, Request, Response};

/// Everything the text proves, each piece from the strongest phrasing found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    pub status: Option<u16>,
    /// The status only the exception's class stood for (weaker than `status`).
    pub class_status: Option<u16>,
    pub method: Option<String>,
    pub url: Option<String>,
    /// The method and path the gateway echoed back (`Invalid URL (POST /x)`).
    pub echo: Option<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub request_id: Option<String>,
    /// `Authorization`, `api-key`, `x-api-key` as a header dump showed them.
    pub request_headers: Headers,
    pub model: Option<String>,
    pub client: Option<String>,
    /// How many times the client says it sent the call (`Failed after 3 attempts`).
    pub attempts: Option<usize>,
    /// Where each piece was read: (`status`, `url`, `error body`, …, line number).
    pub lines: Vec<(&'static str, usize)>,
    /// The exception line (`package.Class: message`), when there was one.
    pub exception: Option<String>,
    /// The error the client raised where the text states no status: a refused
    /// connection, a key it would not send, a body it could not parse.
    pub client_error: Option<String>,
}

/// Statuses by the phrasing that says them; earlier groups are stronger.
static STATUS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:",
        r"error code:?\s*([1-5][0-9]{2})\b",
        r"|\bstatus(?:[ _-]?code)?['\x22]?\s*[:=]\s*['\x22]?([1-5][0-9]{2})\b",
        r"|\bstatus code ([1-5][0-9]{2})\b",
        r"|\bwith status ([1-5][0-9]{2})\b",
        r"|\bresponse code:? ([1-5][0-9]{2})\b",
        r"|(?m:^[A-Za-z_][0-9A-Za-z_.]*(?: \[[0-9A-Za-z_]+\])?: ([1-5][0-9]{2})\b)",
        r"|\bHTTP/[0-9](?:\.[0-9])? ([1-5][0-9]{2})\b",
        r"|\b([1-5][0-9]{2}) (?:client|server) error\b",
        r"|\bHTTP error ([1-5][0-9]{2})\b",
        r"|<Response \[([1-5][0-9]{2})\]>",
        r"|\b([1-5][0-9]{2}) (?:bad request|unauthorized|payment required|forbidden|not found|method not allowed|payload too large|request entity too large|unprocessable entity|too many requests|internal server error|bad gateway|service unavailable|gateway time-?out)\b",
        r"|(?:^|[\s:=(])([1-5][0-9]{2})\)?\s*[-:]?\s*[{\x22']\s*[\x22']?(?:error|message|detail)\b",
        r")"
    ))
    .ok()
});

/// A method and URL together: `POST https://…`.
static METHOD_URL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|get|post|put|patch|delete)\s+['"]?(https?://[^\s'"<>`]+)"#).ok()
});

/// A URL named as one: `url: 'https://…'`, `"url": "…"`, `for url: https://…`.
static NAMED_URL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:url|uri|href|endpoint)['"]?\s*[:=]\s*['"]?(https?://[^\s'"<>`,]+)"#).ok()
});

/// Any URL (the first with an API path is taken).
static ANY_URL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s'"<>`\\]+"#).ok());

static METHOD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bmethod['"]?\s*[:=]\s*['"]?(get|post|put|patch|delete)\b"#).ok()
});

static ECHO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"Invalid URL \((GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[^)\s]*)\)").ok()
});

static REQUEST_ID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:x-oneapi-request-id|x-request-id|request[ _-]id)['"]?\s*[:=]?\s*['"]?([0-9A-Za-z][0-9A-Za-z_-]{15,63})\b"#).ok()
});

/// A credential in a header dump or a client's options.
static CREDENTIAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)['"]?\b(authorization|x-api-key|api-key)['"]?\s*[:=]\s*['"]?((?:bearer\s+)?[^\s'",}\]]+)"#)
        .ok()
});

static MODEL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"['"]?\bmodel(?:_name|Id)?['"]?\s*[:=]\s*['"]([0-9A-Za-z][0-9A-Za-z._:/@-]{0,99})['"]"#,
    )
    .ok()
});

/// A library named by its stack frames or User-Agent (and Python's own HTTP client,
/// `urllib`, by its frames in the standard library).
static CLIENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)site-packages/([a-z_][0-9a-z_]*)/|node_modules/((?:@[0-9a-z_.-]+/)?[0-9a-z_.-]+)/|user-agent['"]?\s*[:=]\s*['"]?([^'"\r\n,}]+)|/python3\.[0-9]+/(urllib)/"#)
        .ok()
});

/// An exception line: `requests.exceptions.HTTPError: …`, `AI_APICallError: …`,
/// `Error: connect ECONNREFUSED …`, and a cause printed indented under its error
/// (`  [cause]: Error: connect ECONNREFUSED …`). The last one in the text is the most
/// specific: what Python raised last, or the cause Node prints inside the error.
static EXCEPTION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?m)^(?:[ \t]*(?:\[cause\]: |Caused by: |cause: ))?((?:[A-Za-z_][0-9A-Za-z_]*\.)*[A-Z][0-9A-Za-z_]*(?: \[[0-9A-Za-z_]+\])?|Error): (.+)$")
        .ok()
});

/// A header value a client quoted, typically the one it refused to send:
/// `Invalid header value b'Bearer sk-…\n'`, `Illegal header value b'Bearer sk-… '`.
static QUOTED_BEARER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"b?('[Bb]earer (?:[^'\\\n]|\\.)*'|"[Bb]earer (?:[^"\\\n]|\\.)*")"#).ok()
});

/// A client's count of its tries: `Failed after 3 attempts`, `after 2 retries`.
static ATTEMPTS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\bafter ([1-9][0-9]?) (attempts|tries|retries)\b").ok());

fn re(cell: &LazyLock<Option<Regex>>) -> Option<&Regex> {
    cell.as_ref()
}

/// Terminal colours (`\x1b[33m403\x1b[39m`, as Node prints numbers) hide nothing.
static ANSI: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").ok());

/// Reads what `text` proves; `literal_depth` bounds the literals read as bodies.
pub fn read(text: &str, literal_depth: usize) -> Evidence {
    let plain = match re(&ANSI) {
        Some(r) if text.contains('\x1b') => r.replace_all(text, ""),
        _ => std::borrow::Cow::Borrowed(text),
    };
    let text = plain.as_ref();
    // Colour codes hold no line breaks: a line here is the pasted text's line.
    let line_at = |at: usize| text.get(..at).map_or(1, |t| t.matches('\n').count() + 1);
    let line_of = |piece: &str| text.find(piece).map(line_at);
    let mut lines = Vec::new();
    let (status, status_at) = status(text).unzip();
    let (body, body_at) = body(text, literal_depth).unzip();
    lines.extend(status_at.map(|at| ("status", line_at(at))));
    let mut e = Evidence {
        status,
        body,
        ..Default::default()
    };
    if let Some(c) = re(&ECHO).and_then(|r| r.captures(text)) {
        e.echo = Some((group(&c, 1).to_owned(), group(&c, 2).to_owned()));
    }
    if let Some(c) = re(&METHOD_URL).and_then(|r| r.captures(text)) {
        e.method = Some(group(&c, 1).to_ascii_uppercase());
        e.url = Some(trim_url(group(&c, 2)).to_owned());
    }
    if e.url.is_none() {
        e.url = re(&NAMED_URL)
            .and_then(|r| r.captures(text))
            .map(|c| trim_url(group(&c, 1)).to_owned())
            .or_else(|| {
                re(&ANY_URL)?
                    .find_iter(text)
                    .map(|m| trim_url(m.as_str()))
                    .find(|u| is_api_url(u))
                    .map(str::to_owned)
            });
    }
    lines.extend(e.url.as_deref().and_then(line_of).map(|l| ("url", l)));
    lines.extend(body_at.map(|at| ("error body", line_at(at))));
    if e.method.is_none() {
        e.method = re(&METHOD)
            .and_then(|r| r.captures(text))
            .map(|c| group(&c, 1).to_ascii_uppercase());
    }
    e.request_id = re(&REQUEST_ID)
        .and_then(|r| r.captures(text))
        .map(|c| group(&c, 1).to_owned());
    if let Some(r) = re(&CREDENTIAL) {
        for c in r.captures_iter(text) {
            let name = group(&c, 1);
            // A value a client or log masked (`'***'`, `sk-…abc`) is no key.
            let alnum = group(&c, 2)
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .count();
            if alnum >= 12 && e.request_headers.get(name).is_none() {
                e.request_headers.push(name, group(&c, 2));
            }
        }
    }
    // A quoted `Bearer …` is the header as the client would have sent it, escapes
    // (`\n`, `\r`) read: stronger evidence of the key than a dump's unquoted value.
    if let Some(value) = re(&QUOTED_BEARER)
        .and_then(|r| r.captures(text))
        .and_then(|c| super::sdk::python_literal(group(&c, 1), literal_depth))
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|v| v.chars().filter(char::is_ascii_alphanumeric).count() >= 12)
    {
        let mut headers = Headers::default();
        headers.push("Authorization", value);
        e.request_headers = headers;
    }
    e.attempts = re(&ATTEMPTS).and_then(|r| r.captures(text)).and_then(|c| {
        let n: usize = group(&c, 1).parse().ok()?;
        // Retries come after the first try.
        Some(if group(&c, 2).eq_ignore_ascii_case("retries") {
            n + 1
        } else {
            n
        })
    });
    e.model = re(&MODEL)
        .and_then(|r| r.captures(text))
        .map(|c| group(&c, 1).to_owned());
    // The User-Agent names the version too (`axios/1.21.1`): it wins over a frame.
    if let Some(r) = re(&CLIENT) {
        let (mut agent, mut frame) = (None, None);
        for c in r.captures_iter(text) {
            if let Some(m) = c.get(3) {
                agent.get_or_insert_with(|| m.as_str().trim().to_owned());
            } else if let Some(m) = [1, 2, 4].iter().find_map(|&i| c.get(i))
                && frame.is_none()
                && !is_runtime(m.as_str())
            {
                frame = Some(m.as_str().to_owned());
            }
            if agent.is_some() {
                break;
            }
        }
        e.client = agent.or(frame);
    }
    if let Some((class, message)) = re(&EXCEPTION).and_then(|r| {
        r.captures_iter(text)
            .filter(|c| {
                // `TypeError [ERR_INVALID_CHAR]`: the name before Node's error code.
                let class = group(c, 1).split(' ').next().unwrap_or("");
                class.contains('.') || class.ends_with("Error") || class.ends_with("Exception")
            })
            .last()
            .map(|c| (group(&c, 1).to_owned(), group(&c, 2).trim().to_owned()))
    }) {
        // A framework that calls any answer it could not parse a server error says so
        // in its class; the HTML page it quotes is what the gateway sent.
        // A wrapper that files a failed connection under a server error's class (litellm's
        // InternalServerError "… Connection error.") got no answer at all.
        e.class_status =
            class_status(&class).filter(|_| !quotes_html(&message) && !no_answer(&message));
        let line = format!("{class}: {message}");
        // Without a status, the exception is what the client reports instead of a
        // response: a refused connection, a key it would not send, a body it could not
        // parse. After a 2xx, it is how the call failed anyway (an HTML page where JSON
        // was expected).
        let after_success = e.status.is_some_and(|s| (200..300).contains(&s));
        if (e.status.is_none() || after_success) && e.class_status.is_none() {
            e.client_error = Some(line.clone());
        }
        lines.extend(line_of(&message).map(|l| ("exception", l)));
        e.exception = Some(line);
    }
    lines.sort_by_key(|&(_, line)| line);
    e.lines = lines;
    e
}

/// A 2xx: the client's error after it is how the call failed anyway.
fn success(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

impl Evidence {
    /// Whether the text proved anything about a call.
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.class_status.is_none()
            && self.url.is_none()
            && self.echo.is_none()
            && self.body.is_none()
            && self.client_error.is_none()
            && self.request_headers.is_empty()
    }

    /// The capture this evidence describes: what the text proved, nothing more.
    pub fn into_capture(self) -> Capture {
        let mut capture = Capture::default();
        self.fill(&mut capture);
        capture
    }

    /// Fills in what `capture` (read by a more exact reader) lacks. What the reader
    /// found always stands.
    pub fn fill(&self, capture: &mut Capture) {
        let status = self.status.or(if capture.client_error.is_some() {
            None
        } else {
            self.class_status
        });
        // The echo is the path the gateway saw: with no URL, it is the evidence.
        let (echo_method, echo_path) = match &self.echo {
            Some((m, p)) => (Some(m.clone()), Some(p.clone())),
            None => (None, None),
        };
        let url = self.url.clone().or(echo_path);
        let method = self.method.clone().or(echo_method);
        if url.is_some() || method.is_some() || !self.request_headers.is_empty() {
            let request = capture.request.get_or_insert_with(Request::default);
            if request.url.is_none() {
                request.url = url;
            }
            if request.method.is_none() {
                request.method = method;
            }
            if request.headers.is_empty() {
                request.headers = self.request_headers.clone();
            }
        }
        // A status the text states means a response came: the exception that a reader
        // took for a failure without one only restated it.
        if capture.response.is_none()
            && (self.status.is_some() || capture.client_error.is_none())
            && let Some(s) = status
        {
            capture.response = Some(Response {
                status: Some(s),
                ..Default::default()
            });
            if self.status.is_some() && !success(self.status) {
                capture.client_error = None;
            }
        }
        if let Some(response) = capture.response.as_mut() {
            if response.status.is_none() {
                response.status = status;
            }
            if response.body.is_none() {
                response.body = self.body.clone().map(Body::Json);
            }
            if let Some(id) = &self.request_id
                && response.headers.get("x-oneapi-request-id").is_none()
                && response.headers.get("x-request-id").is_none()
                && !body_quotes(response.body.as_ref(), id)
            {
                response.headers.push("X-Request-Id", id);
            }
        }
        let answered = capture.response.as_ref().map(|r| r.status);
        if capture.client_error.is_none() && answered.is_none_or(success) {
            capture.client_error = self.client_error.clone();
        }
        // The model a text names is no request body (which would be read as one that
        // lacks its messages): it is kept beside the capture.
        if let Some(model) = &self.model {
            capture
                .meta
                .entry("model".to_owned())
                .or_insert_with(|| model.clone().into());
        }
        if let Some(client) = &self.client {
            capture
                .meta
                .entry("client".to_owned())
                .or_insert_with(|| client.clone().into());
        }
    }
}

fn group<'t>(c: &regex::Captures<'t>, i: usize) -> &'t str {
    c.get(i).map_or("", |m| m.as_str())
}

/// The strongest status phrasing in the text; the last of equal strength (after
/// retries, the last answer is the one that failed).
fn status(text: &str) -> Option<(u16, usize)> {
    let r = re(&STATUS)?;
    let mut best: Option<(usize, u16, usize)> = None;
    for c in r.captures_iter(text) {
        let Some((strength, m)) = (1..c.len()).find_map(|i| c.get(i).map(|m| (i, m))) else {
            continue;
        };
        let Ok(code) = m.as_str().parse::<u16>() else {
            continue;
        };
        if best.is_none_or(|(s, _, _)| strength <= s) {
            best = Some((strength, code, m.start()));
        }
    }
    best.map(|(_, code, at)| (code, at))
}

/// URLs end before the punctuation that closes the sentence or literal around them.
fn trim_url(url: &str) -> &str {
    url.trim_end_matches(['.', ',', ';', ':', ')', ']', '}', '\'', '"', '>'])
}

fn is_api_url(url: &str) -> bool {
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').and_then(|i| rest.get(i..)))
        .unwrap_or("");
    [
        "/v1",
        "/chat/",
        "/completions",
        "/embeddings",
        "/models",
        "/responses",
        "/messages",
        "/images/",
        "/audio/",
    ]
    .iter()
    .any(|p| path.contains(p))
}

/// Frames of the language's own runtime and of HTTP plumbing name no client.
fn is_runtime(name: &str) -> bool {
    matches!(
        name,
        "urllib3" | "http" | "httpcore" | "anyio" | "asyncio" | "concurrent" | "_pytest"
    )
}

/// Whether an error message quotes an HTML page: what the gateway sent, whatever the
/// client's class calls it.
/// Whether an exception's message says no answer came (the connection failed).
pub fn no_answer(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "connection error",
        "connecterror",
        "connection refused",
        "timed out",
        "timeout",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

pub fn quotes_html(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("<!doctype html") || lower.contains("<html")
}

/// The status an exception class stands for, in the SDK families' naming.
pub fn class_status(class: &str) -> Option<u16> {
    let name = class.rsplit('.').next().unwrap_or(class);
    let name = name.trim_start_matches("AI_");
    Some(match name {
        "BadRequestError" => 400,
        "AuthenticationError" | "UnauthorizedError" => 401,
        "PermissionDeniedError" | "ForbiddenError" => 403,
        "NotFoundError" => 404,
        "ConflictError" => 409,
        "UnprocessableEntityError" => 422,
        "RateLimitError" | "TooManyRequestsError" => 429,
        "InternalServerError" => 500,
        "ServiceUnavailableError" => 503,
        _ => return None,
    })
}

fn body_quotes(body: Option<&Body>, id: &str) -> bool {
    match body {
        Some(Body::Text(t)) => t.contains(id),
        Some(Body::Json(j)) => j.to_string().contains(id),
        Some(Body::Raw(r)) => r.get().contains(id),
        None => false,
    }
}

/// Where Node's `util.inspect` split a string over lines.
static JS_CONCAT: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"'\s*\+\s*\n\s*'").ok());

/// An `error` key opening an object, in any quoting: `"error": {`, `'error': {`,
/// `error: {`.
static ERROR_KEY: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"['"]?\berror['"]?\s*:\s*\{"#).ok());

/// The first error body in the text: the outermost bracketed spans are read as JSON,
/// a Python literal or a Node object, and the error looked for inside each. A span
/// no reader takes whole (Node's dumps hold `[Object]`, `[Function: f]`, sockets) is
/// searched for its `error: {…}` object, read on its own.
fn body(text: &str, literal_depth: usize) -> Option<(serde_json::Value, usize)> {
    // Where a span starts in `text` (spans are slices of it).
    let at = |span: &str| (span.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let literal = |span: &str| {
        serde_json::from_str::<serde_json::Value>(span)
            .ok()
            // A body a terminal wrapped: its line breaks were never in the body.
            .or_else(|| {
                let unwrapped: String = span.split(['\n', '\r']).collect();
                (unwrapped.len() < span.len())
                    .then(|| serde_json::from_str::<serde_json::Value>(&unwrapped).ok())
                    .flatten()
            })
            .or_else(|| super::sdk::python_literal(span, literal_depth))
            .or_else(|| {
                // Node prints a long string as pieces joined over lines: `'a' +\n 'b'`.
                let joined = match re(&JS_CONCAT) {
                    Some(r) if span.contains("' +") => r.replace_all(span, ""),
                    _ => std::borrow::Cow::Borrowed(span),
                };
                super::sdk::js_literal(&joined, literal_depth)
            })
    };
    for span in outer_objects(text, usize::MAX) {
        if let Some(found) = literal(span).and_then(|v| error_body(&v, 0)) {
            return Some((found, at(span)));
        }
    }
    // At most a few tries, each over one bounded span: linear in the text.
    for m in re(&ERROR_KEY)?.find_iter(text).take(16) {
        let from = m.end().saturating_sub(1);
        let Some(span) = text
            .get(from..)
            .and_then(|rest| outer_objects(rest, 1).into_iter().next())
        else {
            continue;
        };
        if let Some(error) =
            literal(span).filter(|e| e.get("message").is_some_and(serde_json::Value::is_string))
        {
            return Some((serde_json::json!({ "error": error }), at(span)));
        }
    }
    None
}

/// An error body inside `v`: `{"error": …}` itself, a `message`/`detail` object, or
/// one found in a field (`data`, `response`, `responseBody` holding JSON text, …).
fn error_body(v: &serde_json::Value, depth: usize) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    if depth > 8 {
        return None;
    }
    match v {
        J::Object(map) => {
            if map
                .get("error")
                .is_some_and(|error| error.is_object() || error.is_string())
            {
                return Some(v.clone());
            }
            for key in [
                "data",
                "response",
                "responseBody",
                "body",
                "cause",
                "error",
                "lastError",
            ] {
                if let Some(found) = map.get(key).and_then(|f| error_body(f, depth + 1)) {
                    return Some(found);
                }
            }
            let message = map.get("message").or_else(|| map.get("detail"));
            (depth == 0 && message.is_some_and(J::is_string) && map.len() <= 6).then(|| v.clone())
        }
        // A field holding the body as text: `responseBody: '{"error":{…}}'`.
        J::String(s) if s.trim_start().starts_with('{') => {
            let inner: serde_json::Value = serde_json::from_str(s).ok()?;
            error_body(&inner, depth + 1)
        }
        J::Array(items) => items.iter().find_map(|i| error_body(i, depth + 1)),
        _ => None,
    }
}

/// The text's first `max` outermost `{…}` spans, brackets inside quotes ignored: one
/// pass, and the spans do not overlap, so reading them all is linear.
fn outer_objects(text: &str, max: usize) -> Vec<&str> {
    const MAX_SPAN: usize = 256 * 1024;
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let (mut depth, mut start, mut quote) = (0usize, 0usize, None::<u8>);
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == q || (b == b'\n' && q == b'\'') {
                // A prose apostrophe opens no string past its line; a double-quoted
                // string goes on where a terminal wrapped it.
                quote = None;
            }
            continue;
        }
        match b {
            b'"' | b'\'' if depth > 0 => quote = Some(b),
            b'{' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0
                    && i + 1 - start <= MAX_SPAN
                    && let Some(span) = text.get(start..=i)
                {
                    spans.push(span);
                    if spans.len() >= max {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_phrasing_is_read_with_any_spacing_case_and_colour() {
        for (text, want) in [
            ("openai.NotFoundError: Error code: 404 - {'error': {}}", 404),
            ("error code:401", 401),
            ("AxiosError: Request failed with status code 403", 403),
            ("  statusCode: 429,", 429),
            ("\"status\": 503, \"ok\": false", 503),
            ("status=401 reason=bad", 401),
            ("Status Code: 500", 500),
            ("status_code = 402", 402),
            ("< HTTP/2 404 ", 404),
            ("HTTP/1.0 503 Service Unavailable", 503),
            ("403 Client Error: Forbidden for url: https://h/v1/x", 403),
            ("urllib.error.HTTPError: HTTP Error 401: Unauthorized", 401),
            ("got <Response [429]> back", 429),
            ("upstream said 502 Bad Gateway", 502),
            ("request failed: 403 {\"error\":{\"message\":\"x\"}}", 403),
            ("failed (400) - {'error': 'bad'}", 400),
            (
                "[log_ab12] post https://h/v1/x failed with status 404 in 40ms",
                404,
            ),
            ("  status: \x1b[33m403\x1b[39m,", 403),
        ] {
            assert_eq!(read(text, 32).status, Some(want), "{text:?}");
        }
        for text in [
            "took 403 ms",
            "line 404 of the file",
            "status: 999",
            "Error code: 42",
            "version 500.1",
        ] {
            assert_eq!(read(text, 32).status, None, "{text:?}");
        }
    }

    #[test]
    fn the_strongest_phrasing_wins_and_the_last_of_equals() {
        // A reason phrase in prose is weaker than the status the client states.
        let t = "404 Not Found is what I expected, but: Error code: 401 - {'error': {}}";
        assert_eq!(read(t, 32).status, Some(401));
        // Retries: the last answer is the one that failed.
        let t =
            "attempt 1: status code 429\nattempt 2: status code 429\nattempt 3: status code 500";
        assert_eq!(read(t, 32).status, Some(500));
    }

    #[test]
    fn urls_methods_and_the_gateways_echo() {
        let e = read(
            "RetryError [AI_RetryError]: Failed after 3 attempts. Last error: x",
            32,
        );
        assert_eq!(e.attempts, Some(3));
        assert_eq!(read("gave up after 2 retries", 32).attempts, Some(3));
        let e = read("POST https://api.moleapi.com/chat/completions failed.", 32);
        assert_eq!(e.method.as_deref(), Some("POST"));
        assert_eq!(
            e.url.as_deref(),
            Some("https://api.moleapi.com/chat/completions")
        );
        let e = read(
            "  url: 'https://gw.example/v1/embeddings',\n  method: 'post',",
            32,
        );
        assert_eq!(e.url.as_deref(), Some("https://gw.example/v1/embeddings"));
        assert_eq!(e.method.as_deref(), Some("POST"));
        // A documentation link is no API call; an API path is.
        let e = read(
            "see https://docs.example.com/errors then https://gw.example/v1/models)",
            32,
        );
        assert_eq!(e.url.as_deref(), Some("https://gw.example/v1/models"));
        let e = read(
            "Invalid URL (POST /v1/chat/completions/chat/completions)",
            32,
        );
        assert_eq!(
            e.echo,
            Some((
                "POST".into(),
                "/v1/chat/completions/chat/completions".into()
            ))
        );
        assert_eq!(
            e.into_capture().request.unwrap().url.as_deref(),
            Some("/v1/chat/completions/chat/completions")
        );
    }

    #[test]
    fn error_bodies_are_found_in_json_python_node_and_json_held_as_text() {
        let message = |e: &Evidence| e.body.as_ref().map(|b| b["error"]["message"].clone());
        let e = read("x: 403 {\"error\": {\"message\": \"m1\"}} trailing", 32);
        assert_eq!(message(&e), Some("m1".into()));
        let e = read(
            "Error code: 401 - {'error': {'message': 'm2', 'code': None}}",
            32,
        );
        assert_eq!(message(&e), Some("m2".into()));
        let e = read(
            "APIError {\n  status: 404,\n  error: { message: 'm3', code: 'model_not_found' }\n}",
            32,
        );
        assert_eq!(message(&e), Some("m3".into()));
        let e = read(
            "{\n  statusCode: 403,\n  responseBody: '{\"error\":{\"message\":\"m4\"}}'\n}",
            32,
        );
        assert_eq!(message(&e), Some("m4".into()));
        // A body a terminal wrapped at 40 columns is read whole.
        let body = "{\"error\":{\"message\":\"This token has no access to model gpt-4o\",\"type\":\"new_api_error\"}}";
        let wrapped: Vec<String> = body
            .as_bytes()
            .chunks(40)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let e = read(
            &format!("request failed: 403\n{}\n", wrapped.join("\n")),
            32,
        );
        assert_eq!(
            message(&e),
            Some("This token has no access to model gpt-4o".into())
        );
        // A body cut off by a truncated paste is no body; the status stays.
        let e = read("request failed: 403 {\"error\":{\"message\":\"cut", 32);
        assert_eq!((e.status, e.body), (Some(403), None));
    }

    #[test]
    fn exception_classes_stand_for_a_status_only_without_one() {
        let e = read("openai.AuthenticationError: Incorrect API key provided", 32);
        assert_eq!((e.status, e.class_status), (None, Some(401)));
        assert_eq!(e.into_capture().status(), Some(401));
        // A wrapper's label for an HTML page it could not parse is no status.
        let e = read(
            "litellm.exceptions.InternalServerError: OpenAIException - Empty or invalid response. Received: '<!doctype html>\\n<html>'",
            32,
        );
        assert_eq!(e.class_status, None);
        assert!(
            e.into_capture()
                .client_error
                .unwrap()
                .contains("<!doctype html>")
        );
        // The gateway's status outranks a wrapper's label.
        let e = read(
            "langchain.NotFoundError: model not found (status code 401)",
            32,
        );
        assert_eq!(e.into_capture().status(), Some(401));
        let e = read("httpx.ConnectError: [Errno 111] Connection refused", 32);
        let c = e.into_capture();
        assert_eq!(c.response, None);
        assert!(c.client_error.unwrap().contains("Connection refused"));
        assert!(read("just some words: nothing here", 32).is_empty());
    }

    #[test]
    fn node_causes_and_strings_split_over_lines_are_read() {
        let fetch = "TypeError: fetch failed\n    at node:internal/deps/undici/undici:13502:13 {\n  [cause]: Error: connect ECONNREFUSED 127.0.0.1:3000\n      at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16) {\n    errno: -111,\n    code: 'ECONNREFUSED'\n  }\n}\n";
        let c = read(fetch, 32).into_capture();
        assert_eq!(c.response, None);
        assert_eq!(
            c.client_error.as_deref(),
            Some("Error: connect ECONNREFUSED 127.0.0.1:3000")
        );
        // A long message, as util.inspect breaks it, among fields no reader takes whole.
        let dump = "AxiosError: Request failed with status code 403\n    at settle (file:///app/node_modules/axios/lib/core/settle.js:19:12) {\n  config: { adapter: [ 'xhr', 'http' ], transformRequest: [ [Function: transformRequest] ] },\n  response: {\n    status: 403,\n    data: { error: { code: '', message: '该令牌无权访问模型 gpt-4o ' +\n          '(request id: 20261201093015123456789AbCdEfGh)', type: 'new_api_error' } }\n  }\n}\n";
        let e = read(dump, 32);
        assert_eq!(e.status, Some(403));
        assert_eq!(
            e.body.unwrap()["error"]["message"],
            "该令牌无权访问模型 gpt-4o (request id: 20261201093015123456789AbCdEfGh)"
        );
    }

    #[test]
    fn the_client_is_named_with_its_version_where_the_text_shows_it() {
        let frames = "  at settle (file:///app/node_modules/axios/lib/core/settle.js:19:12)\n";
        assert_eq!(read(frames, 32).client.as_deref(), Some("axios"));
        let with_agent = format!("{frames}    headers: {{ 'User-Agent': 'axios/1.21.1' }}\n");
        assert_eq!(
            read(&with_agent, 32).client.as_deref(),
            Some("axios/1.21.1")
        );
        let python = "  File \"/srv/.venv/lib/python3.12/site-packages/urllib3/x.py\"\n  File \"/srv/.venv/lib/python3.12/site-packages/requests/models.py\"\n";
        assert_eq!(read(python, 32).client.as_deref(), Some("requests"));
    }

    #[test]
    fn masked_keys_are_no_keys_and_real_ones_are_kept_for_masking() {
        let e = read(
            "headers: { authorization: '***', 'x-api-key': 'sk-…abc' }",
            32,
        );
        assert!(e.request_headers.is_empty());
        let key = format!("sk-{}", "Ab1".repeat(16));
        let e = read(&format!("'Authorization': 'Bearer {key}',"), 32);
        assert_eq!(
            e.request_headers.get("authorization"),
            Some(format!("Bearer {key}").as_str())
        );
    }

    #[test]
    fn nested_brackets_cost_linear_time() {
        // Spans are the outermost ones only: a deep or long text is read once.
        let deep = "{".repeat(50_000) + &"}".repeat(50_000);
        assert_eq!(outer_objects(&deep, usize::MAX).len(), 1);
        let many = "{} ".repeat(100_000);
        assert_eq!(outer_objects(&many, usize::MAX).len(), 100_000);
        assert_eq!(outer_objects(&many, 1).len(), 1);
    }
}
