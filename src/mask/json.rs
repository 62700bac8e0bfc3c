//! JSON written with every string masked as it is written.
//!
//! A bulk run writes one JSON line per capture. Masked at the boundary as a whole, each
//! line was searched for keys twice: its values where they were shown, then the whole
//! line, because each holds a request id and a digest the quick check cannot tell
//! from a key. Masking each string of the line on its own, before it is escaped, is
//! one search per value, and most values stop before the patterns: field names and
//! rule ids are short words, and titles, hosts and paths were found clean on an
//! earlier line ([`super::redact_patterns`]).
//!
//! Per string, the patterns see the text the string holds, not its JSON escapes, so
//! a match that the line pass made across a string's quotes (a label at the end of one
//! value and something after `:` in the next) is not made: in serde_json's output that
//! is the structure, not a secret. Every match inside one string is made as before.
//!
//! Most of a line's prose is the rulebook's own (titles, plain messages, fixes, the
//! guide's checks), the same text at the same address on every line. [`CleanTexts`]
//! finds which of those texts are clean once, when a run begins; a string that is one
//! of them, at its address, is written without being looked at again, so the workers
//! neither search that prose nor keep it among the strings found clean.

use std::borrow::Cow;
use std::io;

use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Texts found clean once, found again by where they lie in memory: a string of a
/// line that begins where one of them begins and holds the same text is written as it
/// is. The address only finds the text to compare with (cheaper than hashing the
/// text); the comparison decides, so a string elsewhere, or a stale address, is
/// masked as any other.
#[derive(Default)]
pub struct CleanTexts<'a> {
    by_place: hashbrown::HashMap<usize, &'a str>,
}

impl<'a> CleanTexts<'a> {
    /// Keeps the texts in which the key patterns find nothing.
    pub fn new(texts: impl IntoIterator<Item = &'a str>) -> CleanTexts<'a> {
        let by_place = texts
            .into_iter()
            .filter(|text| !text.is_empty() && super::holds_no_key(text))
            .map(|text| (text.as_ptr() as usize, text))
            .collect();
        CleanTexts { by_place }
    }

    /// The texts as they are, unchecked: for tests that must tell a string written
    /// as a clean text from one masked.
    #[cfg(test)]
    fn trusting(texts: &[&'a str]) -> CleanTexts<'a> {
        let by_place = texts.iter().map(|t| (t.as_ptr() as usize, *t)).collect();
        CleanTexts { by_place }
    }

    /// How many texts were found clean.
    pub fn len(&self) -> usize {
        self.by_place.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_place.is_empty()
    }

    /// Whether `text`, which began at `place`, is one of the clean texts.
    fn holds(&self, place: usize, text: &str) -> bool {
        self.by_place
            .get(&place)
            .is_some_and(|clean| *clean == text)
    }
}

/// `value` as one line of compact JSON, with every string in it (object keys too)
/// masked as [`super::Redactor::redact`] masks text, except the texts `clean` holds;
/// a line break ends it. The line is for [`super::Boundary::write_masked_line`].
pub fn to_masked_line<T: serde::Serialize + ?Sized>(
    value: &T,
    clean: &CleanTexts<'_>,
    buffer: Vec<u8>,
) -> serde_json::Result<Vec<u8>> {
    let formatter = MaskingFormatter {
        clean,
        // Most strings of a report are shorter: grown from empty, a long message
        // reallocated it six times on every line.
        text: String::with_capacity(256),
        escapes: false,
        in_string: false,
        start: None,
    };
    let mut serializer = serde_json::Serializer::with_formatter(buffer, formatter);
    value.serialize(&mut serializer)?;
    let mut line = serializer.into_inner();
    line.push(b'\n');
    Ok(line)
}

/// A compact formatter that gathers each string, masks it and only then writes it.
struct MaskingFormatter<'c> {
    clean: &'c CleanTexts<'c>,
    /// Inside a string: its text as it is, for the key patterns, and written as it is
    /// when nothing was masked and nothing in it is escaped (most strings)…
    text: String,
    /// …else escaped again as serde_json escapes it.
    escapes: bool,
    in_string: bool,
    /// Where the string began in memory, as its last piece says: serde_json hands
    /// over slices of the string it writes, and each escape stood for one byte.
    start: Option<usize>,
}

impl MaskingFormatter<'_> {
    /// A number or `true`/`false` written as an object key (serde_json writes such
    /// keys between string quotes): gathered with the string, else written out.
    fn scalar<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut bytes = Vec::new();
        write(&mut bytes)?;
        if self.in_string {
            // Digits, signs, `.`, `e`, letters: the same escaped or not.
            self.text.push_str(&String::from_utf8_lossy(&bytes));
            Ok(())
        } else {
            writer.write_all(&bytes)
        }
    }
}

