//! Embeds the bundled example district (the Teams pack and the Lakeside tenant) so `tenet`
//! answers real questions from any working directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const POLICY_DIRS: [&str; 2] = ["policies/teams", "policies/examples/lakeside"];
const DIRECTORY: &str = "policies/examples/lakeside/directory.yaml";

fn tenet_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            tenet_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "tenet") {
            out.push(p);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut code =
        String::from("/// Bundled policy files: (display name, text).\npub const POLICIES: &[(&str, &str)] = &[\n");
    for dir in POLICY_DIRS {
        println!("cargo:rerun-if-changed={dir}");
        let mut files = Vec::new();
        tenet_files(&root.join(dir), &mut files);
        for f in files {
            let rel = f.strip_prefix(&root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
            println!("cargo:rerun-if-changed={rel}");
            let _ = writeln!(code, "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{rel}\"))),");
        }
    }
    code.push_str("];\n");
    println!("cargo:rerun-if-changed={DIRECTORY}");
    if !root.join(DIRECTORY).is_file() {
        println!("cargo:warning=the bundled example directory {DIRECTORY} is missing");
        code.push_str("pub const DIRECTORY: (&str, &str) = (\"\", \"\");\n");
    } else {
        let _ = writeln!(
            code,
            "/// The bundled directory file: (display name, text).\npub const DIRECTORY: (&str, &str) = ({DIRECTORY:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{DIRECTORY}\")));"
        );
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("bundled.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=can't write {}: {e}", out.display());
    }
}
