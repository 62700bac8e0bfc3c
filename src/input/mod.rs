//! Input: whatever the user has → captures. Detects the format and reads it.
//!
//! | format | what | module |
//! |---|---|---|
//! | `capture` | a native JSON capture (`schemas/capture.schema.json`) | here |
//! | `capture-list` | a JSON array of captures | here |
//! | `jsonl` | JSON Lines of captures | here |
//! | `har` | HAR 1.2 from browsers, mitmproxy, Charles, Proxyman | [`har`] |
//! | `http` | `curl -i`/`curl -v` output, HTTPie `http -v`, a bare response, a curl command line | [`http`] |
//! | `sdk` | an SDK's exception text: openai-python, openai-node, httpx/requests | [`sdk`] |
//! | `log` | new-api / one-api log lines (`[GIN]`, `[ERR]`) | [`log`] |
//! | `text` | any other text: the evidence it holds (a status, a URL, an error body) | [`evidence`] |
//!
//! The evidence reader is also the floor under the SDK and HTTP readers: what they
//! did not find in their format, it fills in from the same text.
//!
//! Each reader fills only what its format holds; everything else stays absent, and
//! [`lacks`] says what was missing so the report can tell the user.

pub mod calls;
pub mod evidence;
pub mod har;
pub mod http;
pub mod log;
pub mod sdk;

use crate::capture::Capture;
use crate::limits::Limits;

/// An input format, as named by `--input`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Capture,
    Jsonl,
    Har,
    Http,
    Sdk,
    Log,
    Text,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 7] = [
        Format::Har,
        Format::Capture,
        Format::Jsonl,
        Format::Log,
        Format::Http,
        Format::Sdk,
        Format::Text,
    ];

    /// The format `--input` names `name`, if any.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Capture => "capture",
            Format::Jsonl => "jsonl",
            Format::Har => "har",
            Format::Http => "http",
            Format::Sdk => "sdk",
            Format::Log => "log",
            Format::Text => "text",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Format::Capture => "capture (JSON object or array)",
            Format::Jsonl => "JSON Lines of captures",
            Format::Har => "HAR",
            Format::Http => "raw HTTP (curl -i/-v, HTTPie)",
            Format::Sdk => "SDK error text (openai-python, openai-node)",
            Format::Log => "new-api log lines",
            Format::Text => "any text holding evidence of a call (a status, a URL, an error body)",
        }
    }
}

/// How to read an input.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// Read as this format instead of detecting it.
    pub format: Option<Format>,
    /// HAR: report every entry, not only those that failed or look wrong.
    pub all_entries: bool,
    /// Input size, JSON depth, HAR entries, Python-literal depth.
    pub limits: Limits,
}

/// One capture read from an input, with where it was found.
#[derive(Clone, Debug)]
pub struct InputCapture {
    pub capture: Capture,
    /// The detected format: `capture`, `capture-list`, `jsonl`, `har`, `http`, `sdk`, `log`.
    pub format: &'static str,
    /// Where in the input: `""` for a single capture, `[2]`, `line 3`, `entry 4`.
    pub locator: String,
    /// How many identical attempts this capture stands for (SDKs retry 429 and 5xx).
    pub attempts: usize,
    /// Text read by its evidence: where each piece was found (`status`, line 6).
    pub read_from: Vec<(&'static str, usize)>,
}

impl InputCapture {
    pub fn new(capture: Capture, format: &'static str, locator: impl Into<String>) -> Self {
        InputCapture {
            capture,
            format,
            locator: locator.into(),
            attempts: 1,
            read_from: Vec::new(),
        }
    }
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// `size` is unknown when the input is a stream read only up to the limit.
    #[error(
        "the input is {}; the limit is {limit} bytes (raise it with --limit input-bytes=SIZE)",
        match size { Some(n) => format!("{n} bytes"), None => format!("over {limit} bytes") }
    )]
    TooLarge { size: Option<u64>, limit: usize },
    #[error(
        "the input nests JSON deeper than {limit} levels; no capture does (raise it with --limit json-depth=N, up to 128)"
    )]
    TooDeep { limit: usize },
    #[error("the input is not UTF-8 text (invalid byte at offset {offset}); is it a binary file?")]
    NotText { offset: usize },
    #[error("the input is empty")]
    Empty,
    #[error("line {line}, column {column}: {message}")]
    Invalid {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("unrecognised input: tried {}. {detail}", Format::ALL.iter().map(|f| f.describe()).collect::<Vec<_>>().join(", "))]
    Unrecognised { detail: String },
}

