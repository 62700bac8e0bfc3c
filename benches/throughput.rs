//! Throughput of rulecheck against two floors, measured with criterion in the same run:
//!
//! - parse floor: only `serde_json` parsing each line into a `serde_json::Value`;
//! - hand-coded floor: the benchmark rulebook's 26 conditions written directly in Rust,
//!   with precompiled regexes over a typed, borrowing parse.
//!
//! Then rulecheck itself on the benchmark rulebook and on the default rulebook, one and
//! two threads; the start-up of one `rulecheck eval` process against a trivial one; and
//! after criterion's report, the ratios the targets are set on (from the medians
//! criterion saved in this run) and the peak memory of a bulk run on 1× and 10× input.
//! Run: `cargo bench --bench throughput` (docs/performance.md).

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};

use regex::Regex;
use rulecheck::bulk::{BulkOptions, run_with};
use rulecheck::evaluate::{classify, diagnose};
use rulecheck::rulebook::{LoadOptions, RuleSet};
use serde::Deserialize;

mod measure;
use measure::{criterion_filter, median_ns};

/// A deterministic workload of realistic captures (0.5–2 KB), one JSON per line.
fn workload(n: usize) -> String {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let key = |r: u64| {
        let body: String = (0..48)
            .map(|i| {
                b"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl"
                    [((r >> (i % 60)) as usize + i) % 48] as char
            })
            .collect();
        match r % 7 {
            0 => format!("sk-{body}\\n"),
            1 => format!("sk-proj-{body}{body}"),
            2 => format!("sk-{}", &body[..30]),
            _ => format!("sk-{body}"),
        }
    };
    let bodies = [
        (
            200,
            r#"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#,
        ),
        (
            401,
            r#"{"error":{"code":"","message":"Invalid token (request id: 202608190933135792535838268d9d6rhgZmzsh)","type":"new_api_error"}}"#,
        ),
        (
            401,
            r#"{"error":{"message":"无效的令牌 (request id: 20250423020142736330894dLoIRrS6)","type":"new_api_error"}}"#,
        ),
        (
            403,
            r#"{"error":{"message":"用户额度不足, 剩余额度: ＄-0.000002 (request id: 202608190933135792535838268d9d6rhgZmzsh)","type":"new_api_error","param":"","code":"insufficient_user_quota"}}"#,
        ),
        (
            403,
            r#"{"error":{"code":"","message":"This token has no access to model gpt-4o (request id: 202608190933135792535838268d9d6rhgZmzsh)","type":"new_api_error"}}"#,
        ),
        (
            404,
            r#"{"error":{"message":"Invalid URL (POST /v1/chat/completions/chat/completions)","type":"invalid_request_error","param":"","code":""}}"#,
        ),
        (
            429,
            r#"{"error":{"code":"","message":"您已达到请求数限制：1分钟内最多请求60次 (request id: 20250423020142736330894dLoIRrS6)","type":"new_api_error"}}"#,
        ),
        (
            500,
            r#"{"error":{"message":"upstream error: do request failed (request id: 202608190933135792535838268d9d6rhgZmzsh)","type":"new_api_error","param":"","code":"do_request_failed"}}"#,
        ),
        (
            503,
            r#"{"error":{"code":"model_not_found","message":"No available channel for model gpt-4o-mni under group default (distributor) (request id: 202608190933135792535838268d9d6rhgZmzsh)","type":"new_api_error"}}"#,
        ),
        (
            200,
            r#"<!doctype html><html lang="zh"><head><meta charset="UTF-8" /><title>New API</title></head><body><div id="root"></div></body></html>"#,
        ),
    ];
    let paths = [
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/chat/completions",
        "/v1/chat/completions/chat/completions",
    ];
    let hosts = [
        "api.moleapi.com",
        "api.moleapi.com",
        "api.moleapi.com",
        "api.openai.com",
        "127.0.0.1:3000",
    ];
    let mut out = String::new();
    for i in 0..n {
        let r = next();
        let (status, body) = bodies[(r % bodies.len() as u64) as usize];
        let html = body.starts_with('<');
        let filler = "Summarise the following text. ".repeat((r >> 8) as usize % 40);
        let model = ["gpt-4o-mini", "o3-mini", "gpt-4o"][(r >> 34) as usize % 3];
        let capture = serde_json::json!({
            "request": {
                "method": "POST",
                "url": format!("https://{}{}", hosts[(r >> 16) as usize % hosts.len()], paths[(r >> 20) as usize % paths.len()]),
                "headers": {
                    "Authorization": format!("Bearer {}", key(r >> 24)),
                    "Content-Type": if (r >> 30) % 9 == 0 { "application/x-www-form-urlencoded" } else { "application/json" },
                    "User-Agent": "OpenAI/Python 1.109.1",
                    "X-Stainless-Lang": "python"
                },
                "body": if (r >> 36) % 4 == 0 {
                    serde_json::json!({"model": model, "messages": [{"role": "user", "content": filler}], "temperature": 0.7, "max_tokens": if (r >> 38) % 2 == 0 { 1024 } else { 8192 }})
                } else {
                    serde_json::json!({"model": model, "messages": [{"role": "user", "content": filler}], "temperature": 0.7})
                }
            },
            "response": {
                "status": status,
                "headers": {"Content-Type": if html { "text/html; charset=utf-8" } else { "application/json; charset=utf-8" }, "X-Oneapi-Request-Id": format!("2026081909331357925358{i:08}rhgZmzsh")},
                "body": body
            }
        });
        out.push_str(&capture.to_string());
        out.push('\n');
    }
    out
}

