//! `rulecheck eval --summary`: why calls fail, across a whole log. Counts and shares
//! per diagnosis (the top finding of each capture) and category, per status, the most
//! frequent hosts, paths and clients, and how many captures had no specific diagnosis.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::evaluate::{Classified, Diagnosis};

/// How many values each "top" list shows.
pub const TOP: usize = 10;

/// Running counts over many diagnoses.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub captures: usize,
    /// Input lines that could not be read (bulk mode).
    pub skipped_lines: usize,
    /// Captures whose findings are only the generic status guidance, or nothing.
    pub without_specific_diagnosis: usize,
    pub by_diagnosis: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_status: BTreeMap<String, usize>,
    pub hosts: BTreeMap<String, usize>,
    pub paths: BTreeMap<String, usize>,
    pub clients: BTreeMap<String, usize>,
}

/// A count and its share of all captures.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub value: String,
    pub count: usize,
    pub share: f64,
}

/// The summary as a report: lists sorted by count, the long tails cut to [`TOP`].
#[derive(Clone, Debug, Serialize)]
pub struct SummaryReport {
    pub captures: usize,
    pub skipped_lines: usize,
    pub without_specific_diagnosis: Row,
    pub by_diagnosis: Vec<Row>,
    pub by_category: Vec<Row>,
    pub by_status: Vec<Row>,
    pub top_hosts: Vec<Row>,
    pub top_paths: Vec<Row>,
    pub top_clients: Vec<Row>,
}

impl Summary {
    /// Counts one diagnosis.
    pub fn add(&mut self, d: &Diagnosis) {
        let top = d
            .findings
            .iter()
            .find(|f| !f.id.starts_with("status."))
            .map(|f| (f.id.as_ref(), f.category));
        self.count(top, d.status, d.url.as_deref(), d.client.as_deref());
    }

    /// Counts a capture classified without rendering its findings (bulk `--summary`).
    pub fn add_classified(&mut self, c: &Classified) {
        self.count(c.top, c.status, c.url.as_deref(), c.client.as_deref());
    }

    fn count(
        &mut self,
        top: Option<(&str, &str)>,
        status: Option<u16>,
        url: Option<&str>,
        client: Option<&str>,
    ) {
        self.captures += 1;
        match top {
            Some((id, category)) => {
                bump(&mut self.by_diagnosis, id);
                bump(&mut self.by_category, category);
            }
            None => self.without_specific_diagnosis += 1,
        }
        bump(&mut self.by_status, status_key(status, &mut [0; 5]));
        if let Some(url) = url {
            let (host, path) = host_and_path(url);
            if let Some(h) = host {
                bump(&mut self.hosts, &h);
            }
            bump(&mut self.paths, path);
        }
        if let Some(c) = client {
            bump(&mut self.clients, c);
        }
    }

    /// The report: shares of all captures, most frequent first.
    pub fn report(&self) -> SummaryReport {
        let total = self.captures.max(1) as f64;
        let row = |value: &str, count: usize| Row {
            value: value.to_owned(),
            count,
            share: (count as f64 * 1000.0 / total).round() / 10.0,
        };
        let rows = |m: &BTreeMap<String, usize>, cut: Option<usize>| {
            let mut v: Vec<Row> = m.iter().map(|(k, n)| row(k, *n)).collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            if let Some(n) = cut {
                v.truncate(n);
            }
            v
        };
        SummaryReport {
            captures: self.captures,
            skipped_lines: self.skipped_lines,
            without_specific_diagnosis: row(
                "no specific diagnosis",
                self.without_specific_diagnosis,
            ),
            by_diagnosis: rows(&self.by_diagnosis, None),
            by_category: rows(&self.by_category, None),
            by_status: rows(&self.by_status, None),
            top_hosts: rows(&self.hosts, Some(TOP)),
            top_paths: rows(&self.paths, Some(TOP)),
            top_clients: rows(&self.clients, Some(TOP)),
        }
    }
}

/// The host and path of a URL as reported (or a bare path), borrowed from it: counted
/// on the thread that hands results out, for every capture.
fn host_and_path(url: &str) -> (Option<Cow<'_, str>>, &str) {
    match url.split_once("://") {
        Some((_, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            let host = match host.bytes().any(|b| b.is_ascii_uppercase()) {
                true => Cow::Owned(host.to_ascii_lowercase()),
                false => Cow::Borrowed(host),
            };
            let path = before_query(tail);
            (Some(host), if path.is_empty() { "/" } else { path })
        }
        None => (None, before_query(url)),
    }
}

/// The part of a URL or path before its query or fragment.
fn before_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or("")
}

/// A status as counted: its digits, or `no response`.
fn status_key(status: Option<u16>, digits: &mut [u8; 5]) -> &str {
    let Some(mut n) = status else {
        return "no response";
    };
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits
        .get(start..)
        .and_then(|d| std::str::from_utf8(d).ok())
        .unwrap_or("?")
}

/// The summary as tables for a terminal.
pub fn render_text(r: &SummaryReport) -> String {
    let mut out = String::new();
    let _ = write!(out, "{} captures", r.captures);
    if r.skipped_lines > 0 {
        let _ = write!(out, " ({} input lines skipped)", r.skipped_lines);
    }
    out.push('\n');
    let table = |out: &mut String, title: &str, rows: &[Row]| {
        if rows.is_empty() {
            return;
        }
        let width = rows
            .iter()
            .map(|r| r.value.chars().count())
            .max()
            .unwrap_or(0)
            .max(title.len());
        let _ = writeln!(out, "\n{title:<width$}  {:>9}  {:>6}", "count", "share");
        for row in rows {
            let _ = writeln!(
                out,
                "{:<width$}  {:>9}  {:>5.1}%",
                row.value, row.count, row.share
            );
        }
    };
    let mut diagnoses = r.by_diagnosis.clone();
    diagnoses.push(r.without_specific_diagnosis.clone());
    table(&mut out, "diagnosis (top finding)", &diagnoses);
    table(&mut out, "category", &r.by_category);
    table(&mut out, "status", &r.by_status);
    table(&mut out, "host", &r.top_hosts);
    table(&mut out, "path", &r.top_paths);
    table(&mut out, "client", &r.top_clients);
    out
}

/// Counts one more of `key` (allocating the key only the first time it is seen).
fn bump(map: &mut BTreeMap<String, usize>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_paths_are_split_from_urls() {
        assert_eq!(
            host_and_path("https://API.x.com:8443/v1/chat?key=sk-…"),
            (Some("api.x.com:8443".into()), "/v1/chat")
        );
        assert_eq!(host_and_path("/v1/models"), (None, "/v1/models"));
        assert_eq!(host_and_path("http://h"), (Some("h".into()), "/"));
        assert_eq!(host_and_path("http://u:p@h#x"), (Some("h".into()), "/"));
        // The query is not the host's.
        assert_eq!(host_and_path("http://h?key=sk-…"), (Some("h".into()), "/"));
        assert_eq!(host_and_path("gw.example/v1#top"), (None, "gw.example/v1"));
    }

    #[test]
    fn statuses_are_counted_by_their_digits() {
        for (status, key) in [
            (Some(0), "0"),
            (Some(7), "7"),
            (Some(404), "404"),
            (Some(65535), "65535"),
            (None, "no response"),
        ] {
            assert_eq!(status_key(status, &mut [0; 5]), key);
        }
    }
}
