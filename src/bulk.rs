//! Bulk diagnosis of JSON Lines: millions of captures with flat memory, both cores,
//! results in input order.
//!
//! Lines are read in batches and queued in pieces for worker threads that live for
//! the whole run (scoped, so the rule set is shared without copies); the reading
//! thread reads the next batch while they work and hands the results on in input
//! order. Memory is two batches, however long the input. A malformed line is reported
//! with its number and skipped; the run goes on.

use std::io::BufRead;
use std::ops::ControlFlow;

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
    /// Lines per batch, at most.
    pub batch: usize,
    /// Bytes of text per batch, about: a batch ends with the line that reaches it. What
    /// bounds a run's memory, whatever its lines' length (two batches are held, and
    /// the results of one).
    pub batch_bytes: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            eval: EvalOptions::default(),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            batch: 2048,
            // About fifty typical captures: a millisecond's work for two workers, while
            // two batches and their results stay small (2,048 lines of 1.3 KB held 5 MB
            // of text alone). Against 128 KB: 0.6 MB less at the peak of a two-thread
            // `--format jsonl` run (a batch's report lines are held until written), and
            // the same wall time (medians of 20 runs by turns, 0.897 s and 0.891 s).
            batch_bytes: 64 * 1024,
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
    /// The caller asked to stop (its reader went away): the rest was not read.
    pub stopped: bool,
}

/// Reads JSON Lines of captures from `reader` and calls `on_result` for each line in
/// input order (`Ok` with the diagnosis, `Err` for a skipped line).
pub fn run<R: BufRead>(
    set: &RuleSet,
    reader: R,
    options: BulkOptions,
    mut on_result: impl FnMut(Result<Evaluated, LineError>),
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
        |r| {
            on_result(r);
            ControlFlow::Continue(())
        },
    )
}

