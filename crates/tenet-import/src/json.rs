//! Streaming a JSON export one top-level object at a time, with the line each starts on.
//!
//! `Get-CsOnlineUser | ConvertTo-Json` for a large district is one array of millions of objects;
//! reading it element by element keeps memory at one user. A file holding a single object (what
//! PowerShell writes when the cmdlet returned one) reads as an array of one.

use std::io::{self, BufRead};
use tenet::unstable::directory::locate::Locations;

/// One top-level element: its text and the 1-based line it starts on.
#[derive(Debug, Clone)]
pub struct Element {
    pub line: usize,
    pub text: String,
    /// Where each property is, indexed on first use (provenance asks for several per object).
    locations: std::cell::OnceCell<Locations>,
}

impl Element {
    pub fn new(line: usize, text: String) -> Self {
        Self { line, text, locations: std::cell::OnceCell::new() }
    }

    /// The 1-based line of the top-level property `key` (exactly as written) of this object, found
    /// by one scan of its text: the normal path asks this for every imported value, so it
    /// doesn't index the whole object as [`Self::line_of`] does. The element's first line if the
    /// key isn't there.
    pub fn line_of_key(&self, key: &str) -> usize {
        let bytes = self.text.as_bytes();
        let (mut depth, mut line, mut i) = (0usize, self.line, 0);
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => line += 1,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                b'"' => {
                    // A string: at depth 1 and followed by `:`, a property name.
                    let start = i + 1;
                    let mut j = start;
                    while j < bytes.len() && bytes[j] != b'"' {
                        j += if bytes[j] == b'\\' { 2 } else { 1 };
                    }
                    let name = bytes.get(start..j.min(bytes.len())).unwrap_or_default();
                    let after = bytes.get(j + 1..).unwrap_or_default();
                    let colon = after.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b':');
                    if depth == 1 && colon && name == key.as_bytes() {
                        return line;
                    }
                    line += bytes
                        .get(start..j.min(bytes.len()))
                        .unwrap_or_default()
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count();
                    i = j;
                }
                _ => {}
            }
            i += 1;
        }
        self.line
    }

    /// The 1-based line of the value at `path` (`DefaultCatalogApps[0].Id`) inside this element.
    pub fn line_of(&self, path: &str) -> usize {
        let offset = self.locations.get_or_init(|| Locations::index(&self.text)).offset(path).min(self.text.len());
        self.line + self.text[..offset].matches('\n').count()
    }
}

/// Why a file is not a JSON array of objects (or a single object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    pub line: usize,
    pub message: String,
}

/// Iterates the top-level elements of a JSON array (or the one top-level object).
pub struct Elements<R> {
    bytes: io::Bytes<R>,
    line: usize,
    state: State,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Start,
    InArray,
    Done,
}

impl<R> std::fmt::Debug for Elements<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elements").field("line", &self.line).finish_non_exhaustive()
    }
}

impl<R: BufRead> Elements<R> {
    pub fn new(reader: R) -> Self {
        Self { bytes: reader.bytes(), line: 1, state: State::Start }
    }

    fn next_byte(&mut self) -> Result<Option<u8>, SplitError> {
        match self.bytes.next() {
            None => Ok(None),
            Some(Ok(b)) => {
                if b == b'\n' {
                    self.line += 1;
                }
                Ok(Some(b))
            }
            Some(Err(e)) => Err(self.error(format!("can't read the file: {e}"))),
        }
    }

    fn error(&self, message: String) -> SplitError {
        SplitError { line: self.line, message }
    }

    fn skip_space(&mut self) -> Result<Option<u8>, SplitError> {
        loop {
            match self.next_byte()? {
                Some(b) if b.is_ascii_whitespace() => continue,
                other => return Ok(other),
            }
        }
    }

    /// Reads one value that starts with `first`, up to its end.
    fn value(&mut self, first: u8) -> Result<Element, SplitError> {
        let line = self.line;
        let mut buf = vec![first];
        let (mut depth, mut in_string, mut escaped) = (0usize, first == b'"', false);
        if matches!(first, b'{' | b'[') {
            depth = 1;
        }
        while depth > 0 || in_string {
            let Some(b) = self.next_byte()? else {
                return Err(self.error("the file ends inside a value: it is cut short".into()));
            };
            buf.push(b);
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth -= 1,
                _ => {}
            }
        }
        let text = String::from_utf8(buf).map_err(|_| SplitError {
            line,
            message: "the value is not valid UTF-8: save the file as UTF-8 or UTF-16 with a byte order mark".into(),
        })?;
        Ok(Element::new(line, text))
    }
}

