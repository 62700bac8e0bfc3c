//! Work that must grow linearly with its input (issue 21): 8× the input may cost at
//! most 10× the instructions. Each measurement runs on N and 8N, and the bench prints
//! the 8N/N ratio of criterion's medians and, when valgrind is installed, of the
//! instructions callgrind counts inside the measured call alone:
//!
//! - `log`: reading a gateway log of N and 8N lines, requests interleaved;
//! - `har`: reading a HAR of N and 8N entries, each call retried, retries interleaved;
//! - `named-eval`: diagnosing N and 8N captures with a rulebook of nested named
//!   conditions (each level uses the one below twice, within `condition-nodes`);
//! - `named-load`: loading a rulebook of N and 8N levels of such named conditions, far
//!   over `condition-nodes`: refused at load, in time linear in the file.
//!
//! Run: `cargo bench --bench linear` (docs/performance.md); a few seconds.

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

use criterion::{BenchmarkId, SamplingMode};

use rulecheck::capture::Capture;
use rulecheck::evaluate::{EvalOptions, diagnose};
use rulecheck::rulebook::{LoadOptions, RuleSet};

mod measure;
use measure::criterion_filter;

/// The median of `linear/<case>/<n>` saved in this run (see [`measure::median_ns`]).
fn median_ns(
    results: &std::path::Path,
    case: &str,
    n: usize,
    since: std::time::SystemTime,
) -> Option<f64> {
    measure::median_ns(results, "linear", &format!("{case}/{n}"), since)
}

/// Each measurement, and its N (8N is measured too).
const CASES: [(&str, usize, &str); 4] = [
    ("log", 2_000, "gateway log, lines"),
    ("har", 500, "HAR, entries"),
    ("named-eval", 200, "nested named conditions, captures"),
    ("named-load", 50, "doubling named conditions, levels"),
];

/// A gateway log of `n` lines: requests of an [ERR] and a [GIN] line each, every
/// request's [GIN] line after the next request's [ERR] line.
fn log_text(n: usize) -> String {
    let id = |k: usize| format!("2026120109301500{k:016}");
    let err = |k: usize| {
        format!(
            "[ERR] 2026/12/01 - 09:30:15 | {} | relay error (channel #5): 当前分组上游负载已饱和，请稍后再试 (request id: {})\n",
            id(k),
            id(k)
        )
    };
    let gin = |k: usize| {
        format!(
            "[GIN] 2026/12/01 - 09:30:16 | {} | {} |  94.358928ms |  192.168.96.6 | POST /v1/chat/completions\n",
            id(k),
            [429, 500, 503][k % 3]
        )
    };
    let requests = n / 2;
    let mut out = String::new();
    for k in 0..requests {
        out.push_str(&err(k));
        if k > 0 {
            out.push_str(&gin(k - 1));
        }
    }
    out.push_str(&gin(requests.saturating_sub(1)));
    out
}

/// A HAR of `n` failed calls, each sent twice, the retries interleaved (calls 0, 1,
/// 0, 1, 2, 3, 2, 3, …): `n / 2` groups of two attempts.
fn har_text(n: usize) -> String {
    let entries: Vec<String> = (0..n)
        .map(|j| {
            let call = (j / 4) * 2 + j % 2;
            format!(
                r#"{{"startedDateTime": "2026-08-19T09:33:13.000Z", "request": {{"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions", "headers": [{{"name": "Authorization", "value": "Bearer sk-x"}}, {{"name": "Content-Type", "value": "application/json"}}], "postData": {{"mimeType": "application/json", "text": "{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"call {call}\"}}]}}"}}}}, "response": {{"status": {}, "headers": [{{"name": "Content-Type", "value": "application/json"}}], "content": {{"mimeType": "application/json", "text": "{{\"error\":{{\"message\":\"upstream error (call {call})\"}}}}"}}}}}}"#,
                [429, 500, 503][call % 3]
            )
        })
        .collect();
    format!(
        r#"{{"log": {{"version": "1.2", "creator": {{"name": "bench"}}, "entries": [{}]}}}}"#,
        entries.join(",\n")
    )
}

