//! The command line: clap's definitions of the commands and flags, and how flags
//! become the library's options (a rule choice, read and eval options, a capture
//! described by flags). `main.rs` only dispatches.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use rulecheck::evaluate::EvalOptions;
use rulecheck::input;
use rulecheck::limits::Limits;
use rulecheck::project;
use rulecheck::rulebook::{Lang, LoadError, RuleSet};

#[derive(Parser)]
#[command(
    name = "rulecheck",
    version,
    about = "Diagnose failed calls to OpenAI-compatible AI gateways"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Args, Clone)]
pub struct RuleArgs {
    /// Rulebook file or directory of *.yaml rulebooks to use instead of the built-in one (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// A rulebook to add on top of the rules in use (the built-in one by default), e.g. your team's rules (repeatable).
    #[arg(long = "overlay", value_name = "PATH")]
    pub overlays: Vec<PathBuf>,
    /// Override a rulebook variable, e.g. --var base_url=http://127.0.0.1:3000/v1 (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Run rules marked `status: preview` too.
    #[arg(long)]
    pub preview: bool,
    /// Ignore rulecheck.yaml (otherwise looked for in this directory and its parents).
    #[arg(long)]
    pub no_project: bool,
    #[command(flatten)]
    pub limit: LimitArgs,
}

/// `--limit NAME=VALUE`: raise or lower a bound on input or rulebooks.
#[derive(clap::Args, Clone, Default)]
pub struct LimitArgs {
    /// Change a limit, e.g. --limit input-bytes=256MiB or --limit rules=20000 (repeatable;
    /// `rulecheck limits` lists them).
    #[arg(long = "limit", value_name = "NAME=VALUE", value_parser = parse_limit)]
    pub settings: Vec<rulecheck::limits::LimitSetting>,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        self.settings.iter().for_each(|s| limits.apply(*s));
        limits
    }
}

pub fn parse_limit(s: &str) -> Result<rulecheck::limits::LimitSetting, String> {
    rulecheck::limits::LimitSetting::parse(s).map_err(|e| e.to_string())
}

/// `rulecheck eval`: what to read, how, and how to answer.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// Input files (capture JSON, JSON Lines, HAR, curl -i/-v output, SDK error text,
    /// gateway log lines); `-` reads standard input. None: describe the call with flags.
    #[arg(value_name = "FILE", required_unless_present_any = ["status", "url", "key", "client_error"])]
    pub inputs: Vec<String>,
    /// Read the inputs as this format instead of detecting it.
    #[arg(long = "input", value_name = "FORMAT", value_parser = input_format_parser())]
    pub input_format: Option<input::Format>,
    /// HAR: report every entry, not only the API calls that failed or look wrong.
    #[arg(long)]
    pub all_entries: bool,
    /// Show, for every rule, the truth of each node of its condition on each capture.
    #[arg(long)]
    pub trace: bool,
    /// Print counts and shares per diagnosis, category, status, host, path and client
    /// instead of one report per capture (table; JSON with --format json).
    #[arg(long)]
    pub summary: bool,
    /// Worker threads for JSON Lines (default: all cores; 1 to 256).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// How to answer: text for a terminal, Markdown for a support ticket or chat,
    /// JSON for programs (`rulecheck schema report`), JSON Lines to stream.
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    pub format: EvalFormat,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Language of messages; default from LC_ALL/LC_MESSAGES/LANG, else English.
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    #[command(flatten)]
    pub call: CallArgs,
}

impl EvalArgs {
    /// How to read each input, from the flags.
    pub fn read_options(&self) -> input::ReadOptions {
        input::ReadOptions {
            format: self.input_format,
            all_entries: self.all_entries,
            limits: self.limits(),
        }
    }

    /// How to evaluate each capture, from the flags.
    pub fn eval_options(&self, lang: Lang) -> EvalOptions {
        EvalOptions {
            lang,
            limits: self.limits(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.rules.limit.limits()
    }

    /// Flags that contradict each other are refused, never ignored.
    pub fn check(&self) -> Result<(), String> {
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
        if self.summary && matches!(self.format, EvalFormat::Jsonl | EvalFormat::Markdown) {
            return Err("a --summary is one table: use --format text or --format json".into());
        }
        if self.trace && self.format == EvalFormat::Markdown {
            return Err("--trace is for rule authors: use it with --format text or --format json, not in a report for a ticket".into());
        }
        Ok(())
    }
}

/// For people with nothing captured: describe the call instead.
#[derive(clap::Args, Clone, Default)]
pub struct CallArgs {
    /// The HTTP status the call got.
    #[arg(long, help_heading = "Describe the call (no file)")]
    pub status: Option<u16>,
    /// The URL that was called.
    #[arg(long, help_heading = "Describe the call (no file)")]
    pub url: Option<String>,
    /// The HTTP method (default POST when a body is given).
    #[arg(long, help_heading = "Describe the call (no file)")]
    pub method: Option<String>,
    /// The API key that was sent (as `Authorization: Bearer KEY`).
    #[arg(
        long,
        help_heading = "Describe the call (no file)",
        allow_hyphen_values = true
    )]
    pub key: Option<String>,
    /// The model asked for.
    #[arg(long, help_heading = "Describe the call (no file)")]
    pub model: Option<String>,
    /// The response body (the error the gateway returned), JSON or text.
    #[arg(long, help_heading = "Describe the call (no file)")]
    pub body: Option<String>,
    /// The error the client printed when no response came back.
    #[arg(long, help_heading = "Describe the call (no file)")]
    pub client_error: Option<String>,
}

