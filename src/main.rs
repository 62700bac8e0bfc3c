//! The `rulecheck` command: a thin shell over the library.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use rulecheck::diagnostic::Level;
use rulecheck::evaluate::EvalOptions;
use rulecheck::{input, run};
use rulecheck::rulebook::{self, Lang, LoadError, LoadOptions, RuleSet};

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

#[derive(Parser)]
#[command(
    name = "rulecheck",
    version,
    about = "Diagnose failed calls to OpenAI-compatible AI gateways"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct RuleArgs {
    /// Rulebook file or directory of *.yaml rulebooks to use instead of the built-in one (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// A rulebook to add on top of the rules in use (the built-in one by default), e.g. your team's rules (repeatable).
    #[arg(long = "overlay", value_name = "PATH")]
    overlays: Vec<PathBuf>,
    /// Override a rulebook variable, e.g. --var base_url=http://127.0.0.1:3000/v1 (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Run rules marked `status: preview` too.
    #[arg(long)]
    preview: bool,
    /// Ignore rulecheck.yaml (otherwise looked for in this directory and its parents).
    #[arg(long)]
    no_project: bool,
    #[command(flatten)]
    limit: LimitArgs,
}

/// `--limit NAME=VALUE`: raise or lower a bound on input or rulebooks.
#[derive(clap::Args, Clone, Default)]
struct LimitArgs {
    /// Change a limit, e.g. --limit input-bytes=256MiB or --limit rules=20000 (repeatable;
    /// `rulecheck limits` lists them).
    #[arg(long = "limit", value_name = "NAME=VALUE", value_parser = parse_limit)]
    settings: Vec<rulecheck::limits::LimitSetting>,
}

impl LimitArgs {
    fn limits(&self) -> rulecheck::limits::Limits {
        let mut limits = rulecheck::limits::Limits::default();
        self.settings.iter().for_each(|s| limits.apply(*s));
        limits
    }
}

fn parse_limit(s: &str) -> Result<rulecheck::limits::LimitSetting, String> {
    rulecheck::limits::LimitSetting::parse(s).map_err(|e| e.to_string())
}

/// `rulecheck eval`: what to read, how, and how to answer.
#[derive(clap::Args)]
struct EvalArgs {
    /// Input files (capture JSON, JSON Lines, HAR, curl -i/-v output, SDK error text,
    /// gateway log lines); `-` reads standard input. None: describe the call with flags.
    #[arg(value_name = "FILE", required_unless_present_any = ["status", "url", "key", "client_error"])]
    inputs: Vec<String>,
    /// Read the inputs as this format instead of detecting it.
    #[arg(long = "input", value_enum, value_name = "FORMAT")]
    input_format: Option<InputArg>,
    /// HAR: report every entry, not only the API calls that failed or look wrong.
    #[arg(long)]
    all_entries: bool,
    /// Show, for every rule, the truth of each node of its condition on each capture.
    #[arg(long)]
    trace: bool,
    /// Print counts and shares per diagnosis, category, status, host, path and client
    /// instead of one report per capture (table; JSON with --format json).
    #[arg(long)]
    summary: bool,
    /// Worker threads for JSON Lines (default: all cores; 1 to 256).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    rules: RuleArgs,
    /// Language of messages; default from LC_ALL/LC_MESSAGES/LANG, else English.
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    #[command(flatten)]
    call: CallArgs,
}

impl EvalArgs {
    /// How to read each input, from the flags.
    fn read_options(&self) -> input::ReadOptions {
        input::ReadOptions {
            format: self.input_format.map(Into::into),
            all_entries: self.all_entries,
            limits: self.limits(),
        }
    }

    /// How to evaluate each capture, from the flags.
    fn eval_options(&self, lang: Lang) -> EvalOptions {
        EvalOptions {
            lang,
            limits: self.limits(),
        }
    }

    fn limits(&self) -> rulecheck::limits::Limits {
        self.rules.limit.limits()
    }

