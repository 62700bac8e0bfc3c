//! Secrets never leave rulecheck whole.
//!
//! A key is shown as its public prefix (`sk-`, `sk-proj-`, `AIza`, …), a few characters
//! of each end of the secret part and an ellipsis: `sk-AbC…xYz`. That is enough to tell
//! two keys apart and far too little to use one. Whitespace and quotes around a key are
//! kept, because they are often the very thing wrong with it.
//!
//! [`Redactor`] applies the same masking to any text on its way out: the keys a capture
//! is known to hold, and anything else shaped like a key.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;

use crate::fixed_regex::Fixed;

mod json;
pub use json::{CleanTexts, to_masked_line};

/// Prefixes that say which platform a key is from. They are public, not secret.
const PUBLIC_PREFIX: &str = r"^(?:sk-(?:proj|svcacct|admin|ant-api\d+|ant-admin\d+|or-v\d+|api)-|sk-|AIza|AQ\.|gsk_|xai-|pplx-|hf_|tgp_v1_|csk-|nvapi-|r8_)";

/// Shapes of keys found in free text (bodies, error messages, URLs). Each begins with
/// three or more fixed characters, which the regex crate finds with a SIMD search; a
/// value encoded whole ([`PERCENT_ENCODED`]) is a pattern of its own.
const KEY_SHAPES: &str = r"(?:sk-[A-Za-z0-9_\-]{12,}|sk%2[Dd][A-Za-z0-9_\-%]{12,}|eyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}|AIza[0-9A-Za-z_\-]{20,}|AQ\.[0-9A-Za-z_\-]{20,}|gsk_[0-9A-Za-z]{20,}|xai-[0-9A-Za-z_\-]{20,}|pplx-[0-9A-Za-z]{20,}|hf_[A-Za-z]{20,}|tgp_v1_[0-9A-Za-z_\-]{20,}|csk-[0-9a-z]{20,}|nvapi-[0-9A-Za-z_\-]{20,}|r8_[0-9A-Za-z]{20,})";

/// A value encoded whole (`%73%6B%2D…`), searched for only in text with a `%`: as one
/// more alternative of [`KEY_SHAPES`], its one fixed character made every letter of
/// the text a place to try the whole pattern (20 times the cost of the others on a
/// report's JSON line, a third of writing it).
const PERCENT_ENCODED: &str = r"(?:%[0-9A-Fa-f]{2}){12,}";

/// Keys named as such in text (`API key provided: …`, `api_key=…`, `Bearer …`, a header
/// value an HTTP library refused: `Illegal header value b'…'`), and
/// long random-looking tokens (letters of both cases and digits, 32 or more), which is
/// what prefix-less keys look like. Request ids are kept: they start with a timestamp
/// (new-api, one-api) or are lower-case hex (`req_…`). No capture groups and ASCII word
/// boundaries: the whole scan runs in the regex crate's DFA, Chinese text included; a
/// match is split into label and key by [`CONTEXT_LABEL`], on the match alone.
const CONTEXT_KEYS: &str = r"(?i:api[ _-]?key[^:=\n]{0,20}[:=]\s*|bearer\s+|(?:illegal|invalid) header (?:field )?value:?\s*b?['\x22]?|(?-u:\b)(?:key|token|access_token|refresh_token|id_token|secret|client_secret|password|passwd|pwd|sig|signature|apikey|api_key|x-api-key|api-key|x-goog-api-key)(?:=|\s*:\s*))[A-Za-z0-9_\-.%~+/]{8,}|(?-u:\b)[A-Za-z0-9]{32,}(?-u:\b)|://[^/\s:@]{1,64}:[^/\s@]{4,}@|(?i:(?-u:\b)(?:set-)?cookie\s*:\s*)[^\x22'\r\n]{6,}|(?i:(?:illegal|invalid) header (?:field )?value:?\s*b?['\x22])[^'\x22\r\n]{6,}";

/// The label part of a [`CONTEXT_KEYS`] match, when it has one.
const CONTEXT_LABEL: &str = r"^(?i:api[ _-]?key[^:=\n]{0,20}[:=]\s*|bearer\s+|(?:illegal|invalid) header (?:field )?value:?\s*b?['\x22]?|(?:key|token|access_token|refresh_token|id_token|secret|client_secret|password|passwd|pwd|sig|signature|apikey|api_key|x-api-key|api-key|x-goog-api-key)(?:=|\s*:\s*)|://[^/\s:@]{1,64}:|(?:set-)?cookie\s*:\s*)";

/// A masked key (`sk-AbC…xYz`) at the end of a line, then the next line's first run of
/// key characters (after indentation, a `> ` of curl -v, or an escaped line break in
/// JSON text): the rest of a key a terminal or a log viewer wrapped.
const CONTINUED: &str =
    r"…[A-Za-z0-9_\-.]{0,4}(?:\r?\n|\\r\\n|\\n)(?:[ \t>]|\\t)*[A-Za-z0-9_\-.]{8,}";

/// A masked part of a dotted token (a JWT: `eyJ…J9.eyJ…KGE.`) and the next part after
/// its dot, which the part's own mask did not reach.
const DOTTED: &str = r"…[A-Za-z0-9_\-]{0,3}\.[A-Za-z0-9_\-]{8,}";

static CONTEXT_KEYS_PATTERN: Fixed = Fixed::new(CONTEXT_KEYS);
static CONTINUED_PATTERN: Fixed = Fixed::new(CONTINUED);
static DOTTED_PATTERN: Fixed = Fixed::new(DOTTED);
static CONTEXT_LABEL_PATTERN: Fixed = Fixed::new(CONTEXT_LABEL);
static KEY_SHAPES_PATTERN: Fixed = Fixed::new(KEY_SHAPES);
static PERCENT_ENCODED_PATTERN: Fixed = Fixed::new(PERCENT_ENCODED);
static PUBLIC_PREFIX_PATTERN: Fixed = Fixed::new(PUBLIC_PREFIX);

/// Whether `needle` is in `haystack`. `str::contains` prepares a two-way search for
/// each call, which costs more than the search itself for one key in a short text;
/// this looks for one byte of the needle (SIMD) and compares from there: its first
/// capital letter or digit, rarer in text than its first byte (a key's `s` is in
/// every other English word of a message), else its first byte. Comparing at every
/// occurrence could cost the text's length times the needle's (a body a hostile
/// capture fills with it): past a few times the text's length in comparisons,
/// memchr's linear-time search takes over.
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    let anchor = needle
        .iter()
        .position(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        .unwrap_or(0);
    let Some(&byte) = needle.get(anchor) else {
        return true;
    };
    let mut budget = haystack.len().saturating_mul(4).max(1024);
    for at in memchr::memchr_iter(byte, haystack) {
        let Some(start) = at.checked_sub(anchor) else {
            continue;
        };
        let from = haystack.get(start..).unwrap_or_default();
        if from.starts_with(needle) {
            return true;
        }
        budget = budget.saturating_sub(needle.len().min(from.len()) + 1);
        if budget == 0 {
            return memchr::memmem::find(haystack, needle).is_some();
        }
    }
    false
}

/// Whether a long token looks random (a key), not like a request id or a word.
fn random_looking(t: &str) -> bool {
    let upper = t.bytes().any(|b| b.is_ascii_uppercase());
    let lower = t.bytes().any(|b| b.is_ascii_lowercase());
    let digit = t.bytes().any(|b| b.is_ascii_digit());
    let timestamp = t.bytes().take(8).all(|b| b.is_ascii_digit());
    upper && lower && digit && !timestamp
}

/// Masks one key (no surrounding whitespace): public prefix, then at most three
/// characters of each end of the secret part.
pub fn mask_key(key: &str) -> String {
    let prefix_len = PUBLIC_PREFIX_PATTERN.find(key).map_or(0, |m| m.end);
    let (prefix, secret) = key.split_at(prefix_len);
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        0 => return prefix.to_owned(),
        20.. => (3, 3),
        12..=19 => (2, 2),
        6..=11 => (0, 2),
        _ => (0, 0),
    };
    let head: String = chars.iter().take(head).collect();
    let tail: String = chars.iter().skip(n - tail).collect();
    format!("{prefix}{head}…{tail}")
}

/// Masks a value that holds a key, such as a header value `Bearer sk-…` or a key with
/// stray whitespace: every word but a scheme word is masked, whitespace and quotes kept.
pub fn mask_secret_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        // A scheme word, or a word masked already (`sk-AbC…xYz`), stays as it is.
        if is_scheme_word(word) || word.contains('…') {
            out.push_str(word);
        } else {
            // A literal `\n` left by double escaping is part of what is wrong: keep it visible.
            let core = without_escapes(word);
            let escapes = word.get(core.len()..).unwrap_or("");
            out.push_str(&mask_key(core));
            out.push_str(escapes);
        }
        word.clear();
    };
    for c in value.chars() {
        if is_word_separator(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Masks known secrets and anything key-shaped in text on its way out.
#[derive(Clone, Debug, Default)]
pub struct Redactor<'a> {
    /// Secret words to replace, longest first (masked only when found: most text
    /// holds none). Borrowed from the capture when the secret is.
    known: Vec<Cow<'a, str>>,
    /// The bytes the known secrets are made of. A 12-byte window of text with a byte
    /// outside them is no window of a secret: most text (a host's dots, a path's
    /// slashes, short words) is cleared without the window table.
    secret_bytes: ByteSet,
    /// Every 12-byte window of the known secrets: a fragment of a key (wrapped across a
    /// line, cut by a terminal, quoted in a path) is masked when it shares one. Built
    /// the first time a run of text could share one: a classification's URL and client
    /// never need it.
    windows: std::cell::OnceCell<WindowSet>,
}

/// A set of byte values.
#[derive(Clone, Copy, Debug, Default)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn insert(&mut self, b: u8) {
        if let Some(word) = self.0.get_mut(usize::from(b >> 6)) {
            *word |= 1 << (b & 63);
        }
    }

    fn contains(&self, b: u8) -> bool {
        self.0
            .get(usize::from(b >> 6))
            .is_some_and(|word| word & (1 << (b & 63)) != 0)
    }

    /// Whether `run` has `len` bytes in a row that are all in the set.
    fn has_run(&self, run: &[u8], len: usize) -> bool {
        let mut in_row = 0;
        run.iter().any(|&b| {
            in_row = if self.contains(b) { in_row + 1 } else { 0 };
            in_row >= len
        })
    }
}

