//! The fastest way into a directory file: a reader of the plain subset of YAML that
//! `directory.yaml` files are written in (block mappings and lists, one entry a line, plain and
//! quoted values, one-line flow lists and mappings, comments), giving the same events as the
//! YAML parser, line by line. The YAML parser reads about 45 MB/s (a 100,000-user district is
//! 53 MB); this reads a line with a few byte searches.
//!
//! Like the rest of the fast path (see `stream`), it is strict: on anything outside the subset
//! (a tab, a multi-line value, an escape, an anchor, a tag, a document marker, a key that is
//! not a plain word, indentation it can't place) it gives up, and the file is read by the YAML
//! parser instead. Tests check that whatever it reads, `serde_yaml` reads the same.

use serde::de;
use std::collections::VecDeque;
use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;

/// Why the fast path gave up (not shown to anyone: the caller reads the file again).
#[derive(Debug)]
pub struct GaveUp(String);

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GaveUp {}

impl de::Error for GaveUp {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        GaveUp(message.to_string())
    }
}

impl GaveUp {
    pub(super) fn new(why: &str) -> Self {
        GaveUp(why.to_string())
    }
}

/// How deep flow collections may nest on a line before the YAML parser is left to read it.
const MAX_FLOW_DEPTH: usize = 16;

fn gave_up<T>(why: &str) -> Result<T, GaveUp> {
    Err(GaveUp::new(why))
}

/// An open block collection: a mapping whose keys start at `indent`, or a list whose `-` are
/// at `indent`.
#[derive(Debug, Clone, Copy)]
struct Open {
    list: bool,
    indent: usize,
}

/// What the line before left open.
#[derive(Debug, Clone, Copy)]
enum After {
    /// Nothing: the next line continues or closes the open collections.
    Entry,
    /// A key or `-` with no value on its line, at this column: the value is on the lines below
    /// (or is null). `key` tells a mapping's key, whose list may start at the same column.
    Value { indent: usize, key: bool },
    /// A value of a collection at this column: the next line may not be deeper (that would be
    /// a value over several lines).
    Scalar { indent: usize },
}

