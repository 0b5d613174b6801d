//! Limits on YAML aliases and nesting, checked before a YAML file is deserialized.
//!
//! An alias (`*a`) repeats the node its anchor (`&a`) names, so a small file can stand for an
//! enormous value ("billion laughs"): 90,000 aliases of one user with 5,000 roles is a 670 kB
//! directory file that expands to 450 million strings. The deserializer expands aliases as it
//! goes, so the file is first read as events, counting what each alias would add, and refused
//! with the alias's location once past a limit. A file without `&` has no anchor, and no alias,
//! and is not read twice.
//!
//! Deep nesting is the other hazard: `serde_yaml`'s scanner takes time in proportion to the
//! depth for every token, so a 1 MB line of `[` took over an hour. A file whose brackets never
//! open more than [`MAX_NESTING`] deep (every directory and export: they nest four deep at most)
//! passes after one pass over its bytes; any other is read as events, and refused where it
//! goes past the limit.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Aliases allowed in one file. Exports and written directories use none; a hand-written file
/// may share a list or two.
pub const MAX_ALIASES: usize = 1_000;

/// Values (scalars and collections) all aliases of one file may add, together.
pub const MAX_ALIASED_VALUES: usize = 100_000;

/// Lists and mappings one file may nest.
pub const MAX_NESTING: usize = 64;

/// Why a file is refused, and where: a byte offset into its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasLimit {
    pub offset: usize,
    pub message: String,
    /// What is at `offset`, as a label: `this alias`, `nested too deep`.
    pub what: &'static str,
    /// How to fix it.
    pub help: &'static str,
}

const ALIAS_HELP: &str = "write the values out: an alias repeats all of what its anchor names";

/// Checks `text`'s aliases against [`MAX_ALIASES`] and [`MAX_ALIASED_VALUES`]. A document that
/// does not parse passes: the deserializer reports its syntax error itself.
pub fn check_aliases(text: &str) -> Result<(), AliasLimit> {
    check_nesting(text)?;
    if !text.contains('&') {
        return Ok(());
    }
    let mut counter = Counter::default();
    let mut parser = Parser::new_from_str(text);
    let _ = parser.load(&mut counter, true);
    match counter.refused {
        Some((mark, message)) => {
            Err(AliasLimit { offset: byte_offset(text, mark.index()), message, what: "this alias", help: ALIAS_HELP })
        }
        None => Ok(()),
    }
}

/// Checks that `text` nests lists and mappings at most [`MAX_NESTING`] deep. Counting brackets
/// (quotes and comments included) bounds the depth of flow collections from above, which is
/// where the time goes; only past the bound is the file read as events, for the exact depth.
fn check_nesting(text: &str) -> Result<(), AliasLimit> {
    let mut open = 0usize;
    let mut most = 0usize;
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                open += 1;
                most = most.max(open);
            }
            b']' | b'}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    if most <= MAX_NESTING {
        return Ok(());
    }
    let too_deep = |index: usize| AliasLimit {
        offset: byte_offset(text, index),
        message: format!("lists and mappings nested more than {MAX_NESTING} deep"),
        what: "nested too deep",
        help: "a directory or export nests a few levels deep: look for brackets that are not closed",
    };
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return Ok(()),
            Ok((Event::SequenceStart(..) | Event::MappingStart(..), mark)) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(too_deep(mark.index()));
                }
            }
            Ok((Event::SequenceEnd | Event::MappingEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            // The parser has a nesting limit of its own, a little deeper.
            Err(e) if e.info().contains("recursion limit") => return Err(too_deep(e.marker().index())),
            // Any other syntax error: the deserializer reports it, and stops there.
            Err(_) => return Ok(()),
        }
    }
}

#[derive(Default)]
struct Counter {
    /// Values each anchor's node holds (itself included), by anchor id.
    sizes: Vec<usize>,
    /// Open collections that carry an anchor: (anchor id, values so far).
    open: Vec<(usize, usize)>,
    /// Collections open, anchored or not, for matching ends to the anchored ones.
    depth: Vec<bool>,
    aliases: usize,
    added: usize,
    refused: Option<(Marker, String)>,
}

