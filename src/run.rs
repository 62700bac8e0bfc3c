//! The run driver behind `rulecheck eval`: inputs → read (or stream JSON Lines) →
//! diagnose or classify → one sink per output format.
//!
//! Every input takes the same road whatever the output: JSON Lines are streamed (flat
//! memory, all cores, input order) in every format, anything else is read whole, and
//! each capture becomes the same report in text, JSON, JSON Lines or a summary's count.
//! A line that cannot be read is skipped with its number, everywhere. Writing stops as
//! soon as the output is gone (`rulecheck eval … | head`): [`Outcome::closed`].

use std::io::{BufRead, IsTerminal, Read, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

use crate::capture::Capture;
use crate::evaluate::{self, Classified, EvalOptions};
use crate::input::{self, InputCapture, InputError, ReadOptions};
use crate::mask::{Boundary, CleanTexts};
use crate::report::{self, CaptureReport, Report};
use crate::rulebook::{Lang, RuleSet};
use crate::summary::Summary;

/// Where a run's captures come from.
#[derive(Clone, Debug)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    File(PathBuf),
    /// One call described without a file (`--status`, `--url`, …).
    Call(Box<Capture>),
    /// Bytes already in memory (an embedder's buffer), read as a file named `name`.
    Bytes {
        name: String,
        bytes: Vec<u8>,
    },
}

impl Input {
    /// The name reports and errors give the input.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_owned(),
            Input::File(p) => p.display().to_string(),
            Input::Call(_) => "flags".to_owned(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }
}

/// What the run writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A report per capture for people, in this language.
    Text(Lang),
    /// A report per capture as Markdown, for a support ticket or a chat.
    Markdown(Lang),
    /// One JSON document (`schemas/report.schema.json`).
    Json,
    /// One JSON report per line.
    Jsonl,
    /// Counts per diagnosis, status, host, path, client: a table, or JSON.
    Summary { json: bool },
}

/// How a run reads, evaluates and writes.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    pub output: Output,
    pub read: ReadOptions,
    pub eval: EvalOptions,
    /// Worker threads for JSON Lines.
    pub threads: usize,
    /// Each report carries every rule's condition tree (not with a summary).
    pub trace: bool,
    /// Show a running count on `err` (for a terminal).
    pub progress: bool,
}

/// How a run went; the CLI turns it into an exit code.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Captures reported (or counted).
    pub captures: usize,
    /// JSON Lines lines skipped (each said on `err` with its number).
    pub skipped_lines: usize,
    /// Inputs that could not be read at all (each said on `err`).
    pub failed_inputs: usize,
    /// The output was closed by its reader: the run stopped there, quietly.
    pub closed: bool,
    /// Writing the output failed otherwise.
    pub write_error: Option<std::io::Error>,
}

/// What the per-capture work leaves for the sink: a rendered report, a JSON Lines
/// report whose every string is masked already, or a count.
enum Item<'s> {
    Rendered(String),
    MaskedLine(String),
    Classified(Classified<'s>),
}

/// Runs every input through `set` and writes the result to `out`, the masking
/// boundary; problems with the inputs (unreadable, skipped lines) go to `err` as
/// `rulecheck: NAME: …`.
pub fn run(
    set: &RuleSet,
    inputs: &[Input],
    options: &RunOptions,
    out: &mut dyn Boundary,
    err: &mut dyn Write,
) -> Outcome {
    let mut sink = Sink::new(set, options, out);
    let mut outcome = Outcome::default();
    // JSON Lines shows the rule set's prose on every line: found clean once, here.
    let clean = match options.output {
        Output::Jsonl => CleanTexts::new(set.texts()),
        _ => CleanTexts::default(),
    };
    if sink.start().is_continue() {
        for input in inputs {
            let read = read_one(set, &clean, input, options, &mut sink, err, &mut outcome);
            if read.is_break() {
                break;
            }
        }
        let _ = sink.finish(outcome.skipped_lines);
    }
    if options.progress && sink.count > 0 {
        let _ = writeln!(err);
    }
    outcome.captures = sink.count;
    match sink.failure {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => outcome.closed = true,
        Some(e) => outcome.write_error = Some(e),
        None => {}
    }
    outcome
}

