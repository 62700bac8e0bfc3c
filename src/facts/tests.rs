//! Tests of fact names, derivation, parsers and display.

use super::derive::*;
use super::parse::*;
use super::*;
use crate::capture::{Body, Capture};
use serde_json::json;

fn capture(v: serde_json::Value) -> Capture {
    serde_json::from_value(v).unwrap()
}

fn get(c: &Capture, name: &str) -> Option<String> {
    let facts = Facts::derive(c);
    facts.get(&Fact::parse(name).unwrap()).map(|v| v.display())
}

#[test]
fn a_value_lent_is_the_value_shown_and_kept_for_the_next_use() {
    let key = "sk-Q7wErTy9UiOpAsDfGhJkLzXcVbNm1234567890abcdEFGH";
    let c = capture(json!({
        "request": {"method": "POST", "url": format!("https://h/v1/x?key={key}"),
                    "headers": {"Authorization": format!("Bearer {key}\n")}},
        "response": {"status": 401}
    }));
    let facts = Facts::derive(&c);
    for fact in [Fact::Key, Fact::Url, Fact::Model] {
        let lent = facts.with_display(&fact, |v| v.map(str::to_owned));
        assert_eq!(lent, facts.show(&fact), "{fact:?}");
        assert_eq!(facts.display(&fact), lent, "{fact:?}, kept");
    }
    assert!(
        !facts
            .display(&Fact::Url)
            .unwrap()
            .contains(key.get(3..).unwrap())
    );
    // A value shown while another is lent (not yet kept) is shown all the same.
    let fresh = Facts::derive(&c);
    let nested = fresh.with_display(&Fact::Url, |outer| {
        let inner = fresh.with_display(&Fact::Method, |inner| inner.map(str::to_owned));
        (outer.map(str::to_owned), inner)
    });
    assert_eq!(nested, (facts.show(&Fact::Url), Some("POST".to_owned())));
}

#[test]
fn plain_urls_are_read_as_the_url_crate_reads_them() {
    let urls = [
        "https://api.moleapi.com/v1/chat/completions",
        "HTTPS://API.MoleAPI.com:443/v1/models?x=1#frag",
        "http://127.0.0.1:3000/v1",
        "http://10.0.255.1/v1",
        "http://0.0.0.0/v1",
        "http://127.000.0.1/v1",
        "http://0127.0.0.1/v1",
        "http://127.0.0.01/v1",
        "http://256.0.0.1/v1",
        "http://1.2.3.4.5/v1",
        "http://1.2.3.4./v1",
        "http://1.2.3/v1",
        "http://1.2.3.1000/v1",
        "http://127.1/v1",
        "http://0x7f.0.0.1/v1",
        "http://localhost",
        "http://localhost:8080?key=sk-abc",
        "https://api.moleapi.com:65536/v1",
        "https://api.moleapi.com:99999999/v1",
        "https://api.moleapi.com:/v1",
        "https://user:pw@api.moleapi.com/v1",
        "https://api.mole api.com/v1",
        "https://api.moleapi.com/v1/chat%20completions",
        "https://xn--fsq.com/v1",
        "https://例え.jp/v1",
        "https://[::1]:3000/v1",
        "https://-bad.com/v1",
        "https://a..b/v1",
        "https://api.moleapi.com./v1",
        "https://1.2.3.4.example/v1",
        "https://example.123/v1",
        "https://a-.com/v1",
        "HTTP://API.MoleAPI.COM:3000",
        "https://api.moleapi.com:0443/v1",
        "https:/api.moleapi.com/v1",
        "https:api.moleapi.com",
        "ftp://files.example.com/x",
        "https://api.moleapi.com/v1/../v1/./chat",
        "https:///v1",
        "https://",
    ];
    for raw in urls {
        let Some(quick) = quick_authority(raw) else {
            continue;
        };
        let u =
            url::Url::parse(raw).unwrap_or_else(|e| panic!("{raw}: the url crate refuses it: {e}"));
        let slow = (
            u.scheme().to_owned(),
            u.host_str().map(str::to_owned),
            u.port_or_known_default(),
        );
        let quick = (
            quick.0.to_owned(),
            Some(quick.1.into_owned()),
            Some(quick.2),
        );
        assert_eq!(quick, slow, "{raw}");
    }
    for common in ["https://api.moleapi.com/v1", "http://127.0.0.1:3000/v1"] {
        assert!(
            quick_authority(common).is_some(),
            "{common} is read quickly"
        );
    }
}

