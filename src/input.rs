//! Input: bytes the user gave us → captures. Detects the format and reads it.
//!
//! Formats read today: a native JSON capture (`schemas/capture.schema.json`), a JSON
//! array of captures, and JSON Lines of captures. Whatever cannot be read is an error
//! that says which formats were tried and where reading stopped; nothing is guessed.

use crate::capture::Capture;

/// Largest input accepted by default (bytes).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// The formats the detector tries, in order.
pub const FORMATS: &[&str] = &[
    "capture (JSON object)",
    "capture list (JSON array)",
    "JSON Lines of captures",
];

/// One capture read from an input, with where it was found.
#[derive(Clone, Debug)]
pub struct InputCapture {
    pub capture: Capture,
    /// The detected format: `capture`, `capture-list` or `jsonl`.
    pub format: &'static str,
    /// Where in the input: `""` for a single capture, `[2]` or `line 3`.
    pub locator: String,
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the input is {size} bytes; the limit is {limit} (raise it with --max-input-bytes)")]
    TooLarge { size: usize, limit: usize },
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
    #[error("unrecognised input: tried {}. {detail}", FORMATS.join(", "))]
    Unrecognised { detail: String },
}

/// Reads all captures from an input.
pub fn read(bytes: &[u8], max_bytes: usize) -> Result<Vec<InputCapture>, InputError> {
    if bytes.len() > max_bytes {
        return Err(InputError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::NotText {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(InputError::Empty);
    }
    if trimmed.starts_with('[') {
        let list: Vec<serde_json::Value> = serde_json::from_str(text).map_err(json_error)?;
        return list
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                capture_from(v)
                    .map(|capture| InputCapture {
                        capture,
                        format: "capture-list",
                        locator: format!("[{i}]"),
                    })
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
    let rest_is_empty = text[stream.byte_offset()..].trim().is_empty();
    if rest_is_empty {
        let capture = capture_from(first).map_err(|message| InputError::Invalid {
            line: 1,
            column: 1,
            message,
        })?;
        return Ok(vec![InputCapture {
            capture,
            format: "capture",
            locator: String::new(),
        }]);
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
        out.push(InputCapture {
            capture,
            format: "jsonl",
            locator: format!("line {}", i + 1),
        });
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

fn capture_from(value: serde_json::Value) -> Result<Capture, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = read(b"HTTP/1.1 404 Not Found\r\n", 1 << 20).unwrap_err();
        assert!(
            err.to_string().contains("tried capture (JSON object)"),
            "{err}"
        );
        let err = read(b"{\"response\": {\"status\": 404}", 1 << 20).unwrap_err();
        assert!(matches!(err, InputError::Invalid { line: 1, .. }), "{err}");
        let err = read(b"{\"response\": {\"status\": 404}}\n{oops}\n", 1 << 20).unwrap_err();
        assert!(matches!(err, InputError::Invalid { line: 2, .. }), "{err}");
        let err = read(b"{\"status\": 404}", 1 << 20).unwrap_err();
        assert!(err.to_string().contains("not a capture"), "{err}");
    }
}
