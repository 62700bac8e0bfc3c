//! `rulecheck serve`'s HTTP API against the real binary on 127.0.0.1: what `eval`
//! answers, in each format and language; masked; bounded against hostile clients;
//! rulebook edits live at the next request, a broken edit keeping the last good rules.

#![cfg(feature = "serve")]
// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::io::Write;
use std::net::TcpStream;

mod common;
mod server;
use common::{command, fixture, scratch};
use server::{Server, request};

fn capture() -> Vec<u8> {
    std::fs::read(fixture("captures/key-trailing-newline-401.json")).unwrap()
}

#[test]
fn the_page_is_one_self_contained_file() {
    let server = Server::start(&scratch("serve-page"), &["--no-project"]);
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let html = page.text();
    for outside in [
        "src=\"http",
        "href=\"http",
        "<link",
        "<script src",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(outside), "the page loads {outside}…");
    }
    assert!(html.contains("id=\"input\"") && html.contains("/api/diagnose"));
    assert_eq!(server.get("/nothing-here").status, 404);
    assert_eq!(server.get("/api/diagnose").status, 405);
}

/// The API answers what `eval` answers on the same input.
#[test]
fn diagnose_answers_what_eval_answers_in_every_format() {
    let server = Server::start(&scratch("serve-formats"), &["--no-project"]);
    let answer = server.post("/api/diagnose", &capture());
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let served = answer.json();

    let mut eval = command()
        .args(["eval", "-", "--format", "json", "--no-project"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    eval.stdin.take().unwrap().write_all(&capture()).unwrap();
    let mut local: serde_json::Value =
        serde_json::from_slice(&eval.wait_with_output().unwrap().stdout).unwrap();
    local["reports"][0]["source"] = "pasted".into();
    assert_eq!(served, local);

    // The report schema holds.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    assert!(validator.is_valid(&served));

    let md = server.post("/api/diagnose?format=markdown&lang=zh", &capture());
    assert_eq!(md.status, 200);
    assert_eq!(
        md.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    assert!(
        md.text().contains("(`key.whitespace`)") && md.text().contains("**证据"),
        "{}",
        md.text()
    );

    let text = server.post("/api/diagnose?format=text", &capture());
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(text.text().contains("key.whitespace"));
    assert!(
        !text.text().contains('\u{1b}'),
        "no terminal colours in an HTTP answer"
    );

    // The browser's language when none is asked for.
    let zh = request(
        server.addr,
        "POST",
        "/api/diagnose?format=text",
        &[("Accept-Language", "zh-CN,zh;q=0.9")],
        &capture(),
    );
    assert!(zh.text().contains("修复"), "{}", zh.text());

    // A traceback, as a support agent pastes it.
    let traceback = std::fs::read(fixture("inputs/sdk/python-1x-endpoint-twice.txt")).unwrap();
    let tb = server.post("/api/diagnose", &traceback).json();
    assert_eq!(
        tb["reports"][0]["findings"][0]["id"], "address.endpoint-in-base-url",
        "{tb:#}"
    );
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let server = Server::start(
        &scratch("serve-bad"),
        &["--no-project", "--limit", "input-bytes=4KiB"],
    );
    for (path, body, status, says) in [
        (
            "/api/diagnose?format=yaml",
            &b"x"[..],
            400,
            "format is json, markdown or text",
        ),
        ("/api/diagnose?lang=fr", b"x", 400, "lang is en or zh"),
        ("/api/diagnose?colour=1", b"x", 400, "unknown parameter"),
        ("/api/diagnose", b"  \n", 400, "empty"),
        ("/api/diagnose", b"hello there", 422, "unrecognised input"),
        ("/api/diagnose", &[0xffu8; 5000][..], 413, "input-bytes"),
    ] {
        let answer = server.post(path, body);
        assert_eq!(answer.status, status, "{path}: {}", answer.text());
        let error = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(says), "{path}: {error}");
    }
}

/// No response, no error and no line the server prints shows a key it was sent.
#[test]
fn keys_are_masked_in_every_answer_and_nothing_pasted_is_logged() {
    let server = Server::start(&scratch("serve-secrets"), &["--no-project"]);
    let key = format!("sk-{}", "Zq9".repeat(16));
    let marker = "MARKER-7f3a9";
    let capture = serde_json::json!({
        "request": {"method": "POST", "url": format!("https://api.moleapi.com/v1/chat/completions?api_key={key}"),
                    "headers": {"Authorization": format!("Bearer {key}\n")},
                    "body": {"model": marker}},
        "response": {"status": 401, "body": {"error": {"message": format!("Incorrect API key provided: {key}")}}}
    })
    .to_string();
    let unreadable = format!("{marker} {key} and nothing else");
    let mut answers = Vec::new();
    for format in ["json", "markdown", "text"] {
        answers.push(server.post(
            &format!("/api/diagnose?format={format}"),
            capture.as_bytes(),
        ));
    }
    answers.push(server.post("/api/diagnose", unreadable.as_bytes()));
    answers.push(server.post(&format!("/api/diagnose?{key}=1"), b"x"));
    for a in &answers {
        let body = String::from_utf8_lossy(&a.body);
        assert!(
            !body.contains(&key[3..30]),
            "a key in a {} answer: {body}",
            a.status
        );
    }
    assert_eq!(answers[3].status, 422);
    let said = server.stop();
    assert!(
        !said.contains(marker) && !said.contains(&key[3..30]),
        "the server logged: {said}"
    );
}

/// One request may hold the server only so long: a client that never sends its body
/// gets 503 after `request-seconds`; a request behind it (`concurrent-requests=1`)
/// waits its turn instead of being turned away, and is answered once the slow one is
/// cut off.
#[test]
fn slow_clients_are_cut_off_and_requests_wait_their_turn() {
    let server = Server::start(
        &scratch("serve-slow"),
        &[
            "--no-project",
            "--limit",
            "request-seconds=1",
            "--limit",
            "concurrent-requests=1",
        ],
    );
    let mut slow = TcpStream::connect(server.addr).unwrap();
    write!(
        slow,
        "POST /api/diagnose HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n{{"
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let waiting = server.post("/api/diagnose", &capture());
    assert_eq!(waiting.status, 200, "{}", waiting.text());
    let mut raw = Vec::new();
    let _ = std::io::Read::read_to_end(&mut slow, &mut raw);
    let cut_off = server::parse(&raw);
    assert_eq!(cut_off.status, 503);
    assert!(
        cut_off.json()["error"]
            .as_str()
            .unwrap()
            .contains("request-seconds")
    );
}

#[test]
fn a_rulebook_edit_is_live_at_the_next_request_and_a_broken_one_keeps_the_last_good() {
    let dir = scratch("serve-reload");
    let overlay = dir.join("team.yaml");
    let rulebook = |title: &str| {
        format!(
            "format: rulecheck/v1\nname: team\nversion: 0.1.0\ncategories:\n  - {{ id: permission, title: Permissions }}\n\
             rules:\n  - id: team.daily-limit\n    title: {title}\n    category: permission\n    severity: error\n    priority: 70\n\
             \x20   when:\n      error.message: {{ matches: 'daily limit' }}\n    message: The key's daily limit is reached.\n"
        )
    };
    std::fs::write(&overlay, rulebook("Daily limit (first)")).unwrap();
    let server = Server::start(&dir, &["--no-project", "--overlay", "team.yaml"]);
    let capture = br#"{"response": {"status": 403, "body": {"error": {"message": "the token has exceeded its daily limit"}}}}"#;
    let top = |server: &Server| {
        let r = server.post("/api/diagnose", capture).json();
        r["reports"][0]["findings"][0]["title"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(top(&server), "Daily limit (first)");

    std::fs::write(&overlay, rulebook("Daily limit (edited, a longer title)")).unwrap();
    assert_eq!(top(&server), "Daily limit (edited, a longer title)");
    assert!(server.get("/healthz").json()["rulebook_errors"].is_null());

    // Broken: the last good rules answer, and the errors say where.
    std::fs::write(
        &overlay,
        rulebook("Daily limit").replace("matches:", "mathces:"),
    )
    .unwrap();
    assert_eq!(top(&server), "Daily limit (edited, a longer title)");
    let health = server.get("/healthz").json();
    let errors = health["rulebook_errors"].as_str().unwrap();
    assert!(errors.contains("team.yaml:13:24"), "{errors}");
    assert!(errors.contains("did you mean `matches`"), "{errors}");

    std::fs::write(&overlay, rulebook("Daily limit (fixed)")).unwrap();
    assert_eq!(top(&server), "Daily limit (fixed)");
    assert!(server.get("/healthz").json()["rulebook_errors"].is_null());
}

#[test]
fn it_listens_on_this_machine_only_unless_told_otherwise() {
    let help =
        String::from_utf8(command().args(["serve", "--help"]).output().unwrap().stdout).unwrap();
    assert!(help.contains("[default: 127.0.0.1:8080]"), "{help}");
    let mut child = command()
        .args(["serve", "--addr", "0.0.0.0:0", "--no-project"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    for _ in 0..2 {
        std::io::BufRead::read_line(&mut stderr, &mut said).unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(said.contains("reachable from other machines"), "{said}");
    // A rulebook that does not load stops it from starting, with the errors.
    let out = command()
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--no-project",
            "--rules",
            "missing.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml"));
}

/// The load test: 1,000 mixed requests (every fixture and a 256 KB capture, in each
/// format and language, and the page and health check between them) from 16
/// concurrent clients, in four rounds of 250. Every answer is the one that input got alone (same status, same
/// bytes), none is a server error, and the server's memory after the last round is
/// within a fifth of what it was after the first.
#[test]
fn a_thousand_mixed_requests_from_16_clients_answer_alike_in_flat_memory() {
    let server = Server::start(&scratch("serve-load"), &["--no-project"]);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for dir in ["captures", "inputs"] {
        let mut stack = vec![fixture(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_none_or(|e| e != "snap") {
                    inputs.push(std::fs::read(path).unwrap());
                }
            }
        }
    }
    inputs.sort();
    // A large one among them: a server that kept each input would grow by 64 MB.
    let large = serde_json::json!({
        "request": {"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions"},
        "response": {"status": 500, "body": {"error": {"message": "upstream error ".repeat(16 << 10)}}}
    });
    inputs.push(large.to_string().into_bytes());
    let large = inputs.len() - 1;
    let paths = [
        "/api/diagnose",
        "/api/diagnose?format=markdown&lang=zh",
        "/api/diagnose?format=text",
        "/api/diagnose?format=markdown",
    ];
    // Request n: an input in a format, or every 10th the page or the health check.
    let call = |n: usize| -> (String, Option<usize>) {
        let n = n % 1000;
        match n % 10 {
            3 => ("/".to_owned(), None),
            7 => ("/healthz".to_owned(), None),
            5 => (paths[n % paths.len()].to_owned(), Some(large)),
            _ => (paths[n % paths.len()].to_owned(), Some(n % inputs.len())),
        }
    };
    let send = |n: usize| {
        let (path, input) = call(n);
        match input {
            Some(i) => server.post(&path, &inputs[i]),
            None => server.get(&path),
        }
    };
    // Each input's answer alone, in each format.
    let mut alone = std::collections::HashMap::new();
    for n in 0..1000 {
        let (path, input) = call(n);
        if let Some(i) = input {
            alone.entry((path, i)).or_insert_with(|| {
                let r = send(n);
                (r.status, r.body)
            });
        }
    }
    let rss_at_start = server.rss_kb();
    let mut rss = Vec::new();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    for round in 1..=4 {
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    loop {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if n >= round * 250 {
                            break;
                        }
                        let answer = send(n);
                        assert!(answer.status < 500, "request {n}: {}", answer.text());
                        if let (path, Some(i)) = call(n) {
                            let (status, body) = &alone[&(path.clone(), i)];
                            assert_eq!(answer.status, *status, "request {n}, {path}");
                            assert!(
                                answer.body == *body,
                                "request {n}: {path} answered otherwise under load"
                            );
                        } else {
                            assert_eq!(answer.status, 200, "request {n}");
                        }
                    }
                });
            }
        });
        // The counter ran one past the round for each client that stopped.
        next.store(round * 250, std::sync::atomic::Ordering::Relaxed);
        rss.push(server.rss_kb());
    }
    // Figures for docs/performance.md (the time is not a test: it varies with the machine).
    eprintln!(
        "rulecheck serve, 1,000 requests from 16 clients in {:.2} s: RSS {rss_at_start} kB before, {rss:?} kB after each 250",
        started.elapsed().as_secs_f64()
    );
    let (first, last) = (rss[0], rss[3]);
    assert!(
        last <= first + first / 5,
        "memory grew from {first} kB to {last} kB over 750 requests: {rss:?}"
    );
    // What keeps it flat: diagnoses on at most one thread per core (each thread keeps
    // an allocator arena and regex caches of its own), beside the runtime's one worker
    // per core and the main thread; not a thread per waiting request.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let threads = server.threads();
    assert!(
        threads <= 2 * cores + 1,
        "{threads} threads on {cores} cores after 16 clients"
    );
}

/// The project file's layers are watched too: an overlay it names is live when edited.
#[test]
fn the_project_file_s_overlays_are_live_too() {
    let dir = scratch("serve-project");
    std::fs::write(dir.join("rulecheck.yaml"), "overlays: [rules/team.yaml]\n").unwrap();
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    let overlay = dir.join("rules/team.yaml");
    let rulebook = |title: &str| {
        format!(
            "format: rulecheck/v1\nname: team\nversion: 0.1.0\ncategories:\n  - {{ id: permission, title: Permissions }}\n\
             rules:\n  - id: team.daily-limit\n    title: {title}\n    category: permission\n    severity: error\n\
             \x20   when:\n      error.message: {{ matches: 'daily limit' }}\n    message: The account is banned.\n"
        )
    };
    std::fs::write(&overlay, rulebook("Banned (first)")).unwrap();
    let server = Server::start(&dir, &[]);
    let capture =
        br#"{"response": {"status": 403, "body": {"error": {"message": "the token has exceeded its daily limit"}}}}"#;
    let top = || {
        let r = server.post("/api/diagnose", capture).json();
        r["reports"][0]["findings"][0]["title"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(top(), "Banned (first)");
    std::fs::write(&overlay, rulebook("Banned (edited through the project)")).unwrap();
    assert_eq!(top(), "Banned (edited through the project)");
}
