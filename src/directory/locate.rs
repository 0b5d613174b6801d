//! Where each value of a YAML document is: a map from a field path such as `users[3].upn` to
//! its byte offset, so that errors found after deserializing can still point at the line.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Field paths of a YAML document and the byte offsets of their values.
#[derive(Debug, Default, Clone)]
pub struct Locations {
    offsets: HashMap<String, usize>,
}

impl Locations {
    /// Indexes `text`. A document that does not parse yields an empty index (the deserializer
    /// reports the syntax error itself).
    pub fn index(text: &str) -> Self {
        let mut recv = Receiver { text, cursor: (0, 0), stack: Vec::new(), offsets: HashMap::new() };
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut recv, false).is_err() {
            return Self::default();
        }
        Self { offsets: recv.offsets }
    }

    /// Byte offset of the value at `path`, or of its nearest located parent.
    pub fn offset(&self, path: &str) -> usize {
        let mut p = path;
        loop {
            if let Some(o) = self.offsets.get(p) {
                return *o;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return 0,
            }
        }
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

struct Receiver<'a> {
    text: &'a str,
    /// The last (character index, byte offset) converted: events come in text order, so each
    /// conversion walks only the characters since the previous one (a long single-line JSON
    /// export would otherwise be walked from its start at every event).
    cursor: (usize, usize),
    stack: Vec<Frame>,
    offsets: HashMap<String, usize>,
}

impl Receiver<'_> {
    /// Byte offset of a marker, from its character index.
    fn byte_offset(&mut self, mark: Marker) -> usize {
        let target = mark.index();
        if target < self.cursor.0 {
            self.cursor = (0, 0);
        }
        let (chars, bytes) = self.cursor;
        let byte = self.text[bytes..].char_indices().nth(target - chars).map_or(self.text.len(), |(i, _)| bytes + i);
        self.cursor = (target, byte);
        byte
    }

    /// The path of the node that starts now, or `None` when the scalar is a mapping key.
    fn next_path(&mut self, scalar: Option<&str>) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(if path.is_empty() { k } else { format!("{path}.{k}") }),
                None => {
                    *key = Some(scalar.unwrap_or("?").to_string());
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Receiver<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let offset = self.byte_offset(mark);
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(path) = self.next_path(Some(&value)) {
                    self.offsets.insert(path, offset);
                }
            }
            Event::Alias(_) => {
                if let Some(path) = self.next_path(None) {
                    self.offsets.insert(path, offset);
                }
            }
            Event::SequenceStart(..) => {
                let path = self.next_path(None).unwrap_or_default();
                self.offsets.insert(path.clone(), offset);
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingStart(..) => {
                let path = self.next_path(None).unwrap_or_default();
                self.offsets.insert(path.clone(), offset);
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let text = "users:\n  - upn: a@b\n    roles: [x, y]\n  - upn: é@b\n";
        let loc = Locations::index(text);
        assert_eq!(&text[loc.offset("users[0].upn")..][..3], "a@b");
        assert_eq!(&text[loc.offset("users[0].roles[1]")..][..1], "y");
        assert_eq!(&text[loc.offset("users[1].upn")..][..4], "é@b");
        // A missing field falls back to its mapping, on the mapping's line.
        assert_eq!(text[..loc.offset("users[1].missing")].matches('\n').count(), 3);
    }
}