/// A rulebook whose named condition `l<i>` uses `l<i-1>` twice, `levels` levels, and
/// a rule on each of the top `rules` levels.
fn named_rulebook(levels: usize, rules: usize) -> String {
    let mut text = String::from(
        "format: rulecheck/v1\nname: nested\nversion: 1.0.0\ncategories:\n  - { id: c, title: C }\nconditions:\n  l0: { any: [ { status: 429 }, { error.message: { contains: quota } } ] }\n",
    );
    for i in 1..levels {
        text.push_str(&format!(
            "  l{i}: {{ any: [ {{ all: [ {{ status: {{ gte: 500 }} }}, {{ condition: l{p} }} ] }}, {{ condition: l{p} }} ] }}\n",
            p = i - 1
        ));
    }
    text.push_str("rules:\n");
    for i in levels.saturating_sub(rules)..levels {
        text.push_str(&format!(
            "  - {{ id: r{i}, title: t, category: c, severity: error, message: m, when: {{ condition: l{i} }} }}\n"
        ));
    }
    text
}

/// The nested rulebook `named-eval` diagnoses with: 6 levels, a rule on each.
fn nested_rules() -> RuleSet {
    let rb = rulecheck::rulebook::load_str(
        "nested.yaml",
        &named_rulebook(6, 6),
        &LoadOptions::default(),
    )
    .unwrap();
    RuleSet::new(vec![rb]).unwrap()
}

/// `n` captures of the statuses and messages the nested rulebook tests.
fn captures(n: usize) -> Vec<Capture> {
    (0..n)
        .map(|i| {
            let (status, message) = [
                (429, "rate limited"),
                (500, "upstream error"),
                (503, "quota exhausted"),
                (401, "invalid token"),
            ][i % 4];
            rulecheck::input::capture_from(serde_json::json!({
                "request": {"method": "POST", "url": "https://api.moleapi.com/v1/chat/completions"},
                "response": {"status": status, "body": {"error": {"message": format!("{message} ({i})")}}}
            }))
            .unwrap()
        })
        .collect()
}

/// One measured call's input, made before it is measured.
enum Input {
    Text(String),
    Eval(RuleSet, Vec<Capture>),
}

fn input(case: &str, n: usize) -> Input {
    match case {
        "log" => Input::Text(log_text(n)),
        "har" => Input::Text(har_text(n)),
        "named-eval" => Input::Eval(nested_rules(), captures(n)),
        "named-load" => Input::Text(named_rulebook(n, 1)),
        other => panic!("no case {other}"),
    }
}