/// The 12-byte windows of some secrets, as rolling hashes in an open-addressing table
/// sized once. A redactor is made for every capture: a hash set took a few dozen
/// hashed inserts and rehashes (12k instructions a capture, a sixth of a
/// classification), a sorted vector the sort; this takes a few instructions a byte.
/// Two windows with one hash mask a run that shares neither, which errs on the side
/// of masking; the hashes are not seen by anyone who could choose the text.
#[derive(Clone, Debug, Default)]
struct WindowSet {
    /// Hashes, 0 for an empty slot (a hash of 0 is stored as 1).
    slots: Vec<u64>,
    /// `64 - log2(slots.len())`: a hash's slot is its top bits after mixing.
    shift: u32,
}

impl WindowSet {
    fn new<'a>(words: impl Iterator<Item = &'a [u8]> + Clone) -> WindowSet {
        let count: usize = words
            .clone()
            .map(|w| w.len().saturating_sub(FRAGMENT - 1))
            .sum();
        if count == 0 {
            return WindowSet::default();
        }
        let size = (count * 2).next_power_of_two();
        let mut set = WindowSet {
            slots: vec![0; size],
            shift: 64 - size.trailing_zeros(),
        };
        for word in words {
            for hash in rolling_hashes(word) {
                let mut at = set.slot(hash);
                while let Some(&kept) = set.slots.get(at) {
                    if kept == 0 {
                        if let Some(slot) = set.slots.get_mut(at) {
                            *slot = hash;
                        }
                        break;
                    }
                    if kept == hash {
                        break;
                    }
                    at = (at + 1) & (size - 1);
                }
            }
        }
        set
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn slot(&self, hash: u64) -> usize {
        (hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// Whether some 12-byte window of `run` is a window of the secrets.
    fn shares_window(&self, run: &[u8]) -> bool {
        if self.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        rolling_hashes(run).any(|hash| {
            let mut at = self.slot(hash);
            loop {
                match self.slots.get(at) {
                    Some(&kept) if kept == hash => return true,
                    Some(&0) | None => return false,
                    Some(_) => at = (at + 1) & mask,
                }
            }
        })
    }
}

/// The hash of each 12-byte window of `bytes`, in order: a polynomial hash rolled one
/// byte at a time (never 0: 0 marks an empty slot).
fn rolling_hashes(bytes: &[u8]) -> impl Iterator<Item = u64> + '_ {
    const BASE: u64 = 0x100_0000_01b3;
    // BASE^(FRAGMENT-1): the weight of the byte leaving the window.
    let top = (1..FRAGMENT).fold(1u64, |p, _| p.wrapping_mul(BASE));
    let mut hash = bytes.iter().take(FRAGMENT - 1).fold(0u64, |h, b| {
        h.wrapping_mul(BASE).wrapping_add(u64::from(*b))
    });
    let leaving = bytes.iter();
    let entering = bytes.iter().skip(FRAGMENT - 1);
    entering.zip(leaving).map(move |(new, old)| {
        hash = hash.wrapping_mul(BASE).wrapping_add(u64::from(*new));
        let whole = hash.max(1);
        hash = hash.wrapping_sub(u64::from(*old).wrapping_mul(top));
        whole
    })
}

/// The shortest piece of a known key that is masked wherever it appears.
const FRAGMENT: usize = 12;

impl<'a> Redactor<'a> {
    /// A redactor for the given secret values (keys, credential header values).
    pub fn new<S: Into<Cow<'a, str>>>(secrets: impl IntoIterator<Item = S>) -> Redactor<'a> {
        let mut known: Vec<Cow<'a, str>> = Vec::new();
        for secret in secrets {
            match secret.into() {
                Cow::Borrowed(s) => secret_words(s, |w| add_word(&mut known, Cow::Borrowed(w))),
                Cow::Owned(s) => secret_words(&s, |w| add_word(&mut known, Cow::Owned(w.into()))),
            }
        }
        known.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut secret_bytes = ByteSet::default();
        for word in known.iter().filter(|w| w.len() >= FRAGMENT) {
            word.bytes().for_each(|b| secret_bytes.insert(b));
        }
        Redactor {
            known,
            secret_bytes,
            windows: std::cell::OnceCell::new(),
        }
    }

    /// Whether some 12-byte window of `run` is a window of a known secret.
    fn shares_window(&self, run: &[u8]) -> bool {
        self.secret_bytes.has_run(run, FRAGMENT)
            && self
                .windows
                .get_or_init(|| WindowSet::new(self.known.iter().map(|w| w.as_bytes())))
                .shares_window(run)
    }

    /// The text with the known secrets masked where they appear word for word: for
    /// text made of the rulebook's own words and values already masked on their own
    /// (a finding's message), where a fragment cannot be but by coincidence.
    pub fn redact_words<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.known {
            if holds(out.as_bytes(), secret.as_bytes()) {
                out = Cow::Owned(out.replace(secret.as_ref(), &mask_key(secret)));
            }
        }
        out
    }

    /// The text with the known secrets masked (no pattern search: for the rulebook's
    /// own text around fact values, which can only repeat a key by coincidence).
    pub fn redact_known<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let out = self.redact_words(text);
        // Longest first: the first says whether any secret has a window.
        if self.known.first().is_none_or(|w| w.len() < FRAGMENT) {
            return out;
        }
        self.redact_fragments(out)
    }

    /// Masks each run of key characters that shares a 12-byte window with a known
    /// secret: the part of a key a line break, a path or an echo cut off.
    fn redact_fragments<'t>(&self, text: Cow<'t, str>) -> Cow<'t, str> {
        let is_key_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        let bytes = text.as_bytes();
        let mut hits: Vec<Range<usize>> = Vec::new();
        let mut start = 0;
        while start < bytes.len() {
            let Some(offset) = bytes
                .get(start..)
                .and_then(|b| b.iter().position(|&b| is_key_byte(b)))
            else {
                break;
            };
            let from = start + offset;
            let len = bytes
                .get(from..)
                .map_or(0, |b| b.iter().take_while(|&&b| is_key_byte(b)).count());
            let run = bytes.get(from..from + len).unwrap_or_default();
            if len < FRAGMENT {
                // Too short to share a window: most runs (a host's labels, a path's
                // segments, words).
                start = from + len.max(1);
                continue;
            }
            // A masked key (`sk-ant-api03-AbC…xYz`) is its public prefix and at most three
            // characters before the ellipsis: leave it alone. (Text cut short by a
            // quote window also ends in `…`, with more before it: that is masked.)
            let masked = bytes
                .get(from + len..)
                .is_some_and(|rest| rest.starts_with("…".as_bytes()))
                && std::str::from_utf8(run).is_ok_and(|r| {
                    r.len() - PUBLIC_PREFIX_PATTERN.find(r).map_or(0, |m| m.end) <= 3
                });
            if !masked && self.shares_window(run) {
                hits.push(from..from + len);
            }
            start = from + len.max(1);
        }
        if hits.is_empty() {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for h in hits {
            out.push_str(text.get(last..h.start).unwrap_or(""));
            out.push_str(&mask_key(text.get(h.clone()).unwrap_or("")));
            last = h.end;
        }
        out.push_str(text.get(last..).unwrap_or(""));
        Cow::Owned(out)
    }

    /// The text with every secret masked; borrowed when there is none (the usual case).
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.redact_known(text) {
            Cow::Borrowed(text) => redact_patterns(text),
            Cow::Owned(known) if could_hold_key(&known) => {
                Cow::Owned(mask_patterns(Cow::Owned(known)).into_owned())
            }
            known => known,
        }
    }
}

/// Strings that hold nothing to mask, by their text. A report line repeats most of the
/// last one's strings (field names, rule ids, titles, hosts, fact names), a capture
/// its URL and client most often the last capture's; a lookup costs a short string a
/// few instructions where the check before the key patterns reads each byte.
#[derive(Default)]
struct CleanStrings {
    set: hashbrown::HashSet<Box<str>>,
    /// The bytes of the strings kept: at [`CLEAN_BYTES`] the set starts anew, so a
    /// stream of strings seen once (request ids) keeps each thread's share small.
    bytes: usize,
}

/// Per thread; a string longer than a quarter of it is not kept.
const CLEAN_BYTES: usize = 32 * 1024;

thread_local! {
    static CLEAN: RefCell<CleanStrings> = RefCell::new(CleanStrings::default());
}

/// The text with what the key patterns find masked, as [`Redactor::redact`] masks it
/// when it knows no secret; borrowed when there is none. Short words first, then the
/// strings found clean before, then the quick check and the patterns.
pub fn redact_patterns(text: &str) -> Cow<'_, str> {
    if short_word(text) {
        return Cow::Borrowed(text);
    }
    let known = CLEAN.with_borrow(|clean| clean.set.contains(text));
    if known {
        return Cow::Borrowed(text);
    }
    let masked = search_patterns(text);
    if matches!(masked, Cow::Borrowed(_)) && text.len() <= CLEAN_BYTES / 4 {
        CLEAN.with_borrow_mut(|clean| {
            if clean.bytes + text.len() > CLEAN_BYTES {
                clean.set.clear();
                clean.bytes = 0;
            }
            clean.bytes += text.len();
            clean.set.insert(text.into());
        });
    }
    masked
}