/// Reads one input and hands its captures to the sink; `Break` when the output is gone.
fn read_one(
    set: &RuleSet,
    clean: &CleanTexts,
    input: &Input,
    options: &RunOptions,
    sink: &mut Sink<'_, '_>,
    err: &mut dyn Write,
    outcome: &mut Outcome,
) -> ControlFlow<()> {
    let name = input.name();
    let fail = |e: &dyn std::fmt::Display, outcome: &mut Outcome, err: &mut dyn Write| {
        let _ = writeln!(err, "rulecheck: {name}: {e}");
        outcome.failed_inputs += 1;
        ControlFlow::Continue(())
    };
    let limit = options.read.limits.input_bytes;
    let mut reader: Box<dyn BufRead + '_> = match input {
        Input::Call(capture) => {
            let item = per_capture(
                set,
                clean,
                &name,
                options,
                InputCapture::new((**capture).clone(), "flags", ""),
            );
            return sink.take(item);
        }
        Input::Stdin => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return fail(
                    &"standard input is a terminal; pipe a capture in or name a file",
                    outcome,
                    err,
                );
            }
            Box::new(std::io::BufReader::with_capacity(1 << 16, stdin))
        }
        Input::File(path) => {
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => return fail(&format_args!("cannot read: {e}"), outcome, err),
            };
            Box::new(std::io::BufReader::with_capacity(1 << 16, file))
        }
        Input::Bytes { bytes, .. } => Box::new(bytes.as_slice()),
    };
    let head = match read_head(&mut reader, limit) {
        Ok(h) => h,
        Err(e) => return fail(&format_args!("cannot read: {e}"), outcome, err),
    };
    if is_json_lines(&head, &mut reader, options.read.format) {
        return stream(set, clean, &name, head, reader, options, sink, err, outcome);
    }
    // Anything else is read whole, up to the limit.
    let mut bytes = head;
    // One byte past the limit says the input is over it; a limit of u64::MAX must not
    // wrap to nothing.
    let room = (limit as u64)
        .saturating_add(1)
        .saturating_sub(bytes.len() as u64);
    if let Err(e) = reader.take(room).read_to_end(&mut bytes) {
        return fail(&format_args!("cannot read: {e}"), outcome, err);
    }
    if bytes.len() > limit {
        let size = match input {
            Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Bytes { bytes, .. } => u64::try_from(bytes.len()).ok(),
            _ => None,
        };
        return fail(&InputError::TooLarge { size, limit }, outcome, err);
    }
    match input::read_with(&bytes, options.read) {
        Ok(captures) => {
            sink.learn(&bytes);
            for c in captures {
                sink.take(per_capture(set, clean, &name, options, c))?;
            }
            ControlFlow::Continue(())
        }
        Err(e) => fail(&e, outcome, err),
    }
}

/// Streams JSON Lines through the bulk reader: a bad line is skipped and said.
#[allow(clippy::too_many_arguments)]
fn stream<'s>(
    set: &'s RuleSet,
    clean: &CleanTexts,
    name: &str,
    head: Vec<u8>,
    reader: Box<dyn BufRead + '_>,
    options: &RunOptions,
    sink: &mut Sink<'_, '_>,
    err: &mut dyn Write,
    outcome: &mut Outcome,
) -> ControlFlow<()> {
    let bulk = crate::bulk::BulkOptions {
        eval: options.eval,
        threads: options.threads.max(1),
        ..Default::default()
    };
    let reader = std::io::Cursor::new(head).chain(reader);
    let work = |set: &'s RuleSet, line: usize, capture: Capture| {
        per_capture(
            set,
            clean,
            name,
            options,
            InputCapture::new(capture, "jsonl", format!("line {line}")),
        )
    };
    let result = crate::bulk::run_with(set, reader, bulk, work, |r| match r {
        Ok(item) => sink.take(item),
        Err(e) => {
            outcome.skipped_lines += 1;
            let _ = writeln!(err, "rulecheck: {name}: line {}: {}", e.line, e.message);
            ControlFlow::Continue(())
        }
    });
    match result {
        Ok(stats) if stats.stopped => ControlFlow::Break(()),
        Ok(_) => ControlFlow::Continue(()),
        Err(e) => {
            let _ = writeln!(err, "rulecheck: {name}: cannot read: {e}");
            outcome.failed_inputs += 1;
            ControlFlow::Continue(())
        }
    }
}

