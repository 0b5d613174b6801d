//! "Did you mean": the known name closest to an unknown one, with bounded work.
//!
//! One unknown name must cost the same in a class of thirty and in a district of a million:
//! an unknown user on the request path of `serve`, or five thousand of them in one `check`,
//! must not compare each with every known name. So:
//!
//! - a name longer than [`MAX_LEN`] characters gets no suggestion (edit distance is quadratic
//!   in the length, and no real name is that long);
//! - short lists (keywords, decisions, policy types) are compared in full;
//! - large ones (users, groups) go through a [`NameIndex`]: the names sorted from the front and
//!   from the back. A typo leaves the start or the end of a name intact, and the names sharing
//!   the longest start (or end) with the unknown one sit next to it in sorted order, so only
//!   [`NEIGHBOURS`] on each side, in each order, are compared.

/// Names longer than this (in characters) get no suggestion.
pub const MAX_LEN: usize = 128;

/// Candidates compared on each side of an unknown name, in each sort order of a [`NameIndex`].
pub const NEIGHBOURS: usize = 16;

/// Lists up to this long are compared in full by [`closest`]; longer ones through an index.
pub const FULL_SCAN: usize = 4 * NEIGHBOURS;

/// The candidate closest to `name` by edit distance, if reasonably close; the first of equally
/// close ones. Meant for short lists, compared in full; a longer one is indexed for the call,
/// and a list asked about again and again should keep a [`NameIndex`] instead.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let query = Query::new(name)?;
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if candidates.len() > FULL_SCAN {
        return NameIndex::new(candidates.iter().copied()).closest(name).and_then(|i| candidates.get(i).copied());
    }
    candidates
        .into_iter()
        .filter_map(|c| query.distance(&c.to_lowercase()).map(|d| (d, c)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Names sorted two ways for [`NameIndex::closest`], built once for a large list of names.
#[derive(Debug, Default)]
pub struct NameIndex {
    /// Each name lower-cased, with its position in the list, sorted.
    forward: Vec<(Box<str>, u32)>,
    /// Each name lower-cased and reversed, with its position, sorted.
    backward: Vec<(Box<str>, u32)>,
}

impl NameIndex {
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut forward: Vec<(Box<str>, u32)> = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n.to_lowercase().into_boxed_str(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let mut backward: Vec<(Box<str>, u32)> =
            forward.iter().map(|(n, i)| (n.chars().rev().collect::<String>().into_boxed_str(), *i)).collect();
        forward.sort_unstable();
        backward.sort_unstable();
        Self { forward, backward }
    }

    /// The position (in the list the index was built from) of the name closest to `name`, if
    /// one is reasonably close: at most `4 × NEIGHBOURS` names are compared.
    pub fn closest(&self, name: &str) -> Option<usize> {
        let query = Query::new(name)?;
        let reversed: String = query.lower.chars().rev().collect();
        let mut best: Option<(usize, u32)> = None;
        let orders = [(&self.forward, query.lower.as_str(), false), (&self.backward, reversed.as_str(), true)];
        for (sorted, key, is_reversed) in orders {
            let at = sorted.partition_point(|(n, _)| &**n < key);
            for (n, i) in &sorted[at.saturating_sub(NEIGHBOURS)..(at + NEIGHBOURS).min(sorted.len())] {
                let candidate: String = if is_reversed { n.chars().rev().collect() } else { n.to_string() };
                if let Some(d) = query.distance(&candidate)
                    && best.is_none_or(|(bd, bi)| (d, *i) < (bd, bi))
                {
                    best = Some((d, *i));
                }
            }
        }
        best.map(|(_, i)| i as usize)
    }
}

/// An unknown name, lower-cased once, ready to be compared.
struct Query {
    lower: String,
}

impl Query {
    fn new(name: &str) -> Option<Self> {
        (name.chars().count() <= MAX_LEN).then(|| Self { lower: name.to_lowercase() })
    }

    /// Edit distance to a lower-cased candidate, if within a third of the longer name. A suffix
    /// both share (such as an email domain) is left out, so it can't make unrelated names look
    /// alike.
    fn distance(&self, candidate: &str) -> Option<usize> {
        let shared = self.lower.chars().rev().zip(candidate.chars().rev()).take_while(|(a, b)| a == b);
        let shared: usize = shared.map(|(c, _)| c.len_utf8()).sum();
        let (a, b) = (&self.lower[..self.lower.len() - shared], &candidate[..candidate.len() - shared]);
        let (la, lb) = (a.chars().count(), b.chars().count());
        let limit = (la.max(lb) / 3).max(1);
        if la.abs_diff(lb) > limit || lb > 2 * MAX_LEN {
            return None;
        }
        // Optimal string alignment: one edit per typed character, a swap of two counting once.
        let distance = strsim::osa_distance(a, b);
        (distance <= limit).then_some(distance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lists_find_close_names_only() {
        let names = ["AllowUserChat", "AllowRemoveUser"];
        assert_eq!(closest("AllowUserChta", names), Some("AllowUserChat"));
        assert_eq!(closest("Something", names), None);
    }

    #[test]
    fn a_shared_domain_does_not_make_names_close() {
        let users = ["bo.lund@school.edu", "zoe.quinn@school.edu"];
        assert_eq!(closest("tom.brooks@school.edu", users), None);
        assert_eq!(closest("zoe.quin@school.edu", users), Some("zoe.quinn@school.edu"));
    }

    #[test]
    fn the_index_finds_a_typo_at_the_start_the_middle_or_the_end_among_many() {
        let names: Vec<String> = (0..100_000).map(|i| format!("user{i:06}.name@school.edu")).collect();
        let index = NameIndex::new(names.iter().map(String::as_str));
        for (typo, meant) in [
            ("xser004711.name@school.edu", 4711),
            ("user004711.nmae@school.edu", 4711),
            ("user099999.name@school.ed", 99_999),
            ("USER000000.NAME@SCHOOL.EDU", 0),
        ] {
            assert_eq!(index.closest(typo), Some(meant), "{typo}");
        }
        assert_eq!(index.closest("someone.else@elsewhere.org"), None);
    }

    #[test]
    fn long_lists_are_indexed_and_agree_with_a_full_scan_on_the_first_closest() {
        let names: Vec<String> = (0..500).map(|i| format!("group-{i}")).collect();
        assert_eq!(closest("grup-250", names.iter().map(String::as_str)), Some("group-250"));
    }

    #[test]
    fn a_name_past_the_length_cap_gets_no_suggestion() {
        let long = "a".repeat(MAX_LEN + 1);
        let names = [long.as_str()];
        assert_eq!(closest(&long, names), None);
        assert_eq!(NameIndex::new(names).closest(&long), None);
        let capped = "a".repeat(MAX_LEN);
        assert_eq!(closest(&capped, names), Some(long.as_str()), "at the cap, still compared");
    }
}