#[test]
fn the_model_is_read_from_a_raw_body_as_from_a_parsed_one() {
    let raw = |body: &str| -> Capture {
        serde_json::from_str(&format!(r#"{{"request": {{"body": {body}}}}}"#)).unwrap()
    };
    let c =
        raw(r#"{"messages": [{"role": "user", "content": "hi \"model\""}], "model": "gpt-4o"}"#);
    assert!(matches!(
        c.request.as_ref().unwrap().body,
        Some(Body::Raw(_))
    ));
    assert_eq!(get(&c, "model").as_deref(), Some("gpt-4o"));
    // As a gateway reads JSON: the last of a repeated key wins.
    assert_eq!(
        get(&raw(r#"{"model": "a", "model": "b"}"#), "model").as_deref(),
        Some("b")
    );
    assert_eq!(get(&raw(r#"{"model": 4}"#), "model"), None);
    assert_eq!(get(&raw(r#"[{"model": "x"}]"#), "model"), None);
    assert_eq!(
        get(&raw(r#"{"model": "x"}"#), "request.body_is_json").as_deref(),
        Some("true")
    );
    assert_eq!(
        get(&raw(r#"{"model": "x", "n": 1}"#), "request.json.n").as_deref(),
        Some("1")
    );
    assert_eq!(
        get(&raw(r#"{"model":  "x"}"#), "request.body").as_deref(),
        Some(r#"{"model":  "x"}"#),
        "the text as sent"
    );
}

#[test]
fn url_parts_are_kept_as_sent() {
    let c =
        capture(json!({"request": {"url": "HTTPS://API.MoleAPI.com/v1/./chat/completions?x=1"}}));
    assert_eq!(get(&c, "url.scheme").as_deref(), Some("https"));
    assert_eq!(get(&c, "url.host").as_deref(), Some("api.moleapi.com"));
    assert_eq!(get(&c, "url.port").as_deref(), Some("443"));
    assert_eq!(
        get(&c, "url.path").as_deref(),
        Some("/v1/./chat/completions")
    );
    assert_eq!(get(&c, "url.query").as_deref(), Some("x=1"));
    assert_eq!(
        get(&c, "url.origin").as_deref(),
        Some("https://api.moleapi.com")
    );
}

#[test]
fn origin_keeps_a_non_default_port_and_bare_paths_have_no_host() {
    let c = capture(json!({"request": {"url": "http://127.0.0.1:3000/chat/completions"}}));
    assert_eq!(
        get(&c, "url.origin").as_deref(),
        Some("http://127.0.0.1:3000")
    );
    let c = capture(json!({"request": {"url": "/v1/embeddings"}}));
    assert_eq!(get(&c, "url.path").as_deref(), Some("/v1/embeddings"));
    assert_eq!(get(&c, "url.host"), None);
}

#[test]
fn a_bare_path_takes_its_host_from_the_host_header() {
    let c = capture(
        json!({"request": {"url": "/v1/models", "headers": {"Host": "API.moleapi.com:8443"}}}),
    );
    assert_eq!(get(&c, "url.host").as_deref(), Some("api.moleapi.com"));
    assert_eq!(get(&c, "url.port").as_deref(), Some("8443"));
    assert_eq!(get(&c, "url.scheme"), None, "the scheme stays unknown");
}

#[test]
fn key_is_read_from_each_place_and_keeps_whitespace() {
    let c = capture(json!({"request": {"headers": {"Authorization": "Bearer  sk-abc\n"}}}));
    assert_eq!(get(&c, "key").as_deref().map(|k| k.len()), Some(8));
    assert_eq!(get(&c, "auth.scheme").as_deref(), Some("Bearer"));
    let c = capture(json!({"request": {"headers": {"Authorization": "sk-abc"}}}));
    assert_eq!(get(&c, "auth.scheme"), None);
    assert_eq!(get(&c, "key.length").as_deref(), Some("6"));
    let c = capture(json!({"request": {"headers": {"x-api-key": "sk-ant-x"}}}));
    assert_eq!(get(&c, "key.source").as_deref(), Some("x-api-key"));
    let c = capture(json!({"request": {"url": "https://h/v1beta/models?key=AIza%2Bx"}}));
    assert_eq!(get(&c, "key.source").as_deref(), Some("query"));
    let facts = Facts::derive(&c);
    assert_eq!(facts.get(&Fact::Key).unwrap().display(), "AIza+x");
    let c = capture(json!({"request": {"headers": {}}}));
    assert_eq!(get(&c, "key"), None);
}

#[test]
fn key_display_is_masked() {
    let key = format!("sk-{}", "A1b2C3d4".repeat(6));
    let c = capture(json!({"request": {"headers": {"Authorization": format!("Bearer {key}")}}}));
    let facts = Facts::derive(&c);
    let shown = facts.display(&Fact::Key).unwrap();
    assert!(!shown.contains(key.get(3..20).unwrap()), "{shown}");
    let shown = facts
        .display(&Fact::RequestHeader("authorization".into()))
        .unwrap();
    assert!(!shown.contains(key.get(3..20).unwrap()), "{shown}");
}

#[test]
fn every_credential_is_a_secret_but_not_the_scheme_word() {
    let key = format!("sk-{}", "A1b2C3d4".repeat(6));
    let other = format!("other{}", "Z9y8X7w6".repeat(3));
    let c = capture(json!({"request": {"headers": [
        ["Authorization", format!("apikey {key}")],
        ["Authorization", other.clone()],
        ["X-Api-Key", "short-but-secret"],
    ]}}));
    let facts = Facts::derive(&c);
    let secrets = facts.secrets();
    assert_eq!(secrets, [key.as_str(), other.as_str(), "short-but-secret"]);
    let shown = facts
        .redactor()
        .redact(&format!("apikey {key} / {other} / short-but-secret"))
        .into_owned();
    assert!(shown.starts_with("apikey sk-"), "{shown}");
    for secret in [
        key.get(3..20).unwrap(),
        other.get(..20).unwrap(),
        "short-but-secret",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn error_fields_read_from_the_text_match_the_parsed_body() {
    let bodies = [
        r#"{"error":{"message":"No available channel","type":"new_api_error","param":"","code":"model_not_found"}}"#,
        r#"  {"error": {"message": "quote \" and \u4e2d", "code": 429, "param": "model", "extra": [1, {"a": null}]}}"#,
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"m"}}"#,
        r#"{"error":"bad key","code":"invalid_api_key","type":"auth"}"#,
        r#"{"error":null,"message":null,"detail":[{"loc":["body"],"msg":"x"}],"code":null}"#,
        r#"{"success":false,"message":"无权进行此操作"}"#,
        r#"{"error":{"message":{"nested":true},"type":7,"code":null,"param":null}}"#,
        r#"{"error":5,"msg":"short","description":"later"}"#,
        r#"{"error":{}}"#,
        r#"{}"#,
        r#"{"data":[],"object":"list"}"#,
        r#"{"error":{"message":"a\nb\\n","type":"x"}} "#,
        r#"{"error":[1,{"a":[]}],"message":1.5,"type":true}"#,
        r#"{"error":true,"detail":-3,"type":{"b":1,"a":[null]}}"#,
        r#"{"error":2.0,"description":false}"#,
        r#"{"error":"esc \"aped\" \u00e9","type":"t","code":{"x":1}}"#,
        r#"{"error":{"message":[1,"two",{"z":0,"y":null}],"type":18446744073709551615,"param":-1}}"#,
        r#"{"error":{"message":null,"type":null,"param":"p\u0041"}}"#,
        r#"{"error":[],"message":"","msg":"later"}"#,
    ];
    for body in bodies {
        let parsed: Json = serde_json::from_str(body).unwrap();
        let expected = normalise_error(Some(&parsed), None, Some(400));
        assert_eq!(quick_error(body), Some(expected), "{body}");
    }
    // Not read this way: the body is then parsed whole (a repeated field: the
    // last wins there), or is not an object.
    for body in [
        r#"{"error":{"message":"first","message":"second"}}"#,
        r#"{"message":"a","message":"b"}"#,
        r#"{"error":"a","error":{"message":"b"}}"#,
        r#"{"error":{"message":"x"}"#,
        r#"{"error":{"message":"x"}} trailing"#,
    ] {
        assert_eq!(quick_error(body), None, "{body}");
    }
    // Strings without escapes are borrowed from the body.
    let info = quick_error(bodies[0]).unwrap();
    assert!(matches!(info.message, Some(Cow::Borrowed(_))));
    let c = capture(json!({"response": {"status": 400,
        "body": r#"{"error":{"message":"first","message":"second"}}"#}}));
    assert_eq!(get(&c, "error.message").as_deref(), Some("second"));
}

#[test]
fn errors_are_normalised_from_common_shapes() {
    let c = capture(json!({"response": {"status": 401, "body":
        {"error": {"code": "", "message": "无效的令牌 (request id: 20250423020142736330894dLoIRrS6)", "type": "new_api_error"}}}}));
    assert_eq!(get(&c, "error.type").as_deref(), Some("new_api_error"));
    assert_eq!(get(&c, "error.code"), None, "empty code is absent");
    assert_eq!(
        get(&c, "request_id").as_deref(),
        Some("20250423020142736330894dLoIRrS6")
    );

    let c = capture(
        json!({"response": {"status": 503, "headers": {"X-Oneapi-Request-Id": "abc123"},
        "body": "{\"error\":{\"message\":\"No available channel\",\"type\":\"new_api_error\",\"param\":\"\",\"code\":\"model_not_found\"}}"}}),
    );
    assert_eq!(get(&c, "error.code").as_deref(), Some("model_not_found"));
    assert_eq!(get(&c, "error.param"), None);
    assert_eq!(get(&c, "request_id").as_deref(), Some("abc123"));

    let c = capture(
        json!({"response": {"status": 502, "body": "<html><head><title>502 Bad Gateway</title></head></html>"}}),
    );
    assert_eq!(get(&c, "error.message").as_deref(), Some("502 Bad Gateway"));

    let c = capture(
        json!({"response": {"status": 200, "body": "<!doctype html><title>New API</title>"}}),
    );
    assert_eq!(get(&c, "error.message"), None, "a 200 page is not an error");

    let c = capture(
        json!({"response": {"status": 401, "body": {"success": false, "message": "无权进行此操作"}}}),
    );
    assert_eq!(get(&c, "error.message").as_deref(), Some("无权进行此操作"));

    let c = capture(
        json!({"response": {"status": 400, "body": {"type": "error", "error": {"type": "invalid_request_error", "message": "m"}}}}),
    );
    assert_eq!(
        get(&c, "error.type").as_deref(),
        Some("invalid_request_error")
    );
}

#[test]
fn support_facts_time_and_params() {
    let c = capture(json!({
        "request": {"body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "secret plans"}], "temperature": 0.2, "api_key": "sk-x", "max_tokens": 10}},
        "response": {"status": 500, "headers": {"Date": "Wed, 19 Aug 2026 09:33:13 GMT"}}}));
    assert_eq!(
        get(&c, "request.time").as_deref(),
        Some("2026-08-19 09:33:13 UTC")
    );
    assert_eq!(
        get(&c, "request.time_source").as_deref(),
        Some("the Date header")
    );
    let params = get(&c, "request.params").unwrap();
    assert!(
        !params.contains("secret plans") && !params.contains("sk-x"),
        "{params}"
    );
    assert!(
        params.contains("\"messages\":\"[1 items]\"") && params.contains("\"max_tokens\":10"),
        "{params}"
    );
    let c = capture(
        json!({"response": {"status": 500, "headers": {"X-Oneapi-Request-Id": "202608190933135792535838268d9d6rhgZmzsh"}}}),
    );
    assert_eq!(
        get(&c, "request.time").as_deref(),
        Some("2026-08-19 09:33:13")
    );
    assert_eq!(
        get(&c, "request.time_source").as_deref(),
        Some("the request id")
    );
    let c = capture(json!({"response": {"status": 500}, "meta": {"time": "2026-11-27T10:00:00Z"}}));
    assert_eq!(
        get(&c, "request.time").as_deref(),
        Some("2026-11-27T10:00:00Z")
    );
    let c = capture(json!({"response": {"status": 500, "headers": {"X-Request-Id": "req_abc"}}}));
    assert_eq!(get(&c, "request.time"), None);
}

#[test]
fn bodies_are_addressable_by_path() {
    let c = capture(
        json!({"request": {"body": "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\"}]}"}}),
    );
    assert_eq!(get(&c, "model").as_deref(), Some("gpt-4o"));
    assert_eq!(
        get(&c, "request.json.messages.0.role").as_deref(),
        Some("user")
    );
    assert_eq!(get(&c, "request.body_is_json").as_deref(), Some("true"));
    let c = capture(json!({"request": {"body": "{\"model\": \"gpt-4o\",}"}}));
    assert_eq!(get(&c, "request.body_is_json").as_deref(), Some("false"));
    assert_eq!(get(&c, "model"), None);
}

#[test]
fn fact_names_resolve_and_typos_get_suggestions() {
    for (name, _, _) in FACT_NAMES {
        assert!(Fact::parse(name).is_ok(), "{name}");
    }
    assert_eq!(
        Fact::parse("request.headers.Content-Type"),
        Ok(Fact::RequestHeader("content-type".into()))
    );
    let err = Fact::parse("url.pth").unwrap_err();
    assert!(err.contains("did you mean `url.path`"), "{err}");
    assert!(Fact::parse("request.json.a..b").is_err());
}

/// The masked key a message quotes is read in every masking style servers use, and
/// compared with the key sent by its visible start and end; text that only looks
/// masked (a masked URL, an ellipsis) quotes no key.
#[test]
fn the_key_an_error_quotes_is_compared_with_the_key_sent() {
    let sent = "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl";
    let with = |message: &str, key: Option<&str>| {
        let mut v = json!({"response": {"status": 401, "body": {"error": {"message": message}}}});
        if let Some(key) = key {
            v["request"] = json!({"headers": {"Authorization": format!("Bearer {key}")}});
        }
        let c = capture(v);
        (get(&c, "error.key_echo"), get(&c, "error.key_echo_matches"))
    };
    let same = [
        "Incorrect API key provided: sk-AbCdE***************************************ijkl. You can find it at https://***.com/***/***.",
        "[sk-AbC***jkl] 该令牌额度已用尽 !token.UnlimitedQuota && token.RemainQuota = -12",
        "Key sk-AbC•••jkl was rejected",
        "invalid key sk-...ijkl",
    ];
    for m in same {
        let (echo, matches) = with(m, Some(sent));
        assert!(echo.is_some(), "{m}");
        assert_eq!(matches.as_deref(), Some("true"), "{m}: {echo:?}");
    }
    let other = [
        "Incorrect API key provided: sk-proj-********************************************21sA.",
        "Incorrect API key provided: sk-Zy9Xw***************************************Q7rT.",
        "api key sk-…1JMA is not valid",
    ];
    for m in other {
        let (echo, matches) = with(m, Some(sent));
        assert!(echo.is_some(), "{m}");
        assert_eq!(matches.as_deref(), Some("false"), "{m}: {echo:?}");
    }
    // Without the key sent there is nothing to compare.
    assert_eq!(with(other[0], None).1, None);
    for m in [
        "Please try again later... Visit https://***.com/***/*** to learn more.",
        "json: cannot unmarshal string into Go struct field ***.temperature of type float64",
        "Invalid token (request id: 20261201093015123456789AbCdEfGh)",
        "Rate limit reached for gpt-4o in organization org-*** on tokens per min",
    ] {
        assert_eq!(with(m, Some(sent)).0, None, "{m}");
    }
}

/// The members of a body found by looking for where each value ends are the members
/// serde_json reads, on objects of every kind of value, with strings that hold quotes,
/// escapes, brackets and Chinese, spaces anywhere JSON allows them, keys repeated (the
/// last wins) and keys with an escape (both refuse the body).
#[test]
fn object_members_are_the_members_serde_json_reads() {
    let mut next = crate::test_support::numbers_below(0x51_7cc1_b727_220a);
    let strings = [
        r#""""#,
        r#""plain""#,
        r#""a \"quoted\" word""#,
        r#""back\\slash\\""#,
        r#""{[not]} a {structure""#,
        r#""\u4e2d\u6587 中文 \n\t""#,
        r#""ends with \\\"""#,
    ];
    let keys = [
        "model",
        "max_tokens",
        "messages",
        "stream",
        "k\\\"ey",
        "",
        "中文",
    ];
    fn space(next: &mut impl FnMut(usize) -> usize) -> &'static str {
        [" ", "", "\n  ", "\t", "", "\r\n"][next(6)]
    }
    fn value(next: &mut impl FnMut(usize) -> usize, strings: &[&str], depth: usize) -> String {
        let atoms = ["0", "-12.5e3", "4096", "true", "false", "null"];
        match next(if depth > 2 { 2 } else { 4 }) {
            0 => strings[next(strings.len())].to_owned(),
            1 => atoms[next(atoms.len())].to_owned(),
            2 => {
                let items: Vec<String> = (0..next(4))
                    .map(|_| {
                        format!(
                            "{}{}{}",
                            space(next),
                            value(next, strings, depth + 1),
                            space(next)
                        )
                    })
                    .collect();
                format!("[{}]", items.join(","))
            }
            _ => {
                let members: Vec<String> = (0..next(4))
                    .map(|_| {
                        format!(
                            "{}:{}",
                            strings[next(strings.len())],
                            value(next, strings, depth + 1)
                        )
                    })
                    .collect();
                format!("{{{}}}", members.join(","))
            }
        }
    }
    let mut objects = 0;
    for _ in 0..5000 {
        let members: Vec<String> = (0..next(6))
            .map(|_| {
                let key = keys[next(keys.len())];
                let (a, b, c, d) = (
                    space(&mut next),
                    space(&mut next),
                    space(&mut next),
                    space(&mut next),
                );
                format!("{a}\"{key}\"{b}:{c}{}{d}", value(&mut next, &strings, 0))
            })
            .collect();
        let text = format!(
            "{}{{{}}}{}",
            space(&mut next),
            members.join(","),
            space(&mut next)
        );
        let theirs: Option<std::collections::BTreeMap<&str, &serde_json::value::RawValue>> =
            serde_json::from_str(&text).ok();
        let theirs = theirs.map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, v.get()))
                .collect::<std::collections::BTreeMap<_, _>>()
        });
        let ours = object_members(&text)
            .map(|m| m.into_iter().collect::<std::collections::BTreeMap<_, _>>());
        assert_eq!(ours, theirs, "{text}");
        objects += usize::from(theirs.is_some_and(|m| m.len() > 1));
    }
    // Most objects are read (a key with an escape refuses some) and hold several members.
    assert!(objects > 1000, "{objects}");
    // Not an object: nothing.
    for text in ["[1, 2]", "\"text\"", "12", "null"] {
        assert_eq!(object_members(text), None, "{text}");
    }
}

/// The first `://` is found where `str::find` finds it: after colons without slashes,
/// after one slash, at the very start and end, after non-ASCII text, and nowhere.
#[test]
fn the_scheme_separator_is_found_where_str_find_finds_it() {
    let texts = [
        "https://h/p",
        "://",
        "a:",
        "a:/",
        "a:/b://c",
        "a::/://",
        "ftp:x:y//z://w",
        "中文://x",
        "host:8080/path",
        ":",
        "",
        "x://",
        "https:/\u{2044}/h",
    ];
    for text in texts {
        assert_eq!(scheme_separator(text), text.find("://"), "{text:?}");
    }
}