    /// Flags that contradict each other are refused, never ignored.
    fn check(&self) -> Result<(), String> {
        let call = self.call.given();
        if !self.inputs.is_empty() && !call.is_empty() {
            return Err(format!(
                "{} describe one call when no file is given; they cannot be used with input files. \
                 Leave out the files, or the flags",
                call.join(", ")
            ));
        }
        if self.trace && self.summary {
            return Err("--trace shows each report's rules; a --summary has no reports. Use one or the other".into());
        }
        Ok(())
    }
}

/// For people with nothing captured: describe the call instead.
#[derive(clap::Args, Clone, Default)]
struct CallArgs {
    /// The HTTP status the call got.
    #[arg(long, help_heading = "Describe the call (no file)")]
    status: Option<u16>,
    /// The URL that was called.
    #[arg(long, help_heading = "Describe the call (no file)")]
    url: Option<String>,
    /// The HTTP method (default POST when a body is given).
    #[arg(long, help_heading = "Describe the call (no file)")]
    method: Option<String>,
    /// The API key that was sent (as `Authorization: Bearer KEY`).
    #[arg(
        long,
        help_heading = "Describe the call (no file)",
        allow_hyphen_values = true
    )]
    key: Option<String>,
    /// The model asked for.
    #[arg(long, help_heading = "Describe the call (no file)")]
    model: Option<String>,
    /// The response body (the error the gateway returned), JSON or text.
    #[arg(long, help_heading = "Describe the call (no file)")]
    body: Option<String>,
    /// The error the client printed when no response came back.
    #[arg(long, help_heading = "Describe the call (no file)")]
    client_error: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum InputArg {
    Capture,
    Jsonl,
    Har,
    Http,
    Sdk,
    Log,
}

impl From<InputArg> for input::Format {
    fn from(a: InputArg) -> Self {
        match a {
            InputArg::Capture => input::Format::Capture,
            InputArg::Jsonl => input::Format::Jsonl,
            InputArg::Har => input::Format::Har,
            InputArg::Http => input::Format::Http,
            InputArg::Sdk => input::Format::Sdk,
            InputArg::Log => input::Format::Log,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Diagnose failed calls from whatever you have: a JSON capture or JSON Lines of them,
    /// a HAR file, curl -i/-v or HTTPie output, an SDK's error text, gateway log lines,
    /// or flags describing the call.
    Eval(EvalArgs),
    /// List the rules in use.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        rules: RuleArgs,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
    },
    /// Print a rule in full: where it is, how it ranks, its condition, texts and examples.
    Explain {
        /// The rule id, e.g. address.missing-v1.
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Compare two rulebook versions on a corpus of captures: which diagnoses change.
    /// Exits 1 when anything changed, 0 when nothing did.
    Diff {
        /// The old rules: a file or directory, `builtin`, or `git:REV` (the *.yaml under
        /// rules/ at that git revision).
        old: String,
        /// The new rules, in the same forms.
        new: String,
        /// Captures to run (files, any input format). Default: every file under
        /// tests/fixtures/captures and tests/fixtures/inputs.
        captures: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        limit: LimitArgs,
    },
    /// Check rulebooks for problems (default: the built-in rulebook).
    Lint {
        /// Rulebook files or directories.
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 1 when there are warnings (errors always exit 2).
        #[arg(long)]
        deny_warnings: bool,
        /// Also check that the newest entry of this changelog names the rulebook's
        /// version and digest (a changed rulebook needs a new version and entry).
        #[arg(long, value_name = "FILE")]
        changelog: Option<PathBuf>,
        #[command(flatten)]
        limit: LimitArgs,
    },
    /// Run every rule's examples and any case files (default: the built-in rulebook).
    Test {
        /// Rulebook files or directories.
        paths: Vec<PathBuf>,
        /// Case files or directories of them: captures with the ids they must (not) get.
        #[arg(long = "cases", value_name = "PATH")]
        cases: Vec<PathBuf>,
        /// Report, per rule and per condition, whether it was ever true and ever false
        /// across all examples and cases.
        #[arg(long)]
        coverage: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        limit: LimitArgs,
    },
    /// List the limits on input and rulebooks, with their defaults and the values in use.
    Limits {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        limit: LimitArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    /// One JSON report per line, streamed (eval).
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    En,
    Zh,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
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

fn write_out(args: std::fmt::Arguments) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::OK.into());
        }
        eprintln!("rulecheck: cannot write the output: {e}");
        std::process::exit(exit::BAD_INPUT.into());
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Eval(args) => eval(&args),
        Command::List {
            format,
            rules,
            lang,
        } => list(format, &rules, pick_lang(lang)),
        Command::Lint {
            paths,
            format,
            deny_warnings,
            changelog,
            limit,
        } => lint(
            &paths,
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
            cases,
            coverage,
            format,
            limit,
        } => test(&paths, &cases, coverage, format, limit.limits()),
        Command::Limits { format, limit } => list_limits(format, limit.limits()),
    };
    ExitCode::from(code)
}

