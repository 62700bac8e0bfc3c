//! Raw HTTP as terminals show it: `curl -v` (`> ` request lines, `< ` response lines,
//! `* ` info lines), `curl -i` (status line, headers, body), HTTPie `http -v` (request
//! then response), a bare response, and the curl command line itself when it was
//! pasted too (`-H`, `-d`, `--json`, the URL). curl's own errors
//! (`curl: (6) Could not resolve host: …`) are evidence as well.
//!
//! Hand-written rather than httparse: terminal output is not wire format (prefixes,
//! HTTP/2 status lines without a reason, interleaved info lines), and bodies follow.

use super::{InputCapture, InputError};
use crate::capture::{Body, Capture, Headers, Request, Response};

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// Whether the text looks like HTTP from a terminal.
pub fn looks_like(text: &str) -> bool {
    text.lines().take(400).any(|l| {
        let l = l.trim_end();
        status_line(l.strip_prefix("< ").unwrap_or(l)).is_some()
            || request_line(l.strip_prefix("> ").unwrap_or(l)).is_some()
            || l.starts_with("curl: (")
            || curl_command(l).is_some()
    })
}

/// `HTTP/1.1 404 Not Found`, `HTTP/2 404` → 404.
fn status_line(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("HTTP/")?;
    let mut parts = rest.split_whitespace();
    let version = parts.next()?;
    if !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let code = parts.next()?;
    (code.len() == 3).then(|| code.parse().ok()).flatten()
}

/// `POST /v1/chat/completions HTTP/1.1` → (method, target).
fn request_line(line: &str) -> Option<(String, String)> {
    let mut parts = line.split_whitespace();
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    (METHODS.contains(&method) && version.starts_with("HTTP/") && parts.next().is_none())
        .then(|| (method.to_owned(), target.to_owned()))
}

fn header_line(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once(':')?;
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    // curl -v shows the value with one space after the colon; keep the rest as sent.
    valid.then(|| {
        (
            name.to_owned(),
            value.strip_prefix(' ').unwrap_or(value).to_owned(),
        )
    })
}

#[derive(Default)]
struct Exchange {
    method: Option<String>,
    target: Option<String>,
    request_headers: Headers,
    request_body: Vec<String>,
    status: Option<u16>,
    response_headers: Headers,
    response_body: Vec<String>,
    tls: bool,
    port: Option<u16>,
    client_error: Vec<String>,
    command: Option<CurlCommand>,
}

#[derive(PartialEq, Clone, Copy)]
enum State {
    Start,
    RequestHeaders,
    RequestBody,
    ResponseHeaders,
    ResponseBody,
}