/// The typed, borrowing parse of the hand-coded floor.
#[derive(Deserialize)]
struct Cap<'a> {
    #[serde(borrow)]
    request: Option<Req<'a>>,
    #[serde(borrow)]
    response: Option<Resp<'a>>,
}
#[derive(Deserialize)]
struct Req<'a> {
    #[serde(borrow)]
    url: Option<&'a str>,
    #[serde(borrow, default)]
    headers: std::collections::HashMap<&'a str, std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    body: Option<BodyModel<'a>>,
}
#[derive(Deserialize)]
struct BodyModel<'a> {
    #[serde(borrow)]
    model: Option<std::borrow::Cow<'a, str>>,
    max_tokens: Option<f64>,
}
#[derive(Deserialize)]
struct Resp<'a> {
    status: Option<u16>,
    #[serde(borrow, default)]
    headers: std::collections::HashMap<&'a str, std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    body: Option<std::borrow::Cow<'a, str>>,
}
#[derive(Deserialize)]
struct ErrBody<'a> {
    #[serde(borrow)]
    error: Option<ErrObj<'a>>,
}
#[derive(Deserialize)]
struct ErrObj<'a> {
    #[serde(borrow)]
    message: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    code: Option<std::borrow::Cow<'a, str>>,
}

struct HandCoded {
    re: Vec<Regex>,
}

impl HandCoded {
    fn new() -> HandCoded {
        let p = [
            r"^/(chat/completions|completions|embeddings|models)(/|$)",
            r"^/v1/(chat/completions|embeddings)/(chat/completions|embeddings)",
            r"^\s|\s$",
            r"^(sk-(proj|ant|or-v1)-|AIza|gsk_|xai-)",
            r"^sk-[A-Za-z0-9]{1,47}$",
            r"^sk-[A-Za-z0-9]{48}$",
            r"Invalid token|无效的令牌",
            r"No available channel|无可用渠道",
            r"用户额度不足|quota is not enough",
            r"并发",
            r"maximum context length",
            r"该令牌无权访问模型|no access to model",
            r"用户已被封禁|banned",
            r"^(o1|o3|gpt-5)",
        ];
        HandCoded {
            re: p.iter().map(|p| Regex::new(p).unwrap()).collect(),
        }
    }

