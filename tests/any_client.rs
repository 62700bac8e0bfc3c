//! Evidence from text rulecheck has no reader for: what any client prints, read by
//! the phrasings a family of clients shares. Every text here is written by hand, varied
//! in spacing, wrapping, colour and line ends; no fixture holds it.

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

mod common;

use common::{rulecheck, scratch, stderr};

/// The JSON reports of `text` as a file, which must be read.
fn eval_json(name: &str, text: &str) -> Vec<serde_json::Value> {
    let file = scratch("any-client").join(name);
    std::fs::write(&file, text).unwrap();
    let o = rulecheck(&[
        "eval",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--no-project",
    ]);
    assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["reports"].as_array().unwrap().clone()
}

/// The first report of `text`: (format, status, url, finding ids).
fn diagnose(name: &str, text: &str) -> (String, Option<u64>, Option<String>, Vec<String>) {
    let r = &eval_json(name, text)[0];
    (
        r["format"].as_str().unwrap().to_owned(),
        r["status"].as_u64(),
        r["url"].as_str().map(str::to_owned),
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect(),
    )
}

#[test]
fn requests_http_error_gives_the_status_and_the_address_checks() {
    let text = "Traceback (most recent call last):\n  File \"/srv/app/call.py\", line 9, in <module>\n    resp.raise_for_status()\n  File \"/usr/lib/python3.12/site-packages/requests/models.py\", line 1024, in raise_for_status\n    raise HTTPError(http_error_msg, response=self)\nrequests.exceptions.HTTPError: 404 Client Error: Not Found for url: https://api.moleapi.com/chat/completions\n";
    let (_, status, url, ids) = diagnose("requests.txt", text);
    assert_eq!(status, Some(404));
    assert_eq!(
        url.as_deref(),
        Some("https://api.moleapi.com/chat/completions")
    );
    assert_eq!(ids[0], "address.missing-v1", "{ids:?}");
    assert!(ids.contains(&"status.404".to_owned()));
    // What the evidence reader filled in under the SDK reader says where it was read.
    let report = &eval_json("requests.txt", text)[0];
    assert_eq!(report["read_from"][0]["evidence"], "status");
    assert_eq!(report["read_from"][0]["line"], 6);
}