fn pick_lang(arg: Option<LangArg>) -> Lang {
    match arg {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Zh) => Lang::Zh,
        None => ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .map(|s| Lang::from_locale(&s))
            .unwrap_or_default(),
    }
}

/// The rule set for `args`; `with_examples` reads the rules' examples too (only
/// `explain` shows them).
fn load_rules(args: &RuleArgs, with_examples: bool) -> Result<RuleSet, LoadError> {
    // The project file's layers first; flags add to them.
    let project = if args.no_project {
        None
    } else {
        let here = std::env::current_dir().unwrap_or_default();
        match rulecheck::project::find(&here).map(|p| rulecheck::project::load(&p)) {
            Some(Ok(p)) => Some(p),
            Some(Err(d)) => {
                return Err(LoadError {
                    diagnostics: vec![d],
                    sources: BTreeMap::new(),
                });
            }
            None => None,
        }
    };
    let project = project.unwrap_or_default();
    let mut vars = project.vars.clone();
    vars.extend(args.vars.iter().cloned());
    let options = LoadOptions {
        vars,
        limits: args.limit.limits(),
        skip_examples: !with_examples,
        ..Default::default()
    };
    let base = if args.rules.is_empty() {
        &project.rules
    } else {
        &args.rules
    };
    let overlays: Vec<PathBuf> = project
        .overlays
        .iter()
        .chain(&args.overlays)
        .cloned()
        .collect();
    let mut set = RuleSet::load_layers(base, &overlays, &options)?;
    set.include_preview = args.preview;
    Ok(set)
}

fn report_load_error(e: &LoadError) -> u8 {
    let mut stderr = anstream::stderr();
    let _ = write!(stderr, "{}", e.render());
    let n = e.diagnostics.len();
    let _ = writeln!(
        stderr,
        "\nrulecheck: {n} problem{} in the rulebooks; nothing was evaluated",
        if n == 1 { "" } else { "s" }
    );
    exit::BAD_INPUT
}