/// The per-capture work, the same for every input: classified for a summary, else
/// diagnosed (and traced) and rendered in the output's format. Runs on the bulk
/// workers for JSON Lines.
fn per_capture<'s>(
    set: &'s RuleSet,
    clean: &CleanTexts,
    source: &str,
    options: &RunOptions,
    input: InputCapture,
) -> Item<'s> {
    if let Output::Summary { .. } = options.output {
        return Item::Classified(evaluate::classify(set, &input.capture, options.eval));
    }
    let diagnosis = evaluate::diagnose(set, &input.capture, options.eval);
    let mut report = CaptureReport::new(source, &input, diagnosis);
    if options.trace {
        report.trace = Some(crate::trace::trace_all_within(
            set,
            &input.capture,
            options.eval.limits.body_bytes,
            options.eval.limits.trace_nodes,
        ));
    }
    match options.output {
        Output::Text(lang) => Item::Rendered(report::render_capture_text(&report, lang)),
        Output::Markdown(lang) => Item::Rendered(report::render_capture_markdown(&report, lang)),
        Output::Json => Item::Rendered(report::json_item(&report)),
        Output::Jsonl | Output::Summary { .. } => {
            Item::MaskedLine(report::jsonl_line(&report, clean))
        }
    }
}

/// Reads the blank lines and the first line of an input, and the blank space after
/// it, keeping at most `max + 1` bytes: enough to tell JSON Lines from the rest
/// without reading further.
fn read_head(reader: &mut dyn BufRead, max: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut seen_text = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() || head.len() > max {
            return Ok(head);
        }
        let take = if seen_text {
            // After the first line: only the blank space before the next one.
            match available.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(0) => return Ok(head),
                Some(n) => n,
                None => available.len(),
            }
        } else {
            match memchr::memchr(b'\n', available) {
                Some(end) => {
                    let line = available.get(..end).unwrap_or_default();
                    seen_text = line.iter().any(|b| !b.is_ascii_whitespace());
                    end + 1
                }
                None => available.len(),
            }
        };
        let room = max.saturating_add(1).saturating_sub(head.len()).min(take);
        head.extend_from_slice(available.get(..room).unwrap_or_default());
        reader.consume(room);
    }
}

/// Whether the input whose `head` was read is JSON Lines: as `--input` says, or as
/// [`input::looks_like_json_lines`] judges from the head and what follows it.
fn is_json_lines(head: &[u8], reader: &mut dyn BufRead, format: Option<input::Format>) -> bool {
    match format {
        Some(f) => f == input::Format::Jsonl,
        None => {
            let ahead = reader.fill_buf().map(<[u8]>::to_vec).unwrap_or_default();
            let mut sample = String::from_utf8_lossy(head).into_owned();
            sample.push_str(&String::from_utf8_lossy(
                ahead.get(..4096).unwrap_or(&ahead),
            ));
            input::looks_like_json_lines(&sample)
        }
    }
}

/// Where items go: written as they come (text, JSON, JSON Lines) or counted (summary).
struct Sink<'s, 'o> {
    set: &'s RuleSet,
    options: &'o RunOptions,
    out: &'o mut dyn Boundary,
    summary: Summary,
    count: usize,
    /// The first write error; nothing more is written after it.
    failure: Option<std::io::Error>,
    json_tail: String,
    started: std::time::Instant,
    last_progress: std::time::Instant,
    /// The keys found anywhere in the inputs read whole so far: masked, with their
    /// fragments, wherever the output repeats them.
    learned: Vec<String>,
    redactor: Option<crate::mask::Redactor<'static>>,
    /// JSON Lines: the members that close each line (see [`Report::jsonl_provenance`]),
    /// masked once.
    jsonl_provenance: String,
    /// JSON Lines: the line being put together, its buffer reused.
    jsonl_line: String,
}

impl<'s, 'o> Sink<'s, 'o> {
    fn new(set: &'s RuleSet, options: &'o RunOptions, out: &'o mut dyn Boundary) -> Self {
        let now = std::time::Instant::now();
        Sink {
            set,
            options,
            out,
            summary: Summary::default(),
            count: 0,
            failure: None,
            json_tail: String::new(),
            started: now,
            last_progress: now,
            learned: Vec::new(),
            redactor: None,
            jsonl_provenance: match options.output {
                Output::Jsonl => {
                    crate::mask::redact_patterns(&Report::jsonl_provenance(set)).into_owned()
                }
                _ => String::new(),
            },
            jsonl_line: String::new(),
        }
    }