    /// The 26 conditions of bench-rules.yaml; returns how many held.
    fn eval(&self, line: &str) -> usize {
        let Ok(c) = serde_json::from_str::<Cap>(line) else {
            return 0;
        };
        let req = c.request.as_ref();
        let resp = c.response.as_ref();
        let status = resp.and_then(|r| r.status);
        let (host, path) = req
            .and_then(|r| r.url)
            .and_then(|u| u.split_once("://"))
            .map(|(_, rest)| {
                rest.split_once('/')
                    .map(|(h, p)| (h, &rest[h.len()..p.len() + h.len() + 1]))
                    .unwrap_or((rest, "/"))
            })
            .unwrap_or(("", ""));
        let header = |h: &std::collections::HashMap<&str, std::borrow::Cow<str>>, name: &str| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_string())
        };
        let key = req
            .and_then(|r| header(&r.headers, "authorization"))
            .map(|a| a.strip_prefix("Bearer ").map(str::to_owned).unwrap_or(a));
        let err: Option<ErrBody> = resp
            .and_then(|r| r.body.as_deref())
            .and_then(|b| serde_json::from_str(b).ok());
        let (msg, code) = err
            .and_then(|e| e.error)
            .map(|e| {
                (
                    e.message.map(|m| m.into_owned()),
                    e.code.map(|c| c.into_owned()),
                )
            })
            .unwrap_or((None, None));
        let m = |i: usize, s: &Option<String>| s.as_deref().is_some_and(|s| self.re[i].is_match(s));
        let model = req
            .and_then(|r| r.body.as_ref())
            .and_then(|b| b.model.as_deref().map(str::to_owned));
        let conds = [
            host == "api.openai.com" || host == "api.anthropic.com",
            self.re[0].is_match(path),
            self.re[1].is_match(path),
            m(2, &key),
            m(3, &key),
            m(4, &key),
            key.is_none() && status == Some(401),
            status == Some(401) && m(5, &key),
            m(6, &msg),
            code.as_deref() == Some("model_not_found"),
            m(7, &msg),
            code.as_deref() == Some("insufficient_user_quota"),
            m(8, &msg),
            status == Some(429),
            m(9, &msg),
            matches!(status, Some(502..=504)),
            status == Some(500),
            m(10, &msg),
            code.as_deref() == Some("unsupported_parameter"),
            m(11, &msg),
            m(12, &msg),
            req.and_then(|r| header(&r.headers, "content-type"))
                .is_some_and(|v| v.contains("form-urlencoded")),
            resp.and_then(|r| header(&r.headers, "content-type"))
                .is_some_and(|v| v.contains("text/html"))
                && status == Some(200),
            m(13, &model) && status == Some(400),
            status.is_some_and(|s| (200..300).contains(&s)),
            req.and_then(|r| r.body.as_ref())
                .and_then(|b| b.max_tokens)
                .is_some_and(|m| m > 4096.0),
        ];
        conds.iter().filter(|c| **c).count()
    }
}

/// Panics unless the hand-coded floor and rulecheck on the bench rulebook find the
/// same number of matching rules on every capture (and both some on many).
fn same_matches(data: &str) {
    let (hand, set) = (HandCoded::new(), bench_rules());
    let mut matched = 0;
    for (i, line) in data.lines().enumerate() {
        let capture: rulecheck::capture::Capture = serde_json::from_str(line).unwrap();
        let ours = rulecheck::evaluate::matching_rule_ids(&set, &capture).len();
        assert_eq!(hand.eval(line), ours, "capture {i} of the workload: {line}");
        matched += usize::from(ours > 0);
    }
    assert!(matched > data.lines().count() / 2, "{matched}");
}

/// The benchmark rulebook, loaded as a rulebook from disk is (regexes built at load).
fn bench_rules() -> RuleSet {
    let rb = rulecheck::rulebook::load_str(
        "benches/bench-rules.yaml",
        include_str!("bench-rules.yaml"),
        &LoadOptions::default(),
    )
    .unwrap();
    RuleSet::new(vec![rb]).unwrap()
}

/// What rulecheck makes of each capture: a full diagnosis (findings with messages,
/// evidence, masked keys), or the classification `--summary` counts.
#[derive(Clone, Copy)]
enum Mode {
    Diagnose,
    Classify,
}

fn rulecheck(set: &RuleSet, data: &str, threads: usize, mode: Mode) -> usize {
    let mut n = 0;
    let options = BulkOptions {
        threads,
        ..Default::default()
    };
    let eval = options.eval;
    run_with(
        set,
        data.as_bytes(),
        options,
        |set, _, capture| match mode {
            Mode::Diagnose => diagnose(set, &capture, eval).findings.len(),
            Mode::Classify => classify(set, &capture, eval).top.is_some() as usize,
        },
        |r| {
            if let Ok(k) = r {
                n += k;
            }
            std::ops::ControlFlow::Continue(())
        },
    )
    .unwrap();
    n
}

/// Captures per iteration of the throughput benchmarks under `cargo bench`: ten batches
/// of the bulk reader, so the two-thread runs overlap reading and evaluating as a long
/// run does.
const CAPTURES: usize = 20_000;

