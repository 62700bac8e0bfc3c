//! The secrets oracle (issue 21): plants a key of some shape in some place of some
//! input format, in some encoding, runs the input through every output mode of `eval`
//! as the command does (`rulecheck::run::run` into the masking boundary), and says which
//! 12 characters of the key's secret part reached the output, if any.
//!
//! Every choice is read from a byte string, so the same planting serves the proptest in
//! `tests/secret_oracle.rs` (random byte strings, shrunk on failure) and the fuzz target
//! `fuzz/fuzz_targets/secrets.rs` (libFuzzer's). Bytes past the end read as zero.
//!
//! What counts as a secret rulecheck can know: a key shaped like one (a platform
//! prefix, a JWT), or any key the input labels as one (a credential header, a
//! `token=`/`api_key=`… parameter, URL userinfo). A prefix-less key is planted
//! unlabelled (echoed in a path, a model, a message) only in an input that also sends
//! it in a credential header: there the capture says it is a key. An unlabelled random
//! string nothing calls a key is not a secret rulecheck could recognise.

// Shared by a test crate and a fuzz target: each uses all of it, not every test crate.
#![allow(dead_code)]

use rulecheck::mask::MaskingWriter;
use rulecheck::rulebook::{Lang, RuleSet};
use rulecheck::run::{self, Input, Output, RunOptions};

/// Reads choices from bytes: the fuzzer's or proptest's.
pub struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
    /// For characters of keys: seeded from all the bytes, so keys are random even
    /// when the choices run out.
    state: u64,
}

impl<'a> Choices<'a> {
    pub fn new(bytes: &'a [u8]) -> Choices<'a> {
        // FNV-1a of the bytes, never zero (xorshift would stay at zero).
        let state = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }) | 1;
        Choices {
            bytes,
            at: 0,
            state,
        }
    }

    /// A choice among `n` (0 when the bytes ran out).
    pub fn pick(&mut self, n: usize) -> usize {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        usize::from(b) % n.max(1)
    }

    fn random(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    /// `len` characters of `alphabet`, at random.
    fn chars(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| {
                let i = (self.random() % alphabet.len() as u64) as usize;
                char::from(alphabet.get(i).copied().unwrap_or(b'x'))
            })
            .collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8] = b"0123456789abcdef";

/// A key, the part of it that must never show, and whether its shape alone says it
/// is a key.
pub struct Key {
    pub key: String,
    pub secret: String,
    pub self_evident: bool,
    pub shape: &'static str,
}

/// The shapes of keys users paste.
pub fn key(c: &mut Choices<'_>) -> Key {
    let (shape, key, secret_from, self_evident) = match c.pick(8) {
        0 => ("sk", format!("sk-{}", c.chars(ALNUM, 48)), 3, true),
        1 => (
            "sk-proj",
            format!("sk-proj-{}", c.chars(URL_SAFE, 64)),
            8,
            true,
        ),
        2 => (
            "sk-ant",
            format!("sk-ant-api03-{}", c.chars(URL_SAFE, 93)),
            13,
            true,
        ),
        3 => {
            // The header part of a JWT is public (`{"alg":"HS256","typ":"JWT"}`).
            let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.";
            let jwt = format!(
                "{header}eyJ{}.{}",
                c.chars(URL_SAFE, 40),
                c.chars(URL_SAFE, 43)
            );
            ("jwt", jwt, header.len(), true)
        }
        4 => ("AIza", format!("AIza{}", c.chars(URL_SAFE, 35)), 4, true),
        5 => ("gsk", format!("gsk_{}", c.chars(ALNUM, 52)), 4, true),
        6 => ("hex32", c.chars(HEX, 32), 0, false),
        _ => ("alnum40", c.chars(ALNUM, 40), 0, false),
    };
    let secret = key.get(secret_from..).unwrap_or_default().to_owned();
    Key {
        key,
        secret,
        self_evident,
        shape,
    }
}

