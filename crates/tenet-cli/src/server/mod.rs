//! `tenet serve`: the decision table over HTTP, with the JSON of `tenet decide --format json`.
//!
//! Reload: on SIGHUP (and, with `--watch`, when `notify` reports a change to a source path) the
//! sources are read, checked and compiled off the request path; a table that builds replaces
//! the served one atomically, one that doesn't is reported on `/readyz` while the last good
//! table keeps serving. Each request reads one table from start to end.
//!
//! Slow clients: a request head is due within 10 s of the connection opening (or of the last
//! response on it), a request's body and answer within 10 s of its head (else 408), and on
//! SIGTERM/SIGINT the requests in flight get 5 s before the process exits anyway.
//!
//! Front end only: every answer comes from the same [`Engine`] the CLI uses. Errors are
//! `{"error": {"code", "message"}}` with 400 (bad request or unknown user/decision/guardian),
//! 404 (route), 405 (method), 408 (body too slow), 413 (body too large) or 500 (a handler
//! panicked; the server keeps serving). Error messages never repeat what the caller sent (a
//! guardian's email or phone may be anywhere in it): a bad JSON body gets a fixed message with
//! the line and column.
//!
//! Rooms: [`routes`] (the handlers and their JSON), [`reload`] (the served snapshot and the
//! reloader), [`watch`] (`--watch`), [`deadlines`] (slow clients and oversized bodies),
//! [`metrics`] (Prometheus and the request log), [`auth`] (the bearer token), [`errors`] (the
//! error answers).

mod auth;
mod deadlines;
mod errors;
mod metrics;
mod reload;
mod routes;
#[cfg(test)]
mod tests;
mod watch;

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use deadlines::{Guarded, LIMITS, Limits};
use errors::error;
use metrics::Metrics;
use reload::Served;
use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tenet::Engine;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Most queries in one batch.
    pub max_batch: usize,
    /// When set, every route but `/healthz` needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

/// What every handler shares: the served snapshot, the metrics, the batch limit.
#[derive(Clone)]
struct AppState {
    served: Arc<ArcSwap<Served>>,
    metrics: Arc<Metrics>,
    max_batch: usize,
}

/// Builds a fresh engine from the sources, or says why it can't.
pub type Rebuild = Arc<dyn Fn() -> Result<Engine, String> + Send + Sync>;

/// Serves until SIGINT or SIGTERM, then gives the requests in flight a few seconds to finish and
/// returns. `rebuild` reloads the sources; `watch` lists files whose changes trigger a reload.
pub async fn serve(engine: Engine, settings: Settings, rebuild: Rebuild, watch: Vec<PathBuf>) -> std::io::Result<()> {
    // Signal handlers and the file watcher first: what arrives once we say we listen must
    // find them.
    let signals = Signals::install()?;
    let watching = watch::watcher(&watch);
    let listener = tokio::net::TcpListener::bind(settings.addr).await?;
    log(&format!("listening on http://{}", listener.local_addr()?));
    // An unknown user on the request path costs a look-up in this index, not a scan.
    engine.table().model().directory.index_suggestions();
    let state = AppState {
        served: Arc::new(ArcSwap::from_pointee(Served::new(engine.table().clone()))),
        metrics: Arc::new(Metrics::new()),
        max_batch: settings.max_batch,
    };
    let Signals { hangup, terminate, interrupt } = signals;
    tokio::spawn(reload::reloader(state.clone(), rebuild, watching, hangup));
    run(listener, router(state, &settings, LIMITS.request), LIMITS, shutdown(terminate, interrupt)).await
}

/// Serves `app` until `stop` completes, then stops accepting and waits at most `limits.grace`
/// for the connections still open: a client that never finishes its request can't keep the
/// process from exiting.
async fn run(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(Guarded { listener, limit: limits.head }, app)
        .with_graceful_shutdown(async move {
            stop.await;
            let _ = stopping.send(());
        })
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        Ok(()) = stopped => match tokio::time::timeout(limits.grace, server).await {
            Ok(result) => result,
            Err(_) => {
                log(&format!("stopping: connections still open after {} s are closed", limits.grace.as_secs()));
                Ok(())
            }
        },
    }
}

/// A signal stream, where the platform has one.
#[cfg(unix)]
type SignalStream = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type SignalStream = Option<()>;

/// The signals the server handles: SIGHUP reloads, SIGTERM and SIGINT stop.
struct Signals {
    hangup: SignalStream,
    terminate: SignalStream,
    interrupt: SignalStream,
}

impl Signals {
    #[cfg(unix)]
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            hangup: Some(signal(SignalKind::hangup())?),
            terminate: Some(signal(SignalKind::terminate())?),
            interrupt: Some(signal(SignalKind::interrupt())?),
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<Self> {
        Ok(Self { hangup: None, terminate: None, interrupt: None })
    }
}

/// Waits for the next delivery of a signal; never returns where there is none.
async fn received(signal: &mut SignalStream) {
    #[cfg(unix)]
    if let Some(s) = signal.as_mut()
        && s.recv().await.is_some()
    {
        return;
    }
    let _ = signal;
    std::future::pending::<()>().await
}

/// A line on stderr; a closed stderr is no reason to stop serving.
pub(crate) fn log(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn router(state: AppState, settings: &Settings, request_limit: Duration) -> Router {
    router_with(state, settings, request_limit, Router::new())
}

/// The routes, with `extra` ones merged in before the layers (tests add a panicking one).
///
/// Layers, outermost first: `track` (so every answer is logged and counted: the 404 fallback,
/// a 401, a 408 and a panic's 500 too), the token check, the request timeout, catching panics,
/// the body limit. `layer`, not `route_layer`, so they wrap the fallback as well.
fn router_with(state: AppState, settings: &Settings, request_limit: Duration, extra: Router<AppState>) -> Router {
    let token: Option<Arc<str>> = settings.token.as_deref().map(Arc::from);
    let metrics = state.metrics.clone();
    routes::routes(extra)
        .layer(DefaultBodyLimit::max(settings.max_body))
        .layer(axum::middleware::from_fn_with_state(settings.max_body, deadlines::announced_size))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the request failed inside the server")
        }))
        .layer(axum::middleware::from_fn_with_state(request_limit, deadlines::deadline))
        .layer(axum::middleware::from_fn_with_state(token, auth::authorize))
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
        .with_state(state)
}

async fn shutdown(mut terminate: SignalStream, mut interrupt: SignalStream) {
    #[cfg(not(unix))]
    let interrupted = async {
        let _ = &mut interrupt;
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let interrupted = received(&mut interrupt);
    tokio::select! {
        () = interrupted => {},
        () = received(&mut terminate) => {},
    }
}