/// The measured call; callgrind counts only inside it (`--toggle-collect`).
#[inline(never)]
fn linear_bench_counted(case: &str, input: &Input) -> usize {
    match (case, input) {
        ("log", Input::Text(t)) => rulecheck::input::log::read(t).unwrap().len(),
        ("har", Input::Text(t)) => rulecheck::input::har::read(t, false, 200_000)
            .unwrap()
            .len(),
        ("named-eval", Input::Eval(set, captures)) => captures
            .iter()
            .map(|c| diagnose(set, c, EvalOptions::default()).findings.len())
            .sum(),
        ("named-load", Input::Text(t)) => {
            match rulecheck::rulebook::load_str("nested.yaml", t, &LoadOptions::default()) {
                Ok(_) => 0,
                Err(errors) => errors.len(),
            }
        }
        _ => panic!("no case {case}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `-- --once CASE N`: one measured call on N, what callgrind counts.
    if let Some(i) = args.iter().position(|a| a == "--once") {
        let case = &args[i + 1];
        let n: usize = args[i + 2].parse().unwrap();
        let input = input(case, n);
        black_box(linear_bench_counted(case, &input));
        return;
    }
    let (measuring, started, results, mut c) = measure::criterion_setup(
        &args,
        Duration::from_millis(200),
        Duration::from_millis(500),
    );
    // Each case's sanity first: the inputs are what the docs say they are.
    assert_eq!(
        linear_bench_counted("log", &input("log", 8)),
        4,
        "log: n / 2 requests"
    );
    assert_eq!(
        linear_bench_counted("har", &input("har", 8)),
        4,
        "har: n / 2 groups"
    );
    let mut group = c.benchmark_group("linear");
    group.sampling_mode(SamplingMode::Flat);
    for (case, n, _) in CASES {
        for n in [n, 8 * n] {
            let input = input(case, n);
            group.bench_function(BenchmarkId::new(case, n), |b| {
                b.iter(|| linear_bench_counted(case, &input))
            });
        }
    }
    group.finish();
    c.final_summary();
    if !measuring {
        return;
    }
    let filter = criterion_filter(&args);
    print_ratios(&results, started, filter);
}

/// For each case criterion measured in this run: the medians on N and 8N and their
/// ratio, and the same for callgrind's instructions if valgrind is installed.
fn print_ratios(results: &std::path::Path, since: std::time::SystemTime, filter: Option<&str>) {
    let measured: Vec<_> = CASES
        .iter()
        .filter(|(case, n, _)| median_ns(results, case, *n, since).is_some())
        .collect();
    if measured.is_empty() {
        return;
    }
    let counts = instructions(&measured);
    println!("\n8× the input (target: ≤ 10× the cost; quadratic work would be ~64×):");
    println!(
        "  {:<48} {:>10} {:>10} {:>7}   {:>10} {:>10} {:>7}",
        "case (N → 8N)", "time N", "time 8N", "ratio", "instr N", "instr 8N", "ratio"
    );
    for (i, (case, n, label)) in measured.iter().enumerate() {
        let (a, b) = (
            median_ns(results, case, *n, since),
            median_ns(results, case, 8 * n, since),
        );
        let time = match (a, b) {
            (Some(a), Some(b)) => format!("{:>8.2}ms {:>8.2}ms {:>6.2}×", a / 1e6, b / 1e6, b / a),
            _ => format!("{:>31}", "(not measured)"),
        };
        let instr = match counts.get(i).copied().flatten() {
            Some((a, b)) => format!(
                "{:>9.2}M {:>9.2}M {:>6.2}×",
                a as f64 / 1e6,
                b as f64 / 1e6,
                b as f64 / a as f64
            ),
            None => "(no callgrind)".to_owned(),
        };
        println!(
            "  {:<44} {time}   {instr}",
            format!("{label} ({n} → {})", 8 * n)
        );
    }
    if let Some(filter) = filter.filter(|_| measured.len() < CASES.len()) {
        println!("  (cases left out by the filter `{filter}` are not shown)");
    }
}

/// Instructions inside the measured call on N and 8N for each case, two at a time
/// (one per core): `None` for all if valgrind is not installed.
fn instructions(cases: &[&(&str, usize, &str)]) -> Vec<Option<(u64, u64)>> {
    let have_valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_valgrind {
        println!("\n(valgrind is not installed: no instruction counts)");
        return vec![None; cases.len()];
    }
    let me = std::env::current_exe().unwrap();
    let jobs: Vec<(usize, usize, &str, usize)> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, (case, n, _))| [(i, 0, *case, *n), (i, 1, *case, 8 * n)])
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let counts = std::sync::Mutex::new(vec![[None::<u64>; 2]; cases.len()]);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while let Some(&(i, k, case, n)) =
                    jobs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let count = callgrind_instructions(&me, case, n);
                    counts.lock().unwrap()[i][k] = count;
                }
            });
        }
    });
    counts
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|[a, b]| a.zip(b))
        .collect()
}

/// The instructions callgrind counts inside `linear_bench_counted` for one case.
fn callgrind_instructions(me: &std::path::Path, case: &str, n: usize) -> Option<u64> {
    let out = std::process::Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--collect-atstart=no",
            "--toggle-collect=*linear_bench_counted*",
        ])
        .arg(me)
        .args(["--once", case, &n.to_string()])
        .output()
        .ok()?;
    measure::collected(&out)
}