/// Reads JSON Lines of captures from `reader`; `per_capture` turns each capture into
/// what the caller keeps (a diagnosis, a line of output, a summary's classification)
/// on the worker threads, and `on_result` gets those in input order (`Err` for a
/// skipped line) and says whether to go on: `Break` (its output was closed) stops the
/// run promptly, the workers included, with [`BulkStats::stopped`] set. Keeping the per-capture work, dropping included, on the workers is
/// what lets a run scale with cores: the reading thread only reads and hands over.
pub fn run_with<'s, R: BufRead, T: Send>(
    set: &'s RuleSet,
    mut reader: R,
    options: BulkOptions,
    per_capture: impl Fn(&'s RuleSet, usize, Capture) -> T + Sync,
    mut on_result: impl FnMut(Result<T, LineError>) -> ControlFlow<()>,
) -> std::io::Result<BulkStats> {
    let mut stats = BulkStats::default();
    let mut line_no = 0usize;
    let work = |line: usize, text: &str| {
        parse_line(line, text, options).map(|capture| per_capture(set, line, capture))
    };
    let mut hand_out = |results: Results<T>, stats: &mut BulkStats| {
        for r in results {
            match &r {
                Ok(_) => stats.captures += 1,
                Err(_) => stats.skipped += 1,
            }
            if on_result(r).is_break() {
                stats.stopped = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    };
    if options.threads <= 1 {
        loop {
            let batch = read_batch(&mut reader, &mut line_no, options)?;
            if batch.entries.is_empty()
                || hand_out(evaluate(&batch.text, &batch.entries, &work), &mut stats).is_break()
            {
                break;
            }
        }
    } else {
        let mut next_batch = || read_batch(&mut reader, &mut line_no, options);
        pipeline(options.threads, &mut next_batch, &work, |results| {
            hand_out(results, &mut stats)
        })?;
    }
    stats.lines = line_no;
    Ok(stats)
}

/// Evaluates lines in order (a skipped line stays an error).
fn evaluate<T>(
    text: &str,
    items: &[Line],
    work: &(impl Fn(usize, &str) -> Result<T, LineError> + ?Sized),
) -> Results<T> {
    items
        .iter()
        .map(|(line, entry)| match entry {
            Ok(range) => work(*line, text.get(range.clone()).unwrap_or("")),
            Err(e) => Err(e.clone()),
        })
        .collect()
}

/// Lines a worker takes at a time: small enough that the workers finish a batch
/// together, large enough that taking them costs nothing.
const LINES_PER_TAKE: usize = 32;

/// Lines' results, in the lines' order (`Err` for a skipped line).
type Results<T> = Vec<Result<T, LineError>>;

/// A batch on its way through the workers: its lines, and a slot for each piece's
/// results, filled in whatever order the pieces finish.
struct Batch<T> {
    number: usize,
    lines: Lines,
    slots: std::sync::Mutex<Vec<Option<Results<T>>>>,
    /// Pieces not finished yet: the worker that finishes the last one says so.
    unfinished: std::sync::atomic::AtomicUsize,
}

/// What a worker says: a batch is done, or a piece of it panicked.
enum Outcome {
    Done(usize),
    Panicked(usize, Box<dyn std::any::Any + Send>),
}

/// Evaluates batches on `threads` workers that live for the whole run and take pieces
/// of `LINES_PER_TAKE` lines in input order. While they work, this thread reads the
/// next batch and queues it, then hands out the batch before in order: a worker that
/// runs out of one batch's pieces goes on to the next one's, so no core waits at the
/// end of a batch, and this thread wakes once a batch. At most two batches are read
/// and not yet handed out. `hand_out` returning `Break` ends the run: the workers
/// skip the pieces still queued.
fn pipeline<T: Send>(
    threads: usize,
    next_batch: &mut dyn FnMut() -> std::io::Result<Lines>,
    work: &(dyn Fn(usize, &str) -> Result<T, LineError> + Sync),
    mut hand_out: impl FnMut(Results<T>) -> ControlFlow<()>,
) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, mpsc};
    // (batch, where the piece starts)
    let (queue, pieces) = mpsc::channel::<(Arc<Batch<T>>, usize)>();
    let pieces = Mutex::new(pieces);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Owned by this closure: returning, early or not, closes the queue, and the
        // workers end.
        let queue = queue;
        let (said, heard) = mpsc::channel::<Outcome>();
        let mut started = 0;
        for _ in 0..threads {
            let (pieces, said, stop) = (&pieces, said.clone(), &stop);
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                loop {
                    // The lock is held only to take a piece; the queue closing ends the run.
                    let taken = match pieces.lock() {
                        Ok(pieces) => pieces.recv(),
                        Err(_) => return,
                    };
                    let Ok((batch, start)) = taken else { return };
                    if stop.load(Ordering::Relaxed) {
                        // Nobody will read this piece's results.
                        continue;
                    }
                    let lines = &batch.lines;
                    let end = (start + LINES_PER_TAKE).min(lines.entries.len());
                    let items = lines.entries.get(start..end).unwrap_or_default();
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        evaluate(&lines.text, items, work)
                    }));
                    let message = match outcome {
                        Ok(results) => {
                            // Poisoning cannot lose results: the lock guards one store.
                            let mut slots = batch
                                .slots
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            if let Some(slot) = slots.get_mut(start / LINES_PER_TAKE) {
                                *slot = Some(results);
                            }
                            drop(slots);
                            if batch.unfinished.fetch_sub(1, Ordering::AcqRel) != 1 {
                                continue;
                            }
                            Outcome::Done(batch.number)
                        }
                        Err(panic) => Outcome::Panicked(batch.number, panic),
                    };
                    // Let go of the batch before saying so: the reading thread frees it.
                    drop(batch);
                    if said.send(message).is_err() {
                        return;
                    }
                }
            });
            // The system may refuse more threads: the run goes on with those it got.
            match spawned {
                Ok(_) => started += 1,
                Err(e) if started == 0 => return Err(e),
                Err(_) => break,
            }
        }
        drop(said);
        // Queues a batch's pieces.
        let submit = |number: usize, lines: Lines| -> Arc<Batch<T>> {
            let count = lines.entries.len().div_ceil(LINES_PER_TAKE);
            let batch = Arc::new(Batch {
                number,
                lines,
                slots: Mutex::new((0..count).map(|_| None).collect()),
                unfinished: count.into(),
            });
            for piece in 0..count {
                // The workers outlive this loop: the queue cannot be closed here.
                let _ = queue.send((Arc::clone(&batch), piece * LINES_PER_TAKE));
            }
            batch
        };
        // What was heard early: the batch after the one awaited is done (a short last
        // batch can finish first), or panicked — raised once the batches before it are
        // handed out.
        let mut early: Vec<Outcome> = Vec::new();
        let mut await_batch = |number: usize| -> bool {
            loop {
                if let Some(at) = early.iter().position(|o| match o {
                    Outcome::Done(n) | Outcome::Panicked(n, _) => *n == number,
                }) {
                    match early.swap_remove(at) {
                        Outcome::Done(_) => return true,
                        // A worker that panicked is a bug: re-raise it rather than lose
                        // its lines.
                        Outcome::Panicked(_, panic) => std::panic::resume_unwind(panic),
                    }
                }
                match heard.recv() {
                    Ok(outcome) => early.push(outcome),
                    // Every worker gone with the queue open: one died outside its work
                    // (the scope re-raises its panic). Never hand out part of a batch.
                    Err(_) => return false,
                }
            }
        };
        let mut number = 0;
        let mut batch = submit(number, next_batch()?);
        loop {
            // Read and queue the next batch while the workers evaluate this one, then
            // hand this one out while they go on to the next.
            let next = next_batch()?;
            let queued = (!next.entries.is_empty()).then(|| submit(number + 1, next));
            let empty = batch.lines.entries.is_empty();
            if !empty && !await_batch(number) {
                return Err(std::io::Error::other(
                    "a worker thread stopped before its lines were evaluated",
                ));
            }
            let slots = std::mem::take(
                &mut *batch
                    .slots
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            // Let go of here: the lines are most often freed by the thread that made
            // them (a worker lets go of a batch before it says the batch is done).
            drop(batch);
            if hand_out(slots.into_iter().flatten().flatten().collect()).is_break() {
                stop.store(true, Ordering::Relaxed);
                break;
            }
            match queued {
                Some(next) => {
                    number += 1;
                    batch = next;
                }
                None => break,
            }
        }
        drop(queue);
        Ok(())
    })
}