/// The quick check, then the key patterns, with nothing remembered.
fn search_patterns(text: &str) -> Cow<'_, str> {
    if could_hold_key(text) {
        mask_patterns(Cow::Borrowed(text))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether the key patterns find nothing in the text, asked without remembering it
/// among the strings found clean.
fn holds_no_key(text: &str) -> bool {
    matches!(search_patterns(text), Cow::Borrowed(_))
}

/// Masks what the key patterns find: shapes, encoded keys, labelled values, random
/// tokens, the rest of a wrapped key. [`could_hold_key`] says when it can be skipped.
fn mask_patterns(out: Cow<'_, str>) -> Cow<'_, str> {
    match lone_token(&out) {
        Some(LoneToken::Masked(masked)) => Cow::Owned(masked),
        Some(LoneToken::Clean) => out,
        None => mask_patterns_by_search(out),
    }
}

/// What the key patterns make of a text of ASCII letters and digits only (a request
/// id, a digest, a bare token), decided without searching: every pattern but two
/// needs a character such a text lacks (`-`, `_`, `.`, `%`, `:`, `=`, a space, `…`),
/// and of those two, a random-looking token of 32 or more is the whole text. The
/// other, the `AIza` shape, is left to the search. A gateway's request id, shown in
/// every report, cost the search ~9k instructions (the token alternative has no
/// literal to look for first).
fn lone_token(text: &str) -> Option<LoneToken> {
    let alphanumeric = !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric());
    if !alphanumeric || text.contains("AIza") {
        return None;
    }
    Some(if text.len() >= 32 && random_looking(text) {
        LoneToken::Masked(mask_key(text))
    } else {
        LoneToken::Clean
    })
}

enum LoneToken {
    Masked(String),
    Clean,
}

/// [`mask_patterns`] by the patterns themselves.
fn mask_patterns_by_search(mut out: Cow<'_, str>) -> Cow<'_, str> {
    // Shapes first: a JWT is masked whole before its parts could look like tokens.
    let shape = |text: &str, m: Range<usize>| {
        // Already masked (`sk-ant-api03-AbC…xyz`): leave it alone.
        let masked_already = text.get(m.end..).is_some_and(|rest| rest.starts_with('…'));
        (!masked_already).then(|| mask_key(text.get(m).unwrap_or("")))
    };
    out = replace_matches(out, &KEY_SHAPES_PATTERN, shape);
    if out.contains('%') {
        out = replace_matches(out, &PERCENT_ENCODED_PATTERN, shape);
    }
    out = replace_matches(out, &CONTEXT_KEYS_PATTERN, mask_context);
    if out.contains('…') {
        out = replace_matches(out, &CONTINUED_PATTERN, |text, m| {
            let whole = text.get(m.clone()).unwrap_or("");
            let (head, run) = whole.split_at(whole.len() - key_run_len(whole));
            (!text.get(m.end..).is_some_and(|rest| rest.starts_with('…')))
                .then(|| continuation(run).map(|masked| format!("{head}{masked}")))
                .flatten()
        });
        out = mask_dotted(out);
    }
    out
}

/// The replacement of a [`CONTEXT_KEYS`] match: the key after its label masked (a
/// cookie's values, a refused header's words), a long token masked if it looks random;
/// `None` to keep it (masked already, or a request id).
fn mask_context(text: &str, m: Range<usize>) -> Option<String> {
    let whole = text.get(m.clone()).unwrap_or("");
    let label = CONTEXT_LABEL_PATTERN.find(whole).map_or(0, |l| l.end);
    let masked_already = text.get(m.end..).is_some_and(|rest| rest.starts_with('…'));
    let (label, key) = whole.split_at(label);
    // A password in a URL (`://user:pass@`) ends at the `@`, which stays.
    let (key, at) = match key.strip_suffix('@') {
        Some(k) if label.starts_with("://") => (k, "@"),
        _ => (key, ""),
    };
    if label
        .get(..6)
        .is_some_and(|l| l.eq_ignore_ascii_case("cookie"))
        || label
            .get(..10)
            .is_some_and(|l| l.eq_ignore_ascii_case("set-cookie"))
    {
        Some(format!("{label}{}", mask_cookies(key)))
    } else if label.ends_with(['\'', '"'])
        && ["illegal", "invalid"].iter().any(|w| {
            label
                .get(..w.len())
                .is_some_and(|l| l.eq_ignore_ascii_case(w))
        })
    {
        // A header value an HTTP library refused, quoted whole: every word of it
        // (a cookie's pairs, a scheme and its key) is masked.
        Some(format!("{label}{}", mask_secret_value(key)))
    } else if masked_already || key.contains('…') {
        None
    } else if !label.is_empty() {
        Some(format!("{label}{}{at}", mask_key(key)))
    } else if random_looking(key) {
        Some(mask_key(key))
    } else {
        None
    }
}

/// The keys a text holds, as [`Redactor::redact`] finds them: key shapes, labelled
/// values (a cookie's too) and random-looking tokens. A key found whole in one place
/// of an input is then known in every other, where it may be cut, wrapped or encoded
/// past recognising by its shape.
pub fn keys_in(text: &str) -> Vec<String> {
    if !could_hold_key(text) {
        return Vec::new();
    }
    keys_by_patterns(text)
}

/// [`keys_in`] without the quick check.
fn keys_by_patterns(text: &str) -> Vec<String> {
    let mut shapes = KEY_SHAPES_PATTERN.find_all(text);
    if text.contains('%') {
        shapes.extend(PERCENT_ENCODED_PATTERN.find_all(text));
    }
    let mut out: Vec<String> = shapes
        .into_iter()
        .filter_map(|m| text.get(m).map(str::to_owned))
        .collect();
    for m in CONTEXT_KEYS_PATTERN.find_all(text) {
        let whole = text.get(m).unwrap_or("");
        let label = CONTEXT_LABEL_PATTERN.find(whole).map_or(0, |l| l.end);
        let (label, key) = whole.split_at(label);
        let key = match key.strip_suffix('@') {
            Some(k) if label.starts_with("://") => k,
            _ => key,
        };
        if !label.is_empty() || random_looking(key) {
            out.push(key.to_owned());
        }
    }
    out
}

/// Masks the part after the dot of a dotted token whose part before it was masked.
fn mask_dotted(text: Cow<'_, str>) -> Cow<'_, str> {
    if !text.contains('…') {
        return text;
    }
    replace_matches(text, &DOTTED_PATTERN, |text, m| {
        let whole = text.get(m.clone()).unwrap_or("");
        let dot = whole.find('.')?;
        let (head, part) = whole.split_at(dot + 1);
        (!text.get(m.end..).is_some_and(|rest| rest.starts_with('…')))
            .then(|| format!("{head}{}", mask_key(part)))
    })
}

/// A cookie header's value with every cookie's value masked (`theme=…; session=sk-…`):
/// which cookie is the credential cannot be told, so none is shown.
fn mask_cookies(value: &str) -> String {
    value
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((name, v)) if !v.contains('…') => {
                let core = v.trim();
                format!(
                    "{name}={}",
                    if core.is_empty() {
                        String::new()
                    } else {
                        mask_key(core)
                    }
                )
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The length of the run of key characters that ends `text`.
fn key_run_len(text: &str) -> usize {
    text.bytes()
        .rev()
        .take_while(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count()
}

/// The run of key characters at the start of a line after a line that ended in a
/// masked key, masked, if it can be the rest of that key: 8 characters or more and not
/// a word (all small letters, or one capital and then small letters).
fn continuation(run: &str) -> Option<String> {
    let word = |r: &str| r.bytes().all(|b| b.is_ascii_lowercase());
    let capitalised = run
        .strip_prefix(|c: char| c.is_ascii_uppercase())
        .is_some_and(word);
    (run.len() >= 8 && !word(run) && !capitalised).then(|| format!("…{}", mask_key(run)))
}

/// Masks the first run of key characters of `line` (after indentation or a `> `) as
/// the rest of a key the line before ended with ([`continuation`]).
fn mask_continued_line(line: &str) -> Cow<'_, str> {
    let lead = line
        .bytes()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'>'))
        .count();
    let rest = line.get(lead..).unwrap_or("");
    let run = rest
        .bytes()
        .take_while(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        .count();
    let after = rest.get(run..).unwrap_or("");
    match rest.get(..run).and_then(continuation) {
        Some(masked) if !after.starts_with('…') => {
            Cow::Owned(format!("{}{masked}{after}", line.get(..lead).unwrap_or("")))
        }
        _ => Cow::Borrowed(line),
    }
}

/// Whether a masked line ends with a masked key (`…xYz`) before its line break: the
/// next line may hold the rest of that key.
fn ends_in_masked_key(line: &str) -> bool {
    let body = line.trim_end_matches(['\n', '\r']);
    let run = key_run_len(body);
    run <= 3
        && body
            .get(..body.len() - run)
            .is_some_and(|b| b.ends_with('…'))
}

/// Keys are split from what surrounds them at whitespace and quotes.
fn is_word_separator(c: char) -> bool {
    c.is_whitespace() || c == '"' || c == '\''
}

/// `Bearer`, `Basic`, `Token`: the scheme word before a key, not part of it.
fn is_scheme_word(word: &str) -> bool {
    ["bearer", "basic", "token"]
        .iter()
        .any(|s| word.eq_ignore_ascii_case(s))
}

/// The word without the literal `\n`, `\r`, `\t` a double escaping left at its end.
fn without_escapes(word: &str) -> &str {
    let mut core = word;
    while let Some(rest) = ["\\n", "\\r", "\\t"]
        .iter()
        .find_map(|e| core.strip_suffix(e))
    {
        core = rest;
    }
    core
}

/// The words of a secret value worth masking wherever they appear; a key with a
/// literal `\n` left by double escaping appears elsewhere without it, so both
/// spellings. Scheme words and short words are not secret.
fn secret_words<'s>(secret: &'s str, mut word: impl FnMut(&'s str)) {
    for w in words(secret) {
        for w in [w, without_escapes(w)] {
            if w.len() >= 6 && !is_scheme_word(w) {
                word(w);
            }
        }
    }
}

/// `text.split(is_word_separator)`, read a byte at a time where the text is ASCII
/// (keys and header values are): decoding every character was most of the cost of
/// making a redactor.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let stop = |b: &u8| !b.is_ascii() || matches!(b, b'\t'..=b'\r' | b' ' | b'"' | b'\'');
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut i = start;
        loop {
            let Some(offset) = bytes.get(i..)?.iter().position(stop) else {
                done = true;
                return text.get(start..);
            };
            i += offset;
            let width = if bytes.get(i).is_some_and(u8::is_ascii) {
                1
            } else {
                // A multi-byte character: a separator only if it is Unicode whitespace.
                let c = text.get(i..)?.chars().next()?;
                if !c.is_whitespace() {
                    i += c.len_utf8();
                    continue;
                }
                c.len_utf8()
            };
            let word = text.get(start..i);
            start = i + width;
            return word;
        }
    })
}

fn add_word<'a>(known: &mut Vec<Cow<'a, str>>, word: Cow<'a, str>) {
    if !known.contains(&word) {
        known.push(word);
    }
}