/// `--input`: the library's own format names, so the two lists cannot drift apart.
fn input_format_parser() -> impl clap::builder::TypedValueParser<Value = input::Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(input::Format::ALL.map(input::Format::name))
        .map(|name| input::Format::from_name(&name).unwrap_or(input::Format::Text))
}

#[derive(Subcommand)]
pub enum Command {
    /// Diagnose failed calls from whatever you have: a JSON capture or JSON Lines of them,
    /// a HAR file, curl -i/-v or HTTPie output, an SDK's error text, gateway log lines,
    /// or flags describing the call.
    #[command(after_help = "Examples:
  rulecheck eval capture.json
  rulecheck eval traceback.txt --lang zh
  rulecheck eval --status 404 --url https://api.moleapi.com/chat/completions
  rulecheck eval gateway.jsonl --summary
  rulecheck eval capture.json --overlay team-rules.yaml --trace")]
    Eval(EvalArgs),
    /// List the rules in use.
    #[command(after_help = "Examples:
  rulecheck list
  rulecheck list --overlay team-rules.yaml --format json")]
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        rules: RuleArgs,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
    },
    /// Print a rule in full: where it is, how it ranks, its condition, texts and examples.
    #[command(after_help = "Examples:
  rulecheck explain key.whitespace
  rulecheck explain team.daily-limit --overlay team-rules.yaml")]
    Explain {
        /// The rule id, e.g. address.missing-v1.
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Compare two rulebook versions on a corpus of captures: which diagnoses change.
    /// Exits 1 when anything changed, 0 when nothing did.
    #[command(after_help = "Examples:
  rulecheck diff builtin builtin+team-rules.yaml captures/
  rulecheck diff git:v1.3.0 rules")]
    Diff {
        /// The old rules: a file or directory, `builtin`, or `git:REV` (the *.yaml under
        /// rules/ at that git revision); layers joined by `+`, e.g. builtin+team.yaml.
        old: String,
        /// The new rules, in the same forms (builtin+team.yaml against builtin: what a
        /// team's overlay changes).
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
    #[command(after_help = "Examples:
  rulecheck lint
  rulecheck lint --overlay team-rules.yaml --deny-warnings
  rulecheck lint builtin team-rules.yaml")]
    Lint {
        /// Rulebook files or directories (`builtin`: the built-in rulebook); none: the
        /// project file's, or the built-in one.
        paths: Vec<PathBuf>,
        /// A rulebook layered on top of those, e.g. your team's overlay (repeatable).
        #[arg(long = "overlay", value_name = "PATH")]
        overlays: Vec<PathBuf>,
        /// Ignore rulecheck.yaml (otherwise looked for in this directory and its parents
        /// when no rulebook is named).
        #[arg(long)]
        no_project: bool,
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
    #[command(after_help = "Examples:
  rulecheck test --overlay team-rules.yaml --cases team-cases.yaml
  rulecheck test --overlay team-rules.yaml --snapshots captures
  rulecheck test --overlay team-rules.yaml --snapshots captures --accept")]
    Test {
        /// Rulebook files or directories (`builtin`: the built-in rulebook); none: the
        /// project file's, or the built-in one.
        paths: Vec<PathBuf>,
        /// A rulebook layered on top of those, e.g. your team's overlay (repeatable).
        #[arg(long = "overlay", value_name = "PATH")]
        overlays: Vec<PathBuf>,
        /// Ignore rulecheck.yaml (otherwise looked for in this directory and its parents
        /// when no rulebook is named).
        #[arg(long)]
        no_project: bool,
        /// Case files or directories of them: captures with the ids they must (not) get.
        #[arg(long = "cases", value_name = "PATH")]
        cases: Vec<PathBuf>,
        /// Report, per rule and per condition, whether it was ever true and ever false
        /// across all examples and cases.
        #[arg(long)]
        coverage: bool,
        /// A folder of captures (any input format, recursively): each file's report must
        /// match its snapshot `<file>.snap` beside it; a changed, new or orphaned one fails.
        #[arg(long, value_name = "DIR")]
        snapshots: Option<PathBuf>,
        /// With --snapshots: write the new and changed snapshots, remove orphaned ones.
        #[arg(long, requires = "snapshots")]
        accept: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        limit: LimitArgs,
    },
    /// List the limits on input and rulebooks, with their defaults and the values in use.
    #[command(after_help = "Examples:
  rulecheck limits
  rulecheck eval big.har --limit input-bytes=512MiB")]
    Limits {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        limit: LimitArgs,
    },
    /// Print a JSON schema built into the binary: of rulebooks, captures or reports
    /// (for an editor's `$schema`, or to validate your own tooling's files).
    #[command(after_help = "Examples:
  rulecheck schema rulebook > rulebook.schema.json")]
    Schema {
        #[arg(value_enum)]
        which: SchemaName,
    },
    /// Serve a page and an HTTP API for support staff: paste a traceback, curl -v
    /// output, a HAR or a JSON capture and see the diagnosis. Rulebook edits are live at
    /// the next request.
    #[command(after_help = "Examples:
  rulecheck serve
  rulecheck serve --addr 127.0.0.1:9000 --overlay team-rules.yaml
  curl --data-binary @traceback.txt 'http://127.0.0.1:8080/api/diagnose?format=markdown&lang=zh'

API: POST /api/diagnose?format=json|markdown|text&lang=en|zh (the body is the input),
GET /healthz (the rulebooks in use and the errors of an edit that does not load).
Bounded by --limit input-bytes, request-seconds and concurrent-requests.")]
    #[cfg(feature = "serve")]
    Serve {
        /// Where to listen. Only this machine can reach the default; another address
        /// (0.0.0.0:8080) lets anyone on the network paste into it.
        #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Print shell completions, e.g. `rulecheck completions bash > ~/.local/share/bash-completion/completions/rulecheck`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `rulecheck man > ~/.local/share/man/man1/rulecheck.1`.
    Man,
}

/// The schemas `rulecheck schema` prints.
#[derive(Clone, Copy, ValueEnum)]
pub enum SchemaName {
    Rulebook,
    Capture,
    Report,
}

impl SchemaName {
    /// The schema's text, as in `schemas/`.
    pub fn text(self) -> &'static str {
        match self {
            SchemaName::Rulebook => rulecheck::rulebook::schema::RULEBOOK_SCHEMA,
            SchemaName::Capture => include_str!("../../schemas/capture.schema.json"),
            SchemaName::Report => include_str!("../../schemas/report.schema.json"),
        }
    }
}

/// `eval --format`: a report for each of its readers.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// For a terminal (colour when it is one).
    Text,
    /// One JSON document (`rulecheck schema report`).
    Json,
    /// One JSON report per line, streamed.
    Jsonl,
    /// For pasting into a support ticket or a chat.
    Markdown,
}

/// `--format` of the other commands: for people, or for programs.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    En,
    Zh,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

pub fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

impl CallArgs {
    pub fn given(&self) -> Vec<&'static str> {
        let flags = [
            ("--status", self.status.is_some()),
            ("--url", self.url.is_some()),
            ("--method", self.method.is_some()),
            ("--key", self.key.is_some()),
            ("--model", self.model.is_some()),
            ("--body", self.body.is_some()),
            ("--client-error", self.client_error.is_some()),
        ];
        flags
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(f, _)| f)
            .collect()
    }

    /// A capture from `--status`, `--url`, `--key`, … for people with nothing captured.
    pub fn capture(&self) -> rulecheck::capture::Capture {
        use rulecheck::capture::{Body, Capture, Headers, Request, Response};
        let mut headers = Headers::default();
        if let Some(key) = &self.key {
            headers.push("Authorization", format!("Bearer {key}"));
        }
        let request_body = self
            .model
            .as_ref()
            .map(|m| Body::Json(serde_json::json!({ "model": m })));
        let method = self
            .method
            .clone()
            .or_else(|| (self.url.is_some() || request_body.is_some()).then(|| "POST".to_owned()));
        let request =
            (self.url.is_some() || self.key.is_some() || request_body.is_some()).then(|| Request {
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

pub fn pick_lang(arg: Option<LangArg>) -> Lang {
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
pub fn load_rules(args: &RuleArgs, with_examples: bool) -> Result<RuleSet, LoadError> {
    project::load_rule_set(&args.choice(with_examples))
}

impl RuleArgs {
    /// The rulebooks the flags choose (over the project file, over the built-in one).
    pub fn choice(&self, with_examples: bool) -> project::RuleChoice {
        project::RuleChoice {
            rules: self.rules.clone(),
            overlays: self.overlays.clone(),
            vars: self.vars.clone(),
            preview: self.preview,
            project_from: (!self.no_project).then(|| std::env::current_dir().unwrap_or_default()),
            with_examples,
            limits: self.limit.limits(),
        }
    }
}
