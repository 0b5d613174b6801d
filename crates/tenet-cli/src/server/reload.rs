//! Reloading: the served table and the reloads' counts as one snapshot, and the task that
//! rebuilds on SIGHUP or a watched change and swaps the snapshot.

use super::watch::Watching;
use super::{AppState, Rebuild, SignalStream, log, received};
use std::sync::Arc;
use tenet::DecisionTable;

/// The served table and what reloading has done so far, published as one snapshot: a reader
/// (a request, `/readyz`) sees all of a reload's effects or none of them, so the counts, the
/// last error and the table always agree.
pub(super) struct Served {
    pub(super) table: Arc<DecisionTable>,
    pub(super) generation: u64,
    pub(super) succeeded: u64,
    pub(super) failed: u64,
    pub(super) last_error: Option<Arc<str>>,
}

impl Served {
    pub(super) fn new(table: Arc<DecisionTable>) -> Self {
        Self { table, generation: 0, succeeded: 0, failed: 0, last_error: None }
    }

    /// The snapshot after a reload that built `built`.
    fn after(&self, built: &Result<Arc<DecisionTable>, String>) -> Self {
        match built {
            Ok(table) => Self {
                table: table.clone(),
                generation: self.generation + 1,
                succeeded: self.succeeded + 1,
                failed: self.failed,
                last_error: None,
            },
            Err(why) => Self {
                table: self.table.clone(),
                generation: self.generation,
                succeeded: self.succeeded,
                failed: self.failed + 1,
                last_error: Some(Arc::from(why.as_str())),
            },
        }
    }
}

/// Waits for SIGHUP or a watched file's change, then rebuilds and swaps.
pub(super) async fn reloader(state: AppState, rebuild: Rebuild, watching: Watching, mut hangup: SignalStream) {
    // The watcher is kept alive for as long as the reloader runs.
    let (_watcher, mut changes) = watching;
    loop {
        tokio::select! {
            () = received(&mut hangup) => {}
            Some(()) = changes.recv() => {
                // An editor's save is several events: let the burst settle, then reload once.
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                while changes.try_recv().is_ok() {}
            }
        }
        let rebuild = rebuild.clone();
        let built = tokio::task::spawn_blocking(move || {
            rebuild().inspect(|engine| engine.table().model().directory.index_suggestions())
        });
        let built = built.await.unwrap_or_else(|e| Err(e.to_string()));
        log(&publish(&state, built.map(|engine| engine.table().clone())));
    }
}

/// Serves the table a reload built, or records why it failed, in one new snapshot; says what
/// happened, for the log.
pub(super) fn publish(state: &AppState, built: Result<Arc<DecisionTable>, String>) -> String {
    let before = state.served.rcu(|now| Served::after(now, &built));
    let generation = before.generation + u64::from(built.is_ok());
    state.metrics.reloaded(built.is_ok(), generation);
    match built {
        Ok(_) => format!("reloaded: table generation {generation}"),
        Err(_) => "reload failed; still serving the last good table (see /readyz)".to_string(),
    }
}
