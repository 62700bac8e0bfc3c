//! The report as Markdown, for a support ticket or a chat: the call, the top diagnosis
//! with its evidence and fix, the guide's checks, the other findings in a line each,
//! and what to keep for support. Everything from the capture is in code spans (shown
//! as it is, never as links or markup); the rulebook's prose is escaped, so a message
//! quoting a hostile body cannot inject a link or an image into the ticket.

use std::fmt::Write as _;

use super::CaptureReport;
use super::text::quote;
use crate::evaluate::Finding;
use crate::rulebook::Lang;

struct Labels {
    call: &'static str,
    no_response: &'static str,
    request_id: &'static str,
    client: &'static str,
    client_error: &'static str,
    input: &'static str,
    evidence: &'static str,
    fix: &'static str,
    checks: &'static str,
    also: &'static str,
    support: &'static str,
    no_request_id: &'static str,
    keep: &'static str,
    never_key: &'static str,
    no_findings: &'static str,
    lacks: &'static str,
    more: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::En => Labels {
            call: "Call",
            no_response: "no response",
            request_id: "Request id",
            client: "Client",
            client_error: "Client error",
            input: "Read from",
            evidence: "Evidence",
            fix: "Fix",
            checks: "Check, in this order",
            also: "Also found",
            support: "For support",
            no_request_id: "not in this input (the gateway's `X-Oneapi-Request-Id` response header, or the id in its error message)",
            keep: "Also keep: the time of the call, the model and the request's parameters.",
            never_key: "Never send the API key.",
            no_findings: "No diagnosis: nothing in this capture matched a rule.",
            lacks: "Not in this input",
            more: "More",
        },
        Lang::Zh => Labels {
            call: "请求",
            no_response: "无响应",
            request_id: "请求 ID",
            client: "客户端",
            client_error: "客户端错误",
            input: "读取自",
            evidence: "证据",
            fix: "修复",
            checks: "请按以下顺序检查",
            also: "其他发现",
            support: "发给客服",
            no_request_id: "此输入中没有（见网关响应头 `X-Oneapi-Request-Id` 或错误信息中的 request id）",
            keep: "另请保留：请求时间、模型名称和请求参数。",
            never_key: "切勿发送 API Key。",
            no_findings: "无诊断：此捕获未匹配任何规则。",
            lacks: "此输入中缺少",
            more: "详情",
        },
    }
}

/// One capture's report as Markdown.
pub fn render_capture_markdown(r: &CaptureReport, lang: Lang) -> String {
    let l = labels(lang);
    let d = &r.diagnosis;
    let mut out = String::new();
    let top = d.findings.first();
    let _ = match top {
        Some(f) => writeln!(out, "### {} ({})", prose(&f.title), code(&f.id)),
        None => writeln!(out, "### rulecheck: {}", prose(l.no_findings)),
    };
    out.push('\n');
    let request: Vec<&str> = [d.method.as_deref(), d.url.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let status = d
        .status
        .map_or_else(|| l.no_response.to_owned(), |s| format!("**{s}**"));
    let mut facts = Vec::new();
    facts.push(if request.is_empty() {
        format!("**{}:** → {status}", l.call)
    } else {
        format!("**{}:** {} → {status}", l.call, code(&request.join(" ")))
    });
    if let Some(id) = &d.request_id {
        facts.push(format!("**{}:** {}", l.request_id, code(id)));
    }
    if let Some(client) = &d.client {
        facts.push(format!("**{}:** {}", l.client, code(client)));
    }
    if let Some(e) = &d.client_error {
        facts.push(format!("**{}:** {}", l.client_error, code(&quote(e))));
    }
    let mut source = r.source.clone();
    if !r.locator.is_empty() {
        source.push_str(&format!(" ({})", r.locator));
    }
    facts.push(format!(
        "**{}:** {} ({})",
        l.input,
        code(&source),
        prose(&r.format)
    ));
    if !r.lacks.is_empty() {
        let parts: Vec<String> = r.lacks.iter().map(|p| code(p)).collect();
        facts.push(format!("**{}:** {}", l.lacks, parts.join(", ")));
    }
    // Two spaces end a Markdown line without starting a paragraph.
    out.push_str(&facts.join("  \n"));
    out.push('\n');

    if let Some(f) = top {
        render_top(&mut out, f, &l);
    }
    let checks = d.findings.iter().find(|f| !f.checks.is_empty());
    if let Some(g) = checks.filter(|g| top.is_some_and(|t| t.id != g.id)) {
        let _ = writeln!(out, "\n**{}:**\n", l.checks);
        for (i, c) in g.checks.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", i + 1, prose(c));
        }
    }
    let others: Vec<&Finding> = d
        .findings
        .iter()
        .skip(1)
        .filter(|f| f.checks.is_empty())
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "\n**{}:**\n", l.also);
        for f in others {
            let _ = writeln!(
                out,
                "- {}: {} ({})",
                f.severity.name(),
                prose(&f.title),
                code(&f.id)
            );
        }
    }

    let _ = writeln!(out, "\n**{}:**\n", l.support);
    match d.findings.iter().find_map(|f| f.support.as_deref()) {
        Some(support) => {
            for line in support.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(out, "- {}", prose(line));
            }
        }
        None => {
            let id = d
                .request_id
                .as_deref()
                .map_or_else(|| l.no_request_id.to_owned(), code);
            let _ = writeln!(out, "- {}: {id}", l.request_id);
            if let Some(s) = d.status {
                let _ = writeln!(out, "- HTTP {s}");
            }
            let _ = writeln!(out, "- {}", l.keep);
        }
    }
    let _ = writeln!(out, "- {}", l.never_key);
    out
}