/// A line's number and where its text is in its batch's [`Lines::text`] (or why it
/// was skipped).
type Line = (usize, Result<std::ops::Range<usize>, LineError>);

/// A batch of lines: their text end to end in one string (one allocation a batch,
/// not one a line), and each line's place in it.
#[derive(Default)]
struct Lines {
    text: String,
    entries: Vec<Line>,
}

/// Reads up to one batch of non-empty lines: `options.batch` lines, or the line that
/// brings the batch's text to `options.batch_bytes`.
fn read_batch<R: BufRead>(
    reader: &mut R,
    line_no: &mut usize,
    options: BulkOptions,
) -> std::io::Result<Lines> {
    let mut batch = Lines {
        text: String::with_capacity(options.batch_bytes.min(1 << 20)),
        entries: Vec::new(),
    };
    let mut buf = Vec::new();
    let max_line = options.eval.limits.line_bytes;
    while batch.entries.len() < options.batch && batch.text.len() < options.batch_bytes {
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
            match std::str::from_utf8(&buf) {
                Ok(s) if s.trim().is_empty() => continue,
                Ok(s) => {
                    let start = batch.text.len();
                    batch.text.push_str(s);
                    Ok(start..batch.text.len())
                }
                Err(_) => Err(LineError {
                    line: *line_no,
                    message: "the line is not UTF-8 text; skipped".into(),
                }),
            }
        };
        batch.entries.push((*line_no, entry));
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
            let room = max.saturating_add(1).saturating_sub(buf.len());
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
    // Every line, at the default too: the body is kept as read, unchecked by serde_json,
    // and the same capture read whole (not as JSON Lines) is refused.
    if crate::limits::nested_deeper(text, depth) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rulebook::LoadOptions;

    #[test]
    fn lines_come_out_in_order_and_bad_lines_are_skipped() {
        within_a_minute(|| {
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
        });
    }

    /// Runs `f` on a thread of its own and fails if it takes more than a minute: a
    /// worker pool that deadlocks must fail the test, not hang it.
    fn within_a_minute<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("the run neither finished nor failed within a minute")
    }

    fn status_lines(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "{{\"response\": {{\"status\": 4{:02}}}, \"meta\": {{\"i\": {i}}}}}\n",
                    i % 30
                )
            })
            .collect()
    }

    #[test]
    fn results_stay_in_order_when_workers_finish_out_of_order_across_batches() {
        within_a_minute(|| {
            let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
            let input = status_lines(400);
            for (threads, batch) in [(2, 40), (3, 40), (4, 7), (2, 2048)] {
                let options = BulkOptions {
                    threads,
                    batch,
                    ..Default::default()
                };
                let mut seen = Vec::new();
                let stats = run_with(
                    &set,
                    input.as_bytes(),
                    options,
                    |_, line, capture| {
                        // Some pieces take far longer: the others overtake them, into
                        // the next batch.
                        if line % 64 < 32 && line % 5 == 0 {
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                        capture.meta["i"].as_u64().unwrap() as usize
                    },
                    |r| {
                        seen.push(r.unwrap());
                        ControlFlow::Continue(())
                    },
                )
                .unwrap();
                assert_eq!(
                    seen,
                    (0..400).collect::<Vec<_>>(),
                    "{threads} threads, batch {batch}"
                );
                assert_eq!((stats.lines, stats.captures, stats.skipped), (400, 400, 0));
            }
        });
    }

    #[test]
    fn a_panic_on_a_worker_is_raised_on_the_caller_and_nothing_after_it_is_handed_out() {
        let (panicked, handed_out) = within_a_minute(|| {
            let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
            let input = status_lines(200);
            let options = BulkOptions {
                threads: 2,
                batch: 16,
                ..Default::default()
            };
            let mut handed_out = 0;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_with(
                    &set,
                    input.as_bytes(),
                    options,
                    |_, line, _| {
                        if line == 37 {
                            panic!("line 37 is a bug");
                        }
                        line
                    },
                    |_| {
                        handed_out += 1;
                        ControlFlow::Continue(())
                    },
                )
            }));
            let message = outcome
                .err()
                .and_then(|p| p.downcast_ref::<&str>().map(|s| s.to_string()));
            (message, handed_out)
        });
        assert_eq!(panicked.as_deref(), Some("line 37 is a bug"));
        // The batches before the one with line 37 (lines 1–32) came out; none after.
        assert_eq!(handed_out, 32);
    }

    #[test]
    fn a_caller_that_stops_ends_the_run_without_reading_the_rest() {
        for threads in [1, 2, 4] {
            let (handed_out, stats, evaluated) = within_a_minute(move || {
                let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
                let input = status_lines(5000);
                let options = BulkOptions {
                    threads,
                    batch: 64,
                    ..Default::default()
                };
                let evaluated = std::sync::atomic::AtomicUsize::new(0);
                let mut handed_out = 0;
                let stats = run_with(
                    &set,
                    input.as_bytes(),
                    options,
                    |_, line, _| {
                        evaluated.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        line
                    },
                    |_| {
                        handed_out += 1;
                        if handed_out == 5 {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    },
                )
                .unwrap();
                (handed_out, stats, evaluated.into_inner())
            });
            assert_eq!(handed_out, 5, "{threads} threads");
            assert!(stats.stopped, "{threads} threads");
            // At most the batch handed out and the one read ahead: never the whole input.
            assert!(
                stats.lines <= 2 * 64,
                "{threads} threads read {}",
                stats.lines
            );
            assert!(
                evaluated <= 2 * 64,
                "{threads} threads evaluated {evaluated}"
            );
        }
    }

    #[test]
    fn a_read_error_mid_stream_ends_the_run_with_that_error() {
        /// Gives `ok` bytes of the input, then fails.
        struct FailsAfter(std::io::Cursor<Vec<u8>>, usize);
        impl std::io::Read for FailsAfter {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.position() as usize >= self.1 {
                    return Err(std::io::Error::other("disk on fire"));
                }
                let room = (self.1 - self.0.position() as usize).min(buf.len());
                std::io::Read::read(&mut self.0, &mut buf[..room])
            }
        }
        for threads in [1, 2] {
            let error = within_a_minute(move || {
                let set = RuleSet::default_rulebook(&LoadOptions::default()).unwrap();
                let input = status_lines(300).into_bytes();
                let reader = std::io::BufReader::with_capacity(
                    64,
                    FailsAfter(std::io::Cursor::new(input), 9000),
                );
                let options = BulkOptions {
                    threads,
                    batch: 16,
                    ..Default::default()
                };
                run(&set, reader, options, |_| {})
                    .err()
                    .map(|e| e.to_string())
            });
            assert_eq!(error.as_deref(), Some("disk on fire"), "{threads} threads");
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

    #[test]
    fn a_batch_holds_about_batch_bytes_of_text_whatever_the_line_count() {
        // 95 lines of 99 bytes and a line break; blank and non-UTF-8 lines
        // hold no text in the batch.
        let mut input: Vec<u8> = Vec::new();
        for i in 0..95 {
            if i == 20 {
                input.extend_from_slice(b"\xff\xfe not text\n\n");
            }
            input.extend_from_slice(format!("{i:0>99}\n").as_bytes());
        }
        let options = BulkOptions {
            batch: 2048,
            batch_bytes: 1000,
            ..Default::default()
        };
        let (mut reader, mut line_no) = (input.as_slice(), 0);
        let mut sizes = Vec::new();
        let mut read = Vec::new();
        loop {
            let batch = read_batch(&mut reader, &mut line_no, options).unwrap();
            if batch.entries.is_empty() {
                break;
            }
            assert!(batch.text.len() < 1000 + 99, "{}", batch.text.len());
            sizes.push(batch.entries.len());
            for (_, entry) in &batch.entries {
                if let Ok(range) = entry {
                    read.push(batch.text.get(range.clone()).unwrap().to_owned());
                }
            }
        }
        // Eleven lines of text a batch (ten hold 990 bytes, the eleventh reaches 1000);
        // the line that is not text rides along in the second.
        assert_eq!(sizes, [11, 12, 11, 11, 11, 11, 11, 11, 7]);
        let expected: Vec<String> = (0..95).map(|i| format!("{i:0>99}")).collect();
        assert_eq!(read, expected);
        assert_eq!(line_no, 97);
    }
}
