//! Fuzzy ranking (nucleo's matcher, as in helix) for the lists that are wholly in memory:
//! the collections pane's filter and the collection picker.

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// The indices of `candidates` that match `query`, best first (ties keep their order); an
/// empty query keeps every candidate in order.
#[must_use]
pub fn rank<'a>(query: &str, candidates: impl IntoIterator<Item = (usize, &'a str)>) -> Vec<usize> {
    let query = query.trim();
    if query.is_empty() {
        return candidates.into_iter().map(|(i, _)| i).collect();
    }
    let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize, usize)> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(order, (i, text))| {
            pattern
                .score(Utf32Str::new(text, &mut buf), &mut matcher)
                .map(|s| (s, order, i))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_in_order_match_and_the_closest_ranks_first() {
        let names = ["inbox", "research_papers", "papers", "photos"];
        let got = rank("pap", names.iter().copied().enumerate());
        assert_eq!(got, [2, 1]);
        assert_eq!(rank("rp", names.iter().copied().enumerate()), [1]);
        assert_eq!(rank("", names.iter().copied().enumerate()), [0, 1, 2, 3]);
        assert!(rank("zzz", names.iter().copied().enumerate()).is_empty());
    }
}
