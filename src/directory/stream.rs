//! Reads a directory file straight from the YAML parser's events, one at a time: the fast path
//! of [`super::load`]. `serde_yaml` first collects every event of the document (measured: its
//! event list was three quarters of the peak memory of `tenet check`, about 9× the file), so a
//! district of 100,000 users took about a gigabyte to load.
//!
//! The events come from the line reader in `lines` when the file is in the plain subset of
//! YAML that directory files are written in (about 3× faster on a district), else from the
//! YAML parser.
//!
//! This path is strict on purpose. It reads only what it can read exactly as `serde_yaml` does:
//! block and flow collections, quoted scalars, plain scalars whose type is unambiguous. It gives
//! up on anything else (an error of any kind, an anchor, an alias, a tag, a plain scalar that
//! could be a number or a boolean where text is wanted), and the caller then reads the file with
//! `serde_yaml`, whose messages and locations are the ones the README documents. A test checks
//! that whatever this path reads, `serde_yaml` reads the same.

use super::lines::{GaveUp, Lines};
use super::raw::{Assumption, RawClassTeam, RawGroup, RawGuardian, RawUser};
use serde::Deserialize as _;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

fn gave_up<T>(why: &str) -> Result<T, GaveUp> {
    Err(GaveUp::new(why))
}

/// Deserializes the one document of `text`, or gives up. Read line by line when the file is in
/// the subset [`Lines`] reads (as the files tenet writes are), else event by event.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, GaveUp> {
    if !same_characters(text) {
        return gave_up("a character the two parsers treat differently");
    }
    line_by_line_else_parsed(text, read)
}

