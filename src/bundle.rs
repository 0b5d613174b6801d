//! Compiled bundles: a checked and compiled district in one file, loaded without checking or
//! compiling again. `tenet build --out district.bundle` writes one; `--bundle` reads it.
//!
//! A bundle is a header and a payload:
//!
//! | bytes | what |
//! |---|---|
//! | 8 | the mark `TENETBND` |
//! | 4 | the format number, little-endian ([`FORMAT`]) |
//! | 16 | the version of tenet that wrote it, padded with zeros |
//! | 8 | the payload's length in bytes, little-endian |
//! | 32 | the SHA-256 of the payload |
//! | … | the payload: the model's sources, the checked model and the compiled table, in postcard |
//!
//! A bundle is read only by the version of tenet that wrote it: the payload is the engine's own
//! data, whose shape changes between versions. A bundle from another version, a truncated one or
//! a damaged one is an error that says which, never a wrong answer. The checksum finds damage,
//! not tampering: a bundle holds the district's policies and directory (guardians' contact
//! details included) and is kept like them. Whatever the checksum lets through is still checked
//! to fit before a query can follow its indexes (see [`crate::table`]).

use crate::model::Model;
use crate::source::SourceMap;
use crate::table::DecisionTable;
use crate::table::stored::LoadedTable;
use sha2::{Digest as _, Sha256};
use std::io::{Read as _, Write};
use std::path::Path;
use std::sync::Arc;

/// The payload's format: raised whenever what a bundle stores changes shape.
pub const FORMAT: u32 = 7;

/// The version of tenet that reads and writes bundles.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const MAGIC: [u8; 8] = *b"TENETBND";
const VERSION_BYTES: usize = 16;
const HEADER: usize = MAGIC.len() + 4 + VERSION_BYTES + 8 + 32;

/// Why a bundle can't be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The file could not be read.
    #[error("can't read the bundle: {0}")]
    Io(String),
    /// The file is not a bundle.
    #[error("not a tenet bundle (it doesn't start with the bundle mark)")]
    NotABundle,
    /// Another version of tenet wrote it.
    #[error("built by tenet {version} (bundle format {format}); this is tenet {VERSION} (format {FORMAT})")]
    Version {
        /// The version that wrote it.
        version: String,
        /// Its format number.
        format: u32,
    },
    /// The file ends early (a copy cut short, a disk full).
    #[error("truncated: {} where its header promises {}", size(*.found), size(*.expected))]
    Truncated {
        /// The length the header gives, header included.
        expected: u64,
        /// The file's length.
        found: u64,
    },
    /// The contents do not match the checksum, or do not fit together.
    #[error("damaged: {0}")]
    Damaged(String),
}

impl BundleError {
    /// What to do about it, for the admin.
    pub fn help(&self) -> &'static str {
        match self {
            BundleError::Io(_) => "check the path: a bundle is the file `tenet build --out` wrote",
            BundleError::NotABundle => "build one with `tenet build --out FILE`, or give the policy files themselves",
            BundleError::Version { .. } => "build the bundle again with this version: `tenet build --out FILE`",
            BundleError::Truncated { .. } | BundleError::Damaged(_) => {
                "copy the bundle again, or build it again with `tenet build --out FILE`"
            }
        }
    }
}

/// What a bundle's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// The version of tenet that wrote it.
    pub version: String,
    /// Its format number.
    pub format: u32,
    /// The payload's SHA-256, in hex: the same bundle everywhere has the same checksum.
    pub checksum: String,
    /// The file's length in bytes.
    pub bytes: u64,
}

/// Writes `table` (its model, sources and compiled parts) as a bundle. The directory file's text
/// is left out: the directory itself is in the model, checked.
pub fn write(table: &DecisionTable, out: &mut impl Write) -> std::io::Result<Info> {
    let model = table.model();
    let sources = match model.directory.file() {
        Some(file) => model.sources.without_text(file),
        None => model.sources.clone(),
    };
    let payload = postcard::to_stdvec(&(&sources, model, table.stored())).map_err(std::io::Error::other)?;
    let digest: [u8; 32] = Sha256::digest(&payload).into();
    out.write_all(&MAGIC)?;
    out.write_all(&FORMAT.to_le_bytes())?;
    out.write_all(&stored_version())?;
    out.write_all(&(payload.len() as u64).to_le_bytes())?;
    out.write_all(&digest)?;
    out.write_all(&payload)?;
    Ok(Info {
        version: VERSION.to_string(),
        format: FORMAT,
        checksum: hex(&digest),
        bytes: (HEADER + payload.len()) as u64,
    })
}