    /// Learns the keys an input read whole holds (see [`crate::mask::keys_in`]).
    fn learn(&mut self, input: &[u8]) {
        let found = crate::mask::keys_in(&String::from_utf8_lossy(input));
        if !found.is_empty() {
            self.learned.extend(found);
            self.redactor = Some(crate::mask::Redactor::new(self.learned.clone()));
        }
    }

    fn write(&mut self, text: &str) -> ControlFlow<()> {
        self.write_with(text, |out, text| out.write_all(text.as_bytes()))
    }

    /// Writes a line whose every string is masked (see [`Boundary`]).
    fn write_masked_line(&mut self, line: &str) -> ControlFlow<()> {
        self.write_with(line, |out, line| out.write_masked_line(line))
    }

    /// Writes `text` with the keys learned from the inputs masked in it, and keeps the
    /// first error.
    fn write_with(
        &mut self,
        text: &str,
        write: impl FnOnce(&mut dyn Boundary, &str) -> std::io::Result<()>,
    ) -> ControlFlow<()> {
        if self.failure.is_some() {
            return ControlFlow::Break(());
        }
        let text = match &self.redactor {
            Some(r) => r.redact_known(text),
            None => std::borrow::Cow::Borrowed(text),
        };
        match write(&mut *self.out, &text) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.failure = Some(e);
                ControlFlow::Break(())
            }
        }
    }

    fn start(&mut self) -> ControlFlow<()> {
        if self.options.output == Output::Json {
            let (head, tail) = Report::json_frame(self.set);
            self.json_tail = tail;
            return self.write(&head);
        }
        ControlFlow::Continue(())
    }

    fn take(&mut self, item: Item<'_>) -> ControlFlow<()> {
        self.count += 1;
        if self.options.progress && self.last_progress.elapsed().as_millis() >= 500 {
            self.last_progress = std::time::Instant::now();
            let rate = self.count as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            let _ = write!(std::io::stderr(), "\r{} captures ({rate:.0}/s)", self.count);
        }
        match item {
            Item::Classified(c) => {
                self.summary.add_classified(&c);
                ControlFlow::Continue(())
            }
            Item::Rendered(text) => {
                let separator = match self.options.output {
                    Output::Text(_) if self.count > 1 => "\n",
                    Output::Markdown(_) if self.count > 1 => "\n---\n\n",
                    Output::Json if self.count > 1 => ",",
                    _ => "",
                };
                self.write(separator)?;
                self.write(&text)
            }
            Item::MaskedLine(text) => {
                // The run's provenance closes the line: `{…}` becomes `{…,"rulecheck":…}`.
                let mut line = std::mem::take(&mut self.jsonl_line);
                line.clear();
                match text.strip_suffix("}\n") {
                    Some(open) => {
                        line.push_str(open);
                        line.push_str(&self.jsonl_provenance);
                        line.push_str("}\n");
                    }
                    None => line.push_str(&text),
                }
                let written = self.write_masked_line(&line);
                self.jsonl_line = line;
                written
            }
        }
    }

    fn finish(&mut self, skipped_lines: usize) -> ControlFlow<()> {
        match self.options.output {
            Output::Text(_) | Output::Markdown(_) => {
                let skipped: Vec<_> = self.set.skipped().cloned().collect();
                self.write(&report::render_skipped_rules(&skipped))?;
            }
            Output::Json => {
                if self.count > 0 {
                    self.write("\n  ")?;
                }
                let tail = std::mem::take(&mut self.json_tail);
                self.write(&tail)?;
            }
            Output::Jsonl => {}
            Output::Summary { json } => {
                self.summary.skipped_lines = skipped_lines;
                let report = self.summary.report();
                let text = if json {
                    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
                } else {
                    crate::summary::render_text(&report)
                };
                self.write(&text)?;
            }
        }
        match self.out.flush() {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.failure.get_or_insert(e);
                ControlFlow::Break(())
            }
        }
    }
}
