//! The terminal report. Styles are written as ANSI codes; the caller's output stream
//! (anstream) drops them when stdout is not a terminal or `NO_COLOR` is set.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::{CaptureReport, Report};
use crate::evaluate::Finding;
use crate::rulebook::{Lang, Severity};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Error => AnsiColor::Red.on_default().bold(),
        Severity::Warning => AnsiColor::Yellow.on_default().bold(),
        Severity::Info => AnsiColor::Cyan.on_default().bold(),
    }
}

struct Labels {
    evidence: &'static str,
    fix: &'static str,
    checks: &'static str,
    support: &'static str,
    docs: &'static str,
    request_id: &'static str,
    client_error: &'static str,
    no_findings: &'static str,
    no_response: &'static str,
    attempts: &'static str,
    cut: &'static str,
    lacks: &'static str,
    lacks_printed: &'static str,
    read_from: &'static str,
    line: &'static str,
    lack_url: &'static str,
    lack_headers: &'static str,
    lack_body: &'static str,
    lack_response: &'static str,
    lack_response_body: &'static str,
}

/// How a missing part of the input reads.
fn lack<'a>(l: &'a Labels, part: &'a str) -> &'a str {
    match part {
        "url" => l.lack_url,
        "request.headers" => l.lack_headers,
        "request.body" => l.lack_body,
        "response" => l.lack_response,
        "response.body" => l.lack_response_body,
        other => other,
    }
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::En => Labels {
            evidence: "evidence",
            fix: "fix",
            checks: "Check, in this order:",
            support: "For support (copy and paste):",
            docs: "docs",
            request_id: "request id",
            client_error: "client error",
            no_findings: "No diagnosis: nothing in this capture matched a rule.",
            no_response: "no response",
            attempts: "sent {n} times (the client retried): one diagnosis for all",
            cut: "{part} is longer than rulecheck matches (--limit body-bytes=SIZE, 1 MiB by default): only its start was evaluated",
            lacks: "not in this input",
            lacks_printed: "not in what {client} printed",
            read_from: "read from",
            line: "line",
            lack_url: "the URL (address checks skipped)",
            lack_headers: "request headers (key checks skipped)",
            lack_body: "the request body",
            lack_response: "a response",
            lack_response_body: "the response body",
        },
        Lang::Zh => Labels {
            evidence: "证据",
            fix: "修复",
            checks: "请按以下顺序检查：",
            support: "发给客服（可直接复制）：",
            docs: "文档",
            request_id: "请求 ID",
            client_error: "客户端错误",
            no_findings: "无诊断：此捕获未匹配任何规则。",
            no_response: "无响应",
            attempts: "共发送 {n} 次（客户端自动重试）：诊断相同",
            cut: "{part} 超出匹配上限（--limit body-bytes=SIZE，默认 1 MiB）：只检查了开头部分",
            lacks: "此输入中缺少",
            lacks_printed: "{client} 的输出中缺少",
            read_from: "读取自",
            line: "第 {n} 行",
            lack_url: "URL（已跳过地址检查）",
            lack_headers: "请求头（已跳过密钥检查）",
            lack_body: "请求体",
            lack_response: "响应",
            lack_response_body: "响应体",
        },
    }
}

/// Renders the report for a terminal: each capture's report, a blank line between
/// them, then the rules left out.
pub fn render_text(report: &Report, lang: Lang) -> String {
    let mut out = String::new();
    for (i, r) in report.reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_capture(&mut out, r, lang);
    }
    out.push_str(&render_skipped_rules(&report.skipped));
    out
}

/// One capture's report for a terminal (what [`render_text`] writes for each).
pub fn render_capture_text(report: &CaptureReport, lang: Lang) -> String {
    let mut out = String::new();
    render_capture(&mut out, report, lang);
    out
}

/// The rules left out of a run, as the end of a terminal report.
pub fn render_skipped_rules(skipped: &[crate::rulebook::SkippedRule]) -> String {
    let mut out = String::new();
    for s in skipped {
        let _ = writeln!(
            out,
            "\n{DIM}skipped rule {} ({}): {}{DIM:#}",
            s.rule, s.rulebook, s.reason
        );
    }
    out
}

