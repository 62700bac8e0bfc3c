//! "Did you mean": how far one word is from another, for the suggestions of every
//! error that names something unknown (a fact, a rule id, a limit, a category) and for
//! the `near` operator of conditions. Its own module so that the stages that suggest
//! (facts, limits, the rulebook compiler) need not import each other.

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let close = |d: usize, c: &str| {
        let typo = d <= (c.len().max(word.len()) / 3).max(1);
        let truncated = word.len() >= 3 && (c.starts_with(word) || word.starts_with(c));
        typo || truncated
    };
    candidates
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| close(*d, c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Whether `a` is at most `max` edits from `b` (`edit_distance(a, b) <= max`), without
/// working out the whole table: an alignment of at most `max` edits stays within `max`
/// cells of the diagonal, so only those are computed, and a row with none within `max`
/// ends it (no later row can do better). The `near` operator asks this of each of its
/// texts for every capture. A test compares it with [`edit_distance`].
pub fn within_edits(a: &str, b: &str, max: usize) -> bool {
    if a.is_ascii() && b.is_ascii() {
        within(a.as_bytes(), b.as_bytes(), max)
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        within(&a, &b, max)
    }
}

// Three rows of |b|+1 cells, indexed with j ≤ |b| and i ≤ |a|: in range by construction.
#[allow(clippy::indexing_slicing)]
fn within<T: PartialEq>(a: &[T], b: &[T], max: usize) -> bool {
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    // Anything over `max` is "too far"; cells outside the band hold it.
    let far = max + 1;
    let width = b.len() + 1;
    let mut rows = vec![far; 3 * width];
    for (j, cell) in rows.iter_mut().take(width.min(far)).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (cur, prev, prev2) = (
            (i % 3) * width,
            ((i - 1) % 3) * width,
            ((i + 1) % 3) * width,
        );
        let (lo, hi) = (i.saturating_sub(max), (i + max).min(b.len()));
        // The cell left of the band held a value of row i − 3; right of it, no row
        // that used these cells has reached yet (bands move right), so they are far.
        if lo > 0 {
            rows[cur + lo - 1] = far;
        }
        let mut row_best = far;
        for j in lo..=hi {
            let cell = if j == 0 {
                i
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (rows[prev + j] + 1)
                    .min(rows[cur + j - 1] + 1)
                    .min(rows[prev + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(rows[prev2 + j - 2] + 1);
                }
                best.min(far)
            };
            rows[cur + j] = cell;
            row_best = row_best.min(cell);
        }
        if row_best > max {
            return false;
        }
    }
    rows[(a.len() % 3) * width + b.len()] <= max
}

/// Edit distance over characters where swapping two neighbours counts as one edit
/// (optimal string alignment): `moelapi` is one typo away from `moleapi`.
// The DP indexes a table of (|a|+1)·(|b|+1) cells with i ≤ |a|, j ≤ |b|: every index is
// in range by construction, and `get` in the inner loop would only cost time.
#[allow(clippy::indexing_slicing)]
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        d[at(i, 0)] = i;
    }
    for j in 0..=b.len() {
        d[at(0, j)] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[at(i - 1, j)] + 1)
                .min(d[at(i, j - 1)] + 1)
                .min(d[at(i - 1, j - 1)] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[at(i - 2, j - 2)] + 1);
            }
            d[at(i, j)] = best;
        }
    }
    d[at(a.len(), b.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_edits_answers_as_the_whole_table_does() {
        // Every pair of short words over a small alphabet (swaps, repeats, shifts),
        // non-ASCII letters, and the `near` texts of the built-in rulebook with typos.
        let alphabet = ['a', 'b', 'c', 'é'];
        let mut words = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = words
                .iter()
                .filter(|w| w.chars().count() == words.last().map_or(0, |l| l.chars().count()))
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        for a in &words {
            for b in &words {
                let d = edit_distance(a, b);
                for max in 0..4 {
                    assert_eq!(within_edits(a, b, max), d <= max, "{a:?} {b:?} {max}");
                }
            }
        }
        let real = [
            "/v1/chat/completions",
            "/v1/embeddings",
            "api.moleapi.com",
            "/v1/audio/speech",
        ];
        let typed = [
            "/chat/completions",
            "/v1/chat/completion",
            "/v1/caht/completions",
            "/v1/chat/completions/chat/completions",
            "/v1/embedings",
            "/v2/embeddings/",
            "api.molapi.com",
            "api.moleapi.cn",
            "API.moleapi.com",
            "/v1/audio/speach",
            "",
            "/",
        ];
        for a in typed.iter().chain(&real) {
            for b in &real {
                let d = edit_distance(a, b);
                for max in 0..6 {
                    assert_eq!(within_edits(a, b, max), d <= max, "{a:?} {b:?} {max}");
                }
            }
        }
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert_eq!(edit_distance("moleapi", "moleapi"), 0);
        assert_eq!(edit_distance("moelapi", "moleapi"), 1);
        assert_eq!(edit_distance("molapi", "moleapi"), 1);
        assert_eq!(edit_distance("api.moleapi.cn", "api.moleapi.com"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