/// Reads all captures from an input, detecting its format, within the default limits.
pub fn read(bytes: &[u8]) -> Result<Vec<InputCapture>, InputError> {
    read_with(bytes, ReadOptions::default())
}

/// The input as text: UTF-8, or UTF-16 with its byte-order mark (what PowerShell's `>`
/// and Notepad's "Unicode" write), decoded.
fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, InputError> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|pair| {
                from([
                    pair.first().copied().unwrap_or(0),
                    pair.get(1).copied().unwrap_or(0),
                ])
            })
            .collect();
        // Binary data can start with the same two bytes: UTF-16 text has whole units,
        // decodes, and holds no NUL.
        match String::from_utf16(&units) {
            Ok(text) if rest.len().is_multiple_of(2) && !text.contains('\0') => {
                Ok(std::borrow::Cow::Owned(text))
            }
            _ => Err(InputError::NotText { offset: 0 }),
        }
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => std::str::from_utf8(bytes)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| InputError::NotText {
                offset: e.valid_up_to(),
            }),
    }
}

/// Reads all captures from an input.
pub fn read_with(bytes: &[u8], options: ReadOptions) -> Result<Vec<InputCapture>, InputError> {
    let limits = options.limits;
    if bytes.len() > limits.input_bytes {
        return Err(InputError::TooLarge {
            size: Some(bytes.len() as u64),
            limit: limits.input_bytes,
        });
    }
    let (text, binary_body) = match decode(bytes) {
        Ok(text) => (text, false),
        Err(e) => (binary_body_transcript(bytes).ok_or(e)?, true),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.trim().is_empty() {
        return Err(InputError::Empty);
    }
    let format = options
        .format
        .or_else(|| detect(text))
        .unwrap_or(Format::Text);
    if matches!(format, Format::Har | Format::Capture | Format::Jsonl)
        && crate::limits::json_too_deep(text, limits.json_depth)
    {
        return Err(InputError::TooDeep {
            limit: limits.json_depth,
        });
    }
    let mut captures = match format {
        Format::Http | Format::Sdk | Format::Text => read_calls(text, format, options),
        _ => read_format(text, format, options),
    }?;
    if binary_body {
        captures
            .iter_mut()
            .for_each(|c| drop_binary_bodies(&mut c.capture));
    }
    Ok(captures)
}

/// A transcript (curl -v, an HTTP exchange) whose body is not text — an audio upload,
/// a file download — read with the body's bytes replaced: the text before the first
/// byte that is not UTF-8 must already read as a transcript, so a binary file is
/// still called one.
fn binary_body_transcript(bytes: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let valid = std::str::from_utf8(bytes)
        .err()
        .map_or(bytes.len(), |e| e.valid_up_to());
    let before = std::str::from_utf8(bytes.get(..valid)?).ok()?;
    (detect(before) == Some(Format::Http)).then(|| String::from_utf8_lossy(bytes))
}

/// Leaves out the bodies that held bytes that are not text: the report then lists
/// them under `lacks` (what the capture does not say), not as text they were not.
fn drop_binary_bodies(c: &mut Capture) {
    let binary = |b: &Option<crate::capture::Body>| matches!(b, Some(crate::capture::Body::Text(t)) if t.contains('\u{fffd}'));
    if let Some(r) = c.request.as_mut().filter(|r| binary(&r.body)) {
        r.body = None;
    }
    if let Some(r) = c.response.as_mut().filter(|r| binary(&r.body)) {
        r.body = None;
    }
}

/// Text that may hold several calls: each is read on its own (see [`calls`]).
fn read_calls(
    text: &str,
    format: Format,
    options: ReadOptions,
) -> Result<Vec<InputCapture>, InputError> {
    let parts = calls::split(text);
    if parts.len() <= 1 {
        return read_format(text, format, options);
    }
    let mut out = Vec::new();
    let mut first_error = None;
    for (i, part) in parts.iter().enumerate() {
        let format = options
            .format
            .or_else(|| detect(part))
            .unwrap_or(Format::Text);
        match read_format(part, format, options) {
            Ok(captures) => out.extend(captures.into_iter().map(|mut c| {
                if c.locator.is_empty() {
                    c.locator = format!("call {}", i + 1);
                }
                c
            })),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if out.is_empty() => Err(e),
        _ => Ok(calls::group_attempts(out)),
    }
}

/// Reads a text in one format.
fn read_format(
    text: &str,
    format: Format,
    options: ReadOptions,
) -> Result<Vec<InputCapture>, InputError> {
    let limits = options.limits;
    match format {
        Format::Har => har::read(text, options.all_entries, limits.har_entries),
        Format::Capture => read_json(text),
        Format::Jsonl => read_json_lines(text),
        Format::Log => log::read(text),
        Format::Http => with_evidence(http::read(text), text, options),
        Format::Sdk => with_evidence(sdk::read(text, limits.literal_depth), text, options),
        Format::Text => read_text(text, limits.literal_depth),
    }
}

/// Which of the parts the evidence reader reports lines for a capture holds.
#[derive(Clone, Copy)]
struct Parts {
    status: bool,
    url: bool,
    body: bool,
}

impl Parts {
    fn of(c: &Capture) -> Parts {
        Parts {
            status: c.status().is_some(),
            url: c.request.as_ref().is_some_and(|r| r.url.is_some()),
            body: c.response.as_ref().is_some_and(|r| r.body.is_some()),
        }
    }

    /// What `self` holds and `before` did not.
    fn minus(self, before: Parts) -> Parts {
        Parts {
            status: self.status && !before.status,
            url: self.url && !before.url,
            body: self.body && !before.body,
        }
    }

    fn has(self, evidence: &str) -> bool {
        match evidence {
            "status" => self.status,
            "url" => self.url,
            "error body" => self.body,
            _ => false,
        }
    }
}

/// Any text, by the evidence it holds; unrecognised only when it holds none.
fn read_text(text: &str, literal_depth: usize) -> Result<Vec<InputCapture>, InputError> {
    let found = evidence::read(text, literal_depth);
    if found.is_empty() {
        return Err(InputError::Unrecognised {
            detail: "It holds no status, URL, error body or client error. Save the HTTP exchange (curl -v, a HAR file) or paste the whole error your client printed.".into(),
        });
    }
    let (attempts, lines) = (found.attempts, found.lines.clone());
    let mut read = InputCapture::new(found.into_capture(), "text", "");
    read.attempts = attempts.unwrap_or(1);
    read.read_from = lines;
    Ok(vec![read])
}

/// A format reader's single capture, with what the evidence reader finds in the same
/// text filled in where the reader found nothing; the evidence alone when the reader
/// could not read a text it was only guessed for (a format given with `--input` that
/// does not fit stays an error).
fn with_evidence(
    read: Result<Vec<InputCapture>, InputError>,
    text: &str,
    options: ReadOptions,
) -> Result<Vec<InputCapture>, InputError> {
    let literal_depth = options.limits.literal_depth;
    match read {
        Ok(mut captures) if captures.len() == 1 => {
            if let Some(c) = captures.first_mut() {
                let found = evidence::read(text, literal_depth);
                let had = Parts::of(&c.capture);
                found.fill(&mut c.capture);
                // Where what the evidence filled in was read.
                let filled = Parts::of(&c.capture).minus(had);
                c.read_from = found
                    .lines
                    .iter()
                    .filter(|(what, _)| filled.has(what))
                    .copied()
                    .collect();
                if c.attempts == 1 {
                    c.attempts = found.attempts.unwrap_or(1);
                }
            }
            Ok(captures)
        }
        Err(InputError::Unrecognised { .. }) if options.format.is_none() => {
            read_text(text, literal_depth)
        }
        other => other,
    }
}

/// Guesses the format from the text.
pub fn detect(text: &str) -> Option<Format> {
    let trimmed = text.trim_start();
    // Log lines start with `[GIN]`, which would otherwise look like a JSON array.
    if log::looks_like(text) {
        return Some(Format::Log);
    }
    // So do SDK debug logs: `[log_1a2b3c] sending request {`.
    if sdk::starts_with_client_log(text) {
        return Some(Format::Sdk);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if har::looks_like(trimmed) {
            return Some(Format::Har);
        }
        if looks_like_json_lines(text) {
            return Some(Format::Jsonl);
        }
        return Some(Format::Capture);
    }
    if http::looks_like(text) {
        return Some(Format::Http);
    }
    if sdk::looks_like(text) {
        return Some(Format::Sdk);
    }
    None
}

/// Whether `text` (the whole input, or its start: two lines are enough) is JSON Lines:
/// its first two non-blank lines each open an object. Pretty-printed JSON puts a
/// field, not an object, on its second line; a broken line still opens one.
pub fn looks_like_json_lines(text: &str) -> bool {
    let mut lines = text
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty())
        .take(2);
    lines.next().is_some_and(|l| l.starts_with('{'))
        && lines.next().is_some_and(|l| l.starts_with('{'))
        && !har::looks_like(text.trim_start())
}

/// A native capture, a list of them, or JSON Lines.
fn read_json(text: &str) -> Result<Vec<InputCapture>, InputError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let list: Vec<serde_json::Value> = serde_json::from_str(text).map_err(json_error)?;
        return list
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                capture_from(v)
                    .map(|capture| InputCapture::new(capture, "capture-list", format!("[{i}]")))
                    .map_err(|message| InputError::Invalid {
                        line: 0,
                        column: 0,
                        message: format!("item [{i}]: {message}"),
                    })
            })
            .collect();
    }
    if !trimmed.starts_with('{') {
        return Err(InputError::Unrecognised {
            detail: "The input does not start with `{` or `[`.".into(),
        });
    }
    // One JSON value, or JSON Lines when more than one value follows.
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
    let first = match stream.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(json_error(e)),
        None => return Err(InputError::Empty),
    };
    let rest_is_empty = text
        .get(stream.byte_offset()..)
        .is_none_or(|rest| rest.trim().is_empty());
    if rest_is_empty {
        let capture = capture_from(first).map_err(|message| InputError::Invalid {
            line: 1,
            column: 1,
            message,
        })?;
        return Ok(vec![InputCapture::new(capture, "capture", "")]);
    }
    read_json_lines(text)
}