fn render_capture(out: &mut String, r: &CaptureReport, lang: Lang) {
    let l = labels(lang);
    let d = &r.diagnosis;
    let mut heading = r.source.clone();
    if !r.locator.is_empty() {
        heading.push_str(&format!(" ({})", r.locator));
    }
    let _ = writeln!(out, "{BOLD}{heading}{BOLD:#}");
    let request = [d.method.as_deref(), d.url.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let status = d
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| l.no_response.to_owned());
    if request.is_empty() {
        let _ = writeln!(out, "  → {status}");
    } else {
        let _ = writeln!(out, "  {request} → {status}");
    }
    if r.attempts > 1 {
        let _ = writeln!(
            out,
            "  {DIM}{}{DIM:#}",
            l.attempts.replace("{n}", &r.attempts.to_string())
        );
    }
    if !r.lacks.is_empty() {
        let parts: Vec<&str> = r.lacks.iter().map(|p| lack(&l, p)).collect();
        // What a client printed lacks what the client hid: say which client.
        let printed = matches!(r.format.as_str(), "sdk" | "text");
        let label = match d.client.as_deref() {
            Some(client) if printed => l.lacks_printed.replace("{client}", client),
            _ => l.lacks.to_owned(),
        };
        let _ = writeln!(out, "  {DIM}{label}: {}{DIM:#}", parts.join("; "));
    }
    if !r.read_from.is_empty() {
        let pieces: Vec<String> = r
            .read_from
            .iter()
            .map(|p| {
                let line = if l.line.contains("{n}") {
                    l.line.replace("{n}", &p.line.to_string())
                } else {
                    format!("{} {}", l.line, p.line)
                };
                format!("{} ({line})", p.evidence)
            })
            .collect();
        let _ = writeln!(out, "  {DIM}{}: {}{DIM:#}", l.read_from, pieces.join(", "));
    }
    if let Some(id) = &d.request_id {
        let _ = writeln!(out, "  {DIM}{}: {id}{DIM:#}", l.request_id);
    }
    for part in &d.cut {
        let _ = writeln!(out, "  {DIM}{}{DIM:#}", l.cut.replace("{part}", part));
    }
    if let Some(e) = &d.client_error {
        let _ = writeln!(out, "  {DIM}{}: {}{DIM:#}", l.client_error, quote(e));
    }
    if d.findings.is_empty() {
        let _ = writeln!(out, "\n  {}", l.no_findings);
    }
    for (n, f) in d.findings.iter().enumerate() {
        render_finding(out, n + 1, f, &l);
    }
    if let Some(traces) = &r.trace {
        let _ = writeln!(out, "\n  {BOLD}trace{BOLD:#}");
        for t in traces {
            let mark = if t.holds { "✓" } else { "✗" };
            let _ = writeln!(out, "  {mark} {} — {}", t.rule, t.outcome.describe());
            let mut tree = String::new();
            crate::trace::render(&t.tree, 2, &mut tree);
            out.push_str(&tree);
        }
    }
}

fn render_finding(out: &mut String, n: usize, f: &Finding, l: &Labels) {
    let sev = severity_style(f.severity);
    let _ = writeln!(
        out,
        "\n  {n}. {sev}{:<7}{sev:#} {BOLD}{}{BOLD:#}  {DIM}{}{DIM:#}",
        f.severity.name(),
        f.title,
        f.id
    );
    let indent = "     ";
    if f.message != f.title.split_once(": ").map(|(_, m)| m).unwrap_or("") {
        for line in f.message.lines() {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    for e in &f.evidence {
        let _ = writeln!(
            out,
            "{indent}{DIM}{}:{DIM:#} {} = {}",
            l.evidence,
            e.fact,
            quote(&e.value)
        );
    }
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "{indent}{BOLD}{}:{BOLD:#} {fix}", l.fix);
    }
    if let Some(support) = &f.support {
        let _ = writeln!(out, "{indent}{}", l.support);
        for line in support.lines() {
            let _ = writeln!(out, "{indent}  {line}");
        }
    }
    if !f.checks.is_empty() {
        let _ = writeln!(out, "{indent}{}", l.checks);
        for (i, c) in f.checks.iter().enumerate() {
            let _ = writeln!(out, "{indent}  {}. {c}", i + 1);
        }
    }
    if let Some(docs) = &f.docs {
        let _ = writeln!(out, "{indent}{DIM}{}: {docs}{DIM:#}", l.docs);
    }
}

/// Numbers bare; text quoted with control characters escaped, so a trailing newline
/// or space in a key is visible.
pub(super) fn quote(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        value.to_owned()
    } else {
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.extend(c.escape_default()),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}