#[test]
fn a_users_own_print_of_status_and_body_is_read() {
    let text = "calling gateway...\r\nrequest failed: 403 {\"error\":{\"code\":\"\",\"message\":\"该令牌无权访问模型 gpt-4o (request id: 20261201093015123456789AbCdEfGh)\",\"type\":\"new_api_error\"}}\r\n";
    let (format, status, _, ids) = diagnose("print.txt", text);
    assert_eq!((format.as_str(), status), ("text", Some(403)));
    assert_eq!(ids[0], "permission.model", "{ids:?}");
    // The report says where each piece of evidence was read.
    let report = &eval_json("print.txt", text)[0];
    let read_from: Vec<(&str, u64)> = report["read_from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["evidence"].as_str().unwrap(), r["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(read_from, [("status", 2), ("error body", 2)]);
}

#[test]
fn any_exception_class_is_read_whatever_its_name_ends_with() {
    // Coloured, as a terminal shows it, with a class that is not `…Error`.
    let text = "Traceback (most recent call last):\n  File \"main.py\", line 3, in <module>\n\x1b[31mgatewaykit.client.Refused\x1b[0m: Error code: 401 - {'error': {'message': 'Invalid token (request id: 2026120109301512345678900AbCdEf)', 'type': 'new_api_error', 'code': ''}}\n";
    let (_, status, _, ids) = diagnose("custom-class.txt", text);
    assert_eq!(status, Some(401));
    assert!(ids.iter().any(|id| id.starts_with("key.")), "{ids:?}");
}

#[test]
fn the_gateways_path_echo_is_address_evidence_in_a_bare_response() {
    let text = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{\"error\":{\"message\":\"Invalid URL (POST /chat/completions)\",\"type\":\"invalid_request_error\",\"param\":\"\",\"code\":\"\"}}\r\n";
    let (format, status, url, ids) = diagnose("bare-echo.txt", text);
    assert_eq!((format.as_str(), status), ("http", Some(404)));
    assert_eq!(url.as_deref(), Some("/chat/completions"));
    assert_eq!(ids[0], "address.missing-v1", "{ids:?}");
}

#[test]
fn a_node_style_dump_with_json_held_as_text_is_read() {
    let text = "file:///app/index.mjs:12\n  throw err;\n  ^\n\nAPICallFailure [Error]: Forbidden\n    at postToApi (file:///app/node_modules/@acme/llm/dist/index.mjs:1:2)\n    at async main (file:///app/index.mjs:9:5) {\n  url: 'https://api.moleapi.com/v1/chat/completions',\n  statusCode: 403,\n  responseBody: '{\"error\":{\"message\":\"该令牌无权访问模型 gpt-4o\",\"type\":\"new_api_error\"}}',\n  isRetryable: false\n}\n\nNode.js v22.11.0\n";
    let (_, status, url, ids) = diagnose("node-dump.txt", text);
    assert_eq!(status, Some(403));
    assert_eq!(
        url.as_deref(),
        Some("https://api.moleapi.com/v1/chat/completions")
    );
    assert_eq!(ids[0], "permission.model", "{ids:?}");
}

#[test]
fn unrecognised_only_when_the_text_holds_no_evidence() {
    let file = scratch("any-client").join("nothing.txt");
    std::fs::write(&file, "my call failed, please help!\nit worked yesterday\n").unwrap();
    let o = rulecheck(&["eval", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unrecognised input"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("any text holding evidence"),
        "{}",
        stderr(&o)
    );
}

/// Every report of a text: (locator, url, status, attempts).
fn reports(name: &str, text: &str) -> Vec<(String, Option<String>, Option<u64>, u64)> {
    eval_json(name, text)
        .iter()
        .map(|r| {
            (
                r["locator"].as_str().unwrap_or("").to_owned(),
                r["url"].as_str().map(str::to_owned),
                r["status"].as_u64(),
                r["attempts"].as_u64().unwrap_or(1),
            )
        })
        .collect()
}

#[test]
fn two_transcripts_in_one_file_are_two_reports_never_a_merge() {
    let a = std::fs::read_to_string(common::fixture("inputs/http/curl-v-missing-v1.txt")).unwrap();
    let b =
        std::fs::read_to_string(common::fixture("inputs/http/curl-i-endpoint-twice.txt")).unwrap();
    let got = reports("two-transcripts.txt", &format!("{a}{b}"));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].1.as_deref().unwrap().ends_with("/chat/completions"));
    assert_eq!(got[0].2, Some(200));
    assert!(
        got[1]
            .1
            .as_deref()
            .unwrap()
            .ends_with("/v1/chat/completions/chat/completions")
    );
    assert_eq!(got[1].2, Some(404));
    let a = std::fs::read_to_string(common::fixture("inputs/sdk/python-1x-endpoint-twice.txt"))
        .unwrap();
    let b = std::fs::read_to_string(common::fixture("inputs/sdk/python-1x-key-unknown-n1.txt"))
        .unwrap();
    let got = reports("two-tracebacks.txt", &format!("{a}\n{b}"));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].2, got[1].2), (Some(404), Some(401)));
}

#[test]
fn retries_of_one_call_are_one_report_with_their_count() {
    let attempt = "*   Trying 127.0.0.1:3005...\r\n> POST /v1/chat/completions HTTP/1.1\r\n> Host: 127.0.0.1:3005\r\n>\r\n< HTTP/1.1 429 Too Many Requests\r\n<\r\n";
    let got = reports("retries.txt", &attempt.repeat(3));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].2, got[0].3), (Some(429), 3));
}