/// The top diagnosis in full: what it means, the evidence, the fix, the guide's checks
/// when it is the guide's own advice, and where to read more.
fn render_top(out: &mut String, f: &Finding, l: &Labels) {
    let _ = writeln!(out, "\n{}", prose(&f.message).replace('\n', "  \n"));
    if !f.evidence.is_empty() {
        let _ = writeln!(out, "\n**{}:**\n", l.evidence);
        for e in &f.evidence {
            let _ = writeln!(out, "- {} = {}", code(e.fact), code(&quote(&e.value)));
        }
    }
    if let Some(fix) = &f.fix {
        let _ = writeln!(out, "\n**{}:** {}", l.fix, prose(fix).replace('\n', "  \n"));
    }
    if !f.checks.is_empty() {
        let _ = writeln!(out, "\n**{}:**\n", l.checks);
        for (i, c) in f.checks.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", i + 1, prose(c));
        }
    }
    if let Some(docs) = f.docs {
        let _ = writeln!(out, "\n{}: {}", l.more, code(docs));
    }
}

/// Text in a code span, shown as it is: fenced by one more backtick than the longest
/// run inside it, padded when it starts or ends with one; line breaks become spaces
/// (a code span is one line of a list item or a paragraph).
fn code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || longest > 0 {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Prose with every character that Markdown (CommonMark or GitHub's) reads as markup
/// escaped: no link, image, HTML, emphasis, table cell or heading can come from it.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut line_start = true;
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '+' | '-' | '=' if line_start => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        line_start = c == '\n' || (line_start && c == ' ');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{code, prose};

    #[test]
    fn code_spans_hold_backticks_and_line_breaks() {
        assert_eq!(code("sk-abc"), "`sk-abc`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("``x"), "``` ``x ```");
        assert_eq!(code("a\nb"), "`a b`");
    }

    #[test]
    fn prose_cannot_carry_links_images_or_html() {
        let hostile = "see ![x](http://evil/) and [click](http://evil) <script>*bold*</script>";
        let out = prose(hostile);
        let mut escaped = false;
        for c in out.chars() {
            if "![]<>*".contains(c) {
                assert!(escaped, "an unescaped {c} in {out}");
            }
            escaped = c == '\\' && !escaped;
        }
        assert_eq!(prose("# heading\n- item"), "\\# heading\n\\- item");
        assert_eq!(prose("max_tokens"), "max\\_tokens");
    }
}
