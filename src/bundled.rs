//! The example district compiled into the binary (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
