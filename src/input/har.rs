//! HAR 1.2, as browsers (devtools), mitmproxy (`hardump`), Charles and Proxyman save it.
//!
//! Real HAR files stray from the spec (missing arrays, vendor `_fields`, base64 bodies),
//! so only the fields rulecheck reads are modelled, each with a tolerant default.
//! A HAR holds a whole page's traffic: by default only API calls that failed or look
//! wrong (non-2xx, or a 2xx HTML page where JSON was expected) are reported; identical
//! attempts (SDK retries) are grouped into one report with their count.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use serde::Deserialize;

use super::{InputCapture, InputError};
use crate::capture::{Body, Capture, Headers, Request, Response};

/// Reads one field of a JSON object with `seed` and skips the others, so
/// `log.entries` is reached without building the rest of the file. A missing field is
/// an error when `required`, else the seed's empty value; a repeated field, the last.
#[derive(Clone, Copy)]
struct FieldSeed<S> {
    name: &'static str,
    required: bool,
    seed: S,
}

/// Deserializes `entries`, refusing entry `max + 1`: a HAR over `har-entries` is
/// refused before the rest is built.
#[derive(Clone, Copy)]
struct EntriesSeed {
    max: usize,
}

/// The start of the message that refuses a HAR over the limit.
const TOO_MANY: &str = "the HAR file has more than";

/// The seed for a whole HAR file holding at most `max` entries.
fn har_seed(max: usize) -> FieldSeed<FieldSeed<EntriesSeed>> {
    FieldSeed {
        name: "log",
        required: true,
        seed: FieldSeed {
            name: "entries",
            required: false,
            seed: EntriesSeed { max },
        },
    }
}

