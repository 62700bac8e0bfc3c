//! Bulk diagnosis of JSON Lines: millions of captures with flat memory, both cores,
//! results in input order.
//!
//! Lines are read in batches; each batch is split across worker threads (scoped, so
//! the rule set is shared without copies) and the results are handed on in input
//! order before the next batch is read. Memory is one batch, however long the input.
//! A malformed line is reported with its number and skipped; the run goes on.

use std::io::BufRead;

use crate::capture::Capture;
use crate::evaluate::{Diagnosis, EvalOptions, diagnose};
use crate::input::{InputCapture, capture_from};
use crate::rulebook::RuleSet;

/// How a bulk run reads and evaluates.
#[derive(Clone, Copy, Debug)]
pub struct BulkOptions {
    pub eval: EvalOptions,
    /// Worker threads (1 = evaluate on the reading thread).
    pub threads: usize,
    /// Lines per batch.
    pub batch: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            eval: EvalOptions::default(),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            batch: 2048,
        }
    }
}

/// A line that could not be read as a capture.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// One evaluated line.
pub struct Evaluated<'s> {
    pub line: usize,
    pub input: InputCapture,
    pub diagnosis: Diagnosis<'s>,
}

/// Counts of a finished run.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct BulkStats {
    pub lines: usize,
    pub captures: usize,
    pub skipped: usize,
}

/// Reads JSON Lines of captures from `reader` and calls `on_result` for each line in
/// input order (`Ok` with the diagnosis, `Err` for a skipped line).
pub fn run<R: BufRead>(
    set: &RuleSet,
    reader: R,
    options: BulkOptions,
    on_result: impl FnMut(Result<Evaluated, LineError>),
) -> std::io::Result<BulkStats> {
    let eval = options.eval;
    run_with(
        set,
        reader,
        options,
        |set, line, capture| {
            let diagnosis = diagnose(set, &capture, eval);
            Evaluated {
                line,
                input: InputCapture::new(capture, "jsonl", format!("line {line}")),
                diagnosis,
            }
        },
        on_result,
    )
}

/// Reads JSON Lines of captures from `reader`; `per_capture` turns each capture into
/// what the caller keeps (a diagnosis, a line of output, a summary's classification)
/// on the worker threads, and `on_result` gets those in input order (`Err` for a
/// skipped line). Keeping the per-capture work, dropping included, on the workers is
/// what lets a run scale with cores: the reading thread only reads and hands over.
pub fn run_with<'s, R: BufRead, T: Send>(
    set: &'s RuleSet,
    mut reader: R,
    options: BulkOptions,
    per_capture: impl Fn(&'s RuleSet, usize, Capture) -> T + Sync,
    mut on_result: impl FnMut(Result<T, LineError>),
) -> std::io::Result<BulkStats> {
    let mut stats = BulkStats::default();
    let mut line_no = 0usize;
    let mut batch = read_batch(&mut reader, &mut line_no, options)?;
    // The results of the batch before, handed out while the workers evaluate this one.
    let mut done: Vec<Result<T, LineError>> = Vec::new();
    let mut hand_out = |results: &mut Vec<Result<T, LineError>>, stats: &mut BulkStats| {
        for r in results.drain(..) {
            match &r {
                Ok(_) => stats.captures += 1,
                Err(_) => stats.skipped += 1,
            }
            on_result(r);
        }
    };
    while !batch.is_empty() {
        // The workers evaluate this batch while this thread hands out the results of
        // the one before and reads the next: no core waits on output or input.
        let (results, next) = evaluate_batch(
            &batch,
            options,
            &|line, text| {
                parse_line(line, text, options).map(|capture| per_capture(set, line, capture))
            },
            || {
                hand_out(&mut done, &mut stats);
                read_batch(&mut reader, &mut line_no, options)
            },
        );
        done = results;
        batch = next?;
    }
    hand_out(&mut done, &mut stats);
    stats.lines = line_no;
    Ok(stats)
}

type Line = (usize, Result<String, LineError>);

/// Reads up to one batch of non-empty lines.
fn read_batch<R: BufRead>(
    reader: &mut R,
    line_no: &mut usize,
    options: BulkOptions,
) -> std::io::Result<Vec<Line>> {
    let mut batch = Vec::with_capacity(options.batch);
    let mut buf = Vec::new();
    let max_line = options.eval.limits.line_bytes;
    while batch.len() < options.batch {
        buf.clear();
        let n = read_line_limited(reader, &mut buf, max_line)?;
        if n == 0 {
            break;
        }
        *line_no += 1;
        let entry = if n > max_line {
            Err(LineError {
                line: *line_no,
                message: format!(
                    "the line is over {max_line} bytes; skipped (raise it with --limit line-bytes=SIZE)"
                ),
            })
        } else {
            match String::from_utf8(std::mem::take(&mut buf)) {
                Ok(s) if s.trim().is_empty() => continue,
                Ok(s) => Ok(s),
                Err(_) => Err(LineError {
                    line: *line_no,
                    message: "the line is not UTF-8 text; skipped".into(),
                }),
            }
        };
        batch.push((*line_no, entry));
    }
    Ok(batch)
}

/// Reads one line (without the newline) into `buf`, keeping at most `max + 1` bytes
/// of it so a huge line cannot exhaust memory; returns the line's full length (0 at
/// the end of input, and at least 1 for an empty line).
fn read_line_limited<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<usize> {
    let mut total = 0usize;
    let mut seen_any = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(if seen_any { total.max(1) } else { 0 });
        }
        seen_any = true;
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (available.get(..i).unwrap_or(available), Some(i + 1)),
            None => (available, None),
        };
        if buf.len() <= max {
            let room = (max + 1).saturating_sub(buf.len());
            buf.extend_from_slice(chunk.get(..chunk.len().min(room)).unwrap_or(chunk));
        }
        total += chunk.len();
        let consumed = done.unwrap_or(available.len());
        reader.consume(consumed);
        if done.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(total.max(1));
        }
    }
}