/// Reads one exchange (the last response wins when curl followed redirects).
pub fn read(text: &str) -> Result<Vec<InputCapture>, InputError> {
    let mut x = Exchange::default();
    let mut state = State::Start;
    // A bare `> ` line between request headers: the header before it ended with a line
    // break (a key pasted with its newline), which curl -v shows as a line of its own.
    let mut break_in_header = false;
    // Only the line terminator is cut: a CR that ends a header's value is evidence.
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(cmd) = curl_command(line) {
            x.command = Some(cmd);
            continue;
        }
        if let Some(info) = line.strip_prefix("* ").or_else(|| line.strip_prefix("*  ")) {
            read_info(&mut x, info);
            continue;
        }
        if line.starts_with("curl: (") {
            x.client_error.push(line.to_owned());
            continue;
        }
        if line.starts_with("{ [") || line.starts_with("} [") {
            continue; // curl's progress of data chunks
        }
        if let Some(l) = line
            .strip_prefix("> ")
            .or_else(|| (line == ">").then_some(""))
        {
            if let Some((m, t)) = request_line(l) {
                x.method = Some(m);
                x.target = Some(t);
                x.request_headers = Headers::default();
                state = State::RequestHeaders;
                break_in_header = false;
            } else if let Some(h) = header_line(l) {
                if std::mem::take(&mut break_in_header) {
                    x.request_headers.extend_last("\n");
                }
                x.request_headers.push(h.0, h.1);
            } else if l.trim_end_matches('\r').is_empty() && !x.request_headers.is_empty() {
                break_in_header = true;
            }
            continue;
        }
        if let Some(l) = line
            .strip_prefix("< ")
            .or_else(|| (line == "<").then_some(""))
        {
            if let Some(code) = status_line(l) {
                x.status = Some(code);
                x.response_headers = Headers::default();
                x.response_body.clear();
                state = State::ResponseHeaders;
            } else if l.is_empty() {
                state = State::ResponseBody;
            } else if let Some(h) = header_line(l) {
                x.response_headers.push(h.0, h.1);
            }
            continue;
        }
        // Unprefixed lines: curl -i / HTTPie / a bare response, or the body after -v.
        if let Some(code) = status_line(line) {
            x.status = Some(code);
            x.response_headers = Headers::default();
            x.response_body.clear();
            state = State::ResponseHeaders;
            continue;
        }
        if let Some((m, t)) = request_line(line) {
            x.method = Some(m);
            x.target = Some(t);
            x.request_headers = Headers::default();
            x.request_body.clear();
            state = State::RequestHeaders;
            continue;
        }
        match state {
            State::RequestHeaders if line.trim().is_empty() => state = State::RequestBody,
            State::RequestHeaders => {
                if let Some(h) = header_line(line) {
                    x.request_headers.push(h.0, h.1);
                }
            }
            State::RequestBody => x.request_body.push(line.to_owned()),
            State::ResponseHeaders if line.trim().is_empty() => state = State::ResponseBody,
            State::ResponseHeaders => {
                if let Some(h) = header_line(line) {
                    x.response_headers.push(h.0, h.1);
                } else {
                    state = State::ResponseBody;
                    x.response_body.push(line.to_owned());
                }
            }
            State::ResponseBody => x.response_body.push(line.to_owned()),
            State::Start => {}
        }
    }
    let capture = into_capture(x);
    if capture.request.is_none() && capture.response.is_none() && capture.client_error.is_none() {
        return Err(InputError::Unrecognised {
            detail: "No request line, status line or curl error was found.".into(),
        });
    }
    Ok(vec![InputCapture::new(capture, "http", "")])
}

/// curl's `* ` lines: TLS, the port it connected to, and its errors.
fn read_info(x: &mut Exchange, info: &str) {
    let info = info.trim_start();
    if info.starts_with("SSL connection using")
        || info.starts_with("TLSv")
        || info.starts_with("ALPN")
        || info.starts_with("Server certificate")
    {
        x.tls = true;
    }
    if let Some(rest) = info.strip_prefix("Connected to ") {
        x.port = rest
            .rsplit(" port ")
            .next()
            .and_then(|p| p.split_whitespace().next())
            .and_then(|p| p.parse().ok());
    }
    let lower = info.to_ascii_lowercase();
    let is_error = [
        "could not resolve",
        "failed to connect",
        "connection refused",
        "timed out",
        "ssl certificate problem",
        "recv failure",
        "couldn't connect",
    ]
    .iter()
    .any(|e| lower.contains(e));
    if is_error && !x.client_error.iter().any(|e| e.contains(info)) {
        x.client_error.push(info.to_owned());
    }
}

fn into_capture(x: Exchange) -> Capture {
    let cmd = x.command.unwrap_or_default();
    let mut headers = x.request_headers;
    if headers.is_empty() {
        headers = cmd.headers.clone();
    }
    let host = headers.get("host").map(str::to_owned);
    let url = match (&x.target, host) {
        (Some(t), _) if t.starts_with("http://") || t.starts_with("https://") => Some(t.clone()),
        (Some(t), Some(h)) => match scheme(x.tls, x.port, cmd.url.as_deref()) {
            Some(s) => Some(format!("{s}://{h}{t}")),
            // The scheme is unknown: keep the path; the host stays in the Host header.
            None => Some(t.clone()),
        },
        (Some(t), None) => Some(t.clone()),
        (None, _) => cmd.url.clone(),
    };
    let request_body = if x.request_body.iter().any(|l| !l.trim().is_empty()) {
        Some(Body::Text(x.request_body.join("\n").trim().to_owned()))
    } else {
        cmd.body.clone().map(Body::Text)
    };
    let method = x.method.or(cmd.method.clone());
    let request = (url.is_some() || method.is_some() || !headers.is_empty()).then_some(Request {
        method,
        url,
        headers,
        body: request_body,
    });
    let response = x.status.map(|status| {
        let body = x.response_body.join("\n");
        let body = body.trim();
        Response {
            status: Some(status),
            headers: x.response_headers,
            body: (!body.is_empty()).then(|| Body::Text(body.to_owned())),
        }
    });
    let client_error = (!x.client_error.is_empty()).then(|| x.client_error.join("\n"));
    let mut capture = Capture {
        request,
        response,
        client_error,
        ..Default::default()
    };
    capture.meta.insert("client".into(), "curl".into());
    capture
}

