//! SDK error text pasted from a terminal or a log: whole tracebacks, chained
//! exceptions included.
//!
//! - openai-python 1.x prints `openai.NotFoundError: Error code: 404 - {'error': {…}}`:
//!   the body is a Python dict literal (single quotes, `None`, `True`), read as data.
//!   Connection errors carry their real cause earlier in the chain
//!   (`LocalProtocolError: Illegal header value b'Bearer sk-… '`).
//! - httpx logs `HTTP Request: POST https://… "HTTP/1.1 404 Not Found"`.
//! - openai-node prints `NotFoundError: 404 Invalid URL (POST /v1/…)`, the stack, then
//!   the error's fields (`status: 404`, `headers: {…}`, `error: { code: '…' }` — the
//!   parsed body, read as data), and `[cause]: …`.
//! - Debug logs (`OPENAI_LOG=debug`): openai-node 5+ logs `[log_…] post https://…
//!   failed with status 404` and the request it sends (method, url, user-agent with the
//!   SDK version); openai-python logs the request options, whose `json_data` is the
//!   request body, and each response's headers.
//! - Plain language errors users hit next (`'str' object has no attribute 'choices'`,
//!   `Cannot read properties of undefined`) are client errors: evidence too.
//!
//! Only what the text holds is filled in: a status, the message as the body, the
//! method and path the gateway echoed (`Invalid URL (POST /v1/…)`), a request id.

use super::evidence::class_status;
use super::{InputCapture, InputError};
use crate::capture::{Body, Capture, Headers, Request, Response};
use crate::fixed_regex::Fixed;

// The reader's patterns, each compiled when first searched. Digits and
// identifier characters are ASCII (`[0-9]`, not `\d`): what SDKs print is, a status
// must parse as a number, and Unicode `\w` alone costs more to build than the rest of
// a pattern.

