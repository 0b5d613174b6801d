//! `--watch`: source paths watched with `notify`, each burst of events one message.

use super::log;
use std::path::PathBuf;

/// Watches the source paths with `notify`; each burst of file events becomes one message.
pub(super) fn watcher(paths: &[PathBuf]) -> Watching {
    use notify::Watcher as _;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    if paths.is_empty() {
        return (None, rx);
    }
    let watched = Watched::new(paths);
    let watches = watched.watches();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access() && watched.covers(&e)) {
            let _ = tx.send(());
        }
    });
    let Ok(mut watcher) = watcher else {
        log("can't watch the source files; reload with SIGHUP");
        return (None, rx);
    };
    for (p, mode) in watches {
        if watcher.watch(&p, mode).is_err() {
            log(&format!("can't watch {}; reload with SIGHUP", p.display()));
        }
    }
    (Some(watcher), rx)
}

/// What `--watch` looks at: directories whole, and files by name in their directory. A file is
/// not watched itself: editors save by writing a new file and renaming it over the old one, and
/// a watch on the old file ends with it (so only the first such save would reload).
#[derive(Debug, Default)]
pub(super) struct Watched {
    pub(super) dirs: Vec<PathBuf>,
    pub(super) files: Vec<PathBuf>,
}

impl Watched {
    /// Sorts the source paths into directories and files, absolute and with links resolved, as
    /// `notify` names them in its events.
    pub(super) fn new(paths: &[PathBuf]) -> Self {
        let mut watched = Self::default();
        for p in paths {
            let full = std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.clone());
            if full.is_dir() { watched.dirs.push(full) } else { watched.files.push(full) }
        }
        watched
    }

    /// What to ask `notify` for: each directory with what is under it, and the directory of each
    /// file not already under one, alone.
    pub(super) fn watches(&self) -> Vec<(PathBuf, notify::RecursiveMode)> {
        let mut watches: Vec<_> = self.dirs.iter().map(|d| (d.clone(), notify::RecursiveMode::Recursive)).collect();
        for parent in self.files.iter().filter_map(|f| f.parent()) {
            if !self.dirs.iter().any(|d| parent.starts_with(d)) && !watches.iter().any(|(w, _)| w == parent) {
                watches.push((parent.to_path_buf(), notify::RecursiveMode::NonRecursive));
            }
        }
        watches
    }

    /// Whether an event touches a source: a path under a watched directory, or a watched file
    /// (also as a rename's target). One that names no path may have: it counts.
    pub(super) fn covers(&self, event: &notify::Event) -> bool {
        event.paths.is_empty()
            || event.paths.iter().any(|p| self.dirs.iter().any(|d| p.starts_with(d)) || self.files.contains(p))
    }
}

pub(super) type Watching = (Option<notify::RecommendedWatcher>, tokio::sync::mpsc::UnboundedReceiver<()>);