/// `reading` over the line reader's events of `text`, or, if it gives up there, over the YAML
/// parser's.
fn line_by_line_else_parsed<T>(text: &str, reading: impl Fn(Events<'_>) -> Result<T, GaveUp>) -> Result<T, GaveUp> {
    reading(Events::Lines(Lines::new(text))).or_else(|_| reading(Events::Yaml(Box::new(Parser::new_from_str(text)))))
}

/// What receives a directory file's entries as they are read (see [`entries`]).
pub(super) trait Sink {
    fn user(&mut self, user: RawUser);
    fn group(&mut self, group: RawGroup);
    fn class_team(&mut self, team: RawClassTeam);
    fn guardian(&mut self, guardian: RawGuardian);
    fn assumed(&mut self, assumed: Vec<Assumption>);
}

/// Reads a directory file entry by entry into a sink from `new_sink` (a fresh one if the line
/// reader gives up and the YAML parser reads the file again), in the order users, groups,
/// class teams, guardians. `Ok(None)`: the file lists its sections in another order, and must
/// be read whole (the sink has seen only part of it).
pub(super) fn entries<S: Sink>(text: &str, new_sink: impl Fn() -> S) -> Result<Option<S>, GaveUp> {
    if !same_characters(text) {
        return gave_up("a character the two parsers treat differently");
    }
    line_by_line_else_parsed(text, |mut events| {
        let mut sink = new_sink();
        Ok(sections(&mut events, &mut sink)?.then_some(sink))
    })
}

/// The top-level mapping of a directory file, its lists handed to `sink` an entry at a time;
/// `false` when a section comes after one that should follow it.
fn sections(events: &mut Events<'_>, sink: &mut impl Sink) -> Result<bool, GaveUp> {
    events.expect(|e| matches!(e, Event::StreamStart), "no stream start")?;
    events.expect(|e| matches!(e, Event::DocumentStart), "no document")?;
    events.expect(|e| matches!(e, Event::MappingStart(0, None)), "not a mapping")?;
    // Each section at most once (serde reports a repeated one); `assumed` in any place.
    let mut seen = [false; 5];
    let mut last = 0;
    loop {
        let (key, _) = match events.peek()? {
            Event::MappingEnd => break,
            _ => events.scalar()?,
        };
        let section = match key.as_str() {
            "assumed" => 0,
            "users" => 1,
            "groups" => 2,
            "class_teams" => 3,
            "guardians" => 4,
            _ => return gave_up("not a section of a directory"),
        };
        if std::mem::replace(&mut seen[section], true) {
            return gave_up("a section given twice");
        }
        if section == 0 {
            sink.assumed(Vec::deserialize(&mut *events)?);
            continue;
        }
        if section < last {
            return Ok(false);
        }
        last = section;
        events.expect(|e| matches!(e, Event::SequenceStart(0, None)), "not a list")?;
        while !matches!(events.peek()?, Event::SequenceEnd) {
            match section {
                1 => sink.user(RawUser::deserialize(&mut *events)?),
                2 => sink.group(RawGroup::deserialize(&mut *events)?),
                3 => sink.class_team(RawClassTeam::deserialize(&mut *events)?),
                _ => sink.guardian(RawGuardian::deserialize(&mut *events)?),
            }
        }
        events.next()?;
    }
    events.next()?;
    events.expect(|e| matches!(e, Event::DocumentEnd), "more than one value")?;
    events.expect(|e| matches!(e, Event::StreamEnd), "more than one document")?;
    Ok(true)
}

pub(super) fn read<T: DeserializeOwned>(mut events: Events<'_>) -> Result<T, GaveUp> {
    events.expect(|e| matches!(e, Event::StreamStart), "no stream start")?;
    events.expect(|e| matches!(e, Event::DocumentStart), "no document")?;
    let value = T::deserialize(&mut events)?;
    events.expect(|e| matches!(e, Event::DocumentEnd), "more than one value")?;
    events.expect(|e| matches!(e, Event::StreamEnd), "more than one document")?;
    Ok(value)
}

/// What messages about a directory file that does not load may show: emails at the domains
/// of the `upn`s it lists, never those of its guardians. Read event by event (the line
/// reader's, else the YAML parser's), keeping only those values, so a broken district costs
/// what reading it costs: a typo in a 100,000-user file took 1.5 GB when it was read whole
/// into a YAML value. Nothing is shown from a file too large, too aliased or too deeply
/// nested to read, or that does not parse (a guardian's email past the error would be
/// unknown).
pub fn privacy_of_text(text: &str) -> crate::privacy::Privacy {
    let none = crate::privacy::Privacy::default;
    if text.len() > super::MAX_DIRECTORY_BYTES || crate::yaml::check_aliases(text).is_err() || !same_characters(text) {
        return none();
    }
    let Ok(contacts) = line_by_line_else_parsed(text, Contacts::read) else { return none() };
    // Every user first: a user domain given after a guardian is not trusted.
    let mut privacy = none();
    for upn in &contacts.upns {
        privacy.user(upn);
    }
    for value in &contacts.guardians {
        privacy.guardian_email(value);
    }
    privacy
}

/// The UPNs of `users` and the ids and emails of `guardians`, as a file gives them.
#[derive(Default)]
struct Contacts {
    upns: Vec<String>,
    guardians: Vec<String>,
}

impl Contacts {
    fn read(mut events: Events<'_>) -> Result<Self, GaveUp> {
        let mut contacts = Contacts::default();
        // Open collections: for a mapping, the key whose value comes next (None: a key comes).
        let mut open: Vec<Option<Option<String>>> = Vec::new();
        let mut section = String::new();
        loop {
            let event = events.next()?;
            // The key this event is the value of, if it is in a mapping expecting a value.
            let key = match open.last_mut() {
                Some(Some(slot)) => slot.take(),
                _ => None,
            };
            let expecting_key = matches!(open.last(), Some(Some(None))) && key.is_none();
            match event {
                Event::StreamEnd => return Ok(contacts),
                Event::Scalar(text, ..) if expecting_key => {
                    if open.len() == 1 {
                        section.clone_from(&text);
                    }
                    if let Some(Some(slot)) = open.last_mut() {
                        *slot = Some(text);
                    }
                }
                // A value of a user's or a guardian's mapping: the third level down.
                Event::Scalar(text, ..) if open.len() == 3 => match (section.as_str(), key.as_deref()) {
                    ("users", Some("upn")) => contacts.upns.push(text),
                    ("guardians", Some("id" | "email")) => contacts.guardians.push(text),
                    _ => {}
                },
                Event::MappingStart(..) => open.push(Some(None)),
                Event::SequenceStart(..) => open.push(None),
                Event::MappingEnd | Event::SequenceEnd => {
                    open.pop();
                }
                _ => {}
            }
        }
    }
}

/// Whether `text` holds only characters both YAML parsers read alike. libyaml (serde_yaml's)
/// refuses control characters and reads U+0085, U+2028 and U+2029 as line breaks, where
/// yaml-rust2 accepts the first and keeps the others as text; the two also differ on tabs
/// between tokens. Any of them, anywhere, leaves the file to serde_yaml.
fn same_characters(text: &str) -> bool {
    if text.bytes().all(|b| matches!(b, b'\n' | b'\r' | b' '..=b'~')) {
        return true;
    }
    text.chars().all(readable)
}

/// Whether both YAML parsers read the character alike, as itself (a line break counts).
pub(super) fn readable(c: char) -> bool {
    (matches!(c, '\n' | '\r' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FEFE}' | '\u{FF00}'..='\u{FFFD}')
        || c >= '\u{10000}')
        && !matches!(c, '\u{2028}' | '\u{2029}')
}

/// Where the events come from: the subset's reader or the YAML parser.
pub(super) enum Events<'a> {
    Lines(Lines<'a>),
    /// Boxed: the parser is large, and built only when the line reader gives up.
    Yaml(Box<Parser<std::str::Chars<'a>>>),
}

impl Events<'_> {
    fn next(&mut self) -> Result<Event, GaveUp> {
        match self {
            Events::Lines(lines) => lines.next(),
            Events::Yaml(parser) => {
                parser.next_token().map(|(event, _)| event).map_err(|e| GaveUp::new(&e.to_string()))
            }
        }
    }

    fn peek(&mut self) -> Result<&Event, GaveUp> {
        match self {
            Events::Lines(lines) => lines.peek(),
            Events::Yaml(parser) => parser.peek().map(|(event, _)| event).map_err(|e| GaveUp::new(&e.to_string())),
        }
    }

    fn expect(&mut self, ok: impl Fn(&Event) -> bool, why: &str) -> Result<(), GaveUp> {
        if ok(&self.next()?) { Ok(()) } else { gave_up(why) }
    }

    /// The next event, a scalar without anchor or tag.
    fn scalar(&mut self) -> Result<(String, TScalarStyle), GaveUp> {
        match self.next()? {
            Event::Scalar(text, style, 0, None) => Ok((text, style)),
            _ => gave_up("not a plain value"),
        }
    }

    /// Skips one value, however nested.
    fn skip(&mut self) -> Result<(), GaveUp> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::Scalar(_, _, 0, None) if depth == 0 => return Ok(()),
                Event::Scalar(_, _, 0, None) => {}
                Event::SequenceStart(0, None) | Event::MappingStart(0, None) => depth += 1,
                Event::SequenceEnd | Event::MappingEnd => {
                    depth = depth.checked_sub(1).ok_or_else(|| GaveUp::new("unbalanced"))?;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => return gave_up("an anchor, alias or tag"),
            }
        }
    }
}