fn read_json_lines(text: &str) -> Result<Vec<InputCapture>, InputError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| InputError::Invalid {
                line: i + 1,
                column: e.column(),
                message: format!("not a JSON value ({e}); in JSON Lines each capture is one line"),
            })?;
        let capture = capture_from(value).map_err(|message| InputError::Invalid {
            line: i + 1,
            column: 1,
            message,
        })?;
        out.push(InputCapture::new(
            capture,
            "jsonl",
            format!("line {}", i + 1),
        ));
    }
    Ok(out)
}

fn json_error(e: serde_json::Error) -> InputError {
    InputError::Invalid {
        line: e.line(),
        column: e.column(),
        message: format!("not valid JSON: {e}"),
    }
}

/// A native capture from a JSON value.
pub fn capture_from(value: serde_json::Value) -> Result<Capture, String> {
    if !value.is_object() {
        return Err("a capture must be a JSON object with `request` and/or `response`".into());
    }
    let has_part = ["request", "response", "client_error"]
        .iter()
        .any(|k| value.get(k).is_some());
    if !has_part {
        return Err(
            "this JSON object is not a capture: it has none of `request`, `response`, `client_error` \
             (see schemas/capture.schema.json)"
                .into(),
        );
    }
    serde_json::from_value(value)
        .map_err(|e| format!("not a valid capture: {e} (see schemas/capture.schema.json)"))
}