/// Where each throughput benchmark's result is, and what it is called in the table.
const THROUGHPUTS: [(&str, &str); 8] = [
    ("parse-floor", "parse floor (serde_json::Value)"),
    ("hand-floor", "hand-coded floor (26 rules)"),
    (
        "bench-classify-1t",
        "rulecheck --summary, bench rulebook, 1 thread",
    ),
    (
        "bench-classify-2t",
        "rulecheck --summary, bench rulebook, 2 threads",
    ),
    (
        "bench-diagnose-1t",
        "rulecheck, bench rulebook (26 rules), 1 thread",
    ),
    ("bench-diagnose-2t", "rulecheck, bench rulebook, 2 threads"),
    (
        "default-diagnose-1t",
        "rulecheck, default rulebook, 1 thread",
    ),
    (
        "default-diagnose-2t",
        "rulecheck, default rulebook, 2 threads",
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench --bench throughput -- --workload FILE N` writes the workload as JSON
    // Lines instead of measuring (for callgrind and peak-memory runs, docs/performance.md).
    if let Some(i) = args.iter().position(|a| a == "--workload") {
        let file = args.get(i + 1).expect("--workload FILE N");
        let n: usize = args
            .get(i + 2)
            .and_then(|n| n.parse().ok())
            .expect("--workload FILE N");
        std::fs::write(file, workload(n)).unwrap();
        return;
    }
    // `-- --once NAME FILE`: one pass of one measurement over a workload file, nothing
    // printed: what callgrind counts (parse, hand, bench, default; docs/performance.md).
    // The bench run that starts these (and `--peak-rss`) has checked the matches below
    // already; checking them again in each made every callgrind run count 4,000
    // captures twice more.
    if let Some(i) = args.iter().position(|a| a == "--once") {
        let (name, file) = (&args[i + 1], &args[i + 2]);
        let data = std::fs::read_to_string(file).unwrap();
        black_box(once(name, &data));
        return;
    }
    // `-- --peak-rss REPEAT PROGRAM ARGS…`: runs the program with the bench's workload
    // REPEAT times over on its standard input (output discarded) and prints its peak
    // resident memory in KB. A process of its own, so no other child counts, and the
    // input is streamed, so no file of it is written.
    if let Some(i) = args.iter().position(|a| a == "--peak-rss") {
        let usage = "--peak-rss REPEAT PROGRAM ARGS";
        let repeat: usize = args.get(i + 1).and_then(|r| r.parse().ok()).expect(usage);
        let mut child = std::process::Command::new(args.get(i + 2).expect(usage))
            .args(args.get(i + 3..).unwrap_or_default())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("--peak-rss REPEAT PROGRAM ARGS");
        let data = workload(CAPTURES);
        let mut stdin = child.stdin.take().unwrap();
        for _ in 0..repeat {
            std::io::Write::write_all(&mut stdin, data.as_bytes()).unwrap();
        }
        drop(stdin);
        let status = child.wait().unwrap();
        assert!(status.success(), "{status}");
        println!("{}", children_peak_rss_kb().unwrap_or(0));
        return;
    }

    // Every engine measured must find the same matches: the hand-coded floor and the
    // bench rulebook agree on each capture of a workload before anything is timed.
    same_matches(&workload(4_000));

    let (measuring, started, results, mut c) =
        measure::criterion_setup(&args, Duration::from_secs(1), Duration::from_secs(3));
    let n = if measuring { CAPTURES } else { 200 };
    throughputs(&mut c, n);
    let exe = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/rulecheck");
    let trivial = trivial_binary();
    one_process(&mut c, &exe, trivial.as_deref());
    c.final_summary();
    if !measuring {
        return;
    }
    print_ratios(&results, started, n);
    // The steps after criterion's own follow its filter too (`-- instructions`).
    let wanted = |step: &str| criterion_filter(&args).is_none_or(|f| step.contains(f));
    if wanted("scaling") {
        scaling();
    }
    if wanted("instructions") {
        instruction_ratios();
    }
    if wanted("peak-memory") {
        if exe.exists() {
            peak_memory(&exe);
        } else {
            println!(
                "\n(build target/release/rulecheck first to measure one process and peak memory)"
            );
        }
    }
}

/// One pass of the measurement `name` over a workload's text (what `--once` counts).
fn once(name: &str, data: &str) -> usize {
    match name {
        "parse" => parse_floor(data.lines()),
        "hand" => {
            let hand = HandCoded::new();
            data.lines().map(|l| hand.eval(l)).sum()
        }
        "bench" => rulecheck(&bench_rules(), data, 1, Mode::Diagnose),
        "default" => rulecheck(&default_rules(), data, 1, Mode::Diagnose),
        "bench-summary" => rulecheck(&bench_rules(), data, 1, Mode::Classify),
        "bench-jsonl" => jsonl(&bench_rules(), data),
        "default-jsonl" => jsonl(&default_rules(), data),
        other => panic!(
            "--once parse|hand|bench|bench-summary|default|bench-jsonl|default-jsonl, not {other}"
        ),
    }
}

/// What `rulecheck eval --format jsonl` does after start-up, one thread: the same run
/// driver diagnoses every line, writes its report as a JSON line and passes it through
/// the masking boundary the CLI writes through (into nothing here).
fn jsonl(set: &RuleSet, data: &str) -> usize {
    use rulecheck::run::{Input, Output, RunOptions};
    let options = RunOptions {
        output: Output::Jsonl,
        read: Default::default(),
        eval: Default::default(),
        threads: 1,
        trace: false,
        progress: false,
    };
    let input = Input::Bytes {
        name: "workload.jsonl".into(),
        bytes: data.as_bytes().to_vec(),
    };
    let mut out = rulecheck::mask::MaskingWriter::new(std::io::sink());
    let outcome = rulecheck::run::run(set, &[input], &options, &mut out, &mut std::io::sink());
    outcome.captures
}

/// The parse floor: every line into a `serde_json::Value`, nothing else.
fn parse_floor<'a>(lines: impl Iterator<Item = &'a str>) -> usize {
    lines
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .map(|v| v.is_object())
                .unwrap_or(false) as usize
        })
        .sum()
}

fn default_rules() -> RuleSet {
    RuleSet::default_rulebook(&LoadOptions::default()).unwrap()
}

/// Both floors and rulecheck over the same `n` captures, one group so criterion reports
/// each in captures per second.
fn throughputs(c: &mut Criterion, n: usize) {
    let data = workload(n);
    let lines: Vec<&str> = data.lines().collect();
    println!(
        "workload: {n} captures, {:.0} bytes each on average",
        data.len() as f64 / n as f64
    );
    let bench = bench_rules();
    let default = default_rules();
    let hand = HandCoded::new();

    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(n as u64));
    // One iteration is thousands of captures: a fixed number of them a sample.
    group.sampling_mode(SamplingMode::Flat);
    let [parse, floor, c1, c2, d1, d2, f1, f2] = THROUGHPUTS.map(|(id, _)| id);
    group.bench_function(parse, |b| b.iter(|| parse_floor(lines.iter().copied())));
    group.bench_function(floor, |b| {
        b.iter(|| lines.iter().map(|l| hand.eval(l)).sum::<usize>())
    });
    for (id, set, threads, mode) in [
        (c1, &bench, 1, Mode::Classify),
        (c2, &bench, 2, Mode::Classify),
        (d1, &bench, 1, Mode::Diagnose),
        (d2, &bench, 2, Mode::Diagnose),
        (f1, &default, 1, Mode::Diagnose),
        (f2, &default, 2, Mode::Diagnose),
    ] {
        group.bench_function(id, |b| b.iter(|| rulecheck(set, &data, threads, mode)));
    }
    group.finish();
}

/// One process: start, load the default rulebook, evaluate one capture, print; against
/// the same binary's `--version` and a trivial Rust binary (spawning included for all).
fn one_process(c: &mut Criterion, exe: &std::path::Path, trivial: Option<&std::path::Path>) {
    if !exe.exists() {
        return;
    }
    let capture = std::env::temp_dir().join("rulecheck-bench-capture.json");
    std::fs::write(&capture, workload(1)).unwrap();
    let capture = capture.to_str().unwrap().to_owned();
    let mut group = c.benchmark_group("one-process");
    group.sample_size(20);
    group.sampling_mode(SamplingMode::Flat);
    let mut programs = vec![
        ("eval-capture", exe, vec!["eval", capture.as_str()]),
        ("version", exe, vec!["--version"]),
    ];
    if let Some(trivial) = trivial {
        programs.push(("trivial-binary", trivial, vec![]));
    }
    for (id, program, args) in programs {
        group.bench_function(id, |b| {
            b.iter(|| {
                std::process::Command::new(program)
                    .args(&args)
                    .output()
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// The ratios the targets are set on (docs/performance.md), from this run's medians.
fn print_ratios(results: &std::path::Path, since: std::time::SystemTime, n: usize) {
    print_throughputs(results, since, n);
    print_one_process(results, since);
}

fn print_throughputs(results: &std::path::Path, since: std::time::SystemTime, n: usize) {
    let per_capture =
        |id: &str| median_ns(results, "throughput", id, since).map(|ns| ns / n as f64);
    if THROUGHPUTS.iter().all(|(id, _)| per_capture(id).is_none()) {
        return;
    }
    println!("\nper capture (median of criterion's samples):");
    for (id, label) in THROUGHPUTS {
        match per_capture(id) {
            Some(ns) => println!(
                "  {label:<48} {:>10.0} captures/s  {:>7.2} µs",
                1e9 / ns,
                ns / 1e3
            ),
            None => println!("  {label:<48} (not measured in this run)"),
        }
    }
    let ratio = |label: &str, a: &str, b: &str, target: &str| match (per_capture(a), per_capture(b))
    {
        (Some(a), Some(b)) => println!("  {label:<40} {:>5.2}×  {target}", a / b),
        _ => println!("  {label:<40}   —    (not measured in this run)"),
    };
    println!("cost ratios (lower is better):");
    ratio(
        "--summary, bench / hand-coded floor",
        "bench-classify-1t",
        "hand-floor",
        "(target ≤ 1.5)",
    );
    ratio(
        "--summary, bench / parse floor",
        "bench-classify-1t",
        "parse-floor",
        "(target ≤ 0.95)",
    );
    ratio(
        "full diagnoses, bench / hand-coded floor",
        "bench-diagnose-1t",
        "hand-floor",
        "",
    );
    ratio(
        "full diagnoses, bench / parse floor",
        "bench-diagnose-1t",
        "parse-floor",
        "(target ≤ 1.5)",
    );
    ratio(
        "default rulebook / parse floor",
        "default-diagnose-1t",
        "parse-floor",
        "(target ≤ 2.2)",
    );
    println!("speed-up from 1 to 2 threads (higher is better):");
    ratio(
        "--summary, bench rulebook",
        "bench-classify-1t",
        "bench-classify-2t",
        "(target ≥ 1.7)",
    );
    ratio(
        "full diagnoses, bench rulebook",
        "bench-diagnose-1t",
        "bench-diagnose-2t",
        "(target ≥ 1.7)",
    );
    ratio(
        "full diagnoses, default rulebook",
        "default-diagnose-1t",
        "default-diagnose-2t",
        "(target ≥ 1.7)",
    );
}

fn print_one_process(results: &std::path::Path, since: std::time::SystemTime) {
    let spawn = |id: &str| median_ns(results, "one-process", id, since);
    match (
        spawn("eval-capture"),
        spawn("version"),
        spawn("trivial-binary"),
    ) {
        (Some(one), Some(version), trivial) => {
            println!(
                "one `rulecheck eval capture.json`: {:.2} ms (target ≤ 50 ms); `rulecheck --version`: {:.2} ms ({:.1}×)",
                one / 1e6,
                version / 1e6,
                one / version
            );
            match trivial {
                Some(t) => println!(
                    "a trivial Rust binary (`fn main() {{}}`, rustc -O): {:.2} ms; ratio {:.1}×",
                    t / 1e6,
                    one / t
                ),
                None => println!("(no rustc on the PATH: no trivial binary to compare with)"),
            }
        }
        _ => println!("(one process not measured in this run)"),
    }
}

/// Instructions a capture by callgrind, which does not vary as wall time does: each
/// measurement alone (`--once`) over 2,000 and 4,000 captures, the difference over 2,000
/// so start-up and rulebook loading cancel out. Skipped if valgrind is not installed.
fn instruction_ratios() {
    let have_valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_valgrind {
        println!("\n(valgrind is not installed: no instruction counts)");
        return;
    }
    let me = std::env::current_exe().unwrap();
    let dir = std::env::temp_dir();
    let sizes = [2_000usize, 4_000];
    let files = sizes.map(|n| {
        let file = dir.join(format!("rulecheck-bench-{n}.jsonl"));
        std::fs::write(&file, workload(n)).unwrap();
        file
    });
    let modes = [
        "parse",
        "hand",
        "bench-summary",
        "bench",
        "default",
        "bench-jsonl",
        "default-jsonl",
    ];
    let jobs: Vec<(usize, usize)> = (0..modes.len())
        .flat_map(|m| (0..files.len()).map(move |f| (m, f)))
        .collect();
    // Counting does not depend on the machine's load: both cores count at once.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let counts = std::sync::Mutex::new(vec![[None::<u64>; 2]; modes.len()]);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(&(m, f)) =
                    jobs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let count = callgrind_instructions(&me, modes[m], &files[f]);
                    counts.lock().unwrap()[m][f] = count;
                }
            });
        }
    });
    for file in &files {
        let _ = std::fs::remove_file(file);
    }
    let counts = counts.into_inner().unwrap();
    let per_capture = |mode: &str| -> Option<f64> {
        let m = modes.iter().position(|x| *x == mode)?;
        let [Some(a), Some(b)] = counts[m] else {
            return None;
        };
        Some((b as f64 - a as f64) / (sizes[1] - sizes[0]) as f64)
    };
    println!("\ninstructions a capture (callgrind, 2,000 → 4,000 captures, one thread):");
    for (mode, label) in [
        ("parse", "parse floor"),
        ("hand", "hand-coded floor"),
        ("bench-summary", "--summary, bench rulebook"),
        ("bench", "diagnoses alone, bench rulebook"),
        ("default", "diagnoses alone, default rulebook"),
        ("bench-jsonl", "--format jsonl, bench rulebook"),
        ("default-jsonl", "--format jsonl, default rulebook"),
    ] {
        match per_capture(mode) {
            Some(i) => println!("  {label:<40} {:>7.1}k", i / 1e3),
            None => println!("  {label:<40} (callgrind failed)"),
        }
    }
    let ratio = |label: &str, a: &str, b: &str, target: &str| {
        if let (Some(a), Some(b)) = (per_capture(a), per_capture(b)) {
            println!("  {label:<40} {:>5.2}×  {target}", a / b);
        }
    };
    ratio(
        "--summary, bench / hand-coded floor",
        "bench-summary",
        "hand",
        "(target ≤ 1.5)",
    );
    ratio(
        "--summary, bench / parse floor",
        "bench-summary",
        "parse",
        "(target ≤ 0.95)",
    );
    ratio(
        "diagnoses alone, bench / hand-coded floor",
        "bench",
        "hand",
        "",
    );
    ratio("diagnoses alone, bench / parse floor", "bench", "parse", "");
    ratio(
        "diagnoses alone, default / parse floor",
        "default",
        "parse",
        "",
    );
    // What the issue measured as full diagnoses: the report written as JSON Lines
    // through the output's masking boundary, not only the diagnosis made.
    ratio(
        "--format jsonl, bench / parse floor",
        "bench-jsonl",
        "parse",
        "(target ≤ 1.5)",
    );
    ratio(
        "--format jsonl, default / parse floor",
        "default-jsonl",
        "parse",
        "(target ≤ 2.2)",
    );
}

/// The instructions callgrind counts for one `--once` measurement over a file.
fn callgrind_instructions(me: &std::path::Path, mode: &str, file: &std::path::Path) -> Option<u64> {
    let out = std::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(me)
        .args(["--once", mode])
        .arg(file)
        .output()
        .ok()?;
    measure::collected(&out)
}

/// Peak resident memory of a bulk run on the workload and on ten times as much, read
/// from standard input: a streaming run holds a batch or two, however long the input.
fn peak_memory(exe: &std::path::Path) {
    let me = std::env::current_exe().unwrap();
    let peak = |repeat: &str, format: &[&str]| -> Option<u64> {
        let out = std::process::Command::new(&me)
            .args(["--peak-rss", repeat])
            .arg(exe)
            .args(["eval", "-"])
            .args(format)
            .output()
            .ok()?;
        let kb = String::from_utf8_lossy(&out.stdout).trim().parse().ok();
        kb.filter(|kb| *kb > 0)
    };
    let mb = workload(CAPTURES).len() as f64 / 1e6;
    println!(
        "peak memory, {CAPTURES} captures ({mb:.0} MB) on stdin, and ten times as many ({:.0} MB):",
        mb * 10.0
    );
    for (label, format) in [
        ("--summary", &["--summary"][..]),
        ("--format jsonl", &["--format", "jsonl"][..]),
    ] {
        match (peak("1", format), peak("10", format)) {
            (Some(a), Some(b)) => println!(
                "  {label:<16} {:>7.1} MB → {:>7.1} MB  ({:.2}×, target ≤ 1.2 and ≤ 16 MB)",
                a as f64 / 1024.0,
                b as f64 / 1024.0,
                b as f64 / a as f64
            ),
            _ => println!("  {label:<16} (peak memory is measured on 64-bit Linux only)"),
        }
    }
}

/// `getrusage(who)` as its 18 longs (64-bit Linux: `ru_utime` and `ru_stime` as
/// seconds and microseconds at 0–3, `ru_maxrss` in KB at 4).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[allow(unsafe_code)] // std has no getrusage; this is the bench's only FFI call.
fn rusage(who: i32) -> Option<[i64; 18]> {
    #[repr(C)]
    struct RUsage([i64; 18]);
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut RUsage) -> i32;
    }
    let mut usage = RUsage([0; 18]);
    // SAFETY: `usage` is a writable `struct rusage` of the platform's size and layout.
    let rc = unsafe { getrusage(who, &mut usage) };
    (rc == 0).then_some(usage.0)
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn rusage(_who: i32) -> Option<[i64; 18]> {
    None
}

/// The largest peak resident set (KB) of this process's waited-for children.
fn children_peak_rss_kb() -> Option<u64> {
    const RUSAGE_CHILDREN: i32 = -1;
    u64::try_from(rusage(RUSAGE_CHILDREN)?[4]).ok()
}

/// CPU time (user and system, all threads) this process has used, in seconds.
fn cpu_seconds() -> Option<f64> {
    const RUSAGE_SELF: i32 = 0;
    let u = rusage(RUSAGE_SELF)?;
    Some((u[0] + u[2]) as f64 + (u[1] + u[3]) as f64 / 1e6)
}

/// The speed-up from one to two threads with the runs alternated (1, 2, 1, 2, …), each
/// ratio taken within a pair: a machine whose speed drifts (a neighbour, the
/// hypervisor) slows both runs of a pair alike, where criterion's samples of one
/// benchmark come minutes after the other's. CPU time says whether two threads
/// cost more work, or only got less of the machine.
fn scaling() {
    let data = workload(CAPTURES);
    let bench = bench_rules();
    let default = default_rules();
    println!("\n1 → 2 threads, 9 alternated pairs of runs over {CAPTURES} captures (median):");
    for (label, set, mode) in [
        ("--summary, bench rulebook", &bench, Mode::Classify),
        ("full diagnoses, bench rulebook", &bench, Mode::Diagnose),
        ("full diagnoses, default rulebook", &default, Mode::Diagnose),
    ] {
        let run = |threads: usize| {
            let (cpu, wall) = (cpu_seconds(), std::time::Instant::now());
            black_box(rulecheck(set, &data, threads, mode));
            let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
            (wall.elapsed().as_secs_f64(), cpu)
        };
        run(2); // warm-up: every pattern built, the allocator's arenas made
        let pairs: Vec<_> = (0..9).map(|_| (run(1), run(2))).collect();
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let speed_up = median(pairs.iter().map(|((one, _), (two, _))| one / two).collect());
        let cpu = pairs
            .iter()
            .map(|((_, one), (_, two))| Some(two.as_ref()? / one.as_ref()?))
            .collect::<Option<Vec<f64>>>()
            .map(median);
        let cpu = cpu.map_or(String::new(), |r| format!(", CPU time ×{r:.2}"));
        println!("  {label:<40} {speed_up:>5.2}×  (target ≥ 1.7{cpu})");
    }
}

/// A trivial Rust program, compiled now by the toolchain's `rustc` (`$RUSTC`, else the
/// PATH), whose start-up one `rulecheck eval` is compared with; `None` if it cannot be
/// built.
fn trivial_binary() -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir();
    let source = dir.join("rulecheck-bench-trivial.rs");
    let exe = dir.join("rulecheck-bench-trivial");
    std::fs::write(&source, "fn main() {}\n").ok()?;
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let built = std::process::Command::new(rustc)
        .args(["-O", "-o"])
        .arg(&exe)
        .arg(&source)
        .status()
        .ok()?;
    built.success().then_some(exe)
}
