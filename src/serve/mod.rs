//! `rulecheck serve`: the evaluator behind a page and an HTTP API, for support staff
//! who answer a pasted traceback without installing anything.
//!
//! - `GET /` — the page (one self-contained HTML file: no external asset, works offline);
//! - `POST /api/diagnose?lang=en|zh&format=json|markdown|text` — the raw body is the
//!   input, read as `rulecheck eval` reads a file; the answer is what `eval` writes;
//! - `GET /healthz` — the rulebooks in use, and the errors of an edit that did not load.
//!
//! Each request runs [`crate::run::run`] on the bytes and crosses the same masking
//! boundary as the command's output. Rulebook files are watched per request (their
//! size and modification time): an edit is live at the next request, and one that no
//! longer loads keeps the last good rules while `/healthz` and the page show the
//! errors. Hostile clients are bounded by the run's [`Limits`]: `input-bytes` per
//! body, `request-seconds` per request, `concurrent-requests` at once. Nothing a user
//! pastes is logged or stored.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::limits::Limits;
use crate::mask::MaskingWriter;
use crate::project::{self, RuleChoice};
use crate::rulebook::{Lang, RuleSet};
use crate::run::{self, Input, Output, RunOptions};

/// The page, built into the binary.
const PAGE: &str = include_str!("page.html");

/// What `rulecheck serve` needs: where to listen and which rules to load.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// The rulebooks, as `eval` picks them (flags over the project file over the
    /// built-in rulebook); reloaded when their files change.
    pub rules: RuleChoice,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the rulebooks do not load:\n{0}")]
    Rules(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the server: {0}")]
    Runtime(std::io::Error),
}

/// Starts the server and serves until the process ends. `ready` is called with the
/// address it listens on (the port chosen when `addr` asks for port 0) before the
/// first request is taken.
pub fn serve(options: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let rules = Rules::load(options.rules)?;
    let limits = rules.choice.limits;
    // Diagnoses run on one thread per core at most (more would not end them sooner):
    // each thread keeps its own allocator arena and regex caches, so memory stays flat
    // at a few MB a thread instead of growing with `concurrent-requests`.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(limits.concurrent_requests.clamp(1, cores))
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .map_err(|source| ServeError::Listen {
                addr: options.addr,
                source,
            })?;
        let local = listener.local_addr().unwrap_or(options.addr);
        let app = Arc::new(App {
            permits: Arc::new(tokio::sync::Semaphore::new(
                limits.concurrent_requests.max(1),
            )),
            rules,
            limits,
        });
        ready(local);
        axum::serve(listener, router(app))
            .await
            .map_err(ServeError::Runtime)
    })
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/diagnose", post(diagnose))
        .route("/healthz", get(health))
        .with_state(app)
}

/// The server's state: the rules, and the turns of the requests.
struct App {
    rules: Rules,
    limits: Limits,
    /// One permit per request being read or diagnosed (`concurrent-requests`).
    permits: Arc<tokio::sync::Semaphore>,
}

/// The rule set in use, reloaded when the files it came from change.
struct Rules {
    choice: RuleChoice,
    state: Mutex<Loaded>,
}

struct Loaded {
    set: Arc<RuleSet>,
    /// The files the rules were read from (see [`watched`]).
    watched: Vec<PathBuf>,
    /// Each watched file's size and modification time when `set` (or the failed
    /// attempt after it) was loaded.
    stamp: Vec<(PathBuf, Option<(u64, SystemTime)>)>,
    /// The problems of the newest edit, which did not load (`set` is the last good one).
    errors: Option<String>,
}

impl Rules {
    fn load(choice: RuleChoice) -> Result<Rules, ServeError> {
        let watched = watched(&choice);
        let stamp = stamp(&watched);
        let set = project::load_rule_set(&choice).map_err(|e| ServeError::Rules(render(&e)))?;
        Ok(Rules {
            state: Mutex::new(Loaded {
                set: Arc::new(set),
                watched,
                stamp,
                errors: None,
            }),
            choice,
        })
    }