/// Whether the key patterns could mask anything in `text` ([`mask_patterns`]). Every
/// key shape (`sk-` and 12 more, a 32-character token, …) is 15 or more key characters
/// (`[A-Za-z0-9_-]`) in a row, but a dotted token (`eyJ…`) of short parts, which is 23
/// value characters and an `eyJ`, and an encoded `sk%2D` and 12 more; a labelled value
/// (`api key: …`, `Bearer …`, `token=…`, `password: …`) is 8 or more value characters
/// after a label word, but a cookie's values and a refused header value are any six
/// characters after theirs; a password in a URL has `://` and `@`; a value encoded
/// whole has 12 or more `%` in a row of value characters. Text with none of these (a
/// method, a status, a URL's path, most header values) needs no regex at all.
/// Non-ASCII text is searched whenever a mask's ellipsis is followed by a dot or a line
/// break and 8 value characters are in a row somewhere (the rest of a key a mask cut
/// or a line wrapped: the patterns that begin at an ellipsis), and whatever it holds
/// when it has one of the two letters that match an ASCII label letter without case
/// (the Kelvin sign for `k`, the long `ſ` for `s`).
fn could_hold_key(text: &str) -> bool {
    if short_word(text) {
        return false;
    }
    // One pass for all but the label words, by a table of byte classes: separate
    // searches (`://`, `@`, `eyJ`, each byte's letter case) cost a short value such as
    // a URL 2.9k instructions, for 43 bytes.
    let bytes = text.as_bytes();
    let (mut run, mut value_run, mut longest_value) = (0usize, 0usize, 0usize);
    // Percent signs in the current value run: a value encoded whole (`%73%6B%2D…`).
    let (mut escapes, mut percent) = (0usize, false);
    let (mut ascii, mut at_sign, mut scheme, mut dotted) = (true, false, false, false);
    let (mut before, mut last) = (0u8, 0u8);
    for &b in bytes {
        let class = BYTE_CLASSES.get(usize::from(b)).copied().unwrap_or(0);
        if class & KEY_BYTE != 0 {
            run += 1;
            if run >= 15 {
                return true;
            }
            value_run += 1;
        } else if class & VALUE_BYTE != 0 {
            run = 0;
            value_run += 1;
            if b == b'%' {
                percent = true;
                escapes += 1;
                if escapes >= 12 {
                    return true;
                }
            }
        } else {
            run = 0;
            value_run = 0;
            escapes = 0;
        }
        longest_value = longest_value.max(value_run);
        // The few bytes that tell more: `@`, the last `/` of `://`, the `J` of `eyJ`, and
        // any non-ASCII byte.
        if class & NOTABLE_BYTE != 0 {
            match b {
                b'@' => at_sign = true,
                b'/' => scheme |= before == b':' && last == b'/',
                b'J' => dotted |= before == b'e' && last == b'y',
                0x80.. => ascii = false,
                _ => {}
            }
        }
        (before, last) = (last, b);
    }
    // Label words last, and only when they decide: most texts with a long run of key
    // characters end the loop early without them.
    // A cookie's values and a refused header value are any six characters: their
    // labels count whatever the value runs.
    let label = |long_value: bool| {
        bytes.iter().enumerate().any(|(i, &b)| {
            BYTE_CLASSES
                .get(usize::from(b))
                .is_some_and(|class| class & LABEL_START != 0)
                && label_word_at(bytes, i)
                    .is_some_and(|labels| long_value || labels == Labels::AnyValue)
        })
    };
    let has = |needle: &str| memchr::memmem::find(bytes, needle.as_bytes()).is_some();
    // A dotted token's parts can each be shorter than 15: 23 characters and an `eyJ`.
    (at_sign && scheme)
        || (dotted && longest_value >= 23)
        // An encoded `sk-` (`sk%2D`) and 12 more: 17 value characters.
        || (percent && longest_value >= 17 && (has("%2D") || has("%2d")))
        || (!ascii && longest_value >= 8 && ellipsis_then_break(bytes))
        || (!ascii && text.contains(['\u{212A}', '\u{17F}']))
        || label(longest_value >= 8)
}

/// Whether a mask's ellipsis is followed, within six bytes, by what the rest of a key
/// cut by the mask would come after: a dot (the next part of a dotted token) or a line
/// break, real or escaped (the rest of a wrapped key). A masked key on its own
/// (`sk-AbC…xYz`) has neither.
fn ellipsis_then_break(bytes: &[u8]) -> bool {
    const ELLIPSIS: &[u8] = "…".as_bytes();
    // By its first byte, 0xE2 (a SIMD search with nothing to build), then the rest.
    memchr::memchr_iter(0xE2, bytes).any(|at| {
        let after = bytes.get(at..).unwrap_or_default();
        after.starts_with(ELLIPSIS)
            && after
                .iter()
                .skip(ELLIPSIS.len())
                .take(6)
                .any(|b| matches!(b, b'.' | b'\n' | b'\r' | b'\\'))
    })
}

/// Whether `text` is fewer than 15 letters, digits, `_`, `-` and `.` (a field name, a
/// rule id, a host, a status): no key shape is that short, and every other pattern
/// needs a character that is not one of these (a label's `:`, `=` or space, a URL's
/// `/`, a run of 32). The cheapest of the checks, first.
fn short_word(text: &str) -> bool {
    text.len() < 15
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// [`could_hold_key`]'s classes of bytes, as bits: key characters, the other characters
/// of a value (a key can be percent-encoded, or a path), the notable bytes it looks at
/// more closely, and the first letters of label words ([`label_word_at`]).
const KEY_BYTE: u8 = 1;
const VALUE_BYTE: u8 = 2;
const NOTABLE_BYTE: u8 = 4;
const LABEL_START: u8 = 8;
// Built at compile time: an index out of bounds would fail the build, not a run (and
// `b as usize` is below 256 by its type).
#[allow(clippy::indexing_slicing)]
static BYTE_CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut b = 0u8;
    loop {
        let kind = if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            KEY_BYTE
        } else if matches!(b, b'.' | b'%' | b'~' | b'+' | b'/') {
            VALUE_BYTE
        } else {
            0
        };
        let notable = matches!(b, b'@' | b'/' | b'J') || b >= 0x80;
        let label = matches!(
            b.to_ascii_lowercase(),
            b'k' | b't' | b'b' | b's' | b'p' | b'h' | b'c'
        );
        classes[b as usize] =
            kind | if notable { NOTABLE_BYTE } else { 0 } | if label { LABEL_START } else { 0 };
        if b == u8::MAX {
            break classes;
        }
        b += 1;
    }
};

/// What a label of [`CONTEXT_KEYS`] masks after it: 8 or more value characters, or
/// (a cookie's values, a refused header value) any six characters.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Labels {
    LongValue,
    AnyValue,
}

/// The label word of a credential (`key`, `bearer`, `token`, `secret`, `pass`, `pwd`,
/// `sig`, `header value`, `header field value`, `cookie`) that starts at byte `i` of
/// `text`, in any ASCII case, by what it labels: every label of [`CONTEXT_KEYS`] holds
/// one.
fn label_word_at(text: &[u8], i: usize) -> Option<Labels> {
    let at = |word: &[u8]| {
        text.get(i..i + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    let long = |found: bool| found.then_some(Labels::LongValue);
    let any = |found: bool| found.then_some(Labels::AnyValue);
    match text.get(i).map(u8::to_ascii_lowercase) {
        Some(b'k') => long(at(b"key")),
        Some(b't') => long(at(b"token")),
        Some(b'b') => long(at(b"bearer")),
        Some(b's') => long(at(b"secret") || at(b"sig")),
        Some(b'p') => long(at(b"pass") || at(b"pwd")),
        Some(b'h') => any(at(b"header value") || at(b"header field value")),
        Some(b'c') => any(at(b"cookie")),
        _ => None,
    }
}

/// Replaces each match of `pattern` for which `replace` gives a replacement; borrows when
/// nothing changes. Matches are found without capture groups (the fast path).
fn replace_matches<'t>(
    text: Cow<'t, str>,
    pattern: &Fixed,
    replace: impl Fn(&str, Range<usize>) -> Option<String>,
) -> Cow<'t, str> {
    let mut out: Option<String> = None;
    let mut last = 0;
    for m in pattern.find_all(&text) {
        if let Some(new) = replace(&text, m.clone()) {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(text.get(last..m.start).unwrap_or(""));
            o.push_str(&new);
            last = m.end;
        }
    }
    match out {
        None => text,
        Some(mut o) => {
            o.push_str(text.get(last..).unwrap_or(""));
            Cow::Owned(o)
        }
    }
}