/// How an echo of the key is written.
fn encode(c: &mut Choices<'_>, key: &str, text_format: bool) -> String {
    match c.pick(5) {
        // Every byte percent-encoded, as some clients log a query value.
        0 => key.bytes().map(|b| format!("%{b:02X}")).collect(),
        // Only what a URL must escape.
        1 => key
            .replace('-', "%2D")
            .replace('_', "%5F")
            .replace('.', "%2E"),
        // Wrapped across a line break (a terminal, a log viewer): only in text formats,
        // where a line break can stand inside a value.
        2 if text_format => {
            let at = 12 + c.pick(key.len().saturating_sub(24).max(1));
            let (head, tail) = key.split_at(at.min(key.len()));
            let indent = ["", "  ", "\t"][c.pick(3)];
            format!("{head}\n{indent}{tail}")
        }
        _ => key.to_owned(),
    }
}

/// A JSON string literal of `s`.
fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Where a labelled key sits: a credential header (name, value), or a URL.
enum Label {
    Header(&'static str, String),
    Query(String),
    Userinfo(String),
}

fn label(c: &mut Choices<'_>, key: &str) -> Label {
    match c.pick(8) {
        7 => Label::Header("Cookie", format!("theme=dark; session={key}")),
        0 | 1 => Label::Header("Authorization", format!("Bearer {key}")),
        2 => Label::Header("x-api-key", key.to_owned()),
        3 => Label::Header("api-key", key.to_owned()),
        4 => Label::Query(format!(
            "{}={key}",
            ["key", "api_key", "access_token", "token", "sig"][c.pick(5)]
        )),
        5 => Label::Userinfo(key.to_owned()),
        _ => Label::Header("x-goog-api-key", key.to_owned()),
    }
}

/// One planted input.
pub struct Planted {
    pub name: String,
    pub input: Vec<u8>,
    pub key: Key,
    /// What was planted where, for a failure's message.
    pub plan: String,
}

/// Plants a key: the choices pick its shape, the format, the labelled place, and up to
/// three echoes (place and encoding).
pub fn plant(bytes: &[u8]) -> Planted {
    let mut c = Choices::new(bytes);
    let key = key(&mut c);
    let k = key.key.clone();
    let labelled = label(&mut c, &k);
    let base = "https://api.moleapi.com";
    let path = ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"][c.pick(3)];
    let (url, header) = match &labelled {
        Label::Header(name, value) => (format!("{base}{path}"), Some((*name, value.clone()))),
        Label::Query(q) => (format!("{base}{path}?{q}"), None),
        Label::Userinfo(k) => (format!("https://user:{k}@api.moleapi.com{path}"), None),
    };
    let status = [400u16, 401, 403, 404, 429, 500, 502][c.pick(7)];
    let format = c.pick(6);
    let text_format = matches!(format, 3 | 5);
    // Echoes: only where the input says it is a key (a credential header of a valid
    // capture), unless its shape says so.
    let known = header.is_some() || key.self_evident;
    let echoes: Vec<(usize, String)> = (0..c.pick(4))
        .filter_map(|_| {
            let place = c.pick(6);
            let e = encode(&mut c, &k, text_format);
            known.then_some((place, e))
        })
        .collect();
    let echo = |place: usize| {
        echoes
            .iter()
            .find(|(p, _)| *p == place)
            .map(|(_, e)| e.clone())
    };
    let path_echo = echo(0).map(|e| format!("/{e}")).unwrap_or_default();
    let url = format!("{url}{path_echo}");
    let model = echo(1).unwrap_or_else(|| "gpt-4o-mini".into());
    let prompt = echo(2).unwrap_or_else(|| "hi".into());
    let message = match echo(3) {
        Some(e) => format!("Incorrect API key provided: {e}. (request id: 20261207101500123)"),
        None => "Invalid token (request id: 20261207101500123)".into(),
    };
    let response_header = echo(4);
    let client_error = echo(5).map(|e| format!("Illegal header value b'Bearer {e} '"));
    let req_headers: Vec<(String, String)> = header
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .chain([("Content-Type".to_owned(), "application/json".to_owned())])
        .collect();
    let body = format!(
        r#"{{"model":{},"messages":[{{"role":"user","content":{}}}]}}"#,
        json(&model),
        json(&prompt)
    );
    let error_body = format!(
        r#"{{"error":{{"message":{},"type":"new_api_error"}}}}"#,
        json(&message)
    );
    let (name, input) = match format {
        0 => {
            let headers: Vec<String> = req_headers
                .iter()
                .map(|(n, v)| format!("{}: {}", json(n), json(v)))
                .collect();
            let resp_headers = response_header
                .as_deref()
                .map(|e| format!(r#", "headers": {{"x-echo": {}}}"#, json(e)))
                .unwrap_or_default();
            let client = client_error
                .as_deref()
                .map(|e| format!(r#", "client_error": {}"#, json(e)))
                .unwrap_or_default();
            let text = format!(
                r#"{{"request": {{"method": "POST", "url": {}, "headers": {{{}}}, "body": {body}}}, "response": {{"status": {status}{resp_headers}, "body": {error_body}}}{client}}}"#,
                json(&url),
                headers.join(", ")
            );
            ("capture.json", text)
        }
        1 => {
            // A value of the wrong JSON type: the reader's error quotes it. Labelled,
            // so any shape of key is known.
            let (name, value) = match &labelled {
                Label::Header(n, v) => (*n, v.clone()),
                Label::Query(q) => ("url", q.clone()),
                Label::Userinfo(k) => ("url", format!("https://user:{k}@h/")),
            };
            let text = match c.pick(3) {
                0 => format!(
                    r#"{{"request": {{"headers": {}}}, "response": {{"status": {status}}}}}"#,
                    json(&format!("{name}: {value}"))
                ),
                1 => format!(
                    r#"{{"request": {{"url": "{base}{path}", "headers": {{{}: 7}}}}, "response": {{"status": {}}}}}"#,
                    json(&format!("{name}: {value}")),
                    json(&format!("{name}={value}"))
                ),
                _ => format!(
                    r#"{{"meta": {}, "response": {{"status": {status}}}}}"#,
                    json(&format!("{name}: {value}"))
                ),
            };
            ("wrong-type.json", text)
        }
        2 => {
            let headers: Vec<String> = req_headers
                .iter()
                .map(|(n, v)| format!(r#"{{"name": {}, "value": {}}}"#, json(n), json(v)))
                .collect();
            let resp_headers: Vec<String> = response_header
                .iter()
                .map(|e| format!(r#"{{"name": "x-echo", "value": {}}}"#, json(e)))
                .collect();
            let text = format!(
                r#"{{"log": {{"version": "1.2", "creator": {{"name": "oracle"}}, "entries": [{{"startedDateTime": "2026-12-07T10:15:00.000Z", "request": {{"method": "POST", "url": {}, "headers": [{}], "postData": {{"mimeType": "application/json", "text": {}}}}}, "response": {{"status": {status}, "headers": [{}], "content": {{"mimeType": "application/json", "text": {}}}}}}}]}}}}"#,
                json(&url),
                headers.join(", "),
                json(&body),
                resp_headers.join(", "),
                json(&error_body)
            );
            ("export.har", text)
        }
        3 => {
            // curl -v: request headers after `> `, response after `< `, then the body.
            let host_path = url.trim_start_matches("https://");
            let (host, rest) = host_path.split_once('/').unwrap_or((host_path, ""));
            let mut t = format!(
                "* Connected to {host} port 443\n> POST /{rest} HTTP/1.1\n> Host: {host}\n"
            );
            for (n, v) in &req_headers {
                t.push_str(&format!("> {n}: {v}\n"));
            }
            t.push_str(&format!("> \n{body}\n< HTTP/1.1 {status} Error\n"));
            if let Some(e) = &response_header {
                t.push_str(&format!("< x-echo: {e}\n"));
            }
            t.push_str(&format!(
                "< content-type: application/json\n< \n{error_body}\n"
            ));
            ("curl-v.txt", t)
        }
        4 => {
            // JSON Lines: a good line holding the key, and a broken one that quotes it.
            let headers: Vec<String> = req_headers
                .iter()
                .map(|(n, v)| format!("{}: {}", json(n), json(v)))
                .collect();
            let good = format!(
                r#"{{"request": {{"url": {}, "headers": {{{}}}, "body": {body}}}, "response": {{"status": {status}, "body": {error_body}}}}}"#,
                json(&url),
                headers.join(", ")
            );
            let broken = match &labelled {
                Label::Header(n, v) => format!(
                    r#"{{"request": {{"headers": {}}}}}"#,
                    json(&format!("{n}: {v}"))
                ),
                Label::Query(q) => format!(r#"{{"request": {{"url": "{base}{path}?{q}", "#),
                Label::Userinfo(k) => {
                    format!(r#"{{"request": {{"url": 5, "u": "https://u:{k}@h"}}"#)
                }
            };
            let text = if c.pick(2) == 0 {
                format!("{good}\n{broken}\n{good}\n")
            } else {
                format!("{broken}\n{good}\n")
            };
            ("calls.jsonl", text)
        }
        _ => {
            // An SDK's traceback: the key only where the SDK prints it.
            let printed = match &labelled {
                Label::Header(_, v) => format!("Illegal header value b'{v} '"),
                Label::Query(q) => format!("Request URL: {base}{path}?{q}"),
                Label::Userinfo(k) => {
                    format!("Request URL: https://user:{k}@api.moleapi.com{path}")
                }
            };
            let echo_line = echoes
                .first()
                .map(|(_, e)| format!("\nopenai.AuthenticationError: Error code: 401 - {{'error': {{'message': 'Incorrect API key provided: {e}.', 'type': 'invalid_request_error'}}}}"))
                .unwrap_or_default();
            let t = format!(
                "Traceback (most recent call last):\n  File \"app.py\", line 9, in <module>\n    client.chat.completions.create(model=\"gpt-4o-mini\", messages=[])\nhttpcore.LocalProtocolError: {printed}{echo_line}\n"
            );
            ("traceback.txt", t)
        }
    };
    let plan = format!(
        "shape {}, format {name}, status {status}, label {}, echoes {:?}",
        key.shape,
        match &labelled {
            Label::Header(n, _) => format!("header {n}"),
            Label::Query(q) => format!("query {}", q.split('=').next().unwrap_or("")),
            Label::Userinfo(_) => "userinfo".to_owned(),
        },
        echoes.iter().map(|(p, _)| *p).collect::<Vec<_>>()
    );
    Planted {
        name: name.to_owned(),
        input: input.into_bytes(),
        key,
        plan,
    }
}

/// Every output mode of `eval`: (what to call it, the output, a trace or not).
const MODES: &[(&str, Output, bool)] = &[
    ("text", Output::Text(Lang::En), false),
    ("text zh", Output::Text(Lang::Zh), false),
    ("json", Output::Json, false),
    ("jsonl", Output::Jsonl, false),
    ("json --trace", Output::Json, true),
    ("summary", Output::Summary { json: false }, false),
    ("summary json", Output::Summary { json: true }, false),
];

/// Runs `input` through every output mode, as `rulecheck eval` does: stdout and
/// stderr through the masking boundary. Returns each mode's name and all it printed.
pub fn outputs(set: &RuleSet, name: &str, input: &[u8]) -> Vec<(&'static str, String)> {
    MODES
        .iter()
        .map(|&(mode, output, trace)| {
            let lang = match output {
                Output::Text(lang) => lang,
                _ => Lang::En,
            };
            let options = RunOptions {
                output,
                read: Default::default(),
                eval: rulecheck::evaluate::EvalOptions {
                    lang,
                    ..Default::default()
                },
                threads: 1,
                trace,
                progress: false,
            };
            let inputs = [Input::Bytes {
                name: name.to_owned(),
                bytes: input.to_vec(),
            }];
            let mut out = MaskingWriter::new(Vec::new());
            let mut err = MaskingWriter::new(Vec::new()).with_line_limit(2_000);
            run::run(set, &inputs, &options, &mut out, &mut err);
            let printed = [out, err]
                .map(|mut w| {
                    let _ = std::io::Write::flush(&mut w);
                    String::from_utf8_lossy(w.get_mut()).into_owned()
                })
                .join("");
            (mode, printed)
        })
        .collect()
}

/// The first 12 characters of `secret` in a row that `output` shows, if any.
pub fn leak(output: &str, secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(12)
        .map(|w| w.iter().collect::<String>())
        .find(|w| output.contains(w.as_str()))
}

/// Plants a key as `bytes` say and runs every mode: a description of the first leak.
pub fn check(set: &RuleSet, bytes: &[u8]) -> Result<(), String> {
    let p = plant(bytes);
    for (mode, printed) in outputs(set, &p.name, &p.input) {
        if let Some(w) = leak(&printed, &p.key.secret) {
            let lines: Vec<&str> = printed.lines().filter(|l| l.contains(&w)).collect();
            return Err(format!(
                "{mode} shows `{w}` of the key {:?} ({})\n--- input ---\n{}\n--- the lines that show it ---\n{}",
                p.key.key,
                p.plan,
                String::from_utf8_lossy(&p.input),
                lines.join("\n")
            ));
        }
    }
    Ok(())
}
