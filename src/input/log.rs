//! Gateway log lines, as new-api and one-api write them:
//!
//! ```text
//! [GIN] 2024/05/25 - 02:20:27 | 2024052502202794066980027391365 | 429 |  94.358928ms |  192.168.96.6 | POST /v1/embeddings
//! [ERR] 2024/05/25 - 02:20:27 | 2024052502202794066980027391365 | relay error (channel #5): 当前分组上游负载已饱和，请稍后再试 (request id: …)
//! ```
//!
//! Lines are grouped by request id: the `[GIN]` line gives the status, method and path,
//! `[ERR]`/`[WARN]` lines the error message. Each request becomes one capture.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::{InputCapture, InputError};
use crate::capture::{Body, Capture, Headers, Request, Response};

const LEVELS: [&str; 6] = ["[GIN]", "[ERR]", "[WARN]", "[INFO]", "[SYS]", "[DEBUG]"];

/// Whether most non-empty lines are gateway log lines.
pub fn looks_like(text: &str) -> bool {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .collect();
    let logs = lines.iter().filter(|l| parse_line(l).is_some()).count();
    logs > 0 && logs * 2 >= lines.len()
}

struct LogLine<'a> {
    level: &'a str,
    time: &'a str,
    request_id: Option<&'a str>,
    fields: Vec<&'a str>,
}

fn parse_line(line: &str) -> Option<LogLine<'_>> {
    let line = line.trim();
    let level = LEVELS.iter().find(|l| line.starts_with(**l))?;
    let rest = line.strip_prefix(*level)?.trim_start();
    let mut fields: Vec<&str> = rest.split(" | ").map(str::trim).collect();
    let time = fields
        .first()
        .copied()
        .filter(|t| t.len() >= 19 && t.as_bytes().get(4) == Some(&b'/'))?;
    fields.remove(0);
    let request_id = fields
        .first()
        .copied()
        .filter(|f| (16..=64).contains(&f.len()) && f.chars().all(|c| c.is_ascii_alphanumeric()));
    if request_id.is_some() {
        fields.remove(0);
    }
    Some(LogLine {
        level,
        time,
        request_id,
        fields,
    })
}

#[derive(Default)]
struct Group {
    key: String,
    line: usize,
    time: Option<String>,
    status: Option<u16>,
    method: Option<String>,
    path: Option<String>,
    client_ip: Option<String>,
    messages: Vec<String>,
}

