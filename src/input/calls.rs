//! One report per call: a text that holds several calls (`cat a.txt b.txt`, two
//! tracebacks pasted together, a terminal session with two curl runs) is cut where a
//! new call starts, and each part is read on its own. Attempts of one call that came
//! out the same (a client's retries) are one report with their count, as HAR files
//! have.
//!
//! A call starts at a shell prompt (`$ curl …`), at a traceback's first line right
//! after another traceback's exception line (not when the traceback before led to it,
//! `During handling of the above exception…`, nor when a log line stands between: an
//! SDK's debug log prints the inner error's traceback before the one raised), and,
//! once a response was seen, at the next request (`> POST …`, `POST … HTTP/1.1`) or at
//! curl's first info line before it (`*   Trying …`).

use super::InputCapture;

/// The text cut into the calls it holds (one part when it holds one).
pub fn split(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut seen_call = false;
    let mut seen_response = false;
    let mut previous = "";
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        let begins = is_prompt(l)
            || (l.starts_with("Traceback (most recent call last)") && is_exception_line(previous))
            || (seen_response
                && (is_request(l) || l.starts_with("*   Trying") || l.starts_with("* Host ")));
        if begins && seen_call {
            if let Some(part) = text.get(start..offset) {
                parts.push(part);
            }
            start = offset;
            seen_response = false;
        }
        seen_call |= begins
            || is_request(l)
            || is_status_line(l)
            || l.starts_with("Traceback (most recent call last)");
        seen_response |= is_status_line(l);
        if !l.trim().is_empty() {
            previous = l;
        }
        offset += line.len();
    }
    if let Some(part) = text.get(start..) {
        parts.push(part);
    }
    parts.retain(|p| !p.trim().is_empty());
    parts
}

/// Consecutive attempts that came out the same are one report with their count.
pub fn group_attempts(captures: Vec<InputCapture>) -> Vec<InputCapture> {
    let mut out: Vec<InputCapture> = Vec::with_capacity(captures.len());
    for c in captures {
        match out.last_mut() {
            Some(last) if last.capture == c.capture => last.attempts += c.attempts,
            _ => out.push(c),
        }
    }
    out
}

fn is_prompt(line: &str) -> bool {
    line.strip_prefix("$ ")
        .or_else(|| line.strip_prefix("% "))
        .is_some_and(|cmd| {
            let word = cmd.split_whitespace().next().unwrap_or("");
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
        })
}

/// `package.module.Class: message` at the start of a line: how a traceback ends.
fn is_exception_line(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(class, _)| {
        !class.is_empty()
            && class
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && class
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

fn is_request(line: &str) -> bool {
    let l = line.strip_prefix("> ").unwrap_or(line);
    let mut words = l.split_whitespace();
    let (Some(method), Some(_target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return false;
    };
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].contains(&method)
        && version.starts_with("HTTP/")
}

fn is_status_line(line: &str) -> bool {
    let l = line.strip_prefix("< ").unwrap_or(line);
    l.strip_prefix("HTTP/")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .is_some_and(|code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_cut_where_a_new_one_starts_and_nowhere_else() {
        let two_transcripts = "$ curl -v https://a/v1/x\n> POST /v1/x HTTP/1.1\n< HTTP/1.1 404 Not Found\n<\n{}\n$ curl -i https://b/v1/y\nHTTP/1.1 401 Unauthorized\n\n{}\n";
        let parts = split(two_transcripts);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with("$ curl -i https://b"));
        let two_runs = "*   Trying 1.2.3.4:443...\n> POST /v1/x HTTP/1.1\n< HTTP/2 429\n\n*   Trying 1.2.3.4:443...\n> POST /v1/x HTTP/1.1\n< HTTP/2 500\n";
        assert_eq!(split(two_runs).len(), 2);
        let two_tracebacks = "Traceback (most recent call last):\n  File \"a.py\"\nopenai.NotFoundError: Error code: 404\n\nTraceback (most recent call last):\n  File \"b.py\"\nopenai.AuthenticationError: Error code: 401\n";
        assert_eq!(split(two_tracebacks).len(), 2);
        let chained = "Traceback (most recent call last):\n  File \"a.py\"\nhttpx.ConnectError: refused\n\nThe above exception was the direct cause of the following exception:\n\nTraceback (most recent call last):\n  File \"a.py\"\nopenai.APIConnectionError: Connection error.\n";
        assert_eq!(split(chained).len(), 1);
        let one = "> POST /v1/x HTTP/1.1\n> Host: h\n>\n< HTTP/1.1 200 OK\n<\n{\"ok\": true}\n";
        assert_eq!(split(one), [one]);
        // A request before any response is the same call's (HTTPie prints it first).
        let httpie = "POST /v1/x HTTP/1.1\nHost: h\n\n{}\n\nHTTP/1.1 401 Unauthorized\n\n{}\n";
        assert_eq!(split(httpie).len(), 1);
    }
}