impl<'de, S> serde::de::DeserializeSeed<'de> for FieldSeed<S>
where
    S: serde::de::DeserializeSeed<'de> + Copy,
    S::Value: Default,
{
    type Value = S::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S> serde::de::Visitor<'de> for FieldSeed<S>
where
    S: serde::de::DeserializeSeed<'de> + Copy,
    S::Value: Default,
{
    type Value = S::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an object with `{}`", self.name)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<S::Value, A::Error> {
        let mut value = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.name {
                value = Some(map.next_value_seed(self.seed)?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        match value {
            Some(v) => Ok(v),
            None if self.required => Err(serde::de::Error::missing_field(self.name)),
            None => Ok(S::Value::default()),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for EntriesSeed {
    type Value = Vec<Entry>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Entry>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for EntriesSeed {
    type Value = Vec<Entry>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of entries")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Entry>, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = seq.next_element::<Entry>()? {
            if entries.len() == self.max {
                return Err(serde::de::Error::custom(format!(
                    "{TOO_MANY} {} entries; the limit is {} (export only the failing calls, convert it to JSON Lines, or raise it with --limit har-entries=N)",
                    self.max, self.max
                )));
            }
            entries.push(entry);
        }
        Ok(entries)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    started_date_time: Option<String>,
    request: HarRequest,
    #[serde(default)]
    response: Option<HarResponse>,
    /// Chrome records network failures (`net::ERR_NAME_NOT_RESOLVED`) here.
    #[serde(default, rename = "_error")]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarRequest {
    #[serde(default)]
    method: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    post_data: Option<PostData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarResponse {
    #[serde(default)]
    status: i64,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default, rename = "_error")]
    error: Option<String>,
}

#[derive(Deserialize)]
struct NameValue {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct PostData {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// Whether a JSON text is a HAR (`{"log": {"entries": …}}`).
pub fn looks_like(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(4096)
        .filter(|c| !c.is_whitespace())
        .collect();
    head.starts_with("{\"log\":") && (text.contains("\"entries\"") || text.contains("\"creator\""))
}

/// Reads the entries worth reporting.
pub fn read(
    text: &str,
    all_entries: bool,
    max_entries: usize,
) -> Result<Vec<InputCapture>, InputError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = serde::de::DeserializeSeed::deserialize(har_seed(max_entries), &mut de)
        .and_then(|entries| de.end().map(|()| entries))
        .map_err(|e| {
            let message = e.to_string();
            InputError::Invalid {
                line: e.line(),
                column: e.column(),
                // serde_json appends the position; the error shows it already.
                message: if message.starts_with(TOO_MANY) {
                    match message.rsplit_once(" at line ") {
                        Some((text, _)) => text.to_owned(),
                        None => message,
                    }
                } else {
                    format!("not a valid HAR file: {message}")
                },
            }
        })?;
    let total = entries.len();
    let entries: Vec<(usize, Capture)> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| (i, to_capture(e)))
        .collect();
    let api: Vec<&(usize, Capture)> = entries.iter().filter(|(_, c)| is_api_call(c)).collect();
    let chosen: Vec<&(usize, Capture)> = if all_entries {
        entries.iter().collect()
    } else {
        let failed: Vec<_> = api
            .iter()
            .copied()
            .filter(|(_, c)| looks_wrong(c))
            .collect();
        // No failing call: show the API calls there were (they will read as `ok`).
        if failed.is_empty() {
            api.clone()
        } else {
            failed
        }
    };
    if chosen.is_empty() {
        // Nothing was sent (or nothing the API): that is itself the finding.
        let mut capture = Capture::default();
        capture.meta.insert("input".into(), "har".into());
        capture.meta.insert("har_entries".into(), total.into());
        capture
            .meta
            .insert("har_api_entries".into(), api.len().into());
        return Ok(vec![InputCapture::new(capture, "har", "")]);
    }
    // Group identical attempts (same request, same outcome): SDKs retry 429 and 5xx.
    // An entry is compared only with the groups whose key it shares, so grouping stays
    // linear in the entries (a HAR may hold 200,000); `out` keeps first-seen order.
    let mut out: Vec<InputCapture> = Vec::new();
    let state = RandomState::new();
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, capture) in chosen {
        let candidates = groups.entry(attempt_key(&state, capture)).or_default();
        let hit = candidates.iter().copied().find(|&j| {
            out.get(j)
                .is_some_and(|p| same_attempt(&p.capture, capture))
        });
        if let Some(previous) = hit.and_then(|j| out.get_mut(j)) {
            previous.attempts += 1;
            continue;
        }
        candidates.push(out.len());
        out.push(InputCapture::new(
            capture.clone(),
            "har",
            format!("entry {}", i + 1),
        ));
    }
    Ok(out)
}

fn to_capture(e: Entry) -> Capture {
    let headers = |list: Vec<NameValue>| {
        list.into_iter()
            // HTTP/2 pseudo-headers (`:authority`) are not headers a rule means.
            .filter(|h| !h.name.starts_with(':'))
            .map(|h| (h.name, h.value))
            .collect::<Headers>()
    };
    let request = Request {
        method: Some(e.request.method).filter(|m| !m.is_empty()),
        url: Some(e.request.url).filter(|u| !u.is_empty()),
        headers: headers(e.request.headers),
        body: e
            .request
            .post_data
            .and_then(|p| p.text)
            .filter(|t| !t.is_empty())
            .map(Body::Text),
    };
    let mut client_error = e.error.filter(|s| !s.is_empty());
    let response = match e.response {
        // Status 0: no response arrived (a network error, a blocked request).
        Some(r) if r.status > 0 => Some(Response {
            status: u16::try_from(r.status).ok(),
            headers: headers(r.headers),
            body: r
                .content
                .and_then(content_text)
                .filter(|t| !t.is_empty())
                .map(Body::Text),
        }),
        Some(r) => {
            client_error = client_error.or(r.error.filter(|s| !s.is_empty()));
            None
        }
        None => None,
    };
    let mut capture = Capture {
        request: Some(request),
        response,
        client_error,
        ..Default::default()
    };
    if let Some(t) = e.started_date_time {
        capture.meta.insert("time".into(), t.into());
    }
    capture
}

fn content_text(c: Content) -> Option<String> {
    let text = c.text?;
    if c.encoding.as_deref() == Some("base64") {
        let bytes = data_encoding::BASE64.decode(text.trim().as_bytes()).ok()?;
        return String::from_utf8(bytes).ok();
    }
    Some(text)
}

/// A call to an API (not the page's scripts and images): it carries a key, or JSON,
/// or goes to an API-looking path.
fn is_api_call(c: &Capture) -> bool {
    let Some(req) = &c.request else { return false };
    let h = &req.headers;
    let json_body = req.body.is_some()
        || h.get("content-type").is_some_and(|v| v.contains("json"))
        || h.get("accept")
            .is_some_and(|v| v.contains("application/json"));
    let keyed = ["authorization", "x-api-key", "api-key"]
        .iter()
        .any(|n| h.get(n).is_some());
    let path_like = req.url.as_deref().is_some_and(|u| {
        [
            "/v1/",
            "/v1beta/",
            "/chat/completions",
            "/completions",
            "/embeddings",
            "/models",
            "/responses",
            "/messages",
        ]
        .iter()
        .any(|p| u.contains(p))
    });
    keyed || path_like || (json_body && req.method.as_deref() != Some("GET"))
}

/// Failed, or a success that is an HTML page where the API answers JSON.
fn looks_wrong(c: &Capture) -> bool {
    let Some(resp) = &c.response else { return true };
    let status = resp.status.unwrap_or(0);
    if !(200..300).contains(&status) {
        return true;
    }
    let html_type = resp
        .headers
        .get("content-type")
        .is_some_and(|v| v.contains("text/html"));
    let html_body = matches!(&resp.body, Some(Body::Text(t)) if t.trim_start().get(..15).is_some_and(|s| s.to_ascii_lowercase().starts_with("<!doctype html") || s.to_ascii_lowercase().starts_with("<html")));
    html_type || html_body
}

fn same_attempt(a: &Capture, b: &Capture) -> bool {
    fn req(c: &Capture) -> Option<(&Option<String>, &Option<String>, &Option<Body>)> {
        c.request.as_ref().map(|r| (&r.method, &r.url, &r.body))
    }
    req(a) == req(b) && a.status() == b.status() && a.client_error == b.client_error
}

/// A hash of what [`same_attempt`] compares, so that attempts it calls the same always
/// share a key, and attempts that differ (most often in their request body: the same
/// endpoint called with other prompts) seldom do. Keyed per read (`RandomState`), so a
/// crafted HAR cannot aim its entries at one key.
fn attempt_key(state: &RandomState, c: &Capture) -> u64 {
    let mut h = state.build_hasher();
    match &c.request {
        None => 0u8.hash(&mut h),
        Some(r) => {
            (1u8, &r.method, &r.url).hash(&mut h);
            match &r.body {
                None => 0u8.hash(&mut h),
                Some(Body::Text(t)) => (1u8, t).hash(&mut h),
                // JSON bodies compare by value (key order and spacing aside).
                Some(body) => match body.to_json() {
                    Some(v) => {
                        2u8.hash(&mut h);
                        hash_json(&v, &mut h);
                    }
                    None => 3u8.hash(&mut h),
                },
            }
        }
    }
    (c.status(), &c.client_error).hash(&mut h);
    h.finish()
}

/// Hashes a JSON value so that values `==` calls equal hash alike: an object's members
/// in key order, whatever order they were read in. Depth is bounded by the reader's.
fn hash_json(v: &serde_json::Value, h: &mut impl Hasher) {
    use serde_json::Value;
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            items.iter().for_each(|v| hash_json(v, h));
        }
        Value::Object(members) => {
            (5u8, members.len()).hash(h);
            let mut sorted: Vec<_> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (k, v) in sorted {
                k.hash(h);
                hash_json(v, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_ENTRIES: usize = 200_000;

    fn entry(url: &str, status: i64, retry: u8) -> serde_json::Value {
        serde_json::json!({
            "startedDateTime": "2026-08-19T09:33:13.000Z",
            "request": {"method": "POST", "url": url, "headers": [
                {"name": "Authorization", "value": "Bearer sk-x"},
                {"name": "x-stainless-retry-count", "value": retry.to_string()}],
                "postData": {"mimeType": "application/json", "text": "{\"model\":\"m\"}"}},
            "response": {"status": status, "headers": [], "content": {"mimeType": "application/json", "text": "e30=", "encoding": "base64"}}
        })
    }

    #[test]
    fn retries_are_grouped_and_successes_left_out() {
        let har = serde_json::json!({"log": {"version": "1.2", "entries": [
            entry("https://h/v1/chat/completions", 500, 0),
            {"request": {"method": "GET", "url": "https://h/logo.png"}, "response": {"status": 200}},
            entry("https://h/v1/chat/completions", 500, 1),
            entry("https://h/v1/chat/completions", 500, 2),
            entry("https://h/v1/models", 200, 0),
        ]}})
        .to_string();
        assert!(looks_like(&har));
        let r = read(&har, false, MAX_ENTRIES).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].attempts, r[0].locator.as_str()), (3, "entry 1"));
        assert_eq!(
            r[0].capture.response.as_ref().unwrap().body,
            Some(Body::Text("{}".into()))
        );
        let all = read(&har, true, MAX_ENTRIES).unwrap();
        assert_eq!(all.len(), 3, "500 ×3 grouped, the image, the models call");
    }

    /// Interleaved retries of three calls, and a fourth call that differs from one of
    /// them only in its outcome: each entry joins the first identical attempt, and the
    /// groups keep the order of their first entry.
    #[test]
    fn interleaved_retries_are_grouped_in_first_seen_order() {
        let (a, b, c) = (
            "https://h/v1/chat/completions",
            "https://h/v1/embeddings",
            "https://h/v1/responses",
        );
        let har = serde_json::json!({"log": {"entries": [
            entry(a, 500, 0),
            entry(b, 429, 0),
            entry(a, 500, 1),
            entry(c, 502, 0),
            entry(b, 429, 1),
            entry(a, 503, 2),
            entry(a, 500, 3),
            entry(b, 429, 2),
        ]}})
        .to_string();
        let r = read(&har, false, MAX_ENTRIES).unwrap();
        let seen: Vec<(&str, usize, Option<u16>)> = r
            .iter()
            .map(|i| (i.locator.as_str(), i.attempts, i.capture.status()))
            .collect();
        assert_eq!(
            seen,
            [
                ("entry 1", 3, Some(500)),
                ("entry 2", 3, Some(429)),
                ("entry 4", 1, Some(502)),
                ("entry 6", 1, Some(503)),
            ]
        );
    }

    /// The key never splits what `same_attempt` groups: a JSON body compares by value,
    /// whatever its key order or spacing.
    #[test]
    fn attempts_with_equal_json_bodies_share_a_key() {
        let with_body = |body: Body| Capture {
            request: Some(Request {
                method: Some("POST".into()),
                url: Some("https://h/v1/chat/completions".into()),
                headers: Headers::default(),
                body: Some(body),
            }),
            ..Default::default()
        };
        let raw = serde_json::value::RawValue::from_string(r#"{ "b": 2, "a": 1 }"#.into());
        let (x, y) = (
            with_body(Body::Raw(raw.unwrap())),
            with_body(Body::Json(serde_json::json!({"a": 1, "b": 2}))),
        );
        assert!(same_attempt(&x, &y));
        let state = RandomState::new();
        assert_eq!(attempt_key(&state, &x), attempt_key(&state, &y));
        // Other prompts to the same endpoint: other keys, or grouping a HAR of one
        // endpoint's calls would compare each with all before it.
        let z = with_body(Body::Json(serde_json::json!({"a": 1, "b": 3})));
        assert!(!same_attempt(&x, &z));
        assert_ne!(attempt_key(&state, &x), attempt_key(&state, &z));
    }

    #[test]
    fn an_empty_har_is_reported_not_refused() {
        let r = read(
            r#"{"log": {"version": "1.2", "creator": {"name": "x"}, "entries": []}}"#,
            false,
            MAX_ENTRIES,
        )
        .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].capture.meta["har_entries"], 0);
    }

    #[test]
    fn network_errors_become_client_errors() {
        let har = serde_json::json!({"log": {"entries": [{
            "request": {"method": "POST", "url": "https://api.molapi.com/v1/chat/completions", "headers": []},
            "response": {"status": 0, "headers": [], "content": {}, "_error": "net::ERR_NAME_NOT_RESOLVED"}
        }]}})
        .to_string();
        let r = read(&har, false, MAX_ENTRIES).unwrap();
        assert_eq!(
            r[0].capture.client_error.as_deref(),
            Some("net::ERR_NAME_NOT_RESOLVED")
        );
        assert!(r[0].capture.response.is_none());
    }

    /// Over the limit, reading stops at the first entry too many: the rest of the file
    /// (here, not even valid JSON) is never read.
    #[test]
    fn a_har_over_the_entry_limit_is_refused_at_the_entry_too_many() {
        let entry = r#"{"request": {"method": "GET", "url": "https://h/v1/models"}}"#;
        let har = format!(r#"{{"log": {{"entries": [{entry}, {entry}, {entry}, not json"#);
        let err = read(&har, false, 2).unwrap_err();
        let InputError::Invalid {
            line: 1,
            column,
            message,
        } = &err
        else {
            panic!("{err}")
        };
        assert!(
            message.starts_with("the HAR file has more than 2 entries; the limit is 2"),
            "{message}"
        );
        assert!(*column <= har.find("not json").unwrap(), "{err}");
        assert_eq!(
            read(&har.replace(", not json", "]}}"), false, 3)
                .unwrap()
                .len(),
            1,
            "within the limit: read, the three identical attempts one report"
        );
    }

    #[test]
    fn a_truncated_har_is_an_error_with_a_position() {
        let err = read(r#"{"log": {"entries": [{"request": "#, false, MAX_ENTRIES).unwrap_err();
        assert!(matches!(err, InputError::Invalid { line: 1, .. }), "{err}");
    }
}