impl<R: BufRead> Iterator for Elements<R> {
    type Item = Result<Element, SplitError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.state {
            State::Done => None,
            State::Start => match self.skip_space() {
                Err(e) => {
                    self.state = State::Done;
                    Some(Err(e))
                }
                Ok(None) => {
                    self.state = State::Done;
                    None
                }
                Ok(Some(b'[')) => {
                    self.state = State::InArray;
                    self.array_next(true)
                }
                Ok(Some(b'{')) => {
                    self.state = State::Done;
                    let r = self.value(b'{');
                    Some(r.and_then(|e| self.expect_end().map(|()| e)))
                }
                Ok(Some(_)) => {
                    self.state = State::Done;
                    Some(Err(self.error(
                        "expected a JSON array (`[`) or object (`{`): this is not JSON (was `ConvertTo-Json` left out of the pipeline?)".into(),
                    )))
                }
            },
            State::InArray => self.array_next(false),
        }
    }
}

impl<R: BufRead> Elements<R> {
    fn array_next(&mut self, first: bool) -> Option<Result<Element, SplitError>> {
        let mut b = match self.skip_space() {
            Ok(b) => b,
            Err(e) => return self.fail(e),
        };
        if !first {
            match b {
                Some(b',') => match self.skip_space() {
                    Ok(next) => b = next,
                    Err(e) => return self.fail(e),
                },
                Some(b']') => {
                    self.state = State::Done;
                    return match self.expect_end() {
                        Ok(()) => None,
                        Err(e) => Some(Err(e)),
                    };
                }
                _ => return self.fail(self.error("expected `,` or `]` between array elements".into())),
            }
        } else if b == Some(b']') {
            self.state = State::Done;
            return None;
        }
        match b {
            Some(b'{') => Some(self.value(b'{').inspect_err(|_| self.state = State::Done)),
            Some(b'n') => {
                // `null` in an array: PowerShell writes it for an empty result.
                for expected in *b"ull" {
                    match self.next_byte() {
                        Ok(Some(c)) if c == expected => {}
                        _ => return self.fail(self.error("expected an object (`{`)".into())),
                    }
                }
                self.array_next(false)
            }
            None => self.fail(self.error("the file ends inside the array: it is cut short".into())),
            Some(_) => self.fail(self.error("expected an object (`{`) as array element".into())),
        }
    }

    fn fail(&mut self, e: SplitError) -> Option<Result<Element, SplitError>> {
        self.state = State::Done;
        Some(Err(e))
    }

    fn expect_end(&mut self) -> Result<(), SplitError> {
        match self.skip_space()? {
            None => Ok(()),
            Some(_) => Err(self.error("unexpected text after the end of the JSON value".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<Result<(usize, String), SplitError>> {
        Elements::new(text.as_bytes()).map(|r| r.map(|e| (e.line, e.text))).collect()
    }

    #[test]
    fn splits_arrays_and_single_objects_with_lines() {
        let got = split("[\r\n  {\"a\": \"x]}\\\"\"},\n  {\"b\": [1, {\"c\": 2}]}\n]\n");
        assert_eq!(
            got,
            vec![Ok((2, "{\"a\": \"x]}\\\"\"}".to_string())), Ok((3, "{\"b\": [1, {\"c\": 2}]}".to_string()))]
        );
        assert_eq!(split("  {\"Identity\": \"Global\"}\n"), vec![Ok((1, "{\"Identity\": \"Global\"}".to_string()))]);
        assert_eq!(split("[]"), vec![]);
        assert_eq!(split(""), vec![]);
    }

    #[test]
    fn cut_short_and_garbage_are_errors_with_lines() {
        let got = split("[\n{\"a\": 1},\n{\"b\": ");
        assert!(matches!(&got[1], Err(e) if e.line == 3 && e.message.contains("cut short")), "{got:?}");
        assert!(matches!(&split("[{}] x")[..], [Ok(_), Err(_)]));
        assert!(matches!(&split("Identity : Global")[..], [Err(e)] if e.message.contains("JSON array")));
        assert!(matches!(&split("[{} {}]")[..], [Ok(_), Err(e)] if e.message.contains("`,`")));
    }

    #[test]
    fn finds_the_line_of_a_top_level_key_past_nested_ones_and_strings() {
        let text = "{\n  \"A\": {\"B\": 1},\n  \"x\": \"\\\"B\\\": 2\",\n  \"B\": 3\n}";
        let e = Element::new(10, text.to_string());
        assert_eq!(e.line_of_key("B"), 13);
        assert_eq!(e.line_of_key("A"), 11);
        assert_eq!(e.line_of_key("missing"), 10);
    }

    #[test]
    fn finds_the_line_of_a_property() {
        let text = "[\n{\n  \"Identity\": \"Tag:A\",\n  \"Apps\": [\n    {\"Id\": \"x\"}\n  ]\n}\n]";
        let e = Elements::new(text.as_bytes()).next().and_then(Result::ok);
        assert_eq!(e.map(|e| (e.line_of("Identity"), e.line_of("Apps[0].Id"))), Some((3, 5)));
    }
}