impl Counter {
    /// Counts `n` values into every open anchored collection.
    fn add(&mut self, n: usize) {
        for (_, size) in &mut self.open {
            *size = size.saturating_add(n);
        }
    }

    fn anchored(&mut self, anchor: usize, size: usize) {
        if anchor > 0 {
            if self.sizes.len() <= anchor {
                self.sizes.resize(anchor + 1, 0);
            }
            self.sizes[anchor] = size;
        }
    }
}

impl MarkedEventReceiver for Counter {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.refused.is_some() {
            return;
        }
        match event {
            Event::Scalar(_, _, anchor, _) => {
                self.add(1);
                self.anchored(anchor, 1);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.add(1);
                self.depth.push(anchor > 0);
                if anchor > 0 {
                    self.open.push((anchor, 1));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if self.depth.pop() == Some(true)
                    && let Some((anchor, size)) = self.open.pop()
                {
                    self.anchored(anchor, size);
                }
            }
            Event::Alias(anchor) => {
                let size = self.sizes.get(anchor).copied().unwrap_or(1);
                self.aliases += 1;
                self.added = self.added.saturating_add(size);
                self.add(size);
                if self.aliases > MAX_ALIASES {
                    let message = format!("more than {MAX_ALIASES} YAML aliases (`*name`) in one file");
                    self.refused = Some((mark, message));
                } else if self.added > MAX_ALIASED_VALUES {
                    let message =
                        format!("YAML aliases (`*name`) here expand to more than {MAX_ALIASED_VALUES} values in all");
                    self.refused = Some((mark, message));
                }
            }
            _ => {}
        }
    }
}

/// The byte offset of a character index.
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_where_it_goes_too_deep() {
        let text = format!("users: {}", "[".repeat(1_000_000));
        // Refused before any scanner spends time in proportion to the depth (the old path took
        // over an hour on this; the time itself is measured by hand, not asserted here).
        let refused = check_aliases(&text).err().unwrap_or_else(|| panic!("refused"));
        assert_eq!(refused.what, "nested too deep");
        assert!(refused.offset > 7 && refused.offset < 1_000, "{}", refused.offset);
        let spread = format!("users: [{}]\n", "{a: [".repeat(40) + &"]}".repeat(40));
        assert_eq!(check_aliases(&spread).map_err(|l| l.what), Err("nested too deep"));
        // Many brackets that are never open together, or quoted: the bytes alone clear them,
        // or the events do.
        let names = "users:\n".to_string() + &"  - {upn: a@x.edu, name: 'Ann [parent'}\n".repeat(500);
        assert_eq!(check_aliases(&names), Ok(()));
        assert_eq!(check_aliases(&"users: [[a], [b]]\n".repeat(1000)), Ok(()));
    }

    #[test]
    fn a_few_shared_lists_pass() {
        let text = "users:\n  - {upn: a@x.edu, roles: &r [teacher, staff]}\n  - {upn: b@x.edu, roles: *r}\n";
        assert_eq!(check_aliases(text), Ok(()));
        assert_eq!(check_aliases("users: []\n"), Ok(()));
    }

    #[test]
    fn nested_laughs_are_refused_at_the_alias_that_crosses_the_limit() {
        let mut text = String::from("users:\n  - {upn: u0@x.edu, roles: &a0 [ha]}\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("  - {{upn: u{i}@x.edu, roles: &a{i} [{refs}]}}\n"));
        }
        let refused = check_aliases(&text).expect_err("10^9 values");
        assert!(refused.message.contains("100000 values"), "{refused:?}");
        assert_eq!(&text[refused.offset..refused.offset + 1], "*");
    }

    #[test]
    fn many_aliases_are_refused() {
        let text = format!("users:\n  - &u {{upn: a@x.edu}}\n{}", "  - *u\n".repeat(MAX_ALIASES + 1));
        let refused = check_aliases(&text).expect_err("too many");
        assert!(refused.message.contains("more than 1000 YAML aliases"), "{refused:?}");
    }
}
