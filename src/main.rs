//! The `rulecheck` command: a thin shell over the library.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use rulecheck::evaluate::{self, EvalOptions};
use rulecheck::input;
use rulecheck::report::{CaptureReport, Report, render_text};
use rulecheck::rulebook::{self, Lang, LoadError, LoadOptions, RuleSet};

/// Exit codes, documented in the README.
mod exit {
    /// The command did its job (eval: every input was diagnosed).
    pub const OK: u8 = 0;
    /// `test`: an example or case failed.
    pub const FAILED: u8 = 1;
    /// Bad input, bad rulebook or bad usage.
    pub const BAD_INPUT: u8 = 2;
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
    /// Override a rulebook variable, e.g. --var base_url=http://127.0.0.1:3000/v1 (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
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
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    rules: RuleArgs,
    /// Language of messages; default from LC_ALL/LC_MESSAGES/LANG, else English.
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Largest input file accepted, in bytes.
    #[arg(long, default_value_t = input::DEFAULT_MAX_INPUT_BYTES)]
    max_input_bytes: usize,
    #[command(flatten)]
    call: CallArgs,
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
    /// Diagnose captured calls: native JSON captures, JSON arrays or JSON Lines of them.
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
    /// Check rulebooks for problems (default: the built-in rulebook).
    Lint {
        /// Rulebook files or directories.
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run every rule's examples and any case files (default: the built-in rulebook).
    Test {
        /// Rulebook files or directories.
        paths: Vec<PathBuf>,
        /// Case files or directories of them: captures with the ids they must (not) get.
        #[arg(long = "cases", value_name = "PATH")]
        cases: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Eval(args) => eval(&args),
        Command::List {
            format,
            rules,
            lang,
        } => list(format, &rules, pick_lang(lang)),
        Command::Lint { paths, format } => lint(&paths, format),
        Command::Test {
            paths,
            cases,
            format,
        } => test(&paths, &cases, format),
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

fn load_rules(args: &RuleArgs) -> Result<RuleSet, LoadError> {
    let options = LoadOptions {
        vars: args.vars.iter().cloned().collect::<BTreeMap<_, _>>(),
        ..Default::default()
    };
    if args.rules.is_empty() {
        let set = RuleSet::default_rulebook(&options)?;
        rulebook::check_vars(&set.rulebooks, &options).map_err(|diagnostics| LoadError {
            diagnostics,
            sources: BTreeMap::new(),
        })?;
        Ok(set)
    } else {
        RuleSet::load_paths(&args.rules, &options)
    }
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
    let lang = pick_lang(args.lang);
    let set = match load_rules(&args.rules) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    let options = input::ReadOptions {
        max_bytes: args.max_input_bytes,
        format: args.input_format.map(Into::into),
        all_entries: args.all_entries,
    };
    let mut reports = Vec::new();
    let mut failed = false;
    if args.inputs.is_empty() {
        let c = call_capture(&args.call);
        reports.push(CaptureReport::new(
            "flags",
            &c,
            evaluate::diagnose(&set, &c.capture, EvalOptions { lang }),
        ));
    }
    for name in &args.inputs {
        let bytes = match read_input(name, args.max_input_bytes) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("rulecheck: {name}: {e}");
                failed = true;
                continue;
            }
        };
        match input::read_with(&bytes, options) {
            Ok(captures) => {
                for c in captures {
                    let diagnosis = evaluate::diagnose(&set, &c.capture, EvalOptions { lang });
                    reports.push(CaptureReport::new(name, &c, diagnosis));
                }
            }
            Err(e) => {
                eprintln!("rulecheck: {name}: {e}");
                failed = true;
            }
        }
    }
    let report = Report::new(&set, reports);
    let text = match args.format {
        Format::Json => report.to_json() + "\n",
        Format::Text => render_text(&report, lang),
    };
    let choice = match args.color {
        ColorArg::Auto => anstream::ColorChoice::Auto,
        ColorArg::Always => anstream::ColorChoice::Always,
        ColorArg::Never => anstream::ColorChoice::Never,
    };
    let mut stdout = anstream::AutoStream::new(std::io::stdout(), choice);
    if stdout.write_all(text.as_bytes()).is_err() {
        return exit::BAD_INPUT;
    }
    if failed { exit::BAD_INPUT } else { exit::OK }
}

/// A capture from `--status`, `--url`, `--key`, … for people with nothing captured.
fn call_capture(call: &CallArgs) -> input::InputCapture {
    use rulecheck::capture::{Body, Capture, Headers, Request, Response};
    let mut headers = Headers::default();
    if let Some(key) = &call.key {
        headers.push("Authorization", format!("Bearer {key}"));
    }
    let request_body = call
        .model
        .as_ref()
        .map(|m| Body::Json(serde_json::json!({ "model": m })));
    let method = call
        .method
        .clone()
        .or_else(|| (call.url.is_some() || request_body.is_some()).then(|| "POST".to_owned()));
    let request =
        (call.url.is_some() || call.key.is_some() || request_body.is_some()).then(|| Request {
            method,
            url: call.url.clone(),
            headers,
            body: request_body,
        });
    let body = call.body.as_ref().map(|b| match serde_json::from_str(b) {
        Ok(json) => Body::Json(json),
        Err(_) => Body::Text(b.clone()),
    });
    let response = (call.status.is_some() || body.is_some()).then(|| Response {
        status: call.status,
        headers: Headers::default(),
        body,
    });
    let capture = Capture {
        request,
        response,
        client_error: call.client_error.clone(),
        meta: Default::default(),
    };
    input::InputCapture::new(capture, "flags", "")
}

fn read_input(name: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let limit = max_bytes as u64 + 1;
    let result = if name == "-" {
        if std::io::stdin().is_terminal() {
            return Err("standard input is a terminal; pipe a capture in or name a file".into());
        }
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(name).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    result.map_err(|e| format!("cannot read: {e}"))?;
    Ok(bytes)
}

fn list(format: Format, rule_args: &RuleArgs, lang: Lang) -> u8 {
    let set = match load_rules(rule_args) {
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
                "title": r.title.get(lang),
                "rulebook": rb.name,
            })
        })
        .collect();
    match format {
        Format::Json => {
            let doc = serde_json::json!({ "rules": rows });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            let width = set.rules().map(|(_, r)| r.id.len()).max().unwrap_or(0);
            for (_, r) in set.rules() {
                println!(
                    "{:<width$}  {:<10} {:<7}  {}",
                    r.id,
                    r.category,
                    r.severity.name(),
                    r.title.get(lang)
                );
            }
        }
    }
    exit::OK
}

