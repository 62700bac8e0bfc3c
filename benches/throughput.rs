//! Throughput of rulecheck against two floors, measured in the same run:
//!
//! - parse floor: only `serde_json` parsing each line into a `serde_json::Value`;
//! - hand-coded floor: the benchmark rulebook's 25 conditions written directly in Rust,
//!   with precompiled regexes over a typed, borrowing parse.
//!
//! Then rulecheck itself on the benchmark rulebook and on the default rulebook, one and
//! two threads, and the start-up of one `rulecheck eval` process against a trivial one.
//! Run: `cargo bench --bench throughput` (docs/performance.md).

use std::hint::black_box;
use std::time::{Duration, Instant};

use regex::Regex;
use rulecheck::bulk::{BulkOptions, run_with};
use rulecheck::evaluate::{classify, diagnose};
use rulecheck::rulebook::{LoadOptions, RuleSet};
use serde::Deserialize;

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
                "body": {"model": model, "messages": [{"role": "user", "content": filler}], "temperature": 0.7}
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

    /// The 25 conditions of bench-rules.yaml; returns how many held.
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
        ];
        conds.iter().filter(|c| **c).count()
    }
}

fn time<T>(label: &str, n: usize, f: impl Fn() -> T) -> f64 {
    // Best of three: shared machines are noisy.
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed());
    }
    let rate = n as f64 / best.as_secs_f64();
    println!(
        "{label:<44} {rate:>10.0} captures/s  {:>7.2} µs/capture",
        1e6 / rate
    );
    rate
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
        },
    )
    .unwrap();
    n
}

fn main() {
    // `cargo bench --bench throughput -- --workload FILE N` writes the workload as JSON
    // Lines instead of measuring (for callgrind and peak-memory runs, docs/performance.md).
    let args: Vec<String> = std::env::args().collect();
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
    if let Some(i) = args.iter().position(|a| a == "--once") {
        let (name, file) = (&args[i + 1], &args[i + 2]);
        let data = std::fs::read_to_string(file).unwrap();
        // Each measurement splits the lines itself (rulecheck reads them as a stream):
        // the count is what each one does with the file's text.
        let count = match name.as_str() {
            "parse" => data
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).is_ok() as usize)
                .sum(),
            "hand" => {
                let hand = HandCoded::new();
                data.lines().map(|l| hand.eval(l)).sum()
            }
            "bench" => rulecheck(&bench_rules(), &data, 1, Mode::Diagnose),
            "default" => rulecheck(
                &RuleSet::default_rulebook(&LoadOptions::default()).unwrap(),
                &data,
                1,
                Mode::Diagnose,
            ),
            "bench-summary" => rulecheck(&bench_rules(), &data, 1, Mode::Classify),
            other => panic!("--once parse|hand|bench|bench-summary|default, not {other}"),
        };
        black_box(count);
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: keep that short.
    let quick = !args.iter().any(|a| a == "--bench");
    let n = if quick { 500 } else { 40_000 };
    let data = workload(n);
    let lines: Vec<&str> = data.lines().collect();
    println!(
        "workload: {n} captures, {:.0} bytes each on average\n",
        data.len() as f64 / n as f64
    );

    let bench = bench_rules();
    let default = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
    let hand = HandCoded::new();

    let parse = time("parse floor (serde_json::Value)", n, || {
        lines
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .map(|v| v.is_object())
                    .unwrap_or(false) as usize
            })
            .sum::<usize>()
    });
    let floor = time("hand-coded floor (25 rules, 1 thread)", n, || {
        lines.iter().map(|l| hand.eval(l)).sum::<usize>()
    });
    let bench1 = time("rulecheck, bench rulebook (25 rules), 1 thread", n, || {
        rulecheck(&bench, &data, 1, Mode::Diagnose)
    });
    let bench2 = time("rulecheck, bench rulebook, 2 threads", n, || {
        rulecheck(&bench, &data, 2, Mode::Diagnose)
    });
    let summary1 = time("rulecheck --summary, bench rulebook, 1 thread", n, || {
        rulecheck(&bench, &data, 1, Mode::Classify)
    });
    let summary2 = time("rulecheck --summary, bench rulebook, 2 threads", n, || {
        rulecheck(&bench, &data, 2, Mode::Classify)
    });
    let default1 = time(
        "rulecheck, default rulebook (37 rules), 1 thread",
        n,
        || rulecheck(&default, &data, 1, Mode::Diagnose),
    );
    let default2 = time("rulecheck, default rulebook, 2 threads", n, || {
        rulecheck(&default, &data, 2, Mode::Diagnose)
    });

    println!("\nratios (cost, lower is better):");
    println!(
        "  bench rulebook / hand-coded floor      {:>5.2}×  (target ≤ 1.5; full diagnoses)",
        floor / bench1
    );
    println!(
        "  bench rulebook / parse floor           {:>5.2}×  (target ≤ 1.0)",
        parse / bench1
    );
    println!(
        "  --summary, bench / hand-coded floor    {:>5.2}×  (classification only)",
        floor / summary1
    );
    println!(
        "  --summary, bench / parse floor         {:>5.2}×",
        parse / summary1
    );
    println!(
        "  default rulebook / parse floor         {:>5.2}×",
        parse / default1
    );
    println!("speed-up from 1 to 2 threads:");
    println!(
        "  bench rulebook                         {:>5.2}×  (target ≥ 1.7)",
        bench2 / bench1
    );
    println!(
        "  --summary, bench rulebook              {:>5.2}×",
        summary2 / summary1
    );
    println!(
        "  default rulebook                       {:>5.2}×",
        default2 / default1
    );

    // One process: start, load the default rulebook, evaluate one capture, print.
    let exe = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/rulecheck");
    if exe.exists() {
        let capture = std::env::temp_dir().join("rulecheck-bench-capture.json");
        std::fs::write(&capture, lines[0]).unwrap();
        let runs = if quick { 3 } else { 50 };
        // The median of `runs` starts (spawning included, the same for every program).
        let spawn = |args: &[&str], program: &std::path::Path| {
            let mut times: Vec<f64> = (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    std::process::Command::new(program)
                        .args(args)
                        .output()
                        .unwrap();
                    t.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            times[runs / 2]
        };
        let one = spawn(&["eval", capture.to_str().unwrap()], &exe);
        let version = spawn(&["--version"], &exe);
        println!(
            "\none `rulecheck eval capture.json`: {:.2} ms; `rulecheck --version`: {:.2} ms ({:.1}×)",
            one * 1e3,
            version * 1e3,
            one / version
        );
        match trivial_binary() {
            Some(trivial) => {
                let trivial = spawn(&[], &trivial);
                println!(
                    "a trivial Rust binary (`fn main() {{}}`, rustc -O): {:.2} ms; ratio {:.1}×  (target ≤ 5)",
                    trivial * 1e3,
                    one / trivial
                );
            }
            None => println!("(no rustc on the PATH: no trivial binary to compare with)"),
        }
    } else {
        println!("\n(build target/release/rulecheck first to measure one process)");
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
