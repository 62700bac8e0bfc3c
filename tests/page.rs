//! The page of `rulecheck serve` in a real browser: Debian's headless Chromium driven
//! through ChromeDriver (W3C WebDriver, spoken over the same small HTTP client as the
//! API tests). A support agent pastes a traceback, sees the finding, switches to
//! Chinese, copies the Markdown; a rulebook edit that breaks shows its errors. A
//! screenshot is kept in `target/tmp/page-*.png`.
//!
//! `.ci/run` installs `chromium` and `chromium-driver` when they are missing; outside
//! CI, a machine without them says so and passes.

#![cfg(feature = "serve")]
// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
mod server;
use common::{fixture, scratch};
use server::{Server, request};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// W3C WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// ChromeDriver with one headless Chromium session; both end when dropped.
struct Browser {
    driver: Child,
    at: SocketAddr,
    session: String,
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        // A free port, asked of the system and handed to ChromeDriver: another process
        // can take it in between. Then ChromeDriver exits, or another server answers
        // on it; either way, a new port.
        let (driver, at) = (0..5)
            .find_map(|_| Browser::driver_on_a_free_port())
            .expect("chromedriver did not start on any of five ports");
        // The flags this closed network needs: no background connections, a profile of
        // its own, no sandbox (CI runs as root).
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1100,1300",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let mut browser = Browser {
            driver,
            at,
            session: String::new(),
        };
        let created = browser.call("POST", "/session", Some(capabilities));
        browser.session = created["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    /// ChromeDriver listening on a port that was free a moment ago, if it answers
    /// there as ChromeDriver does (`/status` ready).
    fn driver_on_a_free_port() -> Option<(Child, SocketAddr)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let at: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        let listening = loop {
            if std::net::TcpStream::connect(at).is_ok() {
                break true;
            }
            let exited = driver.try_wait().unwrap().is_some();
            if exited || started.elapsed() > Duration::from_secs(20) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let ready = listening && {
            let status = request(at, "GET", "/status", &[], b"");
            status.status == 200 && status.json()["value"]["ready"] == json!(true)
        };
        if ready {
            return Some((driver, at));
        }
        let _ = driver.kill();
        let _ = driver.wait();
        None
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = if self.session.is_empty() {
            path.to_owned()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let answer = request(
            self.at,
            method,
            &path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        let value = answer.json()["value"].clone();
        assert_eq!(answer.status, 200, "{method} {path}: {value}");
        value
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Waits (up to 20 s) until `script` returns something truthy; returns it.
    fn wait_for(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.script(script);
            if !matches!(value, Value::Null | Value::Bool(false)) && value != "" {
                return value;
            }
            if started.elapsed() > Duration::from_secs(20) {
                let page = self.script("return document.body.innerText");
                panic!(
                    "{what} never happened; the page reads:\n{}",
                    page.as_str().unwrap_or("")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a screenshot as `target/tmp/NAME.png`; returns its path.
    fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.call("GET", "/screenshot", None);
        let bytes = data_encoding::BASE64
            .decode(png.as_str().unwrap().as_bytes())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(
                self.at,
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Whether the browser is here; in CI it must be.
fn browser_installed() -> bool {
    let here = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !here {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs {CHROMIUM} and {CHROMEDRIVER}: .ci/run installs Debian's chromium and chromium-driver"
        );
        eprintln!(
            "page test not run: no {CHROMIUM} / {CHROMEDRIVER} here (apt-get install chromium chromium-driver; .ci/run does it)"
        );
    }
    here
}

#[test]
fn a_support_agent_pastes_a_traceback_sees_the_finding_switches_language_and_copies_markdown() {
    if !browser_installed() {
        return;
    }
    let dir = scratch("page");
    let overlay = dir.join("team.yaml");
    let team = "format: rulecheck/v1\nname: team\nversion: 0.1.0\ncategories:\n  - { id: permission, title: Permissions }\n\
                rules:\n  - id: team.daily-limit\n    title: The key's daily limit is reached\n    category: permission\n    severity: error\n\
                \x20   when:\n      error.message: { matches: 'daily limit' }\n    message: The key has used its daily allowance.\n";
    std::fs::write(&overlay, team).unwrap();
    let server = Server::start(&dir, &["--no-project", "--overlay", "team.yaml"]);
    let browser = Browser::start(&dir.join("profile"));
    browser.open(&format!("http://{}/", server.addr));

    // Paste a traceback (typed, as the keyboard would) and ask.
    let traceback =
        std::fs::read_to_string(fixture("inputs/sdk/python-1x-endpoint-twice.txt")).unwrap();
    browser.type_into("#input", &traceback);
    browser.click("#diagnose");
    let id = browser.wait_for(
        "a finding",
        "const f = document.querySelector('#result .finding'); return f && f.dataset.id",
    );
    assert_eq!(id, "address.endpoint-in-base-url");
    let english = browser.script("return document.querySelector('#result h2').textContent");
    assert!(
        english.as_str().unwrap().is_ascii(),
        "{english}: not the English title"
    );
    browser.screenshot("page-en");

    // Chinese: the same diagnosis, and the page's own words.
    browser.click("#lang option[value=zh]");
    let title = browser.wait_for(
        "the Chinese report",
        "const h = document.querySelector('#result h2'); \
         return h && /[\\u4e00-\\u9fff]/.test(h.textContent) && h.textContent",
    );
    assert_ne!(title, english);
    let button = browser.script("return document.getElementById('diagnose').textContent");
    assert_eq!(button, "诊断");

    // Copy as Markdown: what reaches the clipboard is the ticket report, in Chinese.
    browser.script(
        "window.copied = null; navigator.clipboard.writeText = async (t) => { window.copied = t; };",
    );
    browser.click("#copy");
    let markdown = browser.wait_for("the copied Markdown", "return window.copied");
    let markdown = markdown.as_str().unwrap();
    assert!(markdown.starts_with("### "), "{markdown}");
    assert!(
        markdown.contains("(`address.endpoint-in-base-url`)"),
        "{markdown}"
    );
    assert!(
        markdown.contains("**证据") && markdown.contains("**发给客服"),
        "{markdown}"
    );
    let status = browser.script("return document.getElementById('status').textContent");
    assert!(status.as_str().unwrap().contains("Markdown"), "{status}");
    let shot = browser.screenshot("page-zh");

    // A docs writer's edit that breaks the overlay: the page says where, and answers
    // with the last good rules.
    std::fs::write(&overlay, team.replace("matches:", "mathces:")).unwrap();
    browser.click("#diagnose");
    let errors = browser.wait_for(
        "the rulebook errors",
        "const b = document.getElementById('rulebook-errors'); \
         return !b.classList.contains('hidden') && document.getElementById('rulebook-errors-text').textContent",
    );
    assert!(
        errors.as_str().unwrap().contains("team.yaml:12:24"),
        "{errors}"
    );
    browser.screenshot("page-rulebook-errors");
    eprintln!("screenshots: {}", shot.display());
}
