//! Every bound rulecheck puts on untrusted input, in one place: the defaults, the names
//! `--limit NAME=VALUE` takes, and the checks no parser does for us (JSON depth).
//!
//! Inputs are pasted from anywhere and rulebooks are edited by anyone, so each reader
//! is bounded; a user whose real file is bigger raises the bound instead of waiting
//! for a release. `docs/limits.md` lists the same names (a test keeps them in step).

use std::fmt;

/// The bounds of one run. `Default` gives the documented defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest input file accepted (bytes).
    pub input_bytes: usize,
    /// Longest line of JSON Lines; a longer line is skipped with its number (bytes).
    pub line_bytes: usize,
    /// Bodies are matched on their first this many bytes; the rest is reported as cut.
    pub body_bytes: usize,
    /// Most of one fact's value a message, fix or evidence quotes (bytes).
    pub quote_bytes: usize,
    /// Deepest JSON nesting accepted in an input (serde_json refuses more than 128).
    pub json_depth: usize,
    /// Deepest Python literal read from an SDK traceback; deeper stays plain text.
    pub literal_depth: usize,
    /// Most entries one HAR file may hold (it is parsed whole).
    pub har_entries: usize,
    /// Largest rulebook file (bytes).
    pub rulebook_bytes: usize,
    /// Most rules in one rulebook.
    pub rules: usize,
    /// Most condition nodes one rule or named condition may stand for once the named
    /// conditions it uses are written out: evaluation walks them all, and a rulebook
    /// of a few KB can nest named conditions into billions.
    pub condition_nodes: usize,
    /// Largest compiled size of one regex (bytes of the regex engine's program).
    pub regex_bytes: usize,
    /// Largest compiled size of all a rulebook's patterns together: each may be just
    /// under `regex_bytes`, and thousands of them would hold gigabytes.
    pub regex_total_bytes: usize,
    /// Most condition nodes `eval --trace` shows for one capture (every rule's tree
    /// together); past it each rule's truth is still given.
    pub trace_nodes: usize,
    /// Most rule conditions `lint` runs to find rules that are never first on their
    /// own examples (RC031): each example is diagnosed against every rule, so that
    /// check grows with the square of a rulebook's size.
    pub lint_rule_runs: usize,
    /// Deepest YAML nesting in a rulebook.
    pub yaml_depth: usize,
    /// Most alias expansions (`*anchor`) in one rulebook: stops "billion laughs".
    pub yaml_aliases: usize,
    /// `rulecheck serve`: seconds one request may take, from waiting its turn to the
    /// answer (a client that sends its body slowly holds nothing longer).
    pub request_seconds: usize,
    /// `rulecheck serve`: requests read and diagnosed at once; the others wait their
    /// turn (within `request_seconds`), so memory is bounded by this many inputs.
    pub concurrent_requests: usize,
}

/// serde_json's own recursion guard: `json-depth` can be lowered, not raised past it.
pub const SERDE_JSON_DEPTH: usize = 128;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            input_bytes: 64 << 20,
            line_bytes: 16 << 20,
            body_bytes: 1 << 20,
            quote_bytes: 1000,
            json_depth: SERDE_JSON_DEPTH,
            literal_depth: 64,
            har_entries: 200_000,
            rulebook_bytes: 8 << 20,
            rules: 10_000,
            condition_nodes: 100_000,
            regex_bytes: 1 << 20,
            regex_total_bytes: 32 << 20,
            lint_rule_runs: 5_000_000,
            trace_nodes: 20_000,
            yaml_depth: 64,
            yaml_aliases: 10_000,
            request_seconds: 10,
            concurrent_requests: 8,
        }
    }
}

/// One limit as `--limit` names it.
pub struct LimitInfo {
    pub name: &'static str,
    pub what: &'static str,
    /// Whether the value is a size (accepts `KiB`, `MiB`, `GiB`).
    pub bytes: bool,
    /// The largest value allowed, when something outside rulecheck caps it.
    pub max: Option<usize>,
    pub get: fn(&Limits) -> usize,
    set: fn(&mut Limits, usize),
}

macro_rules! limit {
    ($name:literal, $field:ident, $bytes:expr, $max:expr, $what:literal) => {
        LimitInfo {
            name: $name,
            what: $what,
            bytes: $bytes,
            max: $max,
            get: |l| l.$field,
            set: |l, v| l.$field = v,
        }
    };
}