/// The events of a document in the subset, made a line at a time.
pub(super) struct Lines<'a> {
    rest: &'a str,
    open: Vec<Open>,
    pending: VecDeque<Event>,
    after: After,
    started: bool,
    ended: bool,
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self {
            rest: text,
            open: Vec::new(),
            pending: VecDeque::from([Event::StreamStart, Event::DocumentStart]),
            after: After::Entry,
            started: false,
            ended: false,
        }
    }

    /// The next event.
    pub(super) fn next(&mut self) -> Result<Event, GaveUp> {
        self.fill()?;
        self.pending.pop_front().map_or_else(|| gave_up("past the end"), Ok)
    }

    /// The next event, left in place.
    pub(super) fn peek(&mut self) -> Result<&Event, GaveUp> {
        self.fill()?;
        self.pending.front().map_or_else(|| gave_up("past the end"), Ok)
    }

    fn fill(&mut self) -> Result<(), GaveUp> {
        while self.pending.is_empty() && !self.ended {
            match self.next_line() {
                Some((indent, content)) => self.line(indent, content)?,
                None => self.end(),
            }
        }
        Ok(())
    }

    /// The next line with content: its indentation and its text after it, without the line
    /// break. Blank lines and comment lines are skipped.
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        while !self.rest.is_empty() {
            let (line, rest) = match self.rest.find('\n') {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, ""),
            };
            self.rest = rest;
            let line = line.strip_suffix('\r').unwrap_or(line);
            let content = line.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            return Some((line.len() - content.len(), content));
        }
        None
    }

    fn end(&mut self) {
        if let After::Value { .. } = self.after {
            self.pending.push_back(null());
        }
        self.after = After::Entry;
        while let Some(open) = self.open.pop() {
            self.pending.push_back(end_of(open));
        }
        self.pending.extend([Event::DocumentEnd, Event::StreamEnd]);
        self.ended = true;
    }

    fn line(&mut self, indent: usize, content: &'a str) -> Result<(), GaveUp> {
        if content.contains(['\t', '\r']) || content.starts_with("---") || content.starts_with("...") {
            return gave_up("a tab, a lone carriage return or a document marker");
        }
        if !self.started {
            // The document is a mapping whose keys start the line.
            self.started = true;
            if indent != 0 {
                return gave_up("not a mapping at the top");
            }
            return self.open_mapping(0, content);
        }
        let dash = is_dash(content);
        match std::mem::replace(&mut self.after, After::Entry) {
            After::Scalar { indent: at } if indent > at => return gave_up("a value over several lines"),
            After::Value { indent: at, key } => {
                if indent > at || (indent == at && dash && key) {
                    return if dash {
                        self.open.push(Open { list: true, indent });
                        self.pending.push_back(Event::SequenceStart(0, None));
                        self.item(indent, content)
                    } else if key_of(content).is_some() {
                        self.open_mapping(indent, content)
                    } else {
                        // The value on a line of its own, deeper than its key or `-`.
                        self.value(content)?;
                        self.after = After::Scalar { indent: at };
                        Ok(())
                    };
                }
                self.pending.push_back(null());
            }
            _ => {}
        }
        while let Some(&top) = self.open.last() {
            // A list at its key's column ends with the first line that is not an item.
            if top.indent > indent || (top.indent == indent && top.list && !dash) {
                self.open.pop();
                self.pending.push_back(end_of(top));
            } else {
                break;
            }
        }
        match self.open.last() {
            Some(top) if top.indent == indent && top.list => self.item(indent, content),
            Some(top) if top.indent == indent && !dash => self.entry(indent, content),
            _ => gave_up("indentation that is not a key's or an item's"),
        }
    }

    fn open_mapping(&mut self, indent: usize, content: &'a str) -> Result<(), GaveUp> {
        self.open.push(Open { list: false, indent });
        self.pending.push_back(Event::MappingStart(0, None));
        self.entry(indent, content)
    }

    /// `- value`, `- key: value` or `-` alone, with its `-` at `indent`.
    fn item(&mut self, indent: usize, content: &'a str) -> Result<(), GaveUp> {
        let after_dash = &content[1..];
        let value = after_dash.trim_start_matches(' ');
        if value.is_empty() || value.starts_with('#') {
            self.after = After::Value { indent, key: false };
            return Ok(());
        }
        if is_dash(value) {
            return gave_up("a list in a list on one line");
        }
        if key_of(value).is_some() {
            return self.open_mapping(indent + 1 + (after_dash.len() - value.len()), value);
        }
        self.value(value)?;
        self.after = After::Scalar { indent };
        Ok(())
    }

    /// `key: value` or `key:`, its key at `indent`.
    fn entry(&mut self, indent: usize, content: &'a str) -> Result<(), GaveUp> {
        let Some((key, value)) = key_of(content) else { return gave_up("not a `key: value` line") };
        self.pending.push_back(plain(key));
        if value.is_empty() || value.starts_with('#') {
            self.after = After::Value { indent, key: true };
            return Ok(());
        }
        self.value(value)?;
        self.after = After::Scalar { indent };
        Ok(())
    }

    /// A value that is all on this line: a scalar or a flow collection, then perhaps a comment.
    fn value(&mut self, text: &'a str) -> Result<(), GaveUp> {
        let mut at = 0;
        self.node(text, &mut at, 0)?;
        let trailing = text[at..].trim_start_matches(' ');
        if trailing.is_empty() || (trailing.starts_with('#') && at < text.len() && text[at..].starts_with(' ')) {
            Ok(())
        } else {
            gave_up("more after a value")
        }
    }

    /// One node at `text[*at..]`, `depth` collections deep inside `[...]` or `{...}`.
    fn node(&mut self, text: &'a str, at: &mut usize, depth: usize) -> Result<(), GaveUp> {
        // A directory nests two deep; a line of a million `[` must not exhaust the stack.
        if depth > MAX_FLOW_DEPTH {
            return gave_up("collections nested too deep");
        }
        let flow = depth > 0;
        let rest = &text[*at..];
        match rest.as_bytes().first() {
            Some(b'\'') => {
                let (value, used) = single_quoted(rest)?;
                self.pending.push_back(Event::Scalar(value, TScalarStyle::SingleQuoted, 0, None));
                *at += used;
            }
            Some(b'"') => {
                let close = rest[1..].find('"').ok_or_else(|| GaveUp::new("a quote left open"))? + 1;
                if rest[..close].contains('\\') {
                    return gave_up("an escape");
                }
                self.pending.push_back(Event::Scalar(rest[1..close].to_string(), TScalarStyle::DoubleQuoted, 0, None));
                *at += close + 1;
            }
            Some(b'[') => {
                self.pending.push_back(Event::SequenceStart(0, None));
                *at += 1;
                self.flow_items(text, at, b']', false, depth + 1)?;
                self.pending.push_back(Event::SequenceEnd);
            }
            Some(b'{') => {
                self.pending.push_back(Event::MappingStart(0, None));
                *at += 1;
                self.flow_items(text, at, b'}', true, depth + 1)?;
                self.pending.push_back(Event::MappingEnd);
            }
            Some(first) if b"&*!|>%@`?:,]}#-".contains(first) && !(*first == b'-' && plain_dash(rest)) => {
                return gave_up("a value starting with an indicator");
            }
            Some(_) => {
                let end = plain_end(rest, flow);
                let value = rest[..end].trim_end_matches(' ');
                if value.is_empty() || value.ends_with(':') || (!flow && value.contains(": ")) {
                    return gave_up("not a plain value");
                }
                self.pending.push_back(plain(value));
                *at += end;
            }
            None => return gave_up("no value"),
        }
        Ok(())
    }

    /// The entries of a flow collection up to `close`: values, or `key: value` when `keyed`.
    fn flow_items(
        &mut self,
        text: &'a str,
        at: &mut usize,
        close: u8,
        keyed: bool,
        depth: usize,
    ) -> Result<(), GaveUp> {
        let skip = |at: &mut usize| *at += text[*at..].len() - text[*at..].trim_start_matches(' ').len();
        skip(at);
        if text.as_bytes().get(*at) == Some(&close) {
            *at += 1;
            return Ok(());
        }
        loop {
            skip(at);
            if keyed {
                let Some((key, _)) = key_of(&text[*at..]) else { return gave_up("not a `key: value` entry") };
                self.pending.push_back(plain(key));
                *at += key.len() + 1;
                skip(at);
            }
            self.node(text, at, depth)?;
            skip(at);
            match text.as_bytes().get(*at) {
                Some(b',') => *at += 1,
                Some(c) if *c == close => {
                    *at += 1;
                    return Ok(());
                }
                _ => return gave_up("a flow collection left open"),
            }
        }
    }
}