/// Whether `path` is a regular file that starts with the bundle mark.
pub fn is_bundle(path: &Path) -> bool {
    let mut mark = [0u8; MAGIC.len()];
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut mark)).is_ok()
        && mark == MAGIC
}

/// Reads a bundle file: only a regular file (a device or a pipe would never end).
pub fn read_file(path: &Path) -> Result<(Arc<DecisionTable>, Info), BundleError> {
    let io = |e: std::io::Error| BundleError::Io(format!("`{}`: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(BundleError::Io(format!("`{}` is not a regular file", path.display())));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(io)?;
    read(&bytes)
}

/// Reads a bundle: the header checked (mark, version, length, checksum), then the payload
/// decoded and checked to fit together.
pub fn read(bytes: &[u8]) -> Result<(Arc<DecisionTable>, Info), BundleError> {
    let info = header(bytes)?;
    let payload = &bytes[HEADER..];
    let (sources, mut model, table): (SourceMap, Model, LoadedTable) =
        postcard::from_bytes(payload).map_err(|e| BundleError::Damaged(format!("its contents can't be read ({e})")))?;
    model.sources = sources;
    model.fits().map_err(BundleError::Damaged)?;
    let directory = Arc::unwrap_or_clone(model.directory).loaded().map_err(BundleError::Damaged)?;
    model.directory = Arc::new(directory);
    let compiled = table.fitted(&model).map_err(BundleError::Damaged)?;
    let table = DecisionTable::new(Arc::new(model), compiled).loaded_from_bundle(&info.checksum);
    Ok((Arc::new(table), info))
}

/// Checks the header against the file: mark, version, length and checksum.
fn header(bytes: &[u8]) -> Result<Info, BundleError> {
    if !bytes.starts_with(&MAGIC[..bytes.len().min(MAGIC.len())]) || bytes.is_empty() {
        return Err(BundleError::NotABundle);
    }
    if bytes.len() < HEADER {
        return Err(BundleError::Truncated { expected: HEADER as u64, found: bytes.len() as u64 });
    }
    let field = |at: usize, len: usize| &bytes[at..at + len];
    let format = u32::from_le_bytes(field(8, 4).try_into().unwrap_or_default());
    let stored = field(12, VERSION_BYTES);
    let version = String::from_utf8_lossy(stored).trim_end_matches('\0').to_string();
    if format != FORMAT || *stored != stored_version() {
        return Err(BundleError::Version { version, format });
    }
    let length = u64::from_le_bytes(field(28, 8).try_into().unwrap_or_default());
    let expected = (HEADER as u64).saturating_add(length);
    let found = bytes.len() as u64;
    if found < expected {
        return Err(BundleError::Truncated { expected, found });
    }
    if found > expected {
        return Err(BundleError::Damaged(format!("{} bytes after its end", found - expected)));
    }
    let digest: [u8; 32] = Sha256::digest(&bytes[HEADER..]).into();
    if digest[..] != *field(36, 32) {
        return Err(BundleError::Damaged("its checksum doesn't match its contents".into()));
    }
    Ok(Info { version, format, checksum: hex(&digest), bytes: found })
}

/// This version as the header stores it: its first 16 bytes, padded with zeros (a longer
/// version is compared in the same form, so it still reads its own bundles).
fn stored_version() -> [u8; VERSION_BYTES] {
    let mut version = [0u8; VERSION_BYTES];
    let len = VERSION.len().min(VERSION_BYTES);
    version[..len].copy_from_slice(&VERSION.as_bytes()[..len]);
    version
}

/// A length for a message (a bare run of digits could be hidden as a phone number).
fn size(bytes: u64) -> String {
    crate::diagnostic::size(usize::try_from(bytes).unwrap_or(usize::MAX))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