fn load_for_check(paths: &[PathBuf]) -> Result<RuleSet, LoadError> {
    let options = LoadOptions::default();
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

fn lint(paths: &[PathBuf], format: Format) -> u8 {
    let result = load_for_check(paths);
    match format {
        Format::Json => {
            let diagnostics = match &result {
                Ok(_) => Vec::new(),
                Err(e) => e.diagnostics.clone(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "diagnostics": diagnostics }))
                    .unwrap_or_default()
            );
        }
        Format::Text => match &result {
            Ok(set) => println!(
                "rulecheck: {} rulebook{} clean ({} rules)",
                set.rulebooks.len(),
                if set.rulebooks.len() == 1 { "" } else { "s" },
                set.rules().count()
            ),
            Err(e) => {
                report_load_error(e);
            }
        },
    }
    if result.is_ok() {
        exit::OK
    } else {
        exit::BAD_INPUT
    }
}

fn test(paths: &[PathBuf], case_paths: &[PathBuf], format: Format) -> u8 {
    let set = match load_for_check(paths) {
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
    let sources: BTreeMap<String, String> = set
        .rulebooks
        .iter()
        .filter_map(|rb| {
            if rb.source == rulebook::DEFAULT_RULEBOOK.0 && paths.is_empty() {
                Some((rb.source.clone(), rulebook::DEFAULT_RULEBOOK.1.to_owned()))
            } else {
                std::fs::read_to_string(&rb.source)
                    .ok()
                    .map(|t| (rb.source.clone(), t))
            }
        })
        .collect();
    let failed = report.failures.len() + case_report.failures.len();
    match format {
        Format::Json => {
            let doc = serde_json::json!({ "examples": report, "cases": case_report });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            for f in &report.failures {
                let source = sources.get(&f.diagnostic.file).map(String::as_str);
                eprint!("{}", f.diagnostic.render(source));
            }
            for f in &case_report.failures {
                let source = std::fs::read_to_string(&f.diagnostic.file).ok();
                eprint!("{}", f.diagnostic.render(source.as_deref()));
            }
            for id in &report.without_positive_example {
                eprintln!("warning: rule `{id}` has no `match` example");
            }
            println!(
                "{} passed, {failed} failed",
                report.passed + case_report.passed
            );
        }
    }
    if failed == 0 { exit::OK } else { exit::FAILED }
}