/// Every limit, in the order `rulecheck limits` and docs/limits.md list them.
pub const LIMITS: &[LimitInfo] = &[
    limit!("input-bytes", input_bytes, true, None, "an input file"),
    limit!("line-bytes", line_bytes, true, None, "a line of JSON Lines"),
    limit!("body-bytes", body_bytes, true, None, "a body, for matching"),
    limit!(
        "quote-bytes",
        quote_bytes,
        true,
        None,
        "a fact quoted in a message or evidence"
    ),
    limit!(
        "json-depth",
        json_depth,
        false,
        Some(SERDE_JSON_DEPTH),
        "JSON nesting in an input"
    ),
    limit!(
        "literal-depth",
        literal_depth,
        false,
        None,
        "a Python literal in an SDK traceback"
    ),
    limit!(
        "har-entries",
        har_entries,
        false,
        None,
        "entries of one HAR file"
    ),
    limit!(
        "rulebook-bytes",
        rulebook_bytes,
        true,
        None,
        "a rulebook file"
    ),
    limit!("rules", rules, false, None, "rules in one rulebook"),
    limit!(
        "condition-nodes",
        condition_nodes,
        false,
        None,
        "a rule's condition, named ones expanded"
    ),
    limit!("regex-bytes", regex_bytes, true, None, "a compiled regex"),
    limit!(
        "regex-total-bytes",
        regex_total_bytes,
        true,
        None,
        "a rulebook's compiled regexes together"
    ),
    limit!(
        "trace-nodes",
        trace_nodes,
        false,
        None,
        "condition nodes --trace shows for one capture"
    ),
    limit!(
        "lint-rule-runs",
        lint_rule_runs,
        false,
        None,
        "rule conditions lint runs to rank rules on their examples"
    ),
    limit!(
        "yaml-depth",
        yaml_depth,
        false,
        None,
        "YAML nesting in a rulebook"
    ),
    limit!(
        "yaml-aliases",
        yaml_aliases,
        false,
        None,
        "YAML alias expansions in a rulebook"
    ),
    limit!(
        "request-seconds",
        request_seconds,
        false,
        None,
        "serve: one request, waiting and reading included"
    ),
    limit!(
        "concurrent-requests",
        concurrent_requests,
        false,
        None,
        "serve: requests diagnosed at once"
    ),
];

/// A `--limit` that could not be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitError(pub String);

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitError {}

/// One `NAME=VALUE`, checked, to apply to a [`Limits`].
#[derive(Clone, Copy)]
pub struct LimitSetting {
    pub info: &'static LimitInfo,
    pub value: usize,
}

impl fmt::Debug for LimitSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.info.name, self.value)
    }
}

impl Limits {
    /// Applies `NAME=VALUE` (`input-bytes=256MiB`, `rules=20000`).
    pub fn set(&mut self, spec: &str) -> Result<(), LimitError> {
        self.apply(LimitSetting::parse(spec)?);
        Ok(())
    }

    pub fn apply(&mut self, setting: LimitSetting) {
        (setting.info.set)(self, setting.value);
    }
}

impl LimitSetting {
    /// Reads and checks `NAME=VALUE`: a known name, a whole number (sizes may say
    /// `KiB`, `MiB`, `GiB`), at least 1 and within any outside cap.
    pub fn parse(spec: &str) -> Result<LimitSetting, LimitError> {
        let (name, value) = spec.split_once('=').ok_or_else(|| {
            LimitError(format!(
                "`{spec}` is not NAME=VALUE (e.g. input-bytes=256MiB); the names: {}",
                names()
            ))
        })?;
        let name = name.trim();
        let info = LIMITS.iter().find(|l| l.name == name).ok_or_else(|| {
            let close = crate::spelling::suggest(name, LIMITS.iter().map(|l| l.name));
            LimitError(match close {
                Some(c) => format!("there is no limit `{name}`; did you mean `{c}`?"),
                None => format!("there is no limit `{name}`; the names: {}", names()),
            })
        })?;
        let n = parse_value(value.trim(), info.bytes).ok_or_else(|| {
            LimitError(format!(
                "`{value}` is not a value for {name}: write a whole number{}",
                if info.bytes {
                    " of bytes, optionally with KiB, MiB or GiB (64MiB)"
                } else {
                    ""
                }
            ))
        })?;
        if n == 0 {
            return Err(LimitError(format!("{name} must be at least 1")));
        }
        if let Some(max) = info.max
            && n > max
        {
            return Err(LimitError(format!(
                "{name} can be at most {max} (serde_json, which reads JSON, refuses deeper nesting); it can only be lowered"
            )));
        }
        Ok(LimitSetting { info, value: n })
    }
}

fn names() -> String {
    LIMITS.iter().map(|l| l.name).collect::<Vec<_>>().join(", ")
}

