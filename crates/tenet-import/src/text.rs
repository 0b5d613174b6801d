//! Reading export files as Windows PowerShell 5.1, PowerShell 7, Excel and School Data Sync
//! write them: UTF-8 with or without a byte order mark, and UTF-16 with one (what `>` writes in
//! Windows PowerShell 5.1).

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of export files read so far in this process, for the import's progress bar.
static BYTES_READ: AtomicU64 = AtomicU64::new(0);

/// Bytes of export files read so far (see [`open`] and [`decode`]).
pub fn bytes_read() -> u64 {
    BYTES_READ.load(Ordering::Relaxed)
}

/// Counts the bytes that pass through it.
struct Counting<R>(R);

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        BYTES_READ.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How a file was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16Le => "UTF-16LE with BOM",
            Encoding::Utf16Be => "UTF-16BE with BOM",
        })
    }
}

/// Why a file's bytes are not text this importer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub line: usize,
    pub message: String,
    pub help: String,
}

/// Decodes a file's bytes to text, dropping the byte order mark.
pub fn decode(bytes: &[u8]) -> Result<(String, Encoding), DecodeError> {
    decode_as_written(bytes).map(lines_as_lf)
}

fn decode_as_written(bytes: &[u8]) -> Result<(String, Encoding), DecodeError> {
    BYTES_READ.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest).map(|t| (t, Encoding::Utf8Bom));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes).map(|t| (t, Encoding::Utf16Le));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes).map(|t| (t, Encoding::Utf16Be));
    }
    // UTF-16 without a byte order mark: ASCII text then has a zero byte in every pair.
    if bytes.len() >= 4 && bytes.iter().take(64).filter(|b| **b == 0).count() * 3 >= bytes.len().min(64) {
        return Err(DecodeError {
            line: 1,
            message: "the file looks like UTF-16 without a byte order mark".into(),
            help: "save it as UTF-8 (PowerShell 7: `Out-File -Encoding utf8`), or as UTF-16 with a byte order mark"
                .into(),
        });
    }
    utf8(bytes).map(|t| (t, Encoding::Utf8))
}

/// Old-Mac line ends read as `\n`.
fn lines_as_lf((text, encoding): (String, Encoding)) -> (String, Encoding) {
    (tenet::unstable::source::lone_cr_as_lf(&text).unwrap_or(text), encoding)
}

/// Opens a file for streaming: UTF-16 is transcoded to UTF-8 as it is read and the byte order
/// mark is dropped, so a reader never holds more of a large export than one record. UTF-8 is
/// passed through; readers report invalid bytes at their line.
pub fn open(path: &Path) -> io::Result<(Box<dyn BufRead>, Encoding)> {
    let mut file = Counting(File::open(path)?);
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    let head = &head[..filled];
    let encoding = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Encoding::Utf8Bom
    } else if head.starts_with(&[0xFF, 0xFE]) {
        Encoding::Utf16Le
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Encoding::Utf16Be
    } else if head.len() >= 4 && head.iter().filter(|b| **b == 0).count() * 3 >= head.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the file looks like UTF-16 without a byte order mark: save it as UTF-8 (PowerShell 7: `Out-File -Encoding utf8`), or as UTF-16 with a byte order mark",
        ));
    } else {
        Encoding::Utf8
    };
    let skip = match encoding {
        Encoding::Utf8 => 0,
        Encoding::Utf8Bom => 3,
        Encoding::Utf16Le | Encoding::Utf16Be => 2,
    };
    let whole = io::Cursor::new(head[skip..].to_vec()).chain(file);
    let reader: Box<dyn Read> = match encoding {
        // Passed through unchanged, so invalid bytes are reported, not replaced.
        Encoding::Utf8 | Encoding::Utf8Bom => Box::new(whole),
        Encoding::Utf16Le => Box::new(Utf16::new(whole, encoding_rs::UTF_16LE)),
        Encoding::Utf16Be => Box::new(Utf16::new(whole, encoding_rs::UTF_16BE)),
    };
    let reader = LoneCr(BufReader::with_capacity(1 << 16, reader));
    Ok((Box::new(BufReader::with_capacity(1 << 16, reader)), encoding))
}

/// Transcodes UTF-16 to UTF-8 as it is read. An unpaired surrogate is an error at its line,
/// not a silent U+FFFD: the file is damaged, and a name or id in it would be wrong.
struct Utf16<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Bytes of `output` already handed out.
    given: usize,
    /// Line ends decoded so far, for the error's line.
    lines: usize,
    done: bool,
}