/// A plain scalar YAML reads as null.
fn is_null(text: &str, style: TScalarStyle) -> bool {
    style == TScalarStyle::Plain && matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A plain scalar that YAML could read as something other than text: a null, a boolean (YAML
/// 1.1 spellings included) or a number (decimal, octal, hexadecimal, binary, float, infinity,
/// not-a-number). Text is read here only when there is no doubt: `7B Math` is text, `7` or
/// `+12065550101` is left to `serde_yaml`.
pub(super) fn could_be_other_than_text(text: &str) -> bool {
    // Every other spelling is ASCII, and starts with a digit, a sign, `.`, `~` or one of these
    // letters: most values (names, addresses) are text at the first byte.
    match text.as_bytes().first() {
        Some(b) if !b.is_ascii() || (b.is_ascii_alphabetic() && !b"nNtTfFyYoO".contains(b)) => return false,
        _ => {}
    }
    let spelled = |words: &[&str], text: &str| words.iter().any(|w| w.eq_ignore_ascii_case(text));
    if spelled(&["", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"], text) {
        return true;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.is_empty() {
        return false;
    }
    let prefix = unsigned.as_bytes().get(..2).unwrap_or_default();
    if spelled(&[".inf", ".nan"], unsigned) || [b"0x", b"0o", b"0b"].iter().any(|p| prefix.eq_ignore_ascii_case(*p)) {
        return true;
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let mantissa_ok = mantissa.bytes().any(|b| b.is_ascii_digit())
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'_' || b == b'.')
        && mantissa.matches('.').count() <= 1;
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

impl<'de> de::Deserializer<'de> for &mut Events<'_> {
    type Error = GaveUp;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, GaveUp> {
        gave_up("a value of no fixed type")
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        match self.scalar()? {
            (t, TScalarStyle::Plain) if matches!(t.as_str(), "true" | "True" | "TRUE") => visitor.visit_bool(true),
            (t, TScalarStyle::Plain) if matches!(t.as_str(), "false" | "False" | "FALSE") => visitor.visit_bool(false),
            _ => gave_up("not a boolean"),
        }
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        match self.scalar()? {
            // `007` is text to serde_yaml, not 7.
            (t, TScalarStyle::Plain)
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && (t.len() == 1 || !t.starts_with('0')) =>
            {
                visitor.visit_u32(t.parse().map_err(|_| GaveUp::new("out of range"))?)
            }
            _ => gave_up("not a whole number"),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        match self.scalar()? {
            (t, TScalarStyle::Plain) if could_be_other_than_text(&t) => gave_up("maybe not text"),
            (t, _) => visitor.visit_string(t),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        if let Event::Scalar(text, style, 0, None) = self.peek()?
            && is_null(text, *style)
        {
            self.next()?;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        self.expect(|e| matches!(e, Event::SequenceStart(0, None)), "not a list")?;
        visitor.visit_seq(Items(self))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        self.expect(|e| matches!(e, Event::MappingStart(0, None)), "not a mapping")?;
        visitor.visit_map(Entries(self))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, GaveUp> {
        self.deserialize_map(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, GaveUp> {
        self.skip()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        newtype_struct tuple tuple_struct enum
    }
}

/// The items of a list, up to its end.
struct Items<'e, 'a>(&'e mut Events<'a>);

impl<'de> SeqAccess<'de> for Items<'_, '_> {
    type Error = GaveUp;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, GaveUp> {
        if matches!(self.0.peek()?, Event::SequenceEnd) {
            self.0.next()?;
            return Ok(None);
        }
        seed.deserialize(&mut *self.0).map(Some)
    }
}

/// The entries of a mapping, up to its end.
struct Entries<'e, 'a>(&'e mut Events<'a>);

impl<'de> MapAccess<'de> for Entries<'_, '_> {
    type Error = GaveUp;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, GaveUp> {
        if matches!(self.0.peek()?, Event::MappingEnd) {
            self.0.next()?;
            return Ok(None);
        }
        seed.deserialize(&mut *self.0).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, GaveUp> {
        seed.deserialize(&mut *self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::RawDirectory;
    use super::{Events, Lines, from_str, read};

    /// What the line reader alone reads of `text`, checked against `serde_yaml`.
    fn lines_read(text: &str) -> Option<RawDirectory> {
        let fast: RawDirectory = read(Events::Lines(Lines::new(text))).ok()?;
        let slow: RawDirectory = serde_yaml::from_str(text).expect("serde_yaml reads what the line reader reads");
        assert_eq!(serde_json::to_value(&fast).expect("JSON"), serde_json::to_value(&slow).expect("JSON"), "{text}");
        Some(fast)
    }

    /// Whatever the fast path reads, `serde_yaml` reads the same.
    fn agrees(text: &str) -> bool {
        match from_str::<RawDirectory>(text) {
            Ok(fast) => {
                let slow: RawDirectory = serde_yaml::from_str(text).expect("serde_yaml reads what the fast path reads");
                assert_eq!(
                    serde_json::to_value(&fast).expect("JSON"),
                    serde_json::to_value(&slow).expect("JSON"),
                    "{text}"
                );
                true
            }
            Err(_) => false,
        }
    }

    #[test]
    fn the_example_and_generated_districts_take_the_fast_path_and_read_the_same() {
        let example = include_str!("../../policies/examples/lakeside/directory.yaml");
        assert!(agrees(example));
        assert!(lines_read(example).is_some(), "the example is read line by line");
        for (users, seed) in [(300, 1), (2000, 7)] {
            let d = crate::unstable::generate::district(crate::unstable::generate::Spec { users, seed });
            let text = d.directory_yaml().expect("YAML");
            assert!(agrees(&text), "{users} users");
            assert!(lines_read(&text).is_some(), "{users} users, line by line");
        }
    }

    #[test]
    fn the_line_reader_reads_the_subset_and_gives_up_on_the_rest() {
        let read = [
            "users: []\n",
            "users:\n- upn: a@x.edu\n  roles:\n  - teacher\n  - 'x y'\n  enabled: false\n  invites_sent: 7\n",
            "users:\n    -   upn: a@x.edu   # four spaces, three after the dash\n        roles: [teacher, \"x y\"]\n",
            "# a comment\n\nusers:   \n  - upn: \"a@x.edu\"\n\n    name: 'O''Brien'   # quote in quotes\n",
            "users:\r\n  - upn: a@x.edu\r\n    name: Ann Lee\r\n",
            "guardians:\n  - name: Kim\n    phone: '+12065550101'\n    email: ~\n    students: [{upn: s@x.edu, relationship: parent}]\n",
            "guardians:\n- name: Kim\n  students:\n  - {upn: s@x.edu, relationship: parent}\n  - upn: t@x.edu\n    relationship: other\n",
            "class_teams:\n  - id: c1\n    name: 7B Math # a class\n    school: North#1\n    owners: []\n    students:\n    -\n      s@x.edu\n",
            "users:\n  - upn: a@x.edu\n    name: 2025-01-01\n    roles: [1st-grade, e.g., -x]\n",
            "groups:\n- id: g\n  name: a [b] {c} 'd' \"e\"\n  members: []\n",
        ];
        for text in read {
            assert!(lines_read(text).is_some(), "the line reader reads {text:?}");
        }
        // Left to the YAML parser (which may read them: `agrees` says it reads them the same).
        let left = [
            "---\nusers: []\n",
            "users: []\n...\n",
            "users:\n  - upn: a@x.edu\n    name: Ann\n      Lee\n",
            "users:\n  - upn: a@x.edu\n    name: >-\n      Ann\n",
            "users:\n  - upn: \"a\\u0040x.edu\"\n",
            "users:\n  - 'upn': a@x.edu\n",
            "users:\n  - upn: a@x.edu\n    roles: [a: b]\n",
            "users:\n  - upn: a@x.edu\n    roles: [http://x]\n",
            "users:\n  - upn: a@x.edu\n    roles: [a, ]\n",
            "users:\n  - upn: a@x.edu\n    roles: [a, # c\n      b]\n",
            "users:\n  - upn: a@x.edu\n   roles: []\n",
            "users:\n  - upn: a@x.edu\n name: x\n",
            "users:\n  - - upn: a@x.edu\n",
            "users:\n\t- upn: a@x.edu\n",
            "users:\n  - upn: a@x.edu\rname: x\n",
            "users:\n  - upn: &a a@x.edu\n",
            "users:\n  - upn: a@x.edu\n    name: a: b\n",
            "users:\n  - upn: a@x.edu\n    name: 'a' b\n",
            "  users: []\n",
            "- upn: a@x.edu\n",
        ];
        for text in left {
            assert!(lines_read(text).is_none(), "the line reader gives up on {text:?}");
            agrees(text);
        }
    }

    #[test]
    fn a_broken_file_still_tells_users_from_guardians_whatever_its_order_and_style() {
        let users = "users:\n  - upn: ana.rivera@lakeside.edu\n    licences: [A3]\n";
        let guardians = "guardians:\n  - {id: Staff.Parent@Lakeside.edu, students: []}\n  - email: p@example.com\n";
        for text in [format!("{users}{guardians}"), format!("{guardians}{users}")] {
            let p = super::privacy_of_text(&text);
            assert_eq!(p.hide("ana.rivera@lakeside.edu"), "ana.rivera@lakeside.edu", "{text}");
            assert_eq!(p.hide("staff.parent@lakeside.edu"), crate::privacy::HIDDEN, "{text}");
            assert_eq!(p.hide("p@example.com"), crate::privacy::HIDDEN, "{text}");
        }
        // A file that does not parse shows nothing: a guardian past the error would be unknown.
        let p = super::privacy_of_text(&format!("{users}  - upn: [\n{guardians}"));
        assert_eq!(p.hide("ana.rivera@lakeside.edu"), crate::privacy::HIDDEN);
    }

    #[test]
    fn hostile_lines_give_up_without_exhausting_the_stack() {
        for text in [
            format!("users: {}\n", "[".repeat(1_000_000)),
            format!("users: {}a{}\n", "[".repeat(100_000), "]".repeat(100_000)),
            format!("users:\n- upn: a@x.edu\n  roles: [{}]\n", "a, ".repeat(100_000) + "b"),
            format!("users:\n{}", "- \n".repeat(10_000)),
        ] {
            // Whatever it gives (the YAML parser may read it), the line reader gives up or
            // agrees with serde_yaml, and nothing overflows.
            let _ = lines_read(&text);
        }
    }

    /// A tiny random generator, so that the documents below are the same on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[test]
    fn mutated_directories_never_panic_and_read_the_same_when_read_line_by_line() {
        let example = include_str!("../../policies/examples/lakeside/directory.yaml");
        let pieces =
            ["- ", ": ", "[", "]", "{", "}", ",", "'", "\"", "#", " ", "\n", "  ", "\t", "&a", "*a", "|", "~", "x"];
        let mut rng = Rng(0xfeed);
        let mut read = 0;
        for _ in 0..3000 {
            let mut text = example.to_string();
            for _ in 0..1 + rng.below(3) {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let piece = pieces[rng.below(pieces.len())];
                match rng.below(3) {
                    0 => text.insert_str(at, piece),
                    1 => {
                        let mut end = (at + 1 + rng.below(4)).min(text.len());
                        while !text.is_char_boundary(end) {
                            end += 1;
                        }
                        text.replace_range(at..end, "");
                    }
                    _ => {
                        let mut end = (at + 1).min(text.len());
                        while !text.is_char_boundary(end) {
                            end += 1;
                        }
                        text.replace_range(at..end, piece);
                    }
                }
            }
            // Whatever the line reader reads, serde_yaml reads the same (`lines_read` checks).
            if lines_read(&text).is_some() {
                read += 1;
            }
        }
        assert!(read > 300, "only {read} of 3000 mutants read line by line");
    }

    #[test]
    fn directories_written_in_many_styles_read_the_same_line_by_line_as_with_serde_yaml() {
        let mut rng = Rng(0x5eed);
        let words = ["teacher", "A3", "O'Brien", "x y", "7B Math", "-x", "a#b", "Zoë", "e.g.", "null", "007", "yes"];
        let mut read = 0;
        for _ in 0..400 {
            let indent = " ".repeat(1 + rng.below(4));
            let compact = rng.below(2) == 0;
            let item = if compact { String::new() } else { indent.clone() };
            let eol = if rng.below(5) == 0 { "\r\n" } else { "\n" };
            let scalar = |rng: &mut Rng| {
                let w = words[rng.below(words.len())];
                match rng.below(3) {
                    0 => w.to_string(),
                    1 => format!("'{}'", w.replace('\'', "''")),
                    _ if w.contains('"') => w.to_string(),
                    _ => format!("\"{w}\""),
                }
            };
            let mut text = String::from("users:");
            text += eol;
            for u in 0..1 + rng.below(3) {
                let at = format!("{item}-{}", " ".repeat(1 + rng.below(2)));
                let inner = " ".repeat(at.len());
                text += &format!("{at}upn: u{u}@x.edu{}{eol}", if rng.below(4) == 0 { "  # the UPN" } else { "" });
                if rng.below(2) == 0 {
                    text += &format!("{inner}name: {}{eol}", scalar(&mut rng));
                }
                let roles: Vec<String> = (0..rng.below(3)).map(|_| scalar(&mut rng)).collect();
                if rng.below(2) == 0 {
                    text += &format!("{inner}roles: [{}]{eol}", roles.join(", "));
                } else if !roles.is_empty() {
                    text += &format!("{inner}roles:{eol}");
                    let list = if compact { inner.clone() } else { format!("{inner}{indent}") };
                    for r in &roles {
                        text += &format!("{list}- {r}{eol}");
                    }
                }
                if rng.below(3) == 0 {
                    text += eol;
                }
            }
            if lines_read(&text).is_some() {
                read += 1;
            }
            // Whatever reads it, it reads as serde_yaml reads it, or goes to serde_yaml.
            agrees(&text);
        }
        // Most styles are the subset's (the rest have a value YAML reads as not text).
        assert!(read > 100, "only {read} of 400 read line by line");
    }

    #[test]
    fn unusual_but_valid_yaml_reads_the_same_or_goes_to_serde_yaml() {
        let fast = [
            "users: []\n",
            "users:\n- {upn: a@x.edu, roles: [teacher, 'x y'], enabled: false, invites_sent: 7}\n",
            "---\nusers:\n  - upn: \"a@x.edu\"   # a comment\n    name: >-\n      Ann\n      Lee\n...\n",
            "guardians:\n  - name: Kim\n    phone: '+12065550101'\n    email: ~\n    students: [{upn: s@x.edu, relationship: parent}]\n",
            "class_teams:\n  - id: c1\n    name: 7B Math\n    school: \"North\"\n    owners: []\n    students: []\n",
            "users:\n  - upn: a@x.edu\n    name: 2025-01-01\n    roles: [1st-grade, e.g.]\n",
        ];
        for text in fast {
            assert!(agrees(text), "the fast path reads {text}");
        }
        // Left to serde_yaml: numbers and booleans where text is wanted, anchors, tags, errors.
        let slow = [
            "users:\n  - upn: 123\n",
            "users:\n  - upn: a@x.edu\n    name: 1e5\n",
            "users:\n  - upn: a@x.edu\n    name: .5\n",
            "users:\n  - upn: a@x.edu\n    name: 0x1F\n",
            "users:\n  - upn: a@x.edu\n    name: yes\n",
            "users:\n  - upn: a@x.edu\n    roles: &r [a]\n  - upn: b@x.edu\n    roles: *r\n",
            "users:\n  - upn: !!str a@x.edu\n",
            "guardians:\n  - name: K\n    phone: +12065550101\n    students: []\n",
            "users:\n  - upn: a@x.edu\n    licences: [A3]\n",
            "users: [\n",
            "users: []\n---\nusers: []\n",
            "users:\n  - upn: a@x.edu\n    invites_sent: 007\n",
            "users:\n  - upn:\t\"a@x.edu\"\n",
            "users:\n  - upn: a@x.edu\n    name: \"Ann\u{85}Lee\"\n",
            "users:\n  - upn: a@x.edu\n    name: \"Ann\u{2028}Lee\"\n",
            "users:\n  - upn: a@x.edu\n    name: \"Ann\u{1b}Lee\"\n",
            "users:\n  - upn: a@x.edu\n    name: \"Ann\u{feff}Lee\"\n",
        ];
        for text in slow {
            assert!(!agrees(text), "the fast path gives up on {text}");
        }
    }
}