fn end_of(open: Open) -> Event {
    if open.list { Event::SequenceEnd } else { Event::MappingEnd }
}

fn plain(text: &str) -> Event {
    Event::Scalar(text.to_string(), TScalarStyle::Plain, 0, None)
}

/// What the YAML parser gives for a missing value.
fn null() -> Event {
    Event::Scalar(String::new(), TScalarStyle::Plain, 0, None)
}

/// `-` alone or followed by a space: a list item.
fn is_dash(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// `-5`: a `-` that starts a plain value (not followed by a space).
fn plain_dash(rest: &str) -> bool {
    rest.as_bytes().get(1).is_some_and(|b| *b != b' ')
}

/// `key: value` or `key:`, the key a plain word: the key, and the value after the spaces.
fn key_of(content: &str) -> Option<(&str, &str)> {
    let len = content.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    let (key, rest) = content.split_at(len);
    let rest = rest.strip_prefix(':')?;
    if key.is_empty() || !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim_start_matches(' ')))
}

/// Where a plain value ends: at a comment (` #`), and in a flow collection also at `,`, `]`,
/// `}` or `:`. (`[`, `{` inside a flow value are left to the YAML parser, which
/// [`Lines::node`] finds out when nothing sensible follows.)
fn plain_end(rest: &str, flow: bool) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' if bytes.get(i + 1) == Some(&b'#') => return i,
            b',' | b']' | b'}' | b'[' | b'{' if flow => return i,
            // YAML parsers disagree on `:` inside a flow value: it ends one here.
            b':' if flow => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// A single-quoted value at the start of `rest` (`''` is a quote): its text and its length.
fn single_quoted(rest: &str) -> Result<(String, usize), GaveUp> {
    let mut value = String::new();
    let mut from = 1;
    loop {
        let Some(quote) = rest[from..].find('\'') else { return gave_up("a quote left open") };
        value.push_str(&rest[from..from + quote]);
        let after = from + quote + 1;
        if rest.as_bytes().get(after) == Some(&b'\'') {
            value.push('\'');
            from = after + 1;
        } else {
            return Ok((value, after));
        }
    }
}