impl<R: Read> Utf16<R> {
    fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        let decoder = encoding.new_decoder_without_bom_handling();
        Self { inner, decoder, input: vec![0; 1 << 15], output: Vec::new(), given: 0, lines: 0, done: false }
    }

    /// Decodes the next chunk into `output`.
    fn refill(&mut self) -> io::Result<()> {
        let n = self.inner.read(&mut self.input)?;
        let last = n == 0;
        let room = self.decoder.max_utf8_buffer_length_without_replacement(n).unwrap_or(4 * n + 16);
        self.output.resize(room, 0);
        self.given = 0;
        let (result, _, written) =
            self.decoder.decode_to_utf8_without_replacement(&self.input[..n], &mut self.output, last);
        self.output.truncate(written);
        self.lines += self.output.iter().filter(|b| **b == b'\n').count();
        self.done = last;
        match result {
            encoding_rs::DecoderResult::Malformed(..) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "line {}: the file holds an unpaired UTF-16 surrogate (it is damaged): export it again",
                    self.lines + 1
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.given == self.output.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.output.len() - self.given);
        buf[..n].copy_from_slice(&self.output[self.given..self.given + n]);
        self.given += n;
        Ok(n)
    }
}

/// Reads an old-Mac line end (a `\r` alone) as `\n`, one byte for one (see
/// [`tenet::unstable::source::lone_cr_as_lf`]).
struct LoneCr<R>(R);

impl<R: BufRead> Read for LoneCr<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = self.0.fill_buf()?;
        let n = chunk.len().min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        buf[..n].copy_from_slice(&chunk[..n]);
        self.0.consume(n);
        for i in 0..n - 1 {
            if buf[i] == b'\r' && buf[i + 1] != b'\n' {
                buf[i] = b'\n';
            }
        }
        if buf[n - 1] == b'\r' && self.0.fill_buf()?.first() != Some(&b'\n') {
            buf[n - 1] = b'\n';
        }
        Ok(n)
    }
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = 1 + bytes[..valid].iter().filter(|b| **b == b'\n').count();
        DecodeError {
            line,
            message: format!("the file is not UTF-8 (byte {} is not valid UTF-8)", valid + 1),
            help: "save it as UTF-8: in Excel, \"CSV UTF-8 (Comma delimited)\"; in PowerShell 7, `-Encoding utf8`"
                .into(),
        }
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError {
            line: 1,
            message: "the file has a UTF-16 byte order mark but an odd number of bytes".into(),
            help: "the file is cut short or not UTF-16: export it again".into(),
        });
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut line = 1;
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => {
                if c == '\n' {
                    line += 1;
                }
                text.push(c);
            }
            Err(_) => {
                return Err(DecodeError {
                    line,
                    message: "the file has a UTF-16 byte order mark but holds an unpaired surrogate".into(),
                    help: "the file is damaged: export it again".into(),
                });
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn reads_every_encoding_powershell_writes() {
        let text = "{\"Identity\": \"Global\", \"Name\": \"Zoë\"}\r\n";
        assert_eq!(decode(text.as_bytes()), Ok((text.to_string(), Encoding::Utf8)));
        let bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        assert_eq!(decode(&bom), Ok((text.to_string(), Encoding::Utf8Bom)));
        assert_eq!(decode(&utf16le(text)), Ok((text.to_string(), Encoding::Utf16Le)));
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain(text.encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(decode(&be), Ok((text.to_string(), Encoding::Utf16Be)));
    }

    #[test]
    fn refuses_what_it_cannot_read_with_a_fix() {
        let no_bom: Vec<u8> = "{\"a\": 1}".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(decode(&no_bom).is_err_and(|e| e.message.contains("without a byte order mark")));
        let latin1 = b"Email,First Name\ncaf\xe9@x.org,Ren\xe9\n";
        let e = decode(latin1).err();
        assert_eq!(e.as_ref().map(|e| e.line), Some(2));
        assert!(e.is_some_and(|e| e.help.contains("CSV UTF-8")));
        assert!(decode(&[0xFF, 0xFE, 0x41]).is_err());
        assert!(decode(&[0xFF, 0xFE, 0x00, 0xD8]).is_err());
    }
}