/// An exception line at the start of a line: `openai.NotFoundError: …`, `TypeError: …`.
static EXCEPTION_LINE: Fixed = Fixed::new(
    r"^(?:\[cause\]: |Caused by: |cause: )?([A-Za-z_][0-9A-Za-z_.]*(?:Error|Exception|Timeout)|openai\.[0-9A-Za-z_]+|Error): (.*)$",
);
/// An SDK's debug log's first line (see [`starts_with_client_log`]).
static CLIENT_LOG: Fixed = Fixed::new(
    r"^\[(?:log_[0-9a-f]+|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,.]+ - (?:openai|httpx|httpcore)[0-9A-Za-z_.]*:[0-9]+ - [A-Z]+)\] ",
);
static HTTPX: Fixed = Fixed::new(r#"HTTP Request: ([A-Z]+) (\S+) "HTTP/[0-9.]+ ([0-9]{3})"#);
static NODE_STATUS: Fixed = Fixed::new(r"^([0-9]{3}) (.*)$");
static NODE_FIELD: Fixed =
    Fixed::new(r#"^\s*'?(x-oneapi-request-id|x-request-id|retry-after|content-type)'?: '([^']*)'"#);
static NODE_DEBUG: Fixed = Fixed::new(r"OpenAI:DEBUG:request (https?://\S+)");
static INVALID_URL: Fixed = Fixed::new(r"Invalid URL \(([A-Z]+) (/[^)\s]*)\)");
/// openai-node 5+ with OPENAI_LOG=debug|info: `[log_1a2b3c] post https://… failed with
/// status 404 in 41ms`, and the request it is sending, field by field.
static NODE_LOG_OUTCOME: Fixed = Fixed::new(
    r"^\[log_[0-9A-Za-z_]+\] (get|post|put|patch|delete) (https?://\S+) (?:failed|succeeded) with status ([0-9]{3})",
);
static NODE_LOG_FIELD: Fixed = Fixed::new(r"^  (method|url): '([^']*)',?$");
static USER_AGENT: Fixed =
    Fixed::new(r"(?i)'?user-agent'?: '(OpenAI/(JS|Python) ([0-9A-Za-z_.+-]+))'");
/// openai-python with OPENAI_LOG=debug: the request options (method, body as a dict
/// literal) and the response headers.
static PY_OPTIONS: Fixed = Fixed::new(r"Request options: (\{.*\})$");
/// openai-python 2.x/3.x log less: `Building HTTP request: method=POST`, then
/// `HTTP Response: POST 503` (the status the exception class only approximates).
static PY_METHOD: Fixed =
    Fixed::new(r"Building HTTP request: method=([A-Z]+)(?-u:\b)|HTTP Response: [A-Z]+ ([0-9]{3})$");
static PY_RESPONSE: Fixed =
    Fixed::new(r#"HTTP Response: [A-Z]+ \S+ "([0-9]{3})[^"]*" Headers\((\{.*\})\)$"#);
/// The header value a client refused to send, quoted.
static REFUSED: Fixed = Fixed::new(
    r#"(?:Illegal header value b|header value: |InvalidHeader: .*?: )('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"#,
);

/// Every pattern of the reader (the suite builds each).
#[cfg(test)]
pub(crate) static PATTERNS: [&Fixed; 14] = [
    &EXCEPTION_LINE,
    &CLIENT_LOG,
    &HTTPX,
    &NODE_STATUS,
    &NODE_FIELD,
    &NODE_DEBUG,
    &INVALID_URL,
    &NODE_LOG_OUTCOME,
    &NODE_LOG_FIELD,
    &USER_AGENT,
    &PY_OPTIONS,
    &PY_METHOD,
    &PY_RESPONSE,
    &REFUSED,
];

/// Whether the text looks like an SDK's error output.
pub fn looks_like(text: &str) -> bool {
    text.contains("Traceback (most recent call last)")
        || text.contains("Error code: ")
        || text.contains("HTTP Request: ")
        || text.contains("OpenAI:DEBUG")
        || starts_with_client_log(text)
        || text.lines().any(|l| {
            EXCEPTION_LINE.is_match(l.trim_end())
                && (l.contains("Error") || l.starts_with("openai."))
        })
}

/// Whether the text opens with an SDK's debug log line: `[log_1a2b3c] sending request`
/// (openai-node 5+) or `[2026-11-27 12:32:04 - openai._base_client:482 - DEBUG]`
/// (openai-python). Both start with `[`, so this is asked before reading JSON.
pub fn starts_with_client_log(text: &str) -> bool {
    let first = text.trim_start().lines().next().unwrap_or_default();
    // Both shapes open with `[log_` or `[` and a digit: anything else (a JSON array)
    // is told apart without building the regex.
    let opening = first.as_bytes();
    if !(first.starts_with("[log_") || opening.get(1).is_some_and(u8::is_ascii_digit)) {
        return false;
    }
    CLIENT_LOG.is_match(first)
}

/// Reads one capture from an SDK's output.
/// `literal_depth` bounds the Python and JavaScript literals read as bodies (deeper
/// stays plain text).
pub fn read(text: &str, literal_depth: usize) -> Result<Vec<InputCapture>, InputError> {
    let mut status: Option<u16> = None;
    let mut body: Option<Body> = None;
    let mut method: Option<String> = None;
    let mut url: Option<String> = None;
    let mut response_headers = Headers::default();
    let mut errors: Vec<String> = Vec::new();
    let mut client = None;
    let mut client_version: Option<String> = None;
    let mut request_body: Option<Body> = None;
    // openai-node prints the parsed error body among the error's fields: `  error: {`.
    let mut node_error: Option<String> = None;
    let mut in_node_error = false;

    for raw in text.lines() {
        let line = raw.trim_end();
        if in_node_error {
            let end = line == "  }" || line == "  },";
            if let Some(buf) = node_error.as_mut().filter(|b| b.len() < 64 * 1024) {
                buf.push_str(if end { "}" } else { line });
                buf.push('\n');
            }
            in_node_error = !end;
            continue;
        }
        if line == "  error: {" {
            in_node_error = true;
            node_error = Some("{".into());
            continue;
        }
        if line.contains("site-packages/openai")
            || line.contains("openai._base_client")
            || line.contains("import openai")
            || line.contains("from openai")
        {
            client.get_or_insert("openai-python");
        }
        if line.contains("node_modules/openai") || line.contains("OpenAI:DEBUG") {
            client.get_or_insert("openai-node");
        }
        if let Some(c) = HTTPX.captures(line) {
            method = Some(c.at(1).to_owned());
            url = Some(c.at(2).to_owned());
            status = c.at(3).parse().ok();
            continue;
        }
        if let Some(c) = USER_AGENT.captures(line) {
            client = Some(if c.at(2).eq_ignore_ascii_case("js") {
                "openai-node"
            } else {
                "openai-python"
            });
            client_version.get_or_insert_with(|| c.at(3).to_owned());
            continue;
        }
        if let Some(c) = NODE_LOG_OUTCOME.captures(line) {
            method = Some(c.at(1).to_ascii_uppercase());
            url = Some(c.at(2).to_owned());
            status = c.at(3).parse().ok();
            client.get_or_insert("openai-node");
            continue;
        }
        if let Some(c) = NODE_LOG_FIELD.captures(line) {
            if c.at(1) == "method" {
                method.get_or_insert_with(|| c.at(2).to_ascii_uppercase());
            } else if c.at(2).starts_with("http") {
                url.get_or_insert_with(|| c.at(2).to_owned());
            }
            continue;
        }
        if let Some(options) = PY_OPTIONS
            .captures(line)
            .and_then(|c| python_literal(c.at(1), literal_depth))
        {
            if let Some(m) = options.get("method").and_then(|m| m.as_str()) {
                method.get_or_insert_with(|| m.to_ascii_uppercase());
            }
            if let Some(data) = options.get("json_data").filter(|d| !d.is_null()) {
                request_body = Some(Body::Json(data.clone()));
            }
            continue;
        }
        if let Some(c) = PY_METHOD.captures(line) {
            if let Some(m) = c.get(1) {
                method.get_or_insert_with(|| m.to_owned());
            }
            if let Some(s) = c.get(2) {
                status = s.parse().ok().or(status);
            }
            client.get_or_insert("openai-python");
            continue;
        }
        if let Some(c) = PY_RESPONSE.captures(line) {
            status = c.at(1).parse().ok().or(status);
            if let Some(serde_json::Value::Object(map)) = python_literal(c.at(2), literal_depth) {
                // After retries, the last response is the one that failed.
                response_headers = Headers::default();
                for (name, value) in map {
                    if let Some(v) = value.as_str() {
                        response_headers.push(name, v);
                    }
                }
            }
            continue;
        }
        if let Some(c) = NODE_DEBUG.captures(line) {
            url = Some(c.at(1).to_owned());
            continue;
        }
        if let Some(c) = NODE_FIELD.captures(line) {
            if response_headers.get(c.at(1)).is_none() {
                response_headers.push(c.at(1), c.at(2));
            }
            continue;
        }
        let trimmed = line.trim_start();
        let Some(c) = EXCEPTION_LINE.captures(trimmed) else {
            continue;
        };
        // Indented lines are source code in a traceback, unless they are a node cause.
        if line.starts_with(' ') && !trimmed.starts_with("[cause]") {
            continue;
        }
        let class = c.at(1).to_owned();
        let message = c.at(2).to_owned();
        // openai-python: `Error code: 404 - {'error': {…}}`
        if let Some(rest) = message.strip_prefix("Error code: ") {
            let (code, tail) = rest.split_once(" - ").unwrap_or((rest, ""));
            status = code.trim().parse().ok().or(status);
            if !tail.is_empty() {
                body = Some(match python_literal(tail, literal_depth) {
                    Some(json) => Body::Json(json),
                    None => Body::Text(tail.to_owned()),
                });
            }
            continue;
        }
        // openai-node: `NotFoundError: 404 Invalid URL (…)`, `401 status code (no body)`
        // A class that relabels an HTML page it could not parse stands for no status.
        // So does a wrapper that files a failed connection under a server error's class.
        let class_status = class_status(&class).filter(|_| {
            !super::evidence::quotes_html(&message) && !super::evidence::no_answer(&message)
        });
        if let Some(n) =
            class_status.or_else(|| (class == "APIError" || class == "Error").then_some(0))
        {
            if let Some(m) = NODE_STATUS.captures(&message) {
                status = m.at(1).parse().ok();
                if !m.at(2).contains("status code (no body)") {
                    body = Some(Body::Text(m.at(2).to_owned()));
                }
                continue;
            }
            if n > 0 {
                // openai-python 2.x/3.x print only the message.
                status = status.or(Some(n));
                body = body.or(Some(Body::Text(message.clone())));
                continue;
            }
        }
        errors.push(format!("{class}: {message}"));
    }
    // The error body the SDK parsed is the response body, codes and types included.
    if let Some(error) = node_error
        .as_deref()
        .and_then(|e| js_literal(e, literal_depth))
        .filter(|e| e.get("message").is_some_and(serde_json::Value::is_string))
    {
        body = Some(Body::Json(serde_json::json!({ "error": error })));
    }
    // The gateway echoes the method and path it could not route.
    let echoed = |b: &Body| match b {
        Body::Text(t) => t.clone(),
        Body::Json(j) => j.to_string(),
        Body::Raw(r) => r.get().to_owned(),
    };
    if let Some(c) = body.as_ref().and_then(|b| {
        INVALID_URL
            .captures(&echoed(b))
            .map(|c| (c.at(1).to_owned(), c.at(2).to_owned()))
    }) {
        method.get_or_insert(c.0);
        url.get_or_insert(c.1);
    }
    if status.is_none() && errors.is_empty() && url.is_none() {
        return Err(InputError::Unrecognised {
            detail: "No SDK exception with a status or a cause was found.".into(),
        });
    }
    // The header the client refused to send is quoted in its error: that is the key as
    // it would have gone out (`Illegal header value b'Bearer sk-… '`).
    let mut request_headers = Headers::default();
    if let Some(value) = errors
        .iter()
        .find_map(|e| {
            REFUSED
                .captures(e)
                .and_then(|c| python_literal(c.at(1), literal_depth))
        })
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|v| v.to_ascii_lowercase().starts_with("bearer"))
    {
        request_headers.push("Authorization", value);
    }
    let request = (method.is_some()
        || url.is_some()
        || !request_headers.is_empty()
        || request_body.is_some())
    .then_some(Request {
        method,
        url,
        headers: request_headers,
        body: request_body,
    });
    let response = status.map(|s| Response {
        status: Some(s),
        headers: response_headers,
        body,
    });
    // With a response, the exception lines only restate it; without one they are the
    // evidence (the cause of a connection error, the user code's failure).
    let client_error = (response.is_none() || errors.iter().any(|e| is_user_code_failure(e)))
        .then(|| errors.join("\n"))
        .filter(|e| !e.is_empty());
    let mut capture = Capture {
        request,
        response,
        client_error,
        ..Default::default()
    };
    if let Some(c) = client {
        capture.meta.insert("client".into(), c.into());
    }
    if let Some(v) = client_version {
        capture.meta.insert("client_version".into(), v.into());
    }
    Ok(vec![InputCapture::new(capture, "sdk", "")])
}

fn is_user_code_failure(e: &str) -> bool {
    e.contains("has no attribute") || e.contains("Cannot read properties of undefined")
}

/// Reads a Python literal (`repr` of dicts, lists, strings, numbers, `None`, `True`,
/// `False`) as JSON, nested at most `max_depth` levels. `None` for anything else.
pub fn python_literal(text: &str, max_depth: usize) -> Option<serde_json::Value> {
    literal(text, false, max_depth)
}

/// Reads a JavaScript object as Node's `util.inspect` prints it (`{ code: 'x', n: 1,
/// param: undefined }`): bare keys, single quotes, `undefined`, `null`.
pub fn js_literal(text: &str, max_depth: usize) -> Option<serde_json::Value> {
    literal(text, true, max_depth)
}

fn literal(text: &str, js: bool, max_depth: usize) -> Option<serde_json::Value> {
    let mut p = PyParser {
        chars: text.trim().chars().collect(),
        at: 0,
        depth: 0,
        max_depth,
        js,
    };
    let v = p.value()?;
    p.skip_ws();
    (p.at == p.chars.len()).then_some(v)
}

struct PyParser {
    chars: Vec<char>,
    at: usize,
    depth: usize,
    max_depth: usize,
    /// JavaScript, not Python: bare keys and `undefined`/`null`/`true`/`false`.
    js: bool,
}

impl PyParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        self.depth += 1;
        if self.depth > self.max_depth {
            return None;
        }
        self.skip_ws();
        let v = match self.peek()? {
            '{' => {
                self.at += 1;
                let mut map = serde_json::Map::new();
                while !self.eat('}') {
                    self.skip_ws();
                    let bare = self.js
                        && self
                            .peek()
                            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$');
                    let key = if bare {
                        self.word()
                    } else {
                        match self.value()? {
                            J::String(s) => s,
                            other => other.to_string(),
                        }
                    };
                    if !self.eat(':') {
                        return None;
                    }
                    map.insert(key, self.value()?);
                    if !self.eat(',') {
                        if !self.eat('}') {
                            return None;
                        }
                        break;
                    }
                }
                J::Object(map)
            }
            '[' | '(' => {
                let close = if self.peek()? == '[' { ']' } else { ')' };
                self.at += 1;
                let mut list = Vec::new();
                while !self.eat(close) {
                    list.push(self.value()?);
                    if !self.eat(',') {
                        if !self.eat(close) {
                            return None;
                        }
                        break;
                    }
                }
                J::Array(list)
            }
            'b' if matches!(self.chars.get(self.at + 1), Some('\'' | '"')) => {
                self.at += 1;
                J::String(self.string()?)
            }
            '\'' | '"' => J::String(self.string()?),
            _ => {
                let word = self.word();
                match (word.as_str(), self.js) {
                    ("None", false) | ("null" | "undefined", true) => J::Null,
                    ("True", false) | ("true", true) => J::Bool(true),
                    ("False", false) | ("false", true) => J::Bool(false),
                    (w, _) => serde_json::from_str::<serde_json::Number>(w)
                        .ok()
                        .map(J::Number)?,
                }
            }
        };
        self.depth -= 1;
        Some(v)
    }

    /// A bare word: a number, a constant, or (JavaScript) a key.
    fn word(&mut self) -> String {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '+' | '_' | '$'))
        {
            self.at += 1;
        }
        self.chars
            .get(start..self.at)
            .unwrap_or(&[])
            .iter()
            .collect()
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.at += 1;
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            self.at += 1;
            match c {
                c if c == quote => return Some(out),
                '\\' => {
                    let e = self.peek()?;
                    self.at += 1;
                    match e {
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'x' => {
                            let hex: String =
                                self.chars.get(self.at..self.at + 2)?.iter().collect();
                            self.at += 2;
                            out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                        }
                        'u' => {
                            let hex: String =
                                self.chars.get(self.at..self.at + 4)?.iter().collect();
                            self.at += 4;
                            out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Capture {
        read(text, 64).unwrap().remove(0).capture
    }

    /// Each pattern compiles, and the patterns match the SDK fixtures' lines.
    #[test]
    fn the_patterns_compile() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inputs/sdk");
        let mut lines = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            lines.extend(text.lines().map(|l| l.trim().to_owned()));
            lines.extend(text.lines().map(str::to_owned));
        }
        let mut matched = 0;
        for pattern in PATTERNS {
            regex::Regex::new(pattern.as_str()).unwrap();
            for line in &lines {
                matched += usize::from(pattern.captures(line).is_some());
            }
        }
        assert!(
            matched > 50,
            "only {matched} matches: the check proves little"
        );
    }

    #[test]
    fn python_literals_read_as_json() {
        assert_eq!(
            python_literal(
                "{'error': {'message': \"it's\", 'param': None, 'ok': True, 'n': -1.5, 'l': [1, (2,)]}}",
                64
            ),
            Some(
                json!({"error": {"message": "it's", "param": null, "ok": true, "n": -1.5, "l": [1, [2]]}})
            )
        );
        assert_eq!(
            python_literal("'a\\nb\\x41\\u4e2d'", 64),
            Some(json!("a\nbA中"))
        );
        assert_eq!(python_literal("{'a': 1", 64), None);
        assert_eq!(
            python_literal(&"[".repeat(200), 64),
            None,
            "depth is limited"
        );
    }

    #[test]
    fn js_objects_read_as_json() {
        assert_eq!(
            js_literal(
                "{\n    code: 'model_not_found',\n    param: undefined,\n    ok: true,\n    n: null,\n    $x: [1, 'a'],\n  }",
                64
            ),
            Some(
                json!({"code": "model_not_found", "param": null, "ok": true, "n": null, "$x": [1, "a"]})
            )
        );
        assert_eq!(
            python_literal("{code: 'x'}", 64),
            None,
            "bare keys are JavaScript only"
        );
        assert_eq!(js_literal("{ code: 'x'", 64), None);
    }

    #[test]
    fn node_error_fields_give_the_error_body() {
        let text = "InternalServerError: 503 No available channel for model x under group default\n    at APIError.generate (file:///app/node_modules/openai/core/error.mjs:62:20) {\n  status: 503,\n  headers: Headers {},\n  error: {\n    code: 'model_not_found',\n    message: 'No available channel for model x under group default',\n    type: 'new_api_error'\n  },\n  code: 'model_not_found',\n  param: undefined\n}\n";
        let c = one(text);
        assert_eq!(c.status(), Some(503));
        assert_eq!(
            c.response.unwrap().body,
            Some(Body::Json(json!({"error": {
                "code": "model_not_found",
                "message": "No available channel for model x under group default",
                "type": "new_api_error"
            }})))
        );
    }

    #[test]
    fn openai_python_status_error() {
        let text = "Traceback (most recent call last):\n  File \"/app/x.py\", line 4, in <module>\n    r = client.chat.completions.create(model=\"gpt-4o\")\n  File \"/usr/lib/python3.11/site-packages/openai/_base_client.py\", line 1047, in request\n    raise self._make_status_error_from_response(err.response) from None\nopenai.NotFoundError: Error code: 404 - {'error': {'message': 'Invalid URL (POST /v1/chat/completions/chat/completions)', 'type': 'invalid_request_error', 'param': '', 'code': ''}}\n";
        assert!(looks_like(text));
        let c = one(text);
        assert_eq!(c.status(), Some(404));
        let req = c.request.unwrap();
        assert_eq!(
            (req.method.as_deref(), req.url.as_deref()),
            (Some("POST"), Some("/v1/chat/completions/chat/completions"))
        );
        assert!(matches!(c.response.unwrap().body, Some(Body::Json(_))));
        assert!(c.client_error.is_none());
        assert_eq!(c.meta["client"], "openai-python");
    }

    #[test]
    fn connection_error_keeps_the_chain() {
        let text = "h11._util.LocalProtocolError: Illegal header value b'Bearer sk-abc '\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File \"x.py\", line 1\nopenai.APIConnectionError: Connection error.\n";
        let c = one(text);
        assert!(c.response.is_none());
        let key = c.request.as_ref().unwrap().headers.get("authorization");
        assert_eq!(
            key,
            Some("Bearer sk-abc "),
            "the refused header, whitespace and all"
        );
        assert_eq!(
            c.client_error.as_deref(),
            Some(
                "h11._util.LocalProtocolError: Illegal header value b'Bearer sk-abc '\nopenai.APIConnectionError: Connection error."
            )
        );
    }

    #[test]
    fn openai_node_error_with_fields() {
        let text = "/app/node_modules/openai/error.js:48\n            return new NotFoundError(status, error, message, headers);\n                   ^\n\nNotFoundError: 404 Invalid URL (POST /v1/chat/completions/chat/completions)\n    at APIError.generate (/app/node_modules/openai/error.js:48:20)\n    at OpenAI.makeStatusError (/app/node_modules/openai/core.js:295:33) {\n  status: 404,\n  headers: {\n    'content-type': 'application/json; charset=utf-8',\n    'x-oneapi-request-id': '20260819093313579253583268d9d6rhgZmzsh'\n  },\n  request_id: undefined,\n}\n";
        let c = one(text);
        assert_eq!(c.status(), Some(404));
        let resp = c.response.unwrap();
        assert_eq!(
            resp.headers.get("x-oneapi-request-id"),
            Some("20260819093313579253583268d9d6rhgZmzsh")
        );
        assert_eq!(
            resp.body,
            Some(Body::Text(
                "Invalid URL (POST /v1/chat/completions/chat/completions)".into()
            ))
        );
        assert_eq!(c.meta["client"], "openai-node");
    }

    #[test]
    fn node_debug_log_gives_method_url_status_and_version() {
        let text = "[log_c08825] sending request {\n  method: 'post',\n  url: 'https://api.moleapi.com/v1/chat/completions',\n  options: {\n    method: 'post',\n    path: '/chat/completions',\n  },\n  headers: {\n    authorization: '[REDACTED]',\n    'user-agent': 'OpenAI/JS 7.59.0',\n  }\n}\n[log_c08825] post https://api.moleapi.com/v1/chat/completions failed with status 401 in 62ms - error; no more retries left\n[log_c08825] response error (error; no more retries left) {\n  url: 'https://api.moleapi.com/v1/chat/completions',\n  status: 401,\n  headers: {\n    'x-oneapi-request-id': '20261127'\n  },\n}\nAuthenticationError: 401 Invalid token\n";
        assert_eq!(super::super::detect(text), Some(super::super::Format::Sdk));
        let c = one(text);
        assert_eq!(c.status(), Some(401));
        let req = c.request.as_ref().unwrap();
        assert_eq!(
            (req.method.as_deref(), req.url.as_deref()),
            (
                Some("POST"),
                Some("https://api.moleapi.com/v1/chat/completions")
            )
        );
        assert_eq!(c.meta["client"], "openai-node");
        assert_eq!(c.meta["client_version"], "7.59.0");
        assert_eq!(
            c.response.unwrap().headers.get("x-oneapi-request-id"),
            Some("20261127")
        );
    }

    #[test]
    fn python_debug_log_gives_the_request_body_and_response_headers() {
        let text = "[2026-11-27 12:32:04 - openai._base_client:482 - DEBUG] Request options: {'method': 'post', 'url': '/chat/completions', 'files': None, 'json_data': {'messages': [{'role': 'user', 'content': 'hi'}], 'model': 'gpt-4o-mni'}}\n[2026-11-27 12:32:04 - openai._base_client:1016 - DEBUG] HTTP Response: POST https://api.moleapi.com/v1/chat/completions \"500 Internal Server Error\" Headers({'x-oneapi-request-id': 'first'})\n[2026-11-27 12:32:05 - openai._base_client:1016 - DEBUG] HTTP Response: POST https://api.moleapi.com/v1/chat/completions \"503 Service Unavailable\" Headers({'x-oneapi-request-id': 'second'})\n";
        assert_eq!(super::super::detect(text), Some(super::super::Format::Sdk));
        let c = one(text);
        assert_eq!(c.status(), Some(503), "the last response after retries");
        let req = c.request.as_ref().unwrap();
        assert_eq!(req.method.as_deref(), Some("POST"));
        assert_eq!(
            req.body,
            Some(Body::Json(
                json!({"messages": [{"role": "user", "content": "hi"}], "model": "gpt-4o-mni"})
            ))
        );
        let headers = &c.response.as_ref().unwrap().headers;
        assert_eq!(headers.get("x-oneapi-request-id"), Some("second"));
        assert_eq!(c.meta["client"], "openai-python");
    }

    #[test]
    fn python_3x_debug_log_gives_the_method() {
        let text = "[2026-11-27 12:51:05 - openai._base_client:606 - DEBUG] Building HTTP request: method=POST retries_taken=0\n[2026-11-27 12:51:05 - openai._base_client:1220 - DEBUG] HTTP Response: POST 503\nopenai.InternalServerError: No available channel for model x\n";
        assert_eq!(super::super::detect(text), Some(super::super::Format::Sdk));
        let c = one(text);
        assert_eq!(
            c.status(),
            Some(503),
            "the logged status, not the class's 500"
        );
        assert_eq!(c.request.unwrap().method.as_deref(), Some("POST"));
    }

    #[test]
    fn a_json_array_is_not_a_debug_log() {
        assert!(!starts_with_client_log("[1, 2]"));
        assert!(!starts_with_client_log("[{\"request\": {}}]"));
        assert!(!starts_with_client_log(
            "[GIN] 2026/11/27 - 12:00:00 | 401 |"
        ));
    }

    #[test]
    fn httpx_log_line_gives_method_url_status() {
        let c = one(
            "INFO:httpx:HTTP Request: POST https://api.moleapi.com/chat/completions \"HTTP/1.1 200 OK\"\nTraceback (most recent call last):\nAttributeError: 'str' object has no attribute 'choices'\n",
        );
        assert_eq!(c.status(), Some(200));
        assert_eq!(
            c.request.unwrap().url.as_deref(),
            Some("https://api.moleapi.com/chat/completions")
        );
        assert_eq!(
            c.client_error.as_deref(),
            Some("AttributeError: 'str' object has no attribute 'choices'")
        );
    }
}