/// Parts of a capture that rules could use but this input did not hold. The report
/// says so, so users know when to give more (ids are stable; the report words them).
pub fn lacks(capture: &Capture) -> Vec<&'static str> {
    let mut out = Vec::new();
    let request = capture.request.as_ref();
    let response = capture.response.as_ref();
    if request.and_then(|r| r.url.as_ref()).is_none() {
        out.push("url");
    }
    if request.is_none_or(|r| r.headers.is_empty()) {
        out.push("request.headers");
    }
    if request.is_none_or(|r| r.body.is_none()) {
        out.push("request.body");
    }
    if response.is_none() {
        out.push("response");
    } else if response.is_some_and(|r| r.body.is_none()) {
        out.push("response.body");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads within a `max` bytes input limit.
    fn read(bytes: &[u8], max: usize) -> Result<Vec<InputCapture>, InputError> {
        let mut options = ReadOptions::default();
        options.limits.input_bytes = max;
        read_with(bytes, options)
    }

    #[test]
    fn single_list_and_lines_are_detected() {
        let one = br#"{"response": {"status": 404}}"#;
        let r = read(one, 1 << 20).unwrap();
        assert_eq!((r.len(), r[0].format), (1, "capture"));
        let list = br#"[{"response": {"status": 404}}, {"response": {"status": 401}}]"#;
        let r = read(list, 1 << 20).unwrap();
        assert_eq!(
            (r.len(), r[1].format, r[1].locator.as_str()),
            (2, "capture-list", "[1]")
        );
        let lines = b"{\"response\": {\"status\": 404}}\n\n{\"response\": {\"status\": 429}}\n";
        let r = read(lines, 1 << 20).unwrap();
        assert_eq!((r.len(), r[1].locator.as_str()), (2, "line 3"));
        assert_eq!(r[1].capture.status(), Some(429));
    }

    #[test]
    fn bad_inputs_say_what_and_where() {
        assert!(matches!(read(b"", 10), Err(InputError::Empty)));
        assert!(matches!(
            read(&[0xff, 0xfe, 0x00], 10),
            Err(InputError::NotText { .. })
        ));
        assert!(matches!(
            read(&[b' '; 20], 10),
            Err(InputError::TooLarge { .. })
        ));
        let err = read(b"my call failed, please help\n", 1 << 20).unwrap_err();
        assert!(err.to_string().contains("tried HAR, capture"), "{err}");
        let err = read(b"{\"response\": {\"status\": 404}", 1 << 20).unwrap_err();
        assert!(matches!(err, InputError::Invalid { line: 1, .. }), "{err}");
        let err = read(b"{\"response\": {\"status\": 404}}\n{oops}\n", 1 << 20).unwrap_err();
        assert!(matches!(err, InputError::Invalid { line: 2, .. }), "{err}");
        let err = read(b"{\"status\": 404}", 1 << 20).unwrap_err();
        assert!(err.to_string().contains("not a capture"), "{err}");
    }

    #[test]
    fn lacks_names_the_missing_parts() {
        let c: Capture = serde_json::from_str(r#"{"response": {"status": 404}}"#).unwrap();
        assert_eq!(
            lacks(&c),
            ["url", "request.headers", "request.body", "response.body"]
        );
        let c: Capture = serde_json::from_str(r#"{"client_error": "refused"}"#).unwrap();
        assert!(lacks(&c).contains(&"response"));
    }
}