    /// The rules to answer with: reloaded first if a watched file changed since the
    /// last look (a few `stat`s a request; the project file is read again only then);
    /// if they no longer load, the last good ones and the errors.
    fn current(&self) -> (Arc<RuleSet>, Option<String>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamp(&state.watched);
        if now != state.stamp {
            state.watched = watched(&self.choice);
            state.stamp = stamp(&state.watched);
            match project::load_rule_set(&self.choice) {
                Ok(set) => {
                    state.set = Arc::new(set);
                    state.errors = None;
                }
                Err(e) => state.errors = Some(render(&e)),
            }
        }
        (Arc::clone(&state.set), state.errors.clone())
    }
}

/// The files a rule choice reads: the flags' rulebooks and overlays, the project file
/// and the rulebooks and overlays it names (a folder stands for the rulebooks in it).
fn watched(choice: &RuleChoice) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = choice
        .rules
        .iter()
        .chain(&choice.overlays)
        .cloned()
        .collect();
    if let Some(file) = choice.project_from.as_deref().and_then(project::find) {
        if let Ok(p) = project::load(&file) {
            paths.extend(p.rules.into_iter().chain(p.overlays));
        }
        paths.push(file);
    }
    paths
}

/// Each watched file's size and modification time (`None`: not there); a folder's
/// `*.yaml` files are listed again each time, so one added or removed counts.
fn stamp(paths: &[PathBuf]) -> Vec<(PathBuf, Option<(u64, SystemTime)>)> {
    let mut files = Vec::new();
    for path in paths {
        match crate::rulebook::rulebooks_in(path) {
            Ok(inside) => {
                files.push((path.clone(), None));
                files.extend(inside.into_iter().map(|p| (p, None)));
            }
            Err(_) => files.push((path.clone(), None)),
        }
    }
    for (path, seen) in &mut files {
        *seen = std::fs::metadata(&*path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
    }
    files
}

/// A rulebook error as the command line prints it (file:line:col, the line, a caret),
/// without colour and masked.
fn render(e: &crate::rulebook::LoadError) -> String {
    masked(
        anstream::adapter::strip_str(&e.render())
            .to_string()
            .as_bytes(),
    )
}

/// Text through the masking boundary, as every output of rulecheck goes.
fn masked(bytes: &[u8]) -> String {
    let mut out = MaskingWriter::new(Vec::new());
    let _ = std::io::Write::write_all(&mut out, bytes);
    let _ = std::io::Write::flush(&mut out);
    String::from_utf8_lossy(out.get_mut()).into_owned()
}

async fn page() -> Response {
    let mut response = PAGE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Everything the page needs is in it; it may talk to this server and nothing else.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
             connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'",
        ),
    );
    private(response)
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let (set, errors) = app.rules.current();
    let rulebooks = crate::report::Report::new(&set, Vec::new()).rulebooks;
    let body = serde_json::json!({
        "status": "ok",
        "rulecheck": crate::rulebook::ENGINE_VERSION,
        "rulebooks": rulebooks,
        "rulebook_errors": errors,
    });
    json(StatusCode::OK, body.to_string())
}

/// What `/api/diagnose` answers in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Markdown,
    Text,
}

async fn diagnose(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (format, lang) = match params(query.as_deref(), &headers) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let seconds = app.limits.request_seconds;
    let work = answer(Arc::clone(&app), body, format, lang);
    match tokio::time::timeout(Duration::from_secs(seconds as u64), work).await {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the request took longer than {seconds} s (--limit request-seconds): send a smaller input, or try again when the server is less busy"
            ),
        ),
    }
}

