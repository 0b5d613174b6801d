//! The progress line on stderr for long work (`check`, `table`, `report`, `import`): one line
//! that names the phase (reading, checking, compiling, writing…) with what is known of how far it
//! has got. Drawn only on a terminal, and never with `--quiet`; cleared when the work ends, so
//! the command's own output and messages are all that stays.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tenet::unstable::engine::Phase;

/// A progress line, hidden when not on a terminal or when quiet.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A line on stderr, if stderr is a terminal and `quiet` is off.
    pub fn new(quiet: bool) -> Self {
        let shown = !quiet && std::io::stderr().is_terminal() && std::env::var("TERM").as_deref() != Ok("dumb");
        let bar = if shown {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10))
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// A phase whose length is unknown: a spinner, the phase and the time it has taken.
    pub fn phase(&self, name: &str) {
        self.bar.set_style(spinner());
        self.bar.set_length(0);
        self.bar.set_position(0);
        self.bar.reset_elapsed();
        self.bar.set_prefix(name.to_string());
        self.bar.set_message("");
        // Ticking from the first phase on: the spinner turns and the time counts while a phase
        // reports nothing.
        self.bar.enable_steady_tick(Duration::from_millis(100));
    }

    /// A phase of the engine's build.
    pub fn build_phase(&self, phase: Phase) {
        self.phase(match phase {
            Phase::Checking => "checking",
            Phase::Compiling => "compiling",
        });
    }

    /// A detail of the current phase (which file, how many rows).
    pub fn message(&self, text: String) {
        self.bar.set_message(text);
    }

    /// Runs `f` with the line hidden, for printing to the terminal meanwhile.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// The import's reading, as a bar of bytes.
    pub fn on_import(&self) -> tenet_import::OnProgress {
        let bar = self.bar.clone();
        bar.set_prefix("reading");
        tenet_import::OnProgress(std::sync::Arc::new(move |r: &tenet_import::Reading| {
            if bar.length() != Some(r.total) {
                bar.set_style(bytes());
                bar.set_length(r.total);
            }
            bar.set_position(r.read);
            bar.set_message(r.files.clone());
        }))
    }

    /// `out` (standard output), counting the lines and bytes written through it into the
    /// progress line. When standard output is the terminal too, the rows themselves show the
    /// progress: the line is cleared, so the two never share the screen.
    pub fn writing<W: Write>(&self, what: &str, out: W) -> Counting<W> {
        let bar = if std::io::stdout().is_terminal() {
            self.bar.finish_and_clear();
            ProgressBar::hidden()
        } else {
            self.phase("writing");
            self.bar.clone()
        };
        Counting { out, bar, what: what.to_string(), lines: 0, bytes: 0, shown_at: 0 }
    }
}

impl Drop for Progress {
    /// Whatever way the command ends, the line goes.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

fn spinner() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:.bold} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {percent:>3}% {bytes} of {total_bytes} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// A writer that shows how much has gone through it.
#[derive(Debug)]
pub struct Counting<W> {
    out: W,
    bar: ProgressBar,
    what: String,
    lines: u64,
    bytes: u64,
    /// `bytes` when the line was last updated: it is updated every 64 KiB.
    shown_at: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        if self.bar.is_hidden() {
            return Ok(n);
        }
        self.lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.bytes += n as u64;
        if self.bytes - self.shown_at >= 1 << 16 {
            self.shown_at = self.bytes;
            self.bar.set_message(format!("{} {}, {:.1} MB", self.lines, self.what, self.bytes as f64 / 1e6));
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