fn eval(args: &EvalArgs) -> u8 {
    if let Err(message) = args.check() {
        eprintln!("rulecheck: {message}");
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
            json: !matches!(format, Format::Text),
        },
        (false, Format::Text) => run::Output::Text(lang),
        (false, Format::Json) => run::Output::Json,
        (false, Format::Jsonl) => run::Output::Jsonl,
    };
    let options = run::RunOptions {
        output,
        read: args.read_options(),
        eval: args.eval_options(lang),
        threads: args.threads.map(usize::from).unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }),
        trace: args.trace,
        progress: args.summary && std::io::stderr().is_terminal(),
    };
    let choice = match args.color {
        ColorArg::Auto => anstream::ColorChoice::Auto,
        ColorArg::Always => anstream::ColorChoice::Always,
        ColorArg::Never => anstream::ColorChoice::Never,
    };
    let stdout = anstream::AutoStream::new(std::io::stdout().lock(), choice);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
    let outcome = run::run(&set, &inputs, &options, &mut out, &mut std::io::stderr());
    if let Some(e) = &outcome.write_error {
        eprintln!("rulecheck: cannot write the output: {e}");
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

impl CallArgs {
    fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("--status", self.status.is_some()),
            ("--url", self.url.is_some()),
            ("--method", self.method.is_some()),
            ("--key", self.key.is_some()),
            ("--model", self.model.is_some()),
            ("--body", self.body.is_some()),
            ("--client-error", self.client_error.is_some()),
        ];
        flags.into_iter().filter(|(_, set)| *set).map(|(f, _)| f).collect()
    }

    /// A capture from `--status`, `--url`, `--key`, … for people with nothing captured.
    fn capture(&self) -> rulecheck::capture::Capture {
        use rulecheck::capture::{Body, Capture, Headers, Request, Response};
        let mut headers = Headers::default();
        if let Some(key) = &self.key {
            headers.push("Authorization", format!("Bearer {key}"));
        }
        let request_body = self
            .model
            .as_ref()
            .map(|m| Body::Json(serde_json::json!({ "model": m })));
        let method = self.method.clone().or_else(|| {
            (self.url.is_some() || request_body.is_some()).then(|| "POST".to_owned())
        });
        let request = (self.url.is_some() || self.key.is_some() || request_body.is_some())
            .then(|| Request {
                method,
                url: self.url.clone(),
                headers,
                body: request_body,
            });
        let body = self.body.as_ref().map(|b| match serde_json::from_str(b) {
            Ok(json) => Body::Json(json),
            Err(_) => Body::Text(b.clone()),
        });
        let response = (self.status.is_some() || body.is_some()).then(|| Response {
            status: self.status,
            headers: Headers::default(),
            body,
        });
        Capture {
            request,
            response,
            client_error: self.client_error.clone(),
            ..Default::default()
        }
    }
}

fn list(format: Format, rule_args: &RuleArgs, lang: Lang) -> u8 {
    let set = match load_rules(rule_args, false) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    let rows: Vec<serde_json::Value> = set
        .rules()
        .map(|(rb, r)| {
            serde_json::json!({
                "id": r.id,
                "category": r.category,
                "severity": r.severity.name(),
                "priority": r.priority,
                "status": r.status.name(),
                "title": r.title.get(lang),
                "rulebook": rb.name,
                "overridden_by": r.overridden_by,
            })
        })
        .collect();
    match format {
        Format::Json | Format::Jsonl => {
            let doc = serde_json::json!({ "rules": rows });
            say!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            let width = set.rules().map(|(_, r)| r.id.len()).max().unwrap_or(0);
            for (rb, r) in set.rules() {
                let mut notes = Vec::new();
                if r.status != rulebook::Lifecycle::Stable {
                    notes.push(r.status.name().to_owned());
                }
                if set.rulebooks.len() > 1 {
                    notes.push(format!("from {}", rb.name));
                }
                if !r.overridden_by.is_empty() {
                    notes.push(format!("changed by {}", r.overridden_by.join(", ")));
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", notes.join("; "))
                };
                say!(
                    "{:<width$}  {:<10} {:<7}  {}{notes}",
                    r.id,
                    r.category,
                    r.severity.name(),
                    r.title.get(lang)
                );
            }
            for s in set.skipped() {
                say!("{:<width$}  skipped: {}", s.rule, s.reason);
            }
        }
    }
    exit::OK
}