/// Waits for a turn, reads the body (at most `input-bytes`) and diagnoses it on a
/// blocking thread, which holds the turn until the diagnosis is done.
async fn answer(app: Arc<App>, body: Body, format: Format, lang: Lang) -> Response {
    let Ok(permit) = Arc::clone(&app.permits).acquire_owned().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
    };
    let limit = app.limits.input_bytes;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the input is over {limit} bytes (--limit input-bytes): send only the failing call"
                ),
            );
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return error(
            StatusCode::BAD_REQUEST,
            "the request body is empty: send what you have (a traceback, curl -v output, a HAR, a JSON capture) as the body",
        );
    }
    let (set, _) = app.rules.current();
    let limits = app.limits;
    let work = tokio::task::spawn_blocking(move || {
        let _turn = permit;
        diagnose_bytes(&set, bytes, format, lang, limits)
    });
    match work.await {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the diagnosis failed; the input was not kept",
        ),
    }
}

/// `eval` on one input held in memory, its output and errors through the masking
/// boundary.
fn diagnose_bytes(
    set: &RuleSet,
    bytes: Bytes,
    format: Format,
    lang: Lang,
    limits: Limits,
) -> Response {
    let options = RunOptions {
        output: match format {
            Format::Json => Output::Json,
            Format::Markdown => Output::Markdown(lang),
            Format::Text => Output::Text(lang),
        },
        read: crate::input::ReadOptions {
            limits,
            ..Default::default()
        },
        eval: crate::evaluate::EvalOptions { lang, limits },
        threads: 1,
        trace: false,
        progress: false,
    };
    let input = Input::Bytes {
        name: "pasted".to_owned(),
        // The body's own buffer when nothing else holds it: no copy.
        bytes: bytes.into(),
    };
    let mut out = MaskingWriter::new(anstream::StripStream::new(Vec::new()));
    let mut err = MaskingWriter::new(Vec::new());
    let outcome = run::run(set, &[input], &options, &mut out, &mut err);
    let _ = std::io::Write::flush(&mut out);
    let _ = std::io::Write::flush(&mut err);
    let problems = String::from_utf8_lossy(err.get_mut()).into_owned();
    if outcome.failed_inputs > 0 || outcome.captures == 0 {
        let message = problems
            .lines()
            .map(|l| l.strip_prefix("rulecheck: pasted: ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        return error(StatusCode::UNPROCESSABLE_ENTITY, message.trim());
    }
    let text = String::from_utf8_lossy(out.get_mut().as_inner()).into_owned();
    let mut response = match format {
        Format::Json => json(StatusCode::OK, text),
        Format::Markdown => typed(text, "text/markdown; charset=utf-8"),
        Format::Text => typed(text, "text/plain; charset=utf-8"),
    };
    // Lines of JSON Lines that could not be read, as `eval` says them on stderr.
    if outcome.skipped_lines > 0
        && let Ok(v) = HeaderValue::from_str(&outcome.skipped_lines.to_string())
    {
        response
            .headers_mut()
            .insert("x-rulecheck-skipped-lines", v);
    }
    response
}

/// `?format=` and `?lang=` (else the browser's `Accept-Language`), checked.
fn params(query: Option<&str>, headers: &HeaderMap) -> Result<(Format, Lang), String> {
    let mut format = Format::Json;
    let mut lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_locale);
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("format", "json") => format = Format::Json,
            ("format", "markdown") => format = Format::Markdown,
            ("format", "text") => format = Format::Text,
            ("lang", "en") => lang = Lang::En,
            ("lang", "zh") => lang = Lang::Zh,
            ("format", _) => return Err("format is json, markdown or text".into()),
            ("lang", _) => return Err("lang is en or zh".into()),
            (other, _) => {
                return Err(format!(
                    "unknown parameter `{}`: /api/diagnose takes format and lang",
                    masked(other.as_bytes())
                ));
            }
        }
    }
    Ok((format, lang))
}

fn typed(text: String, content_type: &'static str) -> Response {
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    private(response)
}

fn json(status: StatusCode, text: String) -> Response {
    let mut response = typed(text, "application/json");
    *response.status_mut() = status;
    response
}

/// An error answer: `{"error": "…"}`, masked.
fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": masked(message.as_bytes()) });
    json(status, body.to_string())
}

/// Answers about a user's call are theirs: never cached, never sniffed into another type.
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
