//! Reports: the findings of each capture, rendered for people (text, Markdown) or programs
//! (JSON, described by `schemas/report.schema.json`). Rendering only formats; every
//! string was redacted before it got here.

mod markdown;
mod text;

use serde::Serialize;

pub use markdown::render_capture_markdown;
pub use text::{render_capture_text, render_skipped_rules, render_text};

use crate::evaluate::Diagnosis;
use crate::rulebook::{ENGINE_VERSION, RuleSet};

/// The whole output of one `rulecheck eval` run.
#[derive(Clone, Debug, Serialize)]
pub struct Report<'s> {
    /// The engine's version.
    pub rulecheck: String,
    pub rulebooks: Vec<RulebookInfo>,
    /// One per capture, in input order.
    pub reports: Vec<CaptureReport<'s>>,
    /// Rules left out because they need a newer rulecheck, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<crate::rulebook::SkippedRule>,
}

/// Which rulebook produced the findings: enough to reproduce a diagnosis later.
#[derive(Clone, Debug, Serialize)]
pub struct RulebookInfo {
    pub name: String,
    pub version: String,
    pub source: String,
    /// `sha256:` of the rulebook's text (compare with `sha256sum`).
    pub digest: String,
    /// 0 for the base, 1… for the overlays in the order they were applied.
    pub layer: usize,
}

/// The diagnosis of one capture and where the capture came from.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureReport<'s> {
    /// The input file (`-` for standard input).
    pub source: String,
    /// Where in the input, for inputs holding several captures (`line 3`, `[2]`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub locator: String,
    /// The detected input format.
    pub format: String,
    /// How many identical attempts this report stands for (an SDK's retries).
    #[serde(skip_serializing_if = "is_one")]
    pub attempts: usize,
    /// Parts the input did not hold (`url`, `request.headers`, `request.body`,
    /// `response`, `response.body`): checks on them could not be made.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lacks: Vec<String>,
    /// For text read by its evidence (format `text`): where each piece was found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub read_from: Vec<ReadFrom>,
    #[serde(flatten)]
    pub diagnosis: Diagnosis<'s>,
    /// With `--trace`: every rule's condition on this capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<crate::trace::RuleTrace>>,
}

/// One piece of evidence and the line of the input it was read from.
#[derive(Clone, Debug, Serialize)]
pub struct ReadFrom {
    /// `status`, `url`, `error body`, `exception`.
    pub evidence: &'static str,
    pub line: usize,
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

impl<'s> CaptureReport<'s> {
    /// The report of one capture read from `source`.
    pub fn new(
        source: &str,
        input: &crate::input::InputCapture,
        diagnosis: Diagnosis<'s>,
    ) -> CaptureReport<'s> {
        CaptureReport {
            source: source.to_owned(),
            locator: input.locator.clone(),
            format: input.format.to_owned(),
            attempts: input.attempts,
            lacks: crate::input::lacks(&input.capture)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            read_from: input
                .read_from
                .iter()
                .map(|&(evidence, line)| ReadFrom { evidence, line })
                .collect(),
            diagnosis,
            trace: None,
        }
    }
}

impl<'s> Report<'s> {
    pub fn new(set: &RuleSet, reports: Vec<CaptureReport<'s>>) -> Report<'s> {
        Report {
            rulecheck: ENGINE_VERSION.to_owned(),
            rulebooks: set
                .rulebooks
                .iter()
                .enumerate()
                .map(|(layer, rb)| RulebookInfo {
                    name: rb.name.clone(),
                    version: rb.version.to_string(),
                    source: rb.source.clone(),
                    digest: rb.digest.clone(),
                    layer,
                })
                .collect(),
            reports,
            skipped: set.skipped().cloned().collect(),
        }
    }

    /// What a JSON Lines report carries of the run besides its own fields, as the JSON
    /// members to close each line with (`,"rulecheck":…,"rulebooks":[…]`, and
    /// `"skipped"` when rules were left out): each line names the rulebooks that made
    /// it, as the JSON document does once.
    pub fn jsonl_provenance(set: &RuleSet) -> String {
        let frame = Report::new(set, Vec::new());
        let mut members = format!(
            ",\"rulecheck\":{},\"rulebooks\":{}",
            serde_json::to_string(&frame.rulecheck).unwrap_or_default(),
            serde_json::to_string(&frame.rulebooks).unwrap_or_default()
        );
        if !frame.skipped.is_empty() {
            members.push_str(",\"skipped\":");
            members.push_str(&serde_json::to_string(&frame.skipped).unwrap_or_default());
        }
        members
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The pretty JSON document split around its reports, so they can be written one
    /// at a time as they are made: `head`, then [`json_item`] for each (a comma
    /// before all but the first), then `tail`. The result is [`Report::to_json`]'s.
    pub fn json_frame(set: &RuleSet) -> (String, String) {
        const EMPTY: &str = "\"reports\": []";
        let whole = Report::new(set, Vec::new()).to_json();
        // A key inside a string would have its quotes escaped: the only match is the key.
        match whole.split_once(EMPTY) {
            Some((head, tail)) => (format!("{head}\"reports\": ["), format!("]{tail}\n")),
            None => (whole, "\n".to_owned()),
        }
    }
}

/// One capture's report as a line of JSON Lines, its line break included (a line
/// break alone if it cannot be serialised), every string in it masked as it was
/// written ([`crate::mask::to_masked_line`]) but the rule set's texts that `clean`
/// found clean when the run began ([`RuleSet::texts`]). Written into a buffer sized like the
/// thread's last line (up to 64 KB, so that one huge report does not make the next
/// line hold as much): grown from empty by doubling, a 2 KB line took eight
/// reallocations.
pub fn jsonl_line(report: &CaptureReport, clean: &crate::mask::CleanTexts) -> String {
    thread_local! {
        static LAST_LEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }
    let hint = LAST_LEN.get().min(64 * 1024);
    let buffer = Vec::with_capacity(hint + hint / 4 + 1);
    let line =
        crate::mask::to_masked_line(report, clean, buffer).unwrap_or_else(|_| b"\n".to_vec());
    LAST_LEN.set(line.len());
    // serde_json writes UTF-8; the check is the one `String::from_utf8` always makes.
    String::from_utf8(line).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// One capture's report as an element of [`Report::json_frame`]'s list: a line break
/// and the pretty JSON indented to its depth; after the last, `\n  ` closes the list.
pub fn json_item(report: &CaptureReport) -> String {
    let pretty =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    let mut out = String::with_capacity(pretty.len() + pretty.len() / 8);
    // JSON strings hold no raw line breaks: every line is the document's own.
    for line in pretty.lines() {
        out.push_str("\n    ");
        out.push_str(line);
    }
    out
}