/// The boundary every byte leaving the program crosses (stdout, stderr, a file): a
/// writer that masks secrets in each line written through it, whatever produced the
/// line — a report, a parse error quoting a bad value, a rulebook's source, the
/// argument parser. It knows the secrets it is given (a capture's, a rulebook
/// example's) and every key-shaped or credential-labelled value; a line longer than
/// its limit is cut, so an error quoting a huge input stays readable.
pub struct MaskingWriter<W: std::io::Write> {
    inner: W,
    line: Vec<u8>,
    redactor: Redactor<'static>,
    max_line: usize,
    /// The line before ended with a masked key: this one may begin with its rest.
    continues: bool,
}

/// Lines are masked whole; a line longer than this is masked and written in pieces
/// cut at a separator, so memory stays bounded on output with no line breaks.
const MAX_PENDING: usize = 1 << 20;

impl<W: std::io::Write> MaskingWriter<W> {
    /// Masks key shapes and labelled credentials; no line limit.
    pub fn new(inner: W) -> MaskingWriter<W> {
        MaskingWriter {
            inner,
            line: Vec::new(),
            redactor: Redactor::default(),
            max_line: usize::MAX,
            continues: false,
        }
    }

    /// Also masks these secrets (and their fragments) wherever they appear.
    pub fn with_secrets(mut self, secrets: impl IntoIterator<Item = String>) -> Self {
        self.redactor = Redactor::new(secrets);
        self
    }

    /// Cuts lines longer than `chars` characters, saying how much was left out.
    pub fn with_line_limit(mut self, chars: usize) -> Self {
        self.max_line = chars;
        self
    }

    /// The writer it writes to.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    fn emit(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        let line = std::mem::take(&mut self.line);
        // Valid UTF-8 checked first: the fast path of what `from_utf8_lossy` does.
        let text = match std::str::from_utf8(&line) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&line),
        };
        let result = self.emit_masked(self.redactor.redact(&text));
        self.line = line;
        self.line.clear();
        result
    }

    /// Writes a line the patterns have been through: the rest of a key the line
    /// before ended with masked, the line cut to the limit.
    fn emit_masked(&mut self, mut masked: Cow<'_, str>) -> std::io::Result<()> {
        if self.continues {
            masked = Cow::Owned(mask_dotted(mask_continued_line(&masked)).into_owned());
        }
        self.continues = masked.ends_with('\n') && ends_in_masked_key(&masked);
        let cut = cut_line(&masked, self.max_line);
        self.inner.write_all(cut.as_bytes())
    }
}

/// The output boundary a run writes its report through: a writer that masks every
/// line written to it, and also takes lines whose every string was masked as it was
/// made ([`to_masked_line`]), which it does not search again. Only [`MaskingWriter`]
/// is one, so whatever embeds the run writes through the masking.
pub trait Boundary: std::io::Write {
    /// Writes one whole line (its line break included) whose every string was masked
    /// when it was serialised; the known secrets are still masked in it.
    fn write_masked_line(&mut self, line: &str) -> std::io::Result<()>;
}

impl<W: std::io::Write> Boundary for MaskingWriter<W> {
    fn write_masked_line(&mut self, line: &str) -> std::io::Result<()> {
        let one_line = line
            .strip_suffix('\n')
            .is_some_and(|body| memchr::memchr(b'\n', body.as_bytes()).is_none());
        if !one_line || !self.line.is_empty() {
            // Not a line on its own: through the line pass like any other text.
            return std::io::Write::write_all(self, line.as_bytes());
        }
        let masked = self.redactor.redact_known(line);
        self.emit_masked(masked)
    }
}

impl<W: std::io::Write> MaskingWriter<W> {
    /// A line longer than [`MAX_PENDING`]: written up to its last byte that cannot be
    /// inside a key (a space, a quote, a comma…), so no key is cut in two and shown
    /// half by half; the rest waits for more. A run of key characters that long is
    /// masked whole.
    fn emit_to_separator(&mut self) -> std::io::Result<()> {
        let in_key = |b: &u8| b.is_ascii_alphanumeric() || b"_-.%~+/=".contains(b);
        // An ASCII separator: a cut there never splits a character either.
        let Some(cut) = self.line.iter().rposition(|b| b.is_ascii() && !in_key(b)) else {
            return self.emit();
        };
        let rest = self.line.split_off(cut + 1);
        // Continuation state is for whole lines; a piece is not one.
        self.emit()?;
        self.line = rest;
        Ok(())
    }
}

/// The line, cut to `max` characters (its line break kept) with what was left out said.
fn cut_line(line: &str, max: usize) -> Cow<'_, str> {
    // No more bytes than the limit: no more characters either (the usual case, and
    // every line when there is no limit), without counting them.
    if line.len() <= max {
        return Cow::Borrowed(line);
    }
    let Some((cut_at, _)) = line.char_indices().nth(max) else {
        return Cow::Borrowed(line);
    };
    let (kept, rest) = line.split_at(cut_at);
    let rest = rest.trim_end_matches(['\n', '\r']);
    let newline = if line.ends_with('\n') { "\n" } else { "" };
    Cow::Owned(format!(
        "{kept}… ({} more characters){newline}",
        rest.chars().count()
    ))
}