/// `rulecheck limits`: every limit, its default and the value in use.
fn list_limits(format: Format, limits: rulecheck::limits::Limits) -> u8 {
    use rulecheck::limits::{LIMITS, Limits, show};
    let defaults = Limits::default();
    match format {
        Format::Json | Format::Jsonl => {
            let list: Vec<serde_json::Value> = LIMITS
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "name": l.name,
                        "what": l.what,
                        "default": (l.get)(&defaults),
                        "value": (l.get)(&limits),
                    })
                })
                .collect();
            say!("{}", serde_json::Value::Array(list));
        }
        Format::Text => {
            for l in LIMITS {
                let (value, default) = ((l.get)(&limits), (l.get)(&defaults));
                let changed = if value == default {
                    String::new()
                } else {
                    format!("  (default {})", show(l, default))
                };
                say!("{:<15} {:>8}  {}{changed}", l.name, show(l, value), l.what);
            }
        }
    }
    exit::OK
}

fn load_for_check(
    paths: &[PathBuf],
    limits: rulecheck::limits::Limits,
) -> Result<RuleSet, LoadError> {
    let options = LoadOptions {
        limits,
        ..Default::default()
    };
    if paths.is_empty() {
        let (file, text) = rulebook::DEFAULT_RULEBOOK;
        let rb = rulebook::load_str(file, text, &options).map_err(|diagnostics| LoadError {
            diagnostics,
            sources: BTreeMap::from([(file.to_owned(), text.to_owned())]),
        })?;
        RuleSet::new(vec![rb]).map_err(|diagnostics| LoadError {
            diagnostics,
            sources: BTreeMap::new(),
        })
    } else {
        RuleSet::load_paths(paths, &options)
    }
}