/// `1000`, `1_000`, and for sizes `64KiB`, `8MiB`, `1GiB`.
fn parse_value(text: &str, bytes: bool) -> Option<usize> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '_') {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    let n: usize = digits.parse().ok()?;
    let scale: usize = match (unit.trim(), bytes) {
        ("", _) => 1,
        ("KiB", true) => 1 << 10,
        ("MiB", true) => 1 << 20,
        ("GiB", true) => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// How a limit's value reads: sizes in the largest exact binary unit.
pub fn show(info: &LimitInfo, value: usize) -> String {
    if info.bytes {
        for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            if value >= 1 << shift && value.is_multiple_of(1 << shift) {
                return format!("{}{unit}", value >> shift);
            }
        }
    }
    value.to_string()
}

/// `rulecheck limits`: every limit, the value in use, what it bounds, and its default
/// where the value differs.
pub fn table_text(limits: &Limits) -> String {
    let defaults = Limits::default();
    let mut out = String::new();
    for l in LIMITS {
        let (value, default) = ((l.get)(limits), (l.get)(&defaults));
        let changed = if value == default {
            String::new()
        } else {
            format!("  (default {})", show(l, default))
        };
        out.push_str(&format!(
            "{:<15} {:>8}  {}{changed}\n",
            l.name,
            show(l, value),
            l.what
        ));
    }
    out
}

/// `rulecheck limits --format json`: `[{name, what, default, value}]`.
pub fn table_json(limits: &Limits) -> serde_json::Value {
    let defaults = Limits::default();
    LIMITS
        .iter()
        .map(|l| {
            serde_json::json!({
                "name": l.name,
                "what": l.what,
                "default": (l.get)(&defaults),
                "value": (l.get)(limits),
            })
        })
        .collect()
}

/// Whether JSON text nests deeper than `limit` (objects and arrays; brackets inside
/// strings do not count). One pass over the bytes, stopping at the first level too
/// deep. At serde_json's own limit or above there is nothing to check: it refuses more.
pub fn json_too_deep(text: &str, limit: usize) -> bool {
    limit < SERDE_JSON_DEPTH && nested_deeper(text, limit)
}

/// Whether JSON text nests deeper than `limit`, whatever serde_json would refuse: a
/// JSON body is kept as read (`RawValue`), and serde_json does not count the depth
/// of what it keeps so. Text with no more than `limit` brackets at all (almost every
/// capture) is answered by a SIMD count.
pub fn nested_deeper(text: &str, limit: usize) -> bool {
    if memchr::memchr2_iter(b'[', b'{', text.as_bytes())
        .nth(limit)
        .is_none()
    {
        return false;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sizes_and_counts_are_parsed() {
        let mut l = Limits::default();
        l.set("input-bytes=256MiB").unwrap();
        l.set("rules = 20_000").unwrap();
        l.set("json-depth=32").unwrap();
        assert_eq!(l.input_bytes, 256 << 20);
        assert_eq!(l.rules, 20_000);
        assert_eq!(l.json_depth, 32);
        assert!(l.set("rules=2MiB").is_err(), "a count takes no unit");
        assert!(l.set("body-bytes=0").is_err());
        assert!(l.set("body-bytes").is_err());
        let e = l.set("input-byte=1").unwrap_err();
        assert!(e.0.contains("did you mean `input-bytes`"), "{e}");
        let e = l.set("json-depth=500").unwrap_err();
        assert!(e.0.contains("at most 128"), "{e}");
        assert!(l.set("input-bytes=99999999999999999999GiB").is_err());
    }

    #[test]
    fn every_limit_reads_and_writes_its_own_field() {
        for (i, info) in LIMITS.iter().enumerate() {
            let mut l = Limits::default();
            let before: Vec<usize> = LIMITS.iter().map(|o| (o.get)(&l)).collect();
            l.set(&format!("{}={}", info.name, 7)).unwrap();
            for (j, other) in LIMITS.iter().enumerate() {
                let expect = if i == j { 7 } else { before[j] };
                assert_eq!(
                    (other.get)(&l),
                    expect,
                    "{} changed {}",
                    info.name,
                    other.name
                );
            }
        }
    }

    #[test]
    fn json_depth_ignores_brackets_in_strings() {
        assert!(!json_too_deep(r#"{"a": "[[[[[[", "b": [1]}"#, 2));
        assert!(json_too_deep(r#"{"a": [[1]]}"#, 2));
        assert!(!json_too_deep(r#"{"a": "\"[[[", "b": [1]}"#, 2));
        assert!(
            !json_too_deep(&"[".repeat(1000), SERDE_JSON_DEPTH),
            "serde_json's own guard"
        );
    }

    #[test]
    fn sizes_show_in_binary_units() {
        let info = LIMITS.iter().find(|l| l.name == "input-bytes").unwrap();
        assert_eq!(show(info, 64 << 20), "64MiB");
        assert_eq!(show(info, 1000), "1000");
    }
}