/// The character a JSON escape stands for.
fn unescaped(escape: &CharEscape) -> char {
    match escape {
        CharEscape::Quote => '"',
        CharEscape::ReverseSolidus => '\\',
        CharEscape::Solidus => '/',
        CharEscape::Backspace => '\u{8}',
        CharEscape::FormFeed => '\u{c}',
        CharEscape::LineFeed => '\n',
        CharEscape::CarriageReturn => '\r',
        CharEscape::Tab => '\t',
        CharEscape::AsciiControl(byte) => char::from(*byte),
    }
}

macro_rules! scalars {
    ($($method:ident: $type:ty),* $(,)?) => {
        $(
            fn $method<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: $type) -> io::Result<()> {
                self.scalar(writer, |bytes| CompactFormatter.$method(bytes, value))
            }
        )*
    };
}

impl Formatter for MaskingFormatter<'_> {
    scalars!(
        write_bool: bool,
        write_i8: i8,
        write_i16: i16,
        write_i32: i32,
        write_i64: i64,
        write_i128: i128,
        write_u8: u8,
        write_u16: u16,
        write_u32: u32,
        write_u64: u64,
        write_u128: u128,
        write_f32: f32,
        write_f64: f64,
    );

    fn begin_string<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.in_string = true;
        self.text.clear();
        self.escapes = false;
        self.start = None;
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        _writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.start = (fragment.as_ptr() as usize).checked_sub(self.text.len());
        self.text.push_str(fragment);
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        _writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        self.text.push(unescaped(&escape));
        self.escapes = true;
        Ok(())
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.in_string = false;
        let start = self.start.take();
        let shown = if start.is_some_and(|start| self.clean.holds(start, &self.text)) {
            Cow::Borrowed(self.text.as_str())
        } else {
            super::redact_patterns(&self.text)
        };
        match shown {
            Cow::Borrowed(text) if !self.escapes => {
                writer.write_all(b"\"")?;
                writer.write_all(text.as_bytes())?;
                writer.write_all(b"\"")
            }
            // Escaped as serde_json escaped it the first time.
            shown => serde_json::to_writer(writer, shown.as_ref()).map_err(io::Error::other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn line(value: &serde_json::Value) -> String {
        String::from_utf8(to_masked_line(value, &CleanTexts::default(), Vec::new()).unwrap())
            .unwrap()
    }

    /// Nothing to mask: the line is serde_json's own, byte for byte, escapes and
    /// all, with a line break after it.
    #[test]
    fn text_without_keys_is_written_as_serde_json_writes_it() {
        let value = serde_json::json!({
            "message": "a \"quoted\" word, a tab\there, a line\nbreak, \\ and \u{1} and é",
            "n": [1, -2, 3.5, true, null],
            "nested": {"path": "C:\\rules\\main.yaml", "empty": ""},
        });
        assert_eq!(line(&value), serde_json::to_string(&value).unwrap() + "\n");
    }

    /// Each string is masked on its own, keys of objects too; the rest of the line
    /// is untouched and the line stays valid JSON that reads back.
    #[test]
    fn every_string_is_masked_and_the_line_reads_back() {
        let key = "sk-Zq4Lm9Tr2Wx7Pb1Nc6Vd3Hy8";
        let value = serde_json::json!({
            "shown": format!("Authorization: Bearer {key}"),
            "list": ["plain", format!("\"{key}\"\n")],
            key: "a key as an object key",
            "cookie": "Cookie: sid=Qx7Pw2",
        });
        let written = line(&value);
        assert!(!written.contains(key.get(3..).unwrap()), "{written}");
        assert!(!written.contains("Qx7Pw2"), "{written}");
        // Again, from the set of strings found clean the first time: the same.
        assert_eq!(line(&value), written);
        let back: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(back["list"][0], "plain");
        // The escapes around a masked key are kept: its quotes and line break.
        let quoted = back["list"][1].as_str().unwrap();
        assert!(
            quoted.starts_with("\"sk-") && quoted.ends_with("\"\n"),
            "{quoted}"
        );
        assert!(quoted.contains('…'), "{quoted}");
    }

    /// Numbers and booleans as object keys are written inside the key's quotes.
    #[test]
    fn scalar_object_keys_stay_inside_their_quotes() {
        let numbers: BTreeMap<i64, &str> = [(-7, "a"), (42, "b")].into();
        let flags: BTreeMap<bool, u8> = [(true, 1)].into();
        let written = String::from_utf8(
            to_masked_line(&(numbers, flags), &CleanTexts::default(), Vec::new()).unwrap(),
        )
        .unwrap();
        assert_eq!(written, "[{\"-7\":\"a\",\"42\":\"b\"},{\"true\":1}]\n");
    }

    /// Each string is masked as the redactor masks it alone, object keys too, on
    /// texts that make or nearly make each thing the key patterns look for; and no key
    /// that the line pass masked in such a string written on its own survives. (The
    /// line pass saw escapes, `\n` as a word's `n`, `\u001b` as five key characters;
    /// and a label at the end of one string reached into the next, as in
    /// `"Incorrect API key provided","https://…"`.)
    #[test]
    fn per_string_masking_misses_nothing_the_line_pass_finds_in_a_string() {
        let texts = super::super::tests::key_like_texts();
        let redacted = |t: &str| super::super::redact_patterns(t).into_owned();
        for chunk in texts.chunks(3) {
            let [a, b, c] = chunk else { continue };
            let value = serde_json::json!({"message": a, b.as_str(): [c, 1]});
            let expected =
                serde_json::json!({"message": redacted(a), redacted(b): [redacted(c), 1]});
            let back: serde_json::Value = serde_json::from_str(&line(&value)).unwrap();
            assert_eq!(back, expected, "{value}");
        }
        let mut checked = 0;
        for text in &texts {
            let plain = serde_json::to_string(text).unwrap();
            if plain.len() != text.len() + 2 {
                continue; // JSON escapes some of it.
            }
            let line_pass = super::super::redact_patterns(&plain);
            let written = line(&serde_json::Value::String(text.clone()));
            for key in super::super::keys_in(&plain) {
                if !line_pass.contains(&key) {
                    checked += 1;
                    assert!(!written.contains(&key), "{key:?} left in {written}");
                }
            }
        }
        assert!(checked > 1_000, "only {checked} keys");
    }

    /// The line pass masked a URL after a message that ends in a key's label; per
    /// string, the URL is shown.
    #[test]
    fn a_label_at_the_end_of_one_string_does_not_mask_the_next() {
        let value = serde_json::json!([
            "Incorrect API key provided",
            "https://api.moleapi.com/v1/chat/completions"
        ]);
        let plain = serde_json::to_string(&value).unwrap();
        assert!(!super::super::redact_patterns(&plain).contains("/v1/chat/completions"));
        assert_eq!(line(&value), plain + "\n");
    }

    /// Only texts the key patterns find nothing in are kept.
    #[test]
    fn only_texts_without_keys_are_kept_as_clean() {
        let texts = [
            "Set the Base URL to https://api.moleapi.com/v1",
            "Copy the key again: sk-Zq4Lm9Tr2Wx7Pb1Nc6Vd3Hy8",
            "Authorization: Bearer Qx7Pw2Lm9Tr2Wx7Pb1Nc6",
            "",
            "检查令牌分组",
        ];
        let clean = CleanTexts::new(texts);
        assert_eq!(clean.len(), 2);
        assert!(clean.holds(texts[0].as_ptr() as usize, texts[0]));
        assert!(clean.holds(texts[4].as_ptr() as usize, texts[4]));
        assert!(!clean.holds(texts[1].as_ptr() as usize, texts[1]));
    }

    /// A string is written as it is when it is a clean text at that text's place,
    /// escapes before, inside or after its first piece included; the same text
    /// anywhere else, or a string that only begins where a clean one does, is masked.
    /// (The texts here hold keys and are kept unchecked, so that which road a string
    /// took shows in the line.)
    #[test]
    fn a_clean_text_is_found_by_its_place_and_its_whole_text() {
        let key = "sk-Zq4Lm9Tr2Wx7Pb1Nc6Vd3Hy8";
        let texts = [
            format!("Use {key} here"),
            format!("\"{key}\" quoted"),
            format!("\n\t{key}\u{1}"),
            format!("«{key}» 引用\""),
        ];
        let borrowed: Vec<&str> = texts.iter().map(String::as_str).collect();
        let clean = CleanTexts::trusting(&borrowed);
        let write = |value: &[&str]| {
            String::from_utf8(to_masked_line(value, &clean, Vec::new()).unwrap()).unwrap()
        };
        for text in &texts {
            let at_its_place = write(&[text.as_str()]);
            assert_eq!(at_its_place, serde_json::to_string(&[text]).unwrap() + "\n");
            let copy = text.clone();
            assert!(!write(&[copy.as_str()]).contains(key), "{copy:?}");
        }
        // Begins where the first text does, ends inside its key.
        let prefix = texts[0].get(..texts[0].len() - 8).unwrap();
        assert!(
            !write(&[prefix]).contains(prefix.get(4..).unwrap()),
            "{prefix:?}"
        );
        // Begins where a clean text does, goes on past it.
        let longer = format!("Use {key} here");
        let clean = CleanTexts::trusting(&[longer.get(..4).unwrap()]);
        let line = to_masked_line(&[&longer], &clean, Vec::new()).unwrap();
        assert!(!String::from_utf8(line).unwrap().contains(key));
    }
}