fn lint(
    paths: &[PathBuf],
    format: Format,
    deny_warnings: bool,
    changelog: Option<&Path>,
    limits: rulecheck::limits::Limits,
) -> u8 {
    let result = load_for_check(paths, limits);
    let (diagnostics, sources, rules) = match &result {
        Ok(set) => {
            let sources = set.sources();
            let mut found = rulebook::lints::lint(set);
            if let Some(path) = changelog {
                let name = path.display().to_string();
                match std::fs::read_to_string(path) {
                    Ok(text) => found.extend(
                        set.rulebooks
                            .iter()
                            .filter_map(|rb| rulebook::lints::changelog(&name, &text, rb)),
                    ),
                    Err(e) => found.push(rulecheck::diagnostic::Diagnostic::error(
                        "RC017",
                        &name,
                        None,
                        format!("cannot read: {e}"),
                    )),
                }
            }
            (found, sources, set.rules().count())
        }
        Err(e) => (e.diagnostics.clone(), e.sources.clone(), 0),
    };
    let errors = diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    match format {
        Format::Json | Format::Jsonl => {
            let doc = serde_json::json!({ "errors": errors, "warnings": warnings, "diagnostics": diagnostics });
            say!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            let mut stderr = anstream::stderr();
            for d in &diagnostics {
                let _ = writeln!(
                    stderr,
                    "{}",
                    d.render(sources.get(&d.file).map(String::as_str))
                );
            }
            if errors > 0 {
                let _ = writeln!(
                    stderr,
                    "rulecheck: {errors} error(s), {warnings} warning(s)"
                );
            } else {
                if let Ok(set) = &result {
                    for rb in &set.rulebooks {
                        let (v, features) = rulebook::lints::needs(rb);
                        say!(
                            "rulebook {} {} needs rulecheck >={v} ({})",
                            rb.name,
                            rb.version,
                            features.join(", ")
                        );
                    }
                }
                say!("rulecheck: {rules} rules, {warnings} warning(s), no errors");
            }
        }
    }
    if errors > 0 {
        exit::BAD_INPUT
    } else if warnings > 0 && deny_warnings {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn test(
    paths: &[PathBuf],
    case_paths: &[PathBuf],
    with_coverage: bool,
    format: Format,
    limits: rulecheck::limits::Limits,
) -> u8 {
    let set = match load_for_check(paths, limits) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    let mut cases = Vec::new();
    for p in case_paths {
        match rulebook::cases::load(p) {
            Ok(c) => cases.extend(c),
            Err(diagnostics) => {
                return report_load_error(&LoadError {
                    diagnostics,
                    sources: BTreeMap::new(),
                });
            }
        }
    }
    let case_report = rulebook::cases::run(&set, &cases);
    let report = rulebook::examples::run(&set);
    let sources: BTreeMap<String, String> = set.sources();
    let failed = report.failures.len() + case_report.failures.len();
    let coverage = with_coverage.then(|| {
        let examples = set
            .rules()
            .flat_map(|(_, r)| r.examples_match.iter().chain(&r.examples_no_match))
            .map(|e| &e.capture);
        rulecheck::trace::coverage(&set, examples.chain(cases.iter().map(|c| &c.capture)))
    });
    match format {
        Format::Json | Format::Jsonl => {
            let doc = serde_json::json!({ "examples": report, "cases": case_report, "coverage": coverage });
            say!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            for f in &report.failures {
                let source = sources.get(&f.diagnostic.file).map(String::as_str);
                eprint!("{}", f.diagnostic.render(source));
                let mut tree = String::new();
                rulecheck::trace::render(&f.trace, 2, &mut tree);
                eprintln!(
                    "  why: the condition of `{}` on this example\n{tree}",
                    f.rule
                );
            }
            for f in &case_report.failures {
                let source = std::fs::read_to_string(&f.diagnostic.file).ok();
                eprint!("{}", f.diagnostic.render(source.as_deref()));
                for (id, t) in &f.traces {
                    let mut tree = String::new();
                    rulecheck::trace::render(t, 2, &mut tree);
                    eprintln!("  why: `{id}` on this capture\n{tree}");
                }
            }
            for id in &report.without_positive_example {
                eprintln!("warning: rule `{id}` has no `match` example");
            }
            if let Some(cov) = &coverage {
                print_coverage(cov);
            }
            say!(
                "{} passed, {failed} failed",
                report.passed + case_report.passed
            );
        }
    }
    if failed == 0 { exit::OK } else { exit::FAILED }
}

fn explain(id: &str, rule_args: &RuleArgs) -> u8 {
    let set = match load_rules(rule_args, true) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    let Some((rb, rule)) = set.rules().find(|(_, r)| r.id == id) else {
        let ids: Vec<&str> = set.rules().map(|(_, r)| r.id.as_str()).collect();
        let hint = rulecheck::facts::suggest(id, ids.iter().copied())
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_else(|| "; `rulecheck list` shows them all".to_owned());
        eprintln!("rulecheck: no rule `{id}` in the rulebooks in use{hint}");
        return exit::BAD_INPUT;
    };
    say!("{} — {}", rule.id, rule.title.en);
    say!(
        "rulebook {} {} ({}:{})",
        rb.name, rb.version, rb.source, rule.pos.line
    );
    let mut facts = format!(
        "category {} · severity {} · priority {} · {}",
        rule.category,
        rule.severity.name(),
        rule.priority,
        rule.status.name()
    );
    if rule.fallback {
        facts.push_str(" · fallback");
    }
    if !rule.suppresses.is_empty() {
        facts.push_str(&format!(" · suppresses {}", rule.suppresses.join(", ")));
    }
    if !rule.overridden_by.is_empty() {
        facts.push_str(&format!(" · changed by {}", rule.overridden_by.join(", ")));
    }
    say!("{facts}");
    say!(
        "{} match example(s), {} no_match example(s)\n",
        rule.examples_match.len(),
        rule.examples_no_match.len()
    );
    say!("{}", rb.rule_text(rule));
    exit::OK
}

fn print_coverage(cov: &rulecheck::trace::Coverage) {
    let both = cov
        .rules
        .iter()
        .filter(|r| r.held > 0 && r.failed > 0)
        .count();
    say!(
        "coverage over {} captures: {} of {} rules held on some and failed on others",
        cov.captures,
        both,
        cov.rules.len()
    );
    for r in &cov.rules {
        if r.held == 0 {
            say!("  rule {} never held: nothing proves it can fire", r.rule);
        } else if r.failed == 0 {
            say!(
                "  rule {} held on every capture: nothing proves it can stay silent",
                r.rule
            );
        }
    }
    let gaps = cov.gaps();
    if gaps.is_empty() {
        say!("  every condition node was both true and false");
    } else {
        say!(
            "  {} condition nodes were not exercised both ways:",
            gaps.len()
        );
        for (rule, node, what) in gaps {
            say!("    {rule} {} ({}): {what}", node.path, node.node);
        }
    }
}

/// One side of `rulecheck diff`: a path, `builtin`, or `git:REV`.
fn load_side(spec: &str, limits: rulecheck::limits::Limits) -> Result<RuleSet, LoadError> {
    let options = LoadOptions {
        limits,
        ..Default::default()
    };
    if spec == "builtin" {
        return RuleSet::default_rulebook(&options);
    }
    let Some(rev) = spec.strip_prefix("git:") else {
        return RuleSet::load_paths(&[PathBuf::from(spec)], &options);
    };
    let fail = |message: String| LoadError {
        diagnostics: vec![
            rulecheck::diagnostic::Diagnostic::error("RC017", spec, None, message).with_help(
                "git:REV reads the *.yaml files under rules/ at that revision of this repository",
            ),
        ],
        sources: BTreeMap::new(),
    };
    let git = |args: &[&str]| -> Result<String, LoadError> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .map_err(|e| fail(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let files = git(&["ls-tree", "--name-only", rev, "rules/"])?;
    let mut rulebooks = Vec::new();
    for file in files
        .lines()
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
    {
        let text = git(&["show", &format!("{rev}:{file}")])?;
        let name = format!("{rev}:{file}");
        let rb = rulebook::load_str(&name, &text, &options).map_err(|diagnostics| LoadError {
            diagnostics,
            sources: BTreeMap::from([(name.clone(), text.clone())]),
        })?;
        rulebooks.push(rb);
    }
    RuleSet::new(rulebooks).map_err(|diagnostics| LoadError {
        diagnostics,
        sources: BTreeMap::new(),
    })
}

fn diff(
    old: &str,
    new: &str,
    captures: &[PathBuf],
    format: Format,
    limits: rulecheck::limits::Limits,
) -> u8 {
    let (old_set, new_set) = match (load_side(old, limits), load_side(new, limits)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return report_load_error(&e),
    };
    let mut files: Vec<PathBuf> = captures.to_vec();
    if files.is_empty() {
        for dir in ["tests/fixtures/captures", "tests/fixtures/inputs"] {
            collect_files(Path::new(dir), &mut files);
        }
        if files.is_empty() {
            eprintln!(
                "rulecheck: no captures given, and no tests/fixtures here; name the captures to compare on"
            );
            return exit::BAD_INPUT;
        }
    }
    files.sort();
    let mut corpus = Vec::new();
    for f in &files {
        let name = f.display().to_string();
        let read = std::fs::read(f).map_err(|e| e.to_string()).and_then(|b| {
            let options = input::ReadOptions {
                limits,
                ..Default::default()
            };
            input::read_with(&b, options).map_err(|e| e.to_string())
        });
        match read {
            Ok(cs) => corpus.extend(cs.into_iter().map(|c| rulecheck::diff::Sample {
                source: name.clone(),
                locator: c.locator,
                capture: c.capture,
            })),
            Err(e) => {
                eprintln!("rulecheck: {name}: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    let report = rulecheck::diff::diff(&old_set, &new_set, &corpus);
    match format {
        Format::Json | Format::Jsonl => say!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Format::Text => say_raw!("{}", rulecheck::diff::render(&report)),
    }
    if report.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}
