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

#[derive(Subcommand)]
enum Command {
    /// Diagnose captured calls: native JSON captures, JSON arrays or JSON Lines of them.
    Eval {
        /// Input files; `-` reads standard input.
        #[arg(value_name = "FILE", required = true)]
        inputs: Vec<String>,
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
    },
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
        Command::Eval {
            inputs,
            format,
            rules,
            lang,
            color,
            max_input_bytes,
        } => eval(
            &inputs,
            format,
            &rules,
            pick_lang(lang),
            color,
            max_input_bytes,
        ),
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

fn eval(
    inputs: &[String],
    format: Format,
    rule_args: &RuleArgs,
    lang: Lang,
    color: ColorArg,
    max_bytes: usize,
) -> u8 {
    let set = match load_rules(rule_args) {
        Ok(s) => s,
        Err(e) => return report_load_error(&e),
    };
    let mut reports = Vec::new();
    let mut failed = false;
    for name in inputs {
        let bytes = match read_input(name, max_bytes) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("rulecheck: {name}: {e}");
                failed = true;
                continue;
            }
        };
        match input::read(&bytes, max_bytes) {
            Ok(captures) => {
                for c in captures {
                    reports.push(CaptureReport {
                        source: name.clone(),
                        locator: c.locator,
                        format: c.format.to_owned(),
                        diagnosis: evaluate::diagnose(&set, &c.capture, EvalOptions { lang }),
                    });
                }
            }
            Err(e) => {
                eprintln!("rulecheck: {name}: {e}");
                failed = true;
            }
        }
    }
    let report = Report::new(&set, reports);
    let text = match format {
        Format::Json => report.to_json() + "\n",
        Format::Text => render_text(&report, lang),
    };
    let choice = match color {
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