fn scheme(tls: bool, port: Option<u16>, command_url: Option<&str>) -> Option<&'static str> {
    if let Some(u) = command_url {
        if u.starts_with("https://") {
            return Some("https");
        }
        if u.starts_with("http://") {
            return Some("http");
        }
    }
    if tls || port == Some(443) {
        return Some("https");
    }
    (port == Some(80)).then_some("http")
}

/// What a pasted `curl …` command line says: URL, method, headers, body.
#[derive(Clone, Debug, Default, PartialEq)]
struct CurlCommand {
    url: Option<String>,
    method: Option<String>,
    headers: Headers,
    body: Option<String>,
}

fn curl_command(line: &str) -> Option<CurlCommand> {
    let line = line.trim_start();
    let line = line
        .strip_prefix("$ ")
        .or_else(|| line.strip_prefix("% "))
        .unwrap_or(line);
    let rest = line.strip_prefix("curl ")?;
    let words = shell_words(rest);
    let mut cmd = CurlCommand::default();
    let mut content_type_given = false;
    let mut data_kind: Option<&'static str> = None;
    let mut i = 0;
    while let Some(w) = words.get(i).map(String::as_str) {
        let next = words.get(i + 1).cloned();
        match w {
            "-H" | "--header" => {
                if let Some((n, v)) = next.as_deref().and_then(header_line) {
                    content_type_given |= n.eq_ignore_ascii_case("content-type");
                    cmd.headers.push(n, v);
                }
                i += 1;
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-ascii" => {
                cmd.body = next;
                data_kind = Some("application/x-www-form-urlencoded");
                i += 1;
            }
            "--json" => {
                cmd.body = next;
                data_kind = Some("application/json");
                i += 1;
            }
            "-X" | "--request" => {
                cmd.method = next.map(|m| m.to_ascii_uppercase());
                i += 1;
            }
            "-u" | "--user" | "-o" | "--output" | "-m" | "--max-time" | "-A" | "--user-agent"
            | "-x" | "--proxy" => i += 1,
            _ if w.starts_with("http://") || w.starts_with("https://") => {
                cmd.url = Some(w.to_owned())
            }
            _ => {}
        }
        i += 1;
    }
    cmd.url.as_ref()?;
    if let Some(kind) = data_kind {
        // curl -d sends form encoding unless told otherwise; --json sends JSON.
        if !content_type_given {
            cmd.headers.push("Content-Type", kind);
        }
        cmd.method.get_or_insert_with(|| "POST".to_owned());
    }
    cmd.method.get_or_insert_with(|| "GET".to_owned());
    Some(cmd)
}

