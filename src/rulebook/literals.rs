//! The literals one of which every match of a pattern holds: a text holding none of
//! them cannot match, so the pattern need not be built for it (see
//! `condition::Pattern`). Needs nothing but std and regex-syntax: `build.rs` includes
//! this file to work them out for the built-in rulebook's patterns at build time.

/// Byte strings to look for in a text.
pub type Literals = Box<[Box<[u8]>]>;

/// How many literals a list may hold; a longer list costs more to scan for than the
/// pattern's own search.
pub const MAX_REQUIRED_LITERALS: usize = 24;

/// The required literals of `source` as the regex crate reads it (`ignore_case` as
/// its `case_insensitive`); `None` when there is no short list, or when the pattern
/// does not parse (it is then built, and matches nothing).
pub fn required_for(source: &str, ignore_case: bool) -> Option<Literals> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(ignore_case)
        .build()
        .parse(source)
        .ok()?;
    required_literals(&hir)
}

/// Literals one of which every match of `hir` holds: its possible beginnings, else
/// its possible ends; `None` when there is no short list of either (`.*x`, `[a-z]+`).
pub fn required_literals(hir: &regex_syntax::hir::Hir) -> Option<Literals> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .find_map(|kind| {
            let mut seq = Extractor::new()
                .kind(kind)
                .limit_total(MAX_REQUIRED_LITERALS)
                .extract(hir);
            seq.dedup();
            let literals = seq.literals()?;
            // An empty literal is in every text: no help.
            if literals.len() > MAX_REQUIRED_LITERALS || literals.iter().any(|l| l.is_empty()) {
                return None;
            }
            // A text holding `"sk-` holds `sk-`: looking for the shorter one is enough.
            let holds = |long: &[u8], short: &[u8]| long.windows(short.len()).any(|w| w == short);
            Some(
                literals
                    .iter()
                    .enumerate()
                    .filter(|&(i, l)| {
                        !literals.iter().enumerate().any(|(j, other)| {
                            j != i
                                && holds(l.as_bytes(), other.as_bytes())
                                && (other.len() < l.len() || j < i)
                        })
                    })
                    .map(|(_, l)| l.as_bytes().into())
                    .collect(),
            )
        })
}