impl<W: std::io::Write> std::io::Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Line ends found by SIMD search: a report line is kilobytes, and a split that
        // tested each byte cost more than serialising it.
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', buf) {
            self.line
                .extend_from_slice(buf.get(start..=end).unwrap_or_default());
            self.emit()?;
            start = end + 1;
        }
        let rest = buf.get(start..).unwrap_or_default();
        if !rest.is_empty() {
            self.line.extend_from_slice(rest);
            if self.line.len() >= MAX_PENDING {
                self.emit_to_separator()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for MaskingWriter<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::numbers_below;

    /// The window table answers as a plain search of every window would, on runs that
    /// share a window with the secrets at every offset and on runs that share none.
    #[test]
    fn window_set_finds_exactly_the_shared_windows() {
        let mut next = numbers_below(0x9e37_79b9_7f4a_7c15);
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
        let mut word = |len: u64| -> Vec<u8> {
            (0..len)
                .map(|_| alphabet[next(64) % alphabet.len()])
                .collect()
        };
        for _ in 0..200 {
            let secrets: Vec<Vec<u8>> = (0..3)
                .map(|_| {
                    let len = 12 + u64::from(word(1)[0]) % 60;
                    word(len)
                })
                .collect();
            let set = WindowSet::new(secrets.iter().map(Vec::as_slice));
            let naive = |run: &[u8]| {
                run.windows(FRAGMENT).any(|w| {
                    secrets
                        .iter()
                        .any(|s| s.windows(FRAGMENT).any(|sw| sw == w))
                })
            };
            // A piece of a secret, somewhere in a run.
            let s = &secrets[0];
            let from = (s.len() - FRAGMENT) / 2;
            let mut run = word(5);
            run.extend_from_slice(&s[from..from + FRAGMENT]);
            run.extend(word(7));
            assert!(set.shares_window(&run) && naive(&run));
            // Random runs: the same answer as the plain search.
            for len in [0, 11, 12, 13, 40] {
                let run = word(len);
                assert_eq!(set.shares_window(&run), naive(&run), "{run:?}");
            }
        }
        assert!(!WindowSet::new(std::iter::empty()).shares_window(b"abcdefghijklmnop"));
    }

    /// A run with a byte no secret has cannot share a window with one: the window table
    /// is not built for it, and a run that does share one is still masked, dots or not.
    #[test]
    fn the_window_table_is_built_only_for_runs_that_could_share_a_window() {
        let key = "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let redactor = Redactor::new([key]);
        for clean in [
            "https://api.moleapi.com/v1/chat/completions?stream=true",
            "OpenAI/Python 1.109.1",
            "request.json.max_tokens",
        ] {
            assert_eq!(redactor.redact_known(clean), clean);
        }
        assert!(redactor.windows.get().is_none(), "built for clean text");
        // A fragment of the key, between dots, in a host: masked.
        let host = "https://x.IjKlMnOpQrStUv.example.com/v1";
        let masked = redactor.redact_known(host);
        assert!(!masked.contains("IjKlMnOpQrStUv"), "{masked}");
        assert!(redactor.windows.get().is_some());
        // Eleven key bytes and a byte of the key's: no window in common, nothing masked.
        let near = "AbCdEfGhIjK.lMnOp";
        assert_eq!(Redactor::new([key]).redact_known(near), near);
    }

    /// The label words of credentials, as `label_word_at` looks for them.
    const LABEL_WORDS: [&str; 10] = [
        "key",
        "token",
        "bearer",
        "secret",
        "sig",
        "pass",
        "pwd",
        "header value",
        "header field value",
        "cookie",
    ];

    /// The label words are found in any ASCII case, anywhere, as a plain search of the
    /// lower-cased text finds them.
    #[test]
    fn label_words_are_found_as_a_plain_search_finds_them() {
        let words = LABEL_WORDS;
        let pieces = [
            "KeY",
            "tOkEn",
            "BEARER",
            "Secret",
            "SIG",
            "pAss",
            "PWD",
            "Header Value",
            "cOOKIE",
            "ke",
            "toke",
            "beare",
            "secre",
            "si",
            "pas",
            "pw",
            "header valu",
            "cooki",
            "k",
            "t",
            "/v1/chat",
            "completions",
            "OpenAI/Python 1.109.1",
            "api.moleapi.com",
            " ",
            "令牌",
        ];
        let mut next = numbers_below(0x2545_f491_4f6c_dd1d);
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..4 {
                text.push_str(pieces[next(pieces.len())]);
            }
            let lower = text.to_ascii_lowercase();
            let plain = words.iter().any(|w| lower.contains(w));
            let bytes = text.as_bytes();
            let found = (0..bytes.len()).any(|i| label_word_at(bytes, i).is_some());
            assert_eq!(found, plain, "{text:?}");
        }
    }

    /// Key shapes, encoded keys, labelled keys and long tokens are each masked, alone and
    /// side by side, now that encoded keys are searched for apart; request ids stay.
    #[test]
    fn shapes_encoded_labelled_and_long_tokens_are_masked_side_by_side() {
        let sk = "sk-Q7wErTy9UiOpAsDfGhJkLz";
        let encoded = "%73%6B%2D%51%37%77%45%72%54%79%39%55%69%4F%70";
        let long = "Zx9Kq2Lm8Np4Rs6Tv1Wy3Ab5Cd7Ef0GhJ";
        let id = "2026081909331357925358abcdefABCDEF01";
        let redactor = Redactor::default();
        for text in [
            format!("{encoded}{sk} and {long}"),
            format!("token={long} (request id: {id})"),
            format!("key: {encoded}, bearer {sk}"),
            format!("{long}%41 {encoded}"),
            format!("?api_key={sk}&sig={long}"),
        ] {
            let masked = redactor.redact(&text);
            for secret in [sk, encoded, long] {
                let middle = secret.get(3..15).unwrap();
                assert!(!masked.contains(middle), "{text} -> {masked}");
            }
            if text.contains(id) {
                assert!(masked.contains(id), "{text} -> {masked}");
            }
            assert!(!keys_in(&text).is_empty(), "{text}");
        }
    }

    /// A text full of a long needle's first bytes uses up the comparison budget
    /// (5,000 places × 100 bytes against 20,000): the linear-time search answers.
    #[test]
    fn holds_answers_as_str_contains_past_its_comparison_budget() {
        let text = format!("{}b", "a".repeat(5000));
        for needle in [
            format!("{}b", "a".repeat(100)),
            format!("{}c", "a".repeat(100)),
        ] {
            assert_eq!(
                holds(text.as_bytes(), needle.as_bytes()),
                text.contains(&needle),
                "{needle}"
            );
        }
    }

    #[test]
    fn holds_answers_as_str_contains() {
        let texts = [
            "",
            "s",
            "sk-abc",
            "xsk-abcx",
            "sk-ab",
            "ssk-abc",
            "中sk-abc文",
            "abc sk-",
            "A sk-A",
            "AkAsk-Ak-1",
            "k-1 sk-1",
        ];
        for text in texts {
            for needle in [
                "", "s", "sk-abc", "abc", "文", "sk-abcd", "c", "sk-A", "A", "kA", "k-1",
            ] {
                assert_eq!(
                    holds(text.as_bytes(), needle.as_bytes()),
                    text.contains(needle),
                    "{needle:?} in {text:?}"
                );
            }
        }
    }

    const KEY: &str = "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl";

    fn leaks(shown: &str, key: &str) -> bool {
        let secret: Vec<char> = key.chars().skip(3).collect();
        secret
            .windows(12)
            .any(|w| shown.contains(&w.iter().collect::<String>()))
    }

    /// Texts that make or nearly make each thing the key patterns look for: pairs and
    /// 40,000 random sequences of pieces of labels, shapes, runs, separators and
    /// escapes, then every line of every fixture.
    pub(in crate::mask) fn key_like_texts() -> Vec<String> {
        let fragments = [
            "key",
            "KEY",
            "Key=",
            "api_key: ",
            "api key provided",
            "\u{212A}ey=",
            "\u{17F}ecret=",
            "bEaReR ",
            "Bearer\u{a0}",
            "Token=",
            "token (",
            "password: ",
            "SIG=",
            "Cookie:",
            "header value ",
            "://u:",
            "@",
            "%2D",
            "%73%6B%2D%51%37%77%45%72%54%79%39%55%69",
            "~+",
            "sk-",
            "sk",
            "-",
            "_",
            "AQ.",
            "AQ",
            "hf_",
            "gsk_",
            "xai-",
            "pplx-",
            "nvapi-",
            "csk-",
            "r8_",
            "tgp_v1_",
            "AIza",
            "AI",
            "eyJ",
            "abcdEFG",
            "abcdEFGH",
            "abcdEFGH0123",
            "abcdEFGH012345",
            "abcdEFGH0123456",
            "Zx9Kq2Lm8Np4Rs6Tv1Wy3Ab5",
            "2026081909331357925358",
            "38268d9d6rhgZmzsh",
            "9f86d081884c7d659a2feaa0",
            "a.b.c.d.",
            "…",
            "…jkl",
            "\\n",
            "\n",
            ".",
            " ",
            "\u{2003}",
            "/",
            ":",
            "=",
            "\"",
            "中文",
        ];
        let mut texts: Vec<String> = Vec::new();
        for a in fragments {
            for b in fragments {
                texts.push(format!("{a}{b}{a}"));
                texts.push(format!("{b}{a}{a}{b}"));
            }
        }
        let mut next = numbers_below(0x51_7cc1_b727_220a);
        for _ in 0..40_000 {
            let n = 2 + next(7);
            texts.push((0..n).map(|_| fragments[next(fragments.len())]).collect());
        }
        let mut dirs = vec![std::path::PathBuf::from("tests/fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.extend(text.lines().map(str::to_owned));
                }
            }
        }
        texts
    }

    /// A text of letters and digits only is masked without searching exactly as the
    /// search masks it: random ones of every length around 32, from one or two
    /// classes of character or all three, led by a timestamp's eight digits or by
    /// seven, and with pieces of the `AIza` shape (which the search is left), and the
    /// alphanumeric words of the key-like texts.
    #[test]
    fn a_lone_token_is_masked_as_the_search_masks_it() {
        let mut next = numbers_below(0x2545_f491_4f6c_dd1d);
        let classes = [
            "0123456789",
            "abcdefghijklmnopqrstuvwxyz",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ];
        let mut texts: Vec<String> = Vec::new();
        for _ in 0..6_000 {
            let len = 1 + next(70);
            let pool: String = classes.iter().filter(|_| next(3) > 0).copied().collect();
            let pool = if pool.is_empty() { classes[0] } else { &pool };
            let mut text: String = (0..len)
                .map(|_| char::from(pool.as_bytes()[next(pool.len())]))
                .collect();
            match next(6) {
                0 => text.insert_str(0, "20260819"),
                1 => text.insert_str(0, "2026081"),
                2 => text.insert_str(next(text.len() + 1), ["AIza", "AIz", "Iza"][next(3)]),
                _ => {}
            }
            texts.push(text);
        }
        for text in key_like_texts() {
            texts.extend(
                text.split(|c: char| !c.is_ascii_alphanumeric())
                    .map(str::to_owned),
            );
        }
        let (mut decided, mut masked) = (0, 0);
        for text in &texts {
            let searched = mask_patterns_by_search(Cow::Borrowed(text)).into_owned();
            let Some(token) = lone_token(text) else {
                continue;
            };
            decided += 1;
            let fast = match token {
                LoneToken::Masked(m) => {
                    masked += 1;
                    m
                }
                LoneToken::Clean => text.clone(),
            };
            assert_eq!(fast, searched, "{text:?}");
        }
        assert!(
            decided > 5_000 && masked > 1_000,
            "{decided} decided, {masked} masked"
        );
        assert!(lone_token("Zx9Kq2Lm8Np4-Rs6Tv1Wy3Ab5Zx9Kq2Lm8Np4").is_none());
    }

    /// The gate in front of the key patterns may let through text they leave as it
    /// is, never hold back text they would mask or take a key from: on every short
    /// combination of pieces that make or nearly make each thing it looks for, on
    /// longer random ones, and on every line of the fixtures.
    #[test]
    fn the_gate_never_holds_back_text_the_key_patterns_change() {
        let texts = key_like_texts();
        let mut held_back = 0;
        for text in &texts {
            if !could_hold_key(text) {
                held_back += 1;
                assert_eq!(
                    mask_patterns(Cow::Borrowed(text)),
                    text.as_str(),
                    "{text:?}"
                );
                assert_eq!(keys_by_patterns(text), Vec::<String>::new(), "{text:?}");
            }
        }
        // It does hold back the common texts it is there for.
        assert!(
            held_back > texts.len() / 4,
            "{held_back} of {}",
            texts.len()
        );
        for plain in [
            "https://api.moleapi.com/v1/chat/completions",
            "OpenAI/Python 1.109.1",
            "application/json; charset=utf-8",
        ] {
            assert!(!could_hold_key(plain), "{plain}");
        }
    }

    #[test]
    fn words_split_as_the_separator_test_does() {
        for text in [
            "",
            " ",
            "Bearer sk-abc",
            "  Bearer\tsk-abc\n",
            "\"sk-abc\"",
            "'a' \x0b b\x0cc",
            "密钥 sk-中文\u{3000}x\u{a0}y\u{2003}",
            "no-separator-at-all",
            "é",
            "a  b",
        ] {
            let expected: Vec<&str> = text.split(is_word_separator).collect();
            assert_eq!(words(text).collect::<Vec<_>>(), expected, "{text:?}");
        }
    }

    #[test]
    fn a_gateway_key_keeps_prefix_and_ends_only() {
        assert_eq!(KEY.len(), 51);
        let m = mask_key(KEY);
        assert_eq!(m, "sk-AbC…jkl");
        assert!(!leaks(&m, KEY));
    }

    #[test]
    fn platform_prefixes_stay_visible() {
        assert!(mask_key("sk-proj-abcdefghijklmnopqrstuvwxyz0123").starts_with("sk-proj-abc…"));
        assert!(mask_key("AIzaSyA1234567890abcdefghijklmnopqrs").starts_with("AIzaSyA…"));
        assert_eq!(mask_key("sk-abc"), "sk-…");
    }

    #[test]
    fn whitespace_and_scheme_are_kept_around_a_masked_key() {
        let shown = mask_secret_value(&format!("Bearer  {KEY}\n"));
        assert_eq!(shown, "Bearer  sk-AbC…jkl\n");
        let shown = mask_secret_value(&format!("{KEY}\\n"));
        assert_eq!(
            shown, "sk-AbC…jkl\\n",
            "a literal backslash-n stays visible"
        );
        let shown = mask_secret_value(&format!("\"{KEY}\""));
        assert_eq!(shown, "\"sk-AbC…jkl\"");
    }

    #[test]
    fn redactor_masks_known_and_key_shaped_text() {
        let r = Redactor::new([format!("Bearer {KEY}")]);
        let text = format!(
            "Incorrect API key provided: {KEY}. Also gsk_{}",
            "x".repeat(52)
        );
        let out = r.redact(&text);
        assert!(!leaks(&out, KEY), "{out}");
        assert!(!out.contains(&"x".repeat(12)), "{out}");
        assert!(out.contains("Incorrect API key provided: sk-AbC…jkl."));
        // Masking twice changes nothing.
        let once = r
            .redact(&format!("sk-ant-api03-{}", "Q".repeat(90)))
            .into_owned();
        assert_eq!(r.redact(&once), once);
        assert!(once.starts_with("sk-ant-api03-QQQ…"), "{once}");
        // Keys the redactor was not told about: named as keys, or random-looking.
        let r0 = Redactor::default();
        let out = r0.redact("Incorrect API key provided: 0gib7xEjZGuL8RF98jl5owcYqAzHj7Tq. Also api_key=abcdefgh12345678");
        assert!(
            !out.contains("0gib7xEjZGuL8") && !out.contains("abcdefgh1234"),
            "{out}"
        );
        let out = r0.redact("token QwErTyUiOpAsDfGhJkLzXcVbNm1234567890 and request id: 202608190933135792535838268d9d6rhgZmzsh req_8f3c2b1a9d7e6f5a4b3c2d1e0f9a8b7c");
        assert!(!out.contains("QwErTyUiOpAsDf"), "{out}");
        assert!(
            out.contains("202608190933135792535838268d9d6rhgZmzsh")
                && out.contains("req_8f3c2b1a9d7e6f5a4b3c2d1e0f9a8b7c"),
            "ids are kept: {out}"
        );
        // A non-standard key the redactor was told about is masked too.
        let odd = "my-internal-token-1234567890";
        let out = Redactor::new([odd])
            .redact(&format!("key={odd}"))
            .into_owned();
        assert!(!out.contains("internal-token"), "{out}");
    }

    /// Credentials that are not `sk-` keys are masked by position (a credential query
    /// or form parameter, a header-like label, a URL's password) and by shape (a JWT, a
    /// percent-encoded key); a known key's fragments are masked wherever they appear.
    #[test]
    fn credentials_by_position_shape_and_fragment() {
        let r0 = Redactor::default();
        let hex = "9f86d081884c7d659a2feaa0c55ad015";
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        for (text, secret) in [
            (
                format!("https://h/v1?access_token={jwt}&x=1"),
                jwt.get(20..).unwrap(),
            ),
            (format!("GET /v1?token={hex}"), hex),
            (format!("api-key: {hex}"), hex),
            (format!("X-Api-Key:{hex}"), hex),
            (format!("password={hex}"), hex),
            (format!("https://admin:{hex}@gw.example/v1"), hex),
            (
                format!("an id token {jwt} in prose"),
                jwt.get(20..).unwrap(),
            ),
            (
                format!("?k=sk%2D{}", KEY.get(3..).unwrap()),
                KEY.get(3..).unwrap(),
            ),
        ] {
            let out = r0.redact(&text);
            let windows: Vec<&str> = (0..secret.len().saturating_sub(12))
                .filter_map(|i| secret.get(i..i + 12))
                .collect();
            assert!(windows.iter().all(|w| !out.contains(w)), "{text} → {out}");
        }
        // The URL's password goes, the user and the host stay.
        let out = r0
            .redact(&format!("https://admin:{hex}@gw.example/v1"))
            .into_owned();
        assert!(
            out.starts_with("https://admin:") && out.ends_with("@gw.example/v1"),
            "{out}"
        );
        // A known key cut by a line break: both pieces are masked.
        let r = Redactor::new([KEY]);
        let (head, tail) = KEY.split_at(25);
        let out = r
            .redact(&format!("Bearer {head}\n{tail} and /v1/{KEY}/x"))
            .into_owned();
        assert!(!leaks(&out, KEY), "{out}");
        assert!(!out.contains(tail.get(..12).unwrap()), "{out}");
        // Plain text with label-like words is left alone.
        for plain in [
            "Invalid token (request id: 20261201093015123456789AbCdEfGh)",
            "token quota is not enough, token remain quota: ＄0.001200",
            "key: { matches: '^sk-' }",
        ] {
            assert_eq!(r0.redact(plain), plain);
        }
    }

    /// The boundary writer masks each line whatever wrote it, in pieces or whole, and
    /// cuts a line over its limit saying how much was left out.
    #[test]
    fn the_boundary_writer_masks_lines_and_cuts_long_ones() {
        use std::io::Write as _;
        let mut w = MaskingWriter::new(Vec::new()).with_line_limit(40);
        write!(
            w,
            "not a valid capture: \"Bearer {}",
            KEY.get(..20).unwrap()
        )
        .unwrap();
        writeln!(w, "{}\"", KEY.get(20..).unwrap()).unwrap();
        writeln!(w, "{}", "x".repeat(100)).unwrap();
        w.flush().unwrap();
        let out = String::from_utf8(w.get_mut().clone()).unwrap();
        assert!(!leaks(&out, KEY), "{out}");
        assert!(out.contains("… (60 more characters)\n"), "{out}");
    }

    /// A line masked string by string is not searched again, but the writer's known
    /// secrets are still masked in it, and it is cut to the line limit. Text that is
    /// not one whole line (a line break inside, none at the end, a line begun by an
    /// earlier write) goes through the line pass like any other.
    #[test]
    fn a_masked_line_skips_the_patterns_but_not_the_rest_of_the_boundary() {
        use std::io::Write as _;
        let known = "Zq4Lm9Tr2Wx7Pb1Nc6Vd3Hy8Kj5";
        let shape = "sk-Q7wErTy9UiOpAsDfGhJk";
        let written = |write: &dyn Fn(&mut MaskingWriter<Vec<u8>>)| {
            let mut w = MaskingWriter::new(Vec::new())
                .with_secrets([known.to_owned()])
                .with_line_limit(60);
            write(&mut w);
            w.flush().unwrap();
            String::from_utf8(w.get_mut().clone()).unwrap()
        };
        // Whole lines: the key shape is left to whoever masked the line's strings.
        let out = written(&|w| {
            w.write_masked_line(&format!("{{\"a\":\"{shape} {known}\"}}\n"))
                .unwrap()
        });
        assert!(out.contains(shape), "{out}");
        assert!(!out.contains(known), "{out}");
        let long = format!("{}\n", "x".repeat(100));
        let out = written(&|w| w.write_masked_line(&long).unwrap());
        assert!(out.ends_with("… (40 more characters)\n"), "{out}");
        // Not whole lines: searched.
        for text in [format!("{shape}\n{shape}\n"), shape.to_owned()] {
            let out = written(&|w| w.write_masked_line(&text).unwrap());
            assert!(!out.contains(shape), "{text:?}: {out}");
        }
        let out = written(&|w| {
            w.write_all(b"begun: ").unwrap();
            w.write_masked_line(&format!("{shape}\n")).unwrap();
        });
        assert!(!out.contains(shape), "{out}");
    }

    /// A key wrapped across a line break, with nothing else saying it is a key: the
    /// rest on the next line is masked, in one text (a real or an escaped line break,
    /// indented or after curl's `> `) and across the boundary writer's lines; a word
    /// after a key at a line's end is not.
    #[test]
    fn the_rest_of_a_wrapped_key_is_masked() {
        use std::io::Write as _;
        let (head, tail) = KEY.split_at(27);
        let r = Redactor::default();
        for text in [
            format!("provided: {head}\n{tail}. Check it"),
            format!("message: \"{head}\\n  {tail}\""),
            format!("> x: {head}\r\n> {tail}"),
        ] {
            let shown = r.redact(&text);
            assert!(!leaks(&shown, KEY), "{text:?} -> {shown}");
        }
        let mut w = MaskingWriter::new(Vec::new());
        writeln!(w, "Incorrect API key provided: {head}").unwrap();
        writeln!(w, "\t{tail}. You can find your key in the console").unwrap();
        writeln!(w, "{KEY}").unwrap();
        writeln!(w, "Please check the key").unwrap();
        w.flush().unwrap();
        let out = String::from_utf8(w.get_mut().clone()).unwrap();
        assert!(!leaks(&out, KEY), "{out}");
        assert!(out.ends_with("\nPlease check the key\n"), "{out}");
    }

    /// A header value an HTTP library refused is a credential, whatever its shape.
    #[test]
    fn a_refused_header_value_is_masked() {
        let hex = "9f86d081884c7d659a2feaa0c55ad015";
        let r = Redactor::default();
        for text in [
            format!("httpcore.LocalProtocolError: Illegal header value b'{hex} '"),
            format!(
                "httpcore.LocalProtocolError: Illegal header value b'theme=dark; session={hex} '"
            ),
            format!("net/http: invalid header field value \"{hex}\\n\" for key X-Api-Key"),
        ] {
            let shown = r.redact(&text);
            assert!(!shown.contains(hex.get(..12).unwrap()), "{shown}");
        }
    }

    /// A line too long to hold whole is written in pieces, never cut inside a key:
    /// a key across the first piece's end is masked whole.
    #[test]
    fn a_long_line_is_not_cut_inside_a_key() {
        use std::io::Write as _;
        let mut w = MaskingWriter::new(Vec::new());
        let filler = "a, ".repeat(MAX_PENDING / 3);
        // A writer's buffer ends inside the key: the first part crosses the limit.
        let (head, tail) = KEY.split_at(27);
        w.write_all(format!("{filler}é Bearer {head}").as_bytes())
            .unwrap();
        w.write_all(format!("{tail} and more{}", " x".repeat(1000)).as_bytes())
            .unwrap();
        writeln!(w).unwrap();
        w.flush().unwrap();
        let out = String::from_utf8(w.get_mut().clone()).unwrap();
        assert!(!leaks(&out, KEY));
        assert!(out.contains("é Bearer sk-AbC…jkl and more"));
    }

    /// Lines are masked whole however the writes cut them: several lines in one write,
    /// one line over many writes (a character split between two), a key wrapped onto
    /// the next line, and a last line with no line break, all come out the same.
    #[test]
    fn the_output_is_the_same_however_the_writes_cut_the_text() {
        use std::io::Write as _;
        let (head, tail) = KEY.split_at(30);
        let text = format!(
            "é first line\nAuthorization: Bearer {KEY}\nwrapped: {head}\n    {tail} rest\n\nlast {KEY} é"
        );
        let written = |chunk: usize| {
            let mut w = MaskingWriter::new(Vec::new());
            for piece in text.as_bytes().chunks(chunk) {
                w.write_all(piece).unwrap();
            }
            w.flush().unwrap();
            String::from_utf8(w.get_mut().clone()).unwrap()
        };
        let whole = written(text.len());
        assert!(!leaks(&whole, KEY), "{whole}");
        assert_eq!(whole.lines().count(), text.lines().count(), "{whole}");
        assert!(
            whole.starts_with("é first line\n") && whole.ends_with(" é"),
            "{whole}"
        );
        for chunk in [1, 2, 7, 64] {
            assert_eq!(written(chunk), whole, "writes of {chunk} bytes");
        }
    }

    /// The one-pass quick check answers as separate searches for each thing it looks
    /// for do, on varied texts: label words in any case and cut short, `://` and `@`
    /// apart, `eyJ` tokens, percent signs, long runs, non-ASCII letters.
    #[test]
    fn the_quick_check_answers_as_separate_searches_do() {
        let mut next = numbers_below(0x9e37_79b9_7f4a_7c15);
        let pieces = [
            "KEY",
            "key",
            "Ke",
            "tok",
            "Token",
            "BEARER",
            "bearer",
            "secret",
            "sig",
            "Pass",
            "pwd",
            "header value",
            "Header Field Value",
            "header  value",
            "cookie",
            "cook",
            "://",
            ":/",
            "/",
            "@",
            "eyJ",
            "ey",
            "J",
            "%",
            "%2D",
            ".",
            "~",
            "+",
            "_",
            "-",
            " ",
            "abc",
            "Q7wErTy12",
            "0123456789",
            "é",
            "令牌",
            "\u{212A}",
            "\u{17F}",
            "\u{a0}",
            ":",
            "=",
            "\n",
            "\\n",
            "\"",
            "(",
            "api",
            "api_",
            "word",
            "sk-",
            "sk",
            "xai-",
            "hf_",
            "AIza",
            "AI",
            "AQ",
            "AQ.",
            "%2d",
            "…",
            "…jkl",
            "Zx9Kq2Lm8Np4Rs6Tv1Wy",
            "20260819093313",
            "abcdefghijklmnop",
        ];
        let (mut yes, mut no) = (0, 0);
        for _ in 0..50_000 {
            let text: String = (0..next(12)).map(|_| pieces[next(pieces.len())]).collect();
            let expected = could_hold_key_by_searches(&text);
            assert_eq!(could_hold_key(&text), expected, "{text:?}");
            if expected { yes += 1 } else { no += 1 }
        }
        assert!(yes > 5_000 && no > 5_000, "{yes} {no}");
    }

    /// The quick check takes two non-ASCII letters for ASCII label letters: the long
    /// `ſ` and the Kelvin sign. No other character matches an ASCII letter without case
    /// in the patterns' regex syntax.
    #[test]
    fn only_two_non_ascii_letters_match_an_ascii_letter_without_case() {
        let letter = regex::Regex::new("(?i)^[a-z]$").unwrap();
        let folding: Vec<char> = (0x80..=0x10_FFFF)
            .filter_map(char::from_u32)
            .filter(|c| letter.is_match(c.encode_utf8(&mut [0; 4])))
            .collect();
        assert_eq!(folding, ['\u{17F}', '\u{212A}']);
    }

    /// The quick check said plainly, each thing looked for by a search of its own: the
    /// reference the one-pass check is held to.
    fn could_hold_key_by_searches(text: &str) -> bool {
        let key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        let value_char = |c: char| key_char(c) || ".%~+/".contains(c);
        let long_run = text.split(|c| !key_char(c)).any(|run| run.len() >= 15);
        let values: Vec<&str> = text.split(|c| !value_char(c)).collect();
        let encoded = values.iter().any(|v| v.matches('%').count() >= 12);
        let longest_value = values.iter().map(|v| v.len()).max().unwrap_or(0);
        let userinfo = text.contains("://") && text.contains('@');
        let dotted = longest_value >= 23 && text.contains("eyJ");
        let encoded_dash = longest_value >= 17 && (text.contains("%2D") || text.contains("%2d"));
        let folds = text.contains(['\u{212A}', '\u{17F}']);
        let ellipsis_then_break = text.split('…').skip(1).any(|after| {
            after
                .bytes()
                .take(6)
                .any(|b| matches!(b, b'.' | b'\n' | b'\r' | b'\\'))
        });
        let lower = text.to_ascii_lowercase();
        let label = LABEL_WORDS.iter().any(|w| lower.contains(w));
        let short_value_label = ["cookie", "header value", "header field value"]
            .iter()
            .any(|w| lower.contains(w));
        let short_word = text.len() < 15 && text.chars().all(|c| key_char(c) || c == '.');
        !short_word
            && (long_run
                || encoded
                || userinfo
                || dotted
                || encoded_dash
                || folds
                || short_value_label
                || (longest_value >= 8 && (ellipsis_then_break || label)))
    }

    /// The quick check before the patterns lets through every text a pattern masks:
    /// a dotted token whose parts are each under 15 characters, a refused header value
    /// whose message says `header field value` and names no other label, a cookie and
    /// an encoded `sk-` key with no 15 key characters in a row.
    #[test]
    fn the_check_before_the_patterns_misses_no_shape_or_label() {
        let r = Redactor::default();
        for (text, secret) in [
            ("got eyJhbGciO.eyJzdWIiO.SflKxwRJ ok", "eyJzdWIiO"),
            ("invalid header field value \"sk-1a2b3c4d\\n\"", "1a2b3c4d"),
            ("> Cookie: sid=Qx7Pw2", "Qx7Pw2"),
            ("got sk%2DQ7wErTy9UiOp ok", "Q7wErTy9UiOp"),
        ] {
            let shown = r.redact(text);
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    /// The shortest key shape is 15 characters (`sk-` and 12): a word of fewer key
    /// characters, whatever prefix it starts with, is left as it is by the patterns,
    /// and the first check says so; at 15 it no longer does.
    #[test]
    fn a_word_shorter_than_any_key_is_cleared_first() {
        let prefixes = [
            "", "sk-", "sk-proj-", "sk%2D", "AQ.", "eyJ", "hf_", "gsk_", "r8_", "AIza", "xai-",
            "csk-", "nvapi-", "tgp_v1_", "key", "token", "pwd", "a.b.", "2026",
        ];
        let alphabet = b"abcdEFGHxyzXYZ0189_-.";
        let mut next = numbers_below(0x2f1b_93a4_c6d7_e801);
        for _ in 0..20_000 {
            let prefix = prefixes[next(prefixes.len())];
            let mut text = prefix.to_owned();
            let room = 15usize.saturating_sub(prefix.len());
            for _ in 0..next(room.max(1)) {
                text.push(char::from(alphabet[next(alphabet.len())]));
            }
            if !short_word(&text) {
                assert!(text.len() >= 15 || text.contains('%'), "{text}");
                continue;
            }
            assert!(!could_hold_key(&text), "{text}");
            assert_eq!(mask_patterns(Cow::Borrowed(&text)), text.as_str());
            assert_eq!(keys_by_patterns(&text), Vec::<String>::new(), "{text}");
        }
        let fifteen = "sk-abcdEFGH0123";
        assert!(!short_word(fifteen));
        assert_ne!(Redactor::default().redact(fifteen), fifteen);
    }

    /// Cookies are credentials whatever their names; a JWT's next part after a masked
    /// part is masked too, on the same line or the next.
    #[test]
    fn cookies_and_the_parts_of_a_dotted_token_are_masked() {
        let hex = "9f86d081884c7d659a2feaa0c55ad015";
        let r = Redactor::default();
        let shown = r
            .redact(&format!("> Cookie: theme=dark; session={hex}\n"))
            .into_owned();
        assert!(!shown.contains(hex.get(..12).unwrap()), "{shown}");
        assert!(shown.starts_with("> Cookie: theme="), "{shown}");
        let shown = r
            .redact(&format!("set-cookie: sid={hex}; Path=/; HttpOnly"))
            .into_owned();
        assert!(!shown.contains(hex.get(..12).unwrap()), "{shown}");
        let signature = "wvdxVX1dZCEH98YfofZG1teqUNjs_CgG8P-TPgVE697";
        for text in [
            format!(
                "provided: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\neyJrbStIIhD9SFj5kHVqiVkB6vUE5jtz0AqETD4cKGE.{signature}."
            ),
            format!("provided: eyJrbStIIhD9SFj5kHVqiVkB6vUE5jtz0AqETD4cKGE.{signature}"),
        ] {
            let shown = r.redact(&text);
            assert!(!shown.contains(signature.get(..12).unwrap()), "{shown}");
        }
    }
}