/// Splits a shell command line into words (quotes and backslash escapes; line
/// continuations are already gone because the caller reads one line).
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        _ => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_ends_in_a_line_break_keeps_it_in_a_curl_v_transcript() {
        let key = format!("sk-{}", "Q7w".repeat(16));
        // A CR at the end of the value: curl shows it before the line's own CR LF.
        let cr = format!(
            "> POST /v1/chat/completions HTTP/1.1\r\n> Host: h\r\n> Authorization: Bearer {key}\r\r\n> Content-Type: application/json\r\n> \r\n< HTTP/1.1 401 Unauthorized\r\n< \r\n"
        );
        let c = read(&cr).unwrap().remove(0).capture;
        let auth = c
            .request
            .unwrap()
            .headers
            .get("authorization")
            .map(str::to_owned);
        assert_eq!(auth, Some(format!("Bearer {key}\r")));
        // A LF at the end of the value: a bare `> ` line follows the header.
        for ends in ["\n", "\r\n"] {
            let lf = format!(
                "> POST /v1/chat/completions HTTP/1.1{ends}> Authorization: Bearer {key}{ends}> {ends}> Content-Type: application/json{ends}> {ends}< HTTP/1.1 401 Unauthorized{ends}"
            );
            let c = read(&lf).unwrap().remove(0).capture;
            let request = c.request.unwrap();
            assert_eq!(
                request.headers.get("authorization").map(str::to_owned),
                Some(format!("Bearer {key}\n")),
                "{ends:?}"
            );
            assert_eq!(
                request.headers.get("content-type"),
                Some("application/json")
            );
        }
    }

    fn one(text: &str) -> Capture {
        let mut r = read(text).unwrap();
        assert_eq!(r.len(), 1);
        r.remove(0).capture
    }

    #[test]
    fn curl_verbose_with_tls_and_http2() {
        let text = "*   Trying 1.2.3.4:443...\n* Connected to api.moleapi.com (1.2.3.4) port 443\n\
            * ALPN: curl offers h2,http/1.1\n* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384\n\
            > POST /chat/completions HTTP/2\n> Host: api.moleapi.com\n> Authorization: Bearer sk-abc\n> Content-Type: application/json\n>\n\
            < HTTP/2 200\n< content-type: text/html; charset=utf-8\n<\n<!doctype html>\n<title>New API</title>\n\
            * Connection #0 to host api.moleapi.com left intact\n";
        assert!(looks_like(text));
        let c = one(text);
        let req = c.request.unwrap();
        assert_eq!(
            req.url.as_deref(),
            Some("https://api.moleapi.com/chat/completions")
        );
        assert_eq!(req.headers.get("authorization"), Some("Bearer sk-abc"));
        let resp = c.response.unwrap();
        assert_eq!(resp.status, Some(200));
        assert_eq!(
            resp.body,
            Some(Body::Text("<!doctype html>\n<title>New API</title>".into()))
        );
    }

    #[test]
    fn curl_include_with_command_line() {
        let text = "$ curl -i https://api.moleapi.com/v1/chat/completions -H 'Authorization: Bearer sk-abc' -d '{\"model\": \"m\"}'\n\
            HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n{\"error\":{\"message\":\"Model name not specified\"}}\n";
        let c = one(text);
        let req = c.request.unwrap();
        assert_eq!(req.method.as_deref(), Some("POST"));
        assert_eq!(
            req.url.as_deref(),
            Some("https://api.moleapi.com/v1/chat/completions")
        );
        assert_eq!(
            req.headers.get("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(req.body, Some(Body::Text("{\"model\": \"m\"}".into())));
        assert_eq!(c.response.unwrap().status, Some(400));
    }

    #[test]
    fn httpie_verbose_request_and_response() {
        let text = "POST /v1/chat/completions HTTP/1.1\nAccept: application/json, */*;q=0.5\nAuthorization: Bearer sk-abc\nHost: 127.0.0.1:3005\n\n\
            {\n    \"model\": \"gpt-4o-mini\"\n}\n\n\nHTTP/1.1 401 Unauthorized\nContent-Type: application/json\n\n{\"error\": {\"message\": \"Invalid token\"}}\n";
        let c = one(text);
        let req = c.request.unwrap();
        assert_eq!(
            req.url.as_deref(),
            Some("/v1/chat/completions"),
            "scheme unknown: path only"
        );
        assert_eq!(req.headers.get("host"), Some("127.0.0.1:3005"));
        assert!(matches!(req.body, Some(Body::Text(ref t)) if t.contains("gpt-4o-mini")));
        assert_eq!(c.response.unwrap().status, Some(401));
    }

    #[test]
    fn curl_errors_are_client_errors() {
        let c = one(
            "$ curl https://api.molapi.com/v1/models\ncurl: (6) Could not resolve host: api.molapi.com\n",
        );
        assert_eq!(
            c.client_error.as_deref(),
            Some("curl: (6) Could not resolve host: api.molapi.com")
        );
        assert_eq!(
            c.request.unwrap().url.as_deref(),
            Some("https://api.molapi.com/v1/models")
        );
        assert!(c.response.is_none());
    }

    #[test]
    fn the_last_response_wins_after_redirects() {
        let c = one(
            "HTTP/1.1 301 Moved Permanently\nLocation: https://x/\n\nHTTP/1.1 404 Not Found\n\nnope\n",
        );
        assert_eq!(c.status(), Some(404));
    }

    #[test]
    fn shell_words_handle_quotes() {
        assert_eq!(
            shell_words(r#"-H "A: b c" 'd e' f\ g"#),
            ["-H", "A: b c", "d e", "f g"]
        );
    }
}