/// Reads every request the lines mention, in order of first appearance.
pub fn read(text: &str) -> Result<Vec<InputCapture>, InputError> {
    let mut groups: Vec<Group> = Vec::new();
    // Each key's group, so a line finds its request in one look-up whatever the log's
    // length; `groups` keeps the order of first appearance.
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let Some(l) = parse_line(raw) else { continue };
        let key = l
            .request_id
            .map(str::to_owned)
            .unwrap_or_else(|| format!("line {}", i + 1));
        let idx = match index.entry(key) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                groups.push(Group {
                    key: e.key().clone(),
                    line: i + 1,
                    ..Default::default()
                });
                *e.insert(groups.len() - 1)
            }
        };
        let Some(g) = groups.get_mut(idx) else {
            continue;
        };
        g.time.get_or_insert_with(|| l.time.to_owned());
        if l.level == "[GIN]" {
            // status | latency | client ip | METHOD path
            g.status = l.fields.first().and_then(|s| s.parse().ok());
            g.client_ip = l.fields.get(2).map(|s| s.to_string());
            if let Some((m, p)) = l.fields.get(3).and_then(|s| s.split_once(' ')) {
                g.method = Some(m.trim().to_owned());
                g.path = Some(p.trim().trim_matches('"').to_owned());
            }
        } else if matches!(l.level, "[ERR]" | "[WARN]") {
            let message = l.fields.join(" | ");
            // `relay error (channel #5): <message the client got>`
            let message = match message.split_once("): ") {
                Some((prefix, rest)) if prefix.contains("error (channel") => rest.to_owned(),
                _ => message,
            };
            g.messages.push(message);
        }
    }
    let out: Vec<InputCapture> = groups
        .into_iter()
        .filter(|g| g.status.is_some() || !g.messages.is_empty())
        .map(|g| {
            let request_id = (!g.key.starts_with("line ")).then(|| g.key.clone());
            let mut headers = Headers::default();
            if let Some(rid) = &request_id {
                headers.push("X-Oneapi-Request-Id", rid.clone());
            }
            // The message is the error the client got. With the status (a [GIN] line)
            // a text body is read as the error; without it, it is said to be one.
            let body = g.messages.last().map(|m| match g.status {
                Some(_) => Body::Text(m.clone()),
                None => Body::Json(serde_json::json!({ "error": { "message": m } })),
            });
            let request = (g.method.is_some() || g.path.is_some()).then(|| Request {
                method: g.method.clone(),
                url: g.path.clone(),
                headers: Headers::default(),
                body: None,
            });
            // Without a [GIN] line the status is unknown: the message is kept as the
            // error the gateway reported.
            let response = Some(Response {
                status: g.status,
                headers,
                body,
            });
            let mut capture = Capture {
                request,
                response,
                client_error: None,
                ..Default::default()
            };
            if let Some(t) = &g.time {
                capture.meta.insert("time".into(), t.clone().into());
            }
            if let Some(ip) = &g.client_ip {
                capture.meta.insert("client_ip".into(), ip.clone().into());
            }
            InputCapture::new(capture, "log", format!("line {}", g.line))
        })
        .collect();
    if out.is_empty() {
        return Err(InputError::Unrecognised {
            detail: "No [GIN] or [ERR] line with a status or an error was found.".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "[SYS] 2024/05/25 - 02:20:20 | New API started\n\
[ERR] 2024/05/25 - 02:20:27 | 2024052502202794066980027391365 | relay error (channel #5): 当前分组上游负载已饱和，请稍后再试 (request id: 2024052502202794066980027391365)\n\
[GIN] 2024/05/25 - 02:20:27 | 2024052502202794066980027391365 | 429 |   94.358928ms |    192.168.96.6 |    POST /v1/embeddings\n\
[GIN] 2024/05/25 - 02:20:31 | 20240525022031123456789AbCdEfGh | 200 |  1.2s |  10.0.0.1 | POST /v1/chat/completions\n";

    #[test]
    fn an_err_line_alone_is_the_error_the_client_got() {
        let line = "[ERR] 2026/12/01 - 09:30:15 | 20261201093015123456789AbCdEfGh | relay error (channel #2): No available channel for model gpt-4o-mni under group default (distributor) (request id: 20261201093015123456789AbCdEfGh)\n";
        let read = read(line).unwrap();
        let capture = &read[0].capture;
        assert_eq!(capture.status(), None);
        let facts = crate::facts::Facts::derive(capture);
        let message = facts
            .get(&crate::facts::Fact::ErrorMessage)
            .map(|v| v.display());
        assert!(
            message.is_some_and(|m| m.starts_with("No available channel for model gpt-4o-mni")),
            "{capture:?}"
        );
    }

    #[test]
    fn lines_are_grouped_by_request_id() {
        assert!(looks_like(LOG));
        let r = read(LOG).unwrap();
        assert_eq!(r.len(), 2);
        let c = &r[0].capture;
        assert_eq!(c.status(), Some(429));
        let req = c.request.as_ref().unwrap();
        assert_eq!(
            (req.method.as_deref(), req.url.as_deref()),
            (Some("POST"), Some("/v1/embeddings"))
        );
        let resp = c.response.as_ref().unwrap();
        assert!(
            matches!(&resp.body, Some(Body::Text(t)) if t.starts_with("当前分组上游负载已饱和"))
        );
        assert_eq!(
            resp.headers.get("x-oneapi-request-id"),
            Some("2024052502202794066980027391365")
        );
        assert_eq!(r[0].locator, "line 2");
        assert_eq!(r[1].capture.status(), Some(200));
    }

    /// Interleaved requests: each line joins its request's group, groups come out in
    /// the order their first line appeared, and a line without a request id is its own.
    #[test]
    fn interleaved_requests_keep_their_first_seen_order() {
        let (a, b, c) = (
            "2026120109301500000000000000000A",
            "2026120109301500000000000000000B",
            "2026120109301500000000000000000C",
        );
        let log = format!(
            "[ERR] 2026/12/01 - 09:30:15 | {b} | relay error (channel #1): b failed\n\
[ERR] 2026/12/01 - 09:30:15 | {a} | relay error (channel #1): a failed\n\
[GIN] 2026/12/01 - 09:30:16 | {c} | 500 | 1ms | 10.0.0.3 | POST /v1/c\n\
[ERR] 2026/12/01 - 09:30:16 | relay error (channel #2): no request id\n\
[GIN] 2026/12/01 - 09:30:17 | {a} | 429 | 1ms | 10.0.0.1 | POST /v1/a\n\
[ERR] 2026/12/01 - 09:30:17 | {b} | relay error (channel #1): b failed again\n\
[GIN] 2026/12/01 - 09:30:18 | {b} | 503 | 1ms | 10.0.0.2 | POST /v1/b\n"
        );
        let r = read(&log).unwrap();
        /// Each request's locator, status, URL and body.
        type Seen<'a> = (&'a str, Option<u16>, Option<&'a str>, Option<&'a Body>);
        let seen: Vec<Seen<'_>> = r
            .iter()
            .map(|i| {
                let c = &i.capture;
                (
                    i.locator.as_str(),
                    c.status(),
                    c.request.as_ref().and_then(|q| q.url.as_deref()),
                    c.response.as_ref().and_then(|p| p.body.as_ref()),
                )
            })
            .collect();
        let text = |t: &str| Body::Text(t.into());
        let json = Body::Json(serde_json::json!({"error": {"message": "no request id"}}));
        assert_eq!(
            seen,
            [
                (
                    "line 1",
                    Some(503),
                    Some("/v1/b"),
                    Some(&text("b failed again"))
                ),
                ("line 2", Some(429), Some("/v1/a"), Some(&text("a failed"))),
                ("line 3", Some(500), Some("/v1/c"), None),
                ("line 4", None, None, Some(&json)),
            ]
        );
    }

    #[test]
    fn prose_is_not_a_log() {
        assert!(!looks_like("my request failed\nwith 429\n"));
    }
}