/// One line as a capture, or why it was skipped.
fn parse_line(line: usize, text: &str, options: BulkOptions) -> Result<Capture, LineError> {
    let depth = options.eval.limits.json_depth;
    if crate::limits::json_too_deep(text, depth) {
        return Err(LineError {
            line,
            message: format!("JSON nested deeper than {depth} levels; skipped"),
        });
    }
    // Straight into a capture: one parse. Only a line that fails is parsed again, to
    // say what is wrong with it.
    match serde_json::from_str::<Capture>(text) {
        Ok(c) if c.request.is_some() || c.response.is_some() || c.client_error.is_some() => Ok(c),
        _ => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| LineError {
                line,
                message: format!("not a JSON value: {e}"),
            })?;
            capture_from(value).map_err(|message| LineError { line, message })
        }
    }
}

/// Lines a worker takes at a time: small enough that the workers finish a batch
/// together, large enough that taking them costs nothing.
const LINES_PER_TAKE: usize = 32;

/// Runs `work` over a batch on worker threads, in order, running `meanwhile` on this
/// thread.
fn evaluate_batch<T: Send, M>(
    batch: &[Line],
    options: BulkOptions,
    work: &(dyn Fn(usize, &str) -> Result<T, LineError> + Sync),
    meanwhile: impl FnOnce() -> M,
) -> (Vec<Result<T, LineError>>, M) {
    let run = |items: &[Line]| -> Vec<Result<T, LineError>> {
        items
            .iter()
            .map(|(line, entry)| match entry {
                Ok(text) => work(*line, text),
                Err(e) => Err(e.clone()),
            })
            .collect()
    };
    let threads = options.threads.max(1).min(batch.len().max(1));
    if threads == 1 {
        let results = run(batch);
        return (results, meanwhile());
    }
    // Workers take the next few lines until none are left (captures differ in cost:
    // fixed halves would leave one worker waiting for the other), and keep where
    // each piece started so the results go back in input order.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let take_all = || {
        let mut pieces = Vec::new();
        loop {
            let start = next.fetch_add(LINES_PER_TAKE, std::sync::atomic::Ordering::Relaxed);
            let Some(items) = batch.get(start..(start + LINES_PER_TAKE).min(batch.len())) else {
                return pieces;
            };
            if items.is_empty() {
                return pieces;
            }
            pieces.push((start, run(items)));
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(take_all)).collect();
        let other = meanwhile();
        let mut pieces: Vec<(usize, Vec<Result<T, LineError>>)> = Vec::new();
        for handle in handles {
            // A worker that panicked is a bug: re-raise it rather than lose its lines.
            match handle.join() {
                Ok(p) => pieces.extend(p),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        pieces.sort_unstable_by_key(|(start, _)| *start);
        let results = pieces.into_iter().flat_map(|(_, r)| r).collect();
        (results, other)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::LoadOptions;

    #[test]
    fn lines_come_out_in_order_and_bad_lines_are_skipped() {
        let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
        let mut input = String::new();
        for i in 0..50 {
            if i == 7 {
                input.push_str("{not json\n");
            } else if i == 9 {
                input.push('\n');
            } else {
                let status = [401, 404, 429, 500, 200][i % 5];
                input.push_str(&format!(
                    "{{\"response\": {{\"status\": {status}}}, \"meta\": {{\"i\": {i}}}}}\n"
                ));
            }
        }
        // Batches of 8 (one piece per batch) and of 200 (the workers share out pieces
        // of LINES_PER_TAKE lines, which must go back in order).
        for (threads, batch) in [(1, 8), (2, 8), (4, 8), (2, 200), (4, 200)] {
            let options = BulkOptions {
                threads,
                batch,
                ..Default::default()
            };
            let mut seen = Vec::new();
            let stats = run(&set, input.as_bytes(), options, |r| match r {
                Ok(e) => seen.push(e.input.capture.meta["i"].as_u64().unwrap() as usize),
                Err(e) => seen.push(1000 + e.line),
            })
            .unwrap();
            let expected: Vec<usize> = (0..50)
                .filter(|i| *i != 9)
                .map(|i| if i == 7 { 1008 } else { i })
                .collect();
            assert_eq!(seen, expected, "threads={threads} batch={batch}");
            assert_eq!((stats.lines, stats.captures, stats.skipped), (50, 48, 1));
        }
    }

    #[test]
    fn an_overlong_line_is_skipped_without_being_kept() {
        let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
        let long = format!(
            "{{\"response\": {{\"status\": 500, \"body\": \"{}\"}}}}\n",
            "x".repeat(10_000)
        );
        let input = format!("{long}{{\"response\": {{\"status\": 404}}}}\n");
        let options = BulkOptions {
            eval: EvalOptions {
                limits: crate::limits::Limits {
                    line_bytes: 1000,
                    ..Default::default()
                },
                ..Default::default()
            },
            ..Default::default()
        };
        let mut errors = Vec::new();
        let stats = run(&set, input.as_bytes(), options, |r| {
            if let Err(e) = r {
                errors.push(e);
            }
        })
        .unwrap();
        assert_eq!(stats.captures, 1);
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].message.contains("over 1000 bytes"));
    }
}
