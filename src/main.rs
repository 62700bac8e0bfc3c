//! The `rulecheck` command: a thin shell over the library.
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use rulecheck::limits::Limits;
use rulecheck::mask::MaskingWriter;
use rulecheck::rulebook::{Lang, LoadError, RuleSet};
use rulecheck::{check, diff, run};

#[path = "cli/args.rs"]
mod args;
use args::{Cli, ColorArg, Command, EvalArgs, EvalFormat, Format, RuleArgs, load_rules, pick_lang};

/// Exit codes, documented in the README.
mod exit {
    /// The command did its job (eval: every input was diagnosed).
    pub const OK: u8 = 0;
    /// `test`: an example or case failed; `lint --deny-warnings`: warnings.
    pub const FAILED: u8 = 1;
    /// Bad input, bad rulebook or bad usage.
    pub const BAD_INPUT: u8 = 2;
    /// Done, but some input lines could not be read and were skipped (bulk mode).
    pub const PARTIAL: u8 = 3;
}

/// `println!` for a command's output: a reader that went away (`rulecheck list | head
/// -1`) ends the run quietly with exit 0, as `rg … | head` does; any other write error
/// is said, exit 2.
macro_rules! say {
    ($($t:tt)*) => { write_out(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` for a command's output (see [`say!`]).
macro_rules! say_raw {
    ($($t:tt)*) => { write_out(format_args!($($t)*)) };
}

/// `eprintln!` through the boundary: every message to stderr is masked (and a line
/// longer than 2,000 characters cut), whatever it quotes.
macro_rules! err {
    ($($t:tt)*) => {{
        let _ = writeln!(stderr(), $($t)*);
    }};
}

/// Secrets the program's output must never show besides key shapes: the keys the
/// loaded rulebooks' examples hold (`explain` and `test` print their source).
static KNOWN_SECRETS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

fn known_secrets() -> Vec<String> {
    KNOWN_SECRETS.get().cloned().unwrap_or_default()
}

/// Remembers the secrets a rule set's examples hold, for every later output.
fn learn_secrets(set: &RuleSet) {
    let secrets = set
        .rules()
        .flat_map(|(_, r)| r.examples_match.iter().chain(&r.examples_no_match))
        .flat_map(|e| {
            rulecheck::facts::Facts::derive(&e.capture)
                .secrets()
                .into_iter()
                .map(|s| s.into_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let _ = KNOWN_SECRETS.set(secrets);
}

/// Standard error, through the boundary.
fn stderr() -> MaskingWriter<anstream::Stderr> {
    MaskingWriter::new(anstream::stderr())
        .with_secrets(known_secrets())
        .with_line_limit(2_000)
}

fn write_out(args: std::fmt::Arguments) {
    let mut out = MaskingWriter::new(std::io::stdout().lock()).with_secrets(known_secrets());
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::OK.into());
        }
        err!("rulecheck: cannot write the output: {e}");
        std::process::exit(exit::BAD_INPUT.into());
    }
}

fn main() -> ExitCode {
    // The argument parser quotes what it refuses (a key typed into `--status`): its
    // errors cross the boundary too.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            say_raw!("{e}");
            return ExitCode::from(exit::OK);
        }
        Err(e) => {
            let _ = write!(stderr(), "{}", e.render().ansi());
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let code = match cli.command {
        Command::Eval(args) => eval(&args),
        Command::List {
            format,
            rules,
            lang,
        } => list(format, &rules, pick_lang(lang)),
        Command::Lint {
            paths,
            overlays,
            no_project,
            format,
            deny_warnings,
            changelog,
            limit,
        } => lint(
            &Layers::new(paths, overlays, no_project),
            format,
            deny_warnings,
            changelog.as_deref(),
            limit.limits(),
        ),
        Command::Explain { id, rules } => explain(&id, &rules),
        Command::Diff {
            old,
            new,
            captures,
            format,
            limit,
        } => diff(&old, &new, &captures, format, limit.limits()),
        Command::Test {
            paths,
            overlays,
            no_project,
            cases,
            coverage,
            snapshots,
            accept,
            format,
            limit,
        } => test(
            &Layers::new(paths, overlays, no_project),
            &TestArgs {
                cases: &cases,
                coverage,
                snapshots: snapshots.as_deref(),
                accept,
            },
            format,
            limit.limits(),
        ),
        Command::Limits { format, limit } => list_limits(format, limit.limits()),
        #[cfg(feature = "serve")]
        Command::Serve { addr, rules } => serve(addr, &rules),
        Command::Schema { which } => {
            say_raw!("{}", which.text());
            exit::OK
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "rulecheck", &mut out);
            say_raw!("{}", String::from_utf8_lossy(&out));
            exit::OK
        }
        Command::Man => {
            let mut out = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => {
                    say_raw!("{}", String::from_utf8_lossy(&out));
                    exit::OK
                }
                Err(e) => {
                    err!("rulecheck: cannot render the man page: {e}");
                    exit::BAD_INPUT
                }
            }
        }
    };
    ExitCode::from(code)
}

fn report_load_error(e: &LoadError) -> u8 {
    report_problems(e, "in the rulebooks", "nothing was evaluated")
}

/// Every problem found in some files, each with its snippet, then what they stopped.
fn report_problems(e: &LoadError, r#where: &str, stopped: &str) -> u8 {
    let mut stderr = stderr();
    let _ = write!(stderr, "{}", e.render());
    let n = e.diagnostics.len();
    let _ = writeln!(
        stderr,
        "\nrulecheck: {n} problem{} {where}; {stopped}",
        if n == 1 { "" } else { "s" }
    );
    exit::BAD_INPUT
}

fn eval(args: &EvalArgs) -> u8 {
    if let Err(message) = args.check() {
        err!("rulecheck: {message}");
        return exit::BAD_INPUT;
    }
    let lang = pick_lang(args.lang);
    let set = match load_rules(&args.rules, false) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    let inputs: Vec<run::Input> = if args.inputs.is_empty() {
        vec![run::Input::Call(Box::new(args.call.capture()))]
    } else {
        args.inputs
            .iter()
            .map(|name| match name.as_str() {
                "-" => run::Input::Stdin,
                path => run::Input::File(path.into()),
            })
            .collect()
    };
    let output = match (args.summary, args.format) {
        (true, format) => run::Output::Summary {
            json: format != EvalFormat::Text,
        },
        (false, EvalFormat::Text) => run::Output::Text(lang),
        (false, EvalFormat::Json) => run::Output::Json,
        (false, EvalFormat::Jsonl) => run::Output::Jsonl,
        (false, EvalFormat::Markdown) => run::Output::Markdown(lang),
    };
    let options = run::RunOptions {
        output,
        read: args.read_options(),
        eval: args.eval_options(lang),
        threads: args
            .threads
            .map(usize::from)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        trace: args.trace,
        progress: (args.summary || args.format == EvalFormat::Jsonl)
            && std::io::stderr().is_terminal(),
    };
    let choice = match (args.format, args.color) {
        // JSON holds no escape sequence to strip (serde_json escapes every control
        // character): written as it is. Stripping it anyway read every byte of a bulk
        // run's output again, an eighth of its cost.
        (EvalFormat::Json | EvalFormat::Jsonl, _) => anstream::ColorChoice::AlwaysAnsi,
        (_, ColorArg::Auto) => anstream::ColorChoice::Auto,
        (_, ColorArg::Always) => anstream::ColorChoice::Always,
        (_, ColorArg::Never) => anstream::ColorChoice::Never,
    };
    let stdout = anstream::AutoStream::new(std::io::stdout().lock(), choice);
    let mut out = MaskingWriter::new(std::io::BufWriter::with_capacity(1 << 16, stdout));
    let outcome = run::run(&set, &inputs, &options, &mut out, &mut stderr());
    if let Some(e) = &outcome.write_error {
        err!("rulecheck: cannot write the output: {e}");
        return exit::BAD_INPUT;
    }
    if outcome.closed {
        exit::OK
    } else if outcome.failed_inputs > 0 {
        exit::BAD_INPUT
    } else if outcome.skipped_lines > 0 {
        exit::PARTIAL
    } else {
        exit::OK
    }
}

fn list(format: Format, rule_args: &RuleArgs, lang: Lang) -> u8 {
    let set = match load_rules(rule_args, false) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    match format {
        Format::Json => say!("{:#}", check::list_json(&set, lang)),
        Format::Text => say_raw!("{}", check::list_text(&set, lang)),
    }
    exit::OK
}

/// `rulecheck limits`: every limit, its default and the value in use.
fn list_limits(format: Format, limits: Limits) -> u8 {
    match format {
        Format::Json => say!("{}", rulecheck::limits::table_json(&limits)),
        Format::Text => say_raw!("{}", rulecheck::limits::table_text(&limits)),
    }
    exit::OK
}

/// The rulebooks `lint` and `test` name: files, overlays, and where to look for the
/// project file.
struct Layers {
    paths: Vec<PathBuf>,
    overlays: Vec<PathBuf>,
    project_from: Option<PathBuf>,
}

impl Layers {
    fn new(paths: Vec<PathBuf>, overlays: Vec<PathBuf>, no_project: bool) -> Layers {
        Layers {
            paths,
            overlays,
            project_from: (!no_project).then(|| std::env::current_dir().unwrap_or_default()),
        }
    }

    fn load(&self, limits: Limits) -> Result<RuleSet, LoadError> {
        check::load(
            &self.paths,
            &self.overlays,
            self.project_from.as_deref(),
            limits,
        )
    }
}

fn lint(
    layers: &Layers,
    format: Format,
    deny_warnings: bool,
    changelog: Option<&Path>,
    limits: Limits,
) -> u8 {
    let loaded = layers.load(limits);
    if let Ok(set) = &loaded {
        learn_secrets(set);
    }
    let changelog = changelog.map(|p| (p, std::fs::read_to_string(p)));
    let found = check::lint(loaded.as_ref(), changelog, limits);
    match format {
        Format::Json => say!("{:#}", found.to_json()),
        Format::Text => {
            let (out, err) = found.render_text();
            let _ = write!(stderr(), "{err}");
            say_raw!("{out}");
        }
    }
    if found.errors() > 0 {
        exit::BAD_INPUT
    } else if found.warnings() > 0 && deny_warnings {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// What `rulecheck test` checks besides the rules' examples.
struct TestArgs<'a> {
    cases: &'a [PathBuf],
    coverage: bool,
    snapshots: Option<&'a Path>,
    accept: bool,
}

fn test(layers: &Layers, args: &TestArgs<'_>, format: Format, limits: Limits) -> u8 {
    let (case_paths, with_coverage) = (args.cases, args.coverage);
    let set = match layers.load(limits) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    learn_secrets(&set);
    let mut cases = Vec::new();
    for p in case_paths {
        match check::cases::load(p) {
            Ok(c) => cases.extend(c),
            Err(e) => return report_problems(&e, "in the case files", "nothing was tested"),
        }
    }
    let result = check::test(&set, &cases, with_coverage);
    match format {
        Format::Json => say!("{:#}", result.to_json()),
        Format::Text => {
            let (out, err) = result.render_text();
            let _ = write!(stderr(), "{err}");
            say_raw!("{out}");
        }
    }
    let mut snapshots_differ = false;
    if let Some(dir) = args.snapshots {
        let read = rulecheck::input::ReadOptions {
            limits,
            ..Default::default()
        };
        match check::snapshots::run(&set, dir, args.accept, read) {
            Ok(run) => {
                say_raw!("{}", run.render_text(args.accept));
                snapshots_differ = run.differs() && !args.accept;
            }
            Err(e) => {
                err!("rulecheck: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    if result.failed() == 0 && !snapshots_differ {
        exit::OK
    } else {
        exit::FAILED
    }
}

fn explain(id: &str, rule_args: &RuleArgs) -> u8 {
    let set = match load_rules(rule_args, true) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    learn_secrets(&set);
    match check::explain_text(&set, id) {
        Ok(text) => {
            say_raw!("{text}");
            exit::OK
        }
        Err(message) => {
            err!("rulecheck: {message}");
            exit::BAD_INPUT
        }
    }
}

fn diff(old: &str, new: &str, captures: &[PathBuf], format: Format, limits: Limits) -> u8 {
    let (old_set, new_set) = match (diff::load_side(old, limits), diff::load_side(new, limits)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return report_load_error(&e),
    };
    let mut files: Vec<PathBuf> = captures.to_vec();
    if files.is_empty() {
        files = ["tests/fixtures/captures", "tests/fixtures/inputs"]
            .into_iter()
            .map(PathBuf::from)
            .filter(|d| d.is_dir())
            .collect();
    }
    let corpus = match diff::read_corpus(&files, limits) {
        Ok(c) if c.is_empty() => {
            err!("rulecheck: no captures to compare on; name the captures or folders of them");
            return exit::BAD_INPUT;
        }
        Ok(c) => c,
        Err(e) => {
            err!("rulecheck: {e}");
            return exit::BAD_INPUT;
        }
    };
    let report = diff::diff(&old_set, &new_set, &corpus);
    match format {
        Format::Json => say!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Format::Text => say_raw!("{}", diff::render(&report)),
    }
    if report.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    }
}

/// `rulecheck serve`: says where it listens, then serves until stopped.
#[cfg(feature = "serve")]
fn serve(addr: std::net::SocketAddr, rule_args: &RuleArgs) -> u8 {
    let options = rulecheck::serve::ServeOptions {
        addr,
        rules: rule_args.choice(false),
    };
    let result = rulecheck::serve::serve(options, |at| {
        err!("rulecheck serve: listening on http://{at}/ (Ctrl-C stops it)");
        if !at.ip().is_loopback() {
            err!(
                "rulecheck serve: {at} is reachable from other machines: anyone who can reach it can paste into it"
            );
        }
    });
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            err!("rulecheck serve: {e}");
            exit::BAD_INPUT
        }
    }
}
