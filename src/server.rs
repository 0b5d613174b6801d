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

use arc_swap::ArcSwap;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::future::{Future, IntoFuture as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tenet::Engine;
use tenet::output::DecisionJson;
use tenet::table::{DecisionTable, QueryError};

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

#[derive(Clone)]
struct AppState {
    served: Arc<ArcSwap<Served>>,
    metrics: Arc<Metrics>,
    max_batch: usize,
}

type Labels = Vec<(&'static str, String)>;

/// Prometheus metrics, served on `/metrics` in the OpenMetrics text format.
struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    decisions: Family<Labels, Counter>,
    latency: Histogram,
    generation: Gauge,
    reloads: Family<Labels, Counter>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let decisions = Family::<Labels, Counter>::default();
        let latency = Histogram::new(exponential_buckets(0.000_01, 2.0, 20));
        let generation = Gauge::default();
        let reloads = Family::<Labels, Counter>::default();
        registry.register("tenet_http_requests", "HTTP requests by route and status", requests.clone());
        registry.register("tenet_decisions", "Decisions answered, by decision and outcome", decisions.clone());
        registry.register("tenet_http_request_duration_seconds", "Time to answer a request", latency.clone());
        registry.register("tenet_table_generation", "Generation of the served table (0 at start)", generation.clone());
        registry.register("tenet_reloads", "Reloads by result", reloads.clone());
        Self { registry, requests, decisions, latency, generation, reloads }
    }

    fn decided(&self, decision: &str, allowed: bool) {
        let outcome = if allowed { "allow" } else { "deny" };
        self.decisions.get_or_create(&vec![("decision", decision.to_string()), ("outcome", outcome.to_string())]).inc();
    }

    fn reloaded(&self, ok: bool, generation: u64) {
        self.reloads.get_or_create(&vec![("result", if ok { "success" } else { "failure" }.to_string())]).inc();
        self.generation.set(i64::try_from(generation).unwrap_or(i64::MAX));
    }
}

/// What a handler tells the request log about its query. Never a guardian's id: it may be an
/// email address.
#[derive(Clone)]
struct Logged {
    user: String,
    decision: String,
}

/// The user and decision of a failed query as the log may show them: only names the table
/// knows, since a caller may have sent a guardian's email or phone in any field.
fn known(table: &DecisionTable, user: &str, decision: &str) -> (String, String) {
    let user = table.user(user).map(|u| table.model().directory.users[u.index()].upn.clone()).unwrap_or_default();
    let decision =
        table.decision(decision).map(|d| table.model().decisions[d.index()].name.clone()).unwrap_or_default();
    (user, decision)
}

fn logged(mut response: Response, user: &str, decision: &str) -> Response {
    response.extensions_mut().insert(Logged { user: user.to_string(), decision: decision.to_string() });
    response
}

/// Counts every request by route and status, times it, and logs one line for it. The route is
/// the matched pattern, or `unmatched` for the 404 fallback: never the path, which the caller
/// wrote (and which would make one metric series per path).
async fn track(
    State(metrics): State<Arc<Metrics>>,
    matched: Option<axum::extract::MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = request.method().to_string();
    let start = std::time::Instant::now();
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    metrics.latency.observe(elapsed.as_secs_f64());
    let status = response.status().as_u16();
    let (user, decision) = match response.extensions().get::<Logged>() {
        Some(l) => (l.user.as_str(), l.decision.as_str()),
        None => ("", ""),
    };
    tracing::info!(method, route, status, latency_us = elapsed.as_micros() as u64, user, decision, "request");
    metrics.requests.get_or_create(&vec![("route", route), ("status", status.to_string())]).inc();
    response
}

async fn metrics(State(s): State<AppState>) -> Response {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &s.metrics.registry).is_err() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "metrics could not be encoded");
    }
    ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
        .into_response()
}

/// The served table and what reloading has done so far, published as one snapshot: a reader
/// (a request, `/readyz`) sees all of a reload's effects or none of them, so the counts, the
/// last error and the table always agree.
struct Served {
    table: Arc<DecisionTable>,
    generation: u64,
    succeeded: u64,
    failed: u64,
    last_error: Option<Arc<str>>,
}

impl Served {
    fn new(table: Arc<DecisionTable>) -> Self {
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

/// Builds a fresh engine from the sources, or says why it can't.
pub type Rebuild = Arc<dyn Fn() -> Result<Engine, String> + Send + Sync>;

/// How long clients may take. hyper has a header-read timeout, but `axum::serve` gives it no
/// timer, so without these a client that sends half a request holds its connection (and, after
/// SIGTERM, the whole process) for ever.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// For a request head, from the connection opening or the last response byte written; also
    /// how long a write may wait for a client that doesn't read.
    head: Duration,
    /// For a request's body and answer, from the end of its head.
    request: Duration,
    /// After SIGTERM or SIGINT, for the requests in flight; then the process exits anyway.
    grace: Duration,
}

const LIMITS: Limits =
    Limits { head: Duration::from_secs(10), request: Duration::from_secs(10), grace: Duration::from_secs(5) };

/// Serves until SIGINT or SIGTERM, then gives the requests in flight a few seconds to finish and
/// returns. `rebuild` reloads the sources; `watch` lists files whose changes trigger a reload.
pub async fn serve(engine: Engine, settings: Settings, rebuild: Rebuild, watch: Vec<PathBuf>) -> std::io::Result<()> {
    // Signal handlers and the file watcher first: what arrives once we say we listen must
    // find them.
    let signals = Signals::install()?;
    let watching = watcher(&watch);
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
    tokio::spawn(reloader(state.clone(), rebuild, watching, hangup));
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

/// The listener `axum::serve` takes: TCP, each connection under [`Deadlines`].
struct Guarded {
    listener: tokio::net::TcpListener,
    limit: Duration,
}

impl axum::serve::Listener for Guarded {
    type Io = Deadlines;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Deadlines, SocketAddr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        (Deadlines::new(io, self.limit), addr)
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// A connection whose reads fail once a request head is overdue, and whose writes fail once
/// they have waited too long for the client to read.
///
/// The head is due `limit` after the connection opens or after the last byte of a response
/// was written (so this is also the keep-alive idle timeout); it has arrived at the first empty
/// line after some text. Between the head and the response no deadline applies here: the body
/// and the answer are under the request timeout, which can answer 408.
struct Deadlines {
    io: tokio::net::TcpStream,
    limit: Duration,
    /// When the request head is due; `None` from the end of a head until the response.
    head: Option<tokio::time::Instant>,
    /// Scanning for the end of the head: whether it has begun, and whether the last byte other
    /// than `\r` ended a line.
    begun: bool,
    line_end: bool,
    /// Since when a write has been waiting.
    stalled: Option<tokio::time::Instant>,
    head_timer: Pin<Box<tokio::time::Sleep>>,
    write_timer: Pin<Box<tokio::time::Sleep>>,
}

impl Deadlines {
    fn new(io: tokio::net::TcpStream, limit: Duration) -> Self {
        let due = tokio::time::Instant::now() + limit;
        Self {
            io,
            limit,
            head: Some(due),
            begun: false,
            line_end: false,
            stalled: None,
            head_timer: Box::pin(tokio::time::sleep_until(due)),
            write_timer: Box::pin(tokio::time::sleep_until(due)),
        }
    }

    /// Looks for the empty line that ends a request head.
    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' if self.begun && self.line_end => {
                    self.head = None;
                    return;
                }
                b'\n' => self.line_end = true,
                b'\r' => {}
                _ => (self.begun, self.line_end) = (true, false),
            }
        }
    }

    /// After a write: a response is going out, so the next head is due `limit` after its last
    /// byte, and the scan for its end starts afresh.
    fn wrote(&mut self, result: &Poll<std::io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = result
            && *n > 0
        {
            if self.head.is_none() {
                (self.begun, self.line_end) = (false, false);
            }
            self.head = Some(tokio::time::Instant::now() + self.limit);
        }
    }

    fn timed_out(what: &str) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, what)
    }

    /// A write's result, failed if it has waited for longer than the limit.
    fn unless_stalled<T>(
        &mut self,
        result: Poll<std::io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<T>> {
        if result.is_ready() {
            self.stalled = None;
            return result;
        }
        let since = *self.stalled.get_or_insert_with(tokio::time::Instant::now);
        if passed(&mut self.write_timer, since + self.limit, cx) {
            return Poll::Ready(Err(Self::timed_out("the client stopped reading")));
        }
        Poll::Pending
    }
}

/// Whether `deadline` has passed; if not, `timer` wakes the task when it does.
fn passed(timer: &mut Pin<Box<tokio::time::Sleep>>, deadline: tokio::time::Instant, cx: &mut Context<'_>) -> bool {
    if timer.deadline() != deadline {
        timer.as_mut().reset(deadline);
    }
    timer.as_mut().poll(cx).is_ready()
}

impl tokio::io::AsyncRead for Deadlines {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.head.is_some() {
                    this.scan(&buf.filled()[before..]);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match this.head {
                Some(due) if passed(&mut this.head_timer, due, cx) => {
                    Poll::Ready(Err(Self::timed_out("no request head in time")))
                }
                _ => Poll::Pending,
            },
            failed => failed,
        }
    }
}

impl tokio::io::AsyncWrite for Deadlines {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(&result);
        this.unless_stalled(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(&result);
        this.unless_stalled(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_flush(cx);
        this.unless_stalled(result, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Answers 408 when a request's body and answer take longer than `limit` (a client sending
/// its body slowly, or not at all).
/// A body announced (`Content-Length`) over the limit gets 413 at once: waiting for bytes the
/// server will refuse anyway would only hold the connection until the body deadline.
async fn announced_size(
    State(limit): State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let announced = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE", "the request body is over the limit");
    }
    next.run(request).await
}

async fn deadline(
    State(limit): State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            "the request did not complete in time (a body sent too slowly?)",
        ),
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

/// Watches the source paths with `notify`; each burst of file events becomes one message.
fn watcher(paths: &[PathBuf]) -> Watching {
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
struct Watched {
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl Watched {
    /// Sorts the source paths into directories and files, absolute and with links resolved, as
    /// `notify` names them in its events.
    fn new(paths: &[PathBuf]) -> Self {
        let mut watched = Self::default();
        for p in paths {
            let full = std::fs::canonicalize(p).or_else(|_| std::path::absolute(p)).unwrap_or_else(|_| p.clone());
            if full.is_dir() { watched.dirs.push(full) } else { watched.files.push(full) }
        }
        watched
    }

    /// What to ask `notify` for: each directory with what is under it, and the directory of each
    /// file not already under one, alone.
    fn watches(&self) -> Vec<(PathBuf, notify::RecursiveMode)> {
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
    fn covers(&self, event: &notify::Event) -> bool {
        event.paths.is_empty()
            || event.paths.iter().any(|p| self.dirs.iter().any(|d| p.starts_with(d)) || self.files.contains(p))
    }
}

type Watching = (Option<notify::RecommendedWatcher>, tokio::sync::mpsc::UnboundedReceiver<()>);

/// Waits for SIGHUP or a watched file's change, then rebuilds and swaps.
async fn reloader(state: AppState, rebuild: Rebuild, watching: Watching, mut hangup: SignalStream) {
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
fn publish(state: &AppState, built: Result<Arc<DecisionTable>, String>) -> String {
    let before = state.served.rcu(|now| Served::after(now, &built));
    let generation = before.generation + u64::from(built.is_ok());
    state.metrics.reloaded(built.is_ok(), generation);
    match built {
        Ok(_) => format!("reloaded: table generation {generation}"),
        Err(_) => "reload failed; still serving the last good table (see /readyz)".to_string(),
    }
}

/// A line on stderr; a closed stderr is no reason to stop serving.
fn log(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Checks the bearer token, in constant time, on every route but `/healthz`. The scheme's name
/// is case-insensitive (RFC 9110); a refusal says which scheme to use (`WWW-Authenticate`).
async fn authorize(
    State(token): State<Option<Arc<str>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use subtle::ConstantTimeEq as _;
    let Some(token) = token else { return next.run(request).await };
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, credentials)| credentials.trim_start_matches(' '));
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        next.run(request).await
    } else {
        let mut refused = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "send `Authorization: Bearer <token>`");
        refused
            .headers_mut()
            .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        refused
    }
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
    extra
        .route("/metrics", get(self::metrics))
        .route("/v1/decide", post(decide))
        .route("/v1/decide/batch", post(batch))
        .route("/v1/users/{upn}/decisions", get(user_decisions))
        .route("/v1/explain", get(explain))
        .route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/readyz", get(ready))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "this route does not take that method")
        })
        .layer(DefaultBodyLimit::max(settings.max_body))
        .layer(axum::middleware::from_fn_with_state(settings.max_body, announced_size))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the request failed inside the server")
        }))
        .layer(axum::middleware::from_fn_with_state(request_limit, deadline))
        .layer(axum::middleware::from_fn_with_state(token, authorize))
        .layer(axum::middleware::from_fn_with_state(metrics, track))
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

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": { "code": code, "message": message } }))).into_response()
}

fn query_error(e: &QueryError) -> Response {
    error(StatusCode::BAD_REQUEST, e.code(), &query_message(e))
}

/// A query error's message without what the caller sent: the table's text repeats an unknown
/// user or decision, and a caller may have put a guardian's email or phone in either field.
/// What the table knows (a suggestion, a decision's name) is kept.
fn query_message(e: &QueryError) -> String {
    let hint = |s: &Option<String>| s.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
    match e {
        QueryError::UnknownUser { suggestion, .. } => format!("unknown user{}", hint(suggestion)),
        QueryError::UnknownDecision { suggestion, .. } => format!("unknown decision{}", hint(suggestion)),
        other => other.to_string(),
    }
}

/// What a request body must be, for error messages that can't quote the body.
trait Shape {
    const SHAPE: &'static str;
}

/// A JSON request body. Its errors say what kind of mistake and where (line and column), never
/// serde's text: that quotes the body's values and keys, in quotes, backticks or escaped, and
/// one may be a guardian's email or phone.
struct Body<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Shape> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        if !is_json(request.headers()) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "send the body as `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                error(StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE", "the request body is over the limit")
            } else {
                error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "the request body could not be read")
            }
        })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Data => format!("the body is JSON but not {}", T::SHAPE),
                _ => "the body is not valid JSON".to_string(),
            };
            error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &format!("{what} (line {}, column {})", e.line(), e.column()))
        })
    }
}

/// `application/json` or `application/*+json`, as axum's `Json` accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// One query: `{user, decision, guardian?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideRequest {
    user: String,
    decision: String,
    #[serde(default)]
    guardian: Option<String>,
}

impl Shape for DecideRequest {
    const SHAPE: &'static str = r#"{"user", "decision", "guardian"?} with string values"#;
}

fn answer<'t>(table: &'t DecisionTable, q: &DecideRequest) -> Result<DecisionJson<'t>, QueryError> {
    let d = table.decide(&q.user, &q.decision, q.guardian.as_deref())?;
    Ok(DecisionJson::new(&d))
}

/// A batch slot: the decision, or the error of that one query.
#[derive(Serialize)]
#[serde(untagged)]
enum Slot<'t> {
    Decision(DecisionJson<'t>),
    Error { error: ErrorBody },
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
}

#[derive(Serialize)]
struct Batch<'t> {
    results: Vec<Slot<'t>>,
}

#[derive(Serialize)]
struct UserDecisions<'t> {
    user: &'t str,
    decisions: Vec<DecisionJson<'t>>,
}

/// The decision's JSON and the admin-facing explanation text.
#[derive(Serialize)]
struct Explained<'t> {
    #[serde(flatten)]
    decision: DecisionJson<'t>,
    explanation: String,
}

async fn decide(State(s): State<AppState>, body: Result<Body<DecideRequest>, Response>) -> Response {
    let Body(q) = match body {
        Ok(b) => b,
        Err(rejected) => return rejected,
    };
    let served = s.served.load_full();
    let table = &served.table;
    match answer(table, &q) {
        Ok(v) => {
            s.metrics.decided(v.decision, v.allowed);
            let (user, decision) = (v.user.to_string(), v.decision.to_string());
            logged(Json(v).into_response(), &user, &decision)
        }
        Err(e) => {
            let (user, decision) = known(table, &q.user, &q.decision);
            logged(query_error(&e), &user, &decision)
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    /// Parsed one by one, so a malformed query fails only its own slot.
    queries: Vec<serde_json::Value>,
}

impl Shape for BatchRequest {
    const SHAPE: &'static str = r#"{"queries": [...]}"#;
}

async fn batch(State(s): State<AppState>, body: Result<Body<BatchRequest>, Response>) -> Response {
    let Body(b) = match body {
        Ok(b) => b,
        Err(rejected) => return rejected,
    };
    if b.queries.len() > s.max_batch {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BATCH_TOO_LARGE",
            &format!("{} queries, over the limit of {} per batch", b.queries.len(), s.max_batch),
        );
    }
    let served = s.served.load_full();
    let table = &served.table;
    let results: Vec<Slot<'_>> = b
        .queries
        .iter()
        .map(|q| match serde_json::from_value::<DecideRequest>(q.clone()) {
            Err(_) => Slot::Error {
                error: ErrorBody { code: "BAD_REQUEST", message: format!("a query is {}", DecideRequest::SHAPE) },
            },
            Ok(q) => match answer(table, &q) {
                Ok(v) => {
                    s.metrics.decided(v.decision, v.allowed);
                    Slot::Decision(v)
                }
                Err(e) => Slot::Error { error: ErrorBody { code: e.code(), message: query_message(&e) } },
            },
        })
        .collect();
    let n = results.len();
    logged(Json(Batch { results }).into_response(), "", &format!("batch of {n}"))
}

async fn user_decisions(State(s): State<AppState>, upn: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(upn)) = upn else {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "the path's user is not percent-encoded UTF-8");
    };
    let served = s.served.load_full();
    let table = &served.table;
    let user = match table.user(&upn) {
        Ok(u) => u,
        Err(e) => return query_error(&e),
    };
    let guardians = table.guardians_of(user);
    let mut decisions = Vec::new();
    for name in table.model().decisions.keys() {
        let Ok(handle) = table.decision(name) else { continue };
        if table.model().decisions[handle.index()].has_guardian {
            for g in &guardians {
                if let Ok(d) = table.decide_handles(user, handle, Some(*g)) {
                    decisions.push(DecisionJson::new(&d));
                }
            }
        } else if let Ok(d) = table.decide_handles(user, handle, None) {
            decisions.push(DecisionJson::new(&d));
        }
    }
    for d in &decisions {
        s.metrics.decided(d.decision, d.allowed);
    }
    let upn = &table.model().directory.users[user.index()].upn;
    logged(Json(UserDecisions { user: upn, decisions }).into_response(), upn, "*")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainParams {
    user: String,
    decision: String,
    guardian: Option<String>,
}

async fn explain(State(s): State<AppState>, params: Result<Query<ExplainParams>, QueryRejection>) -> Response {
    let Query(p) = match params {
        Ok(p) => p,
        // The rejection's text quotes the query's keys, which the caller chose.
        Err(_) => {
            return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "the query is user=UPN&decision=NAME[&guardian=ID]");
        }
    };
    let q = DecideRequest { user: p.user, decision: p.decision, guardian: p.guardian };
    let served = s.served.load_full();
    let table = &served.table;
    match table.decide(&q.user, &q.decision, q.guardian.as_deref()) {
        Ok(d) => {
            let v = DecisionJson::new(&d);
            s.metrics.decided(v.decision, v.allowed);
            let (user, decision) = (v.user.to_string(), v.decision.to_string());
            let explained = Explained { decision: v, explanation: tenet::output::explain(&d) };
            logged(Json(explained).into_response(), &user, &decision)
        }
        Err(e) => {
            let (user, decision) = known(table, &q.user, &q.decision);
            logged(query_error(&e), &user, &decision)
        }
    }
}

async fn ready(State(s): State<AppState>) -> Response {
    Json(readiness(&s)).into_response()
}

/// What `/readyz` says.
fn readiness(s: &AppState) -> serde_json::Value {
    let served = s.served.load();
    let t = &served.table;
    serde_json::json!({
        "ready": true,
        "generation": served.generation,
        "users": t.model().directory.users.len(),
        "decisions": t.model().decisions.len(),
        "profiles": t.profile_count(),
        "reloads": { "succeeded": served.succeeded, "failed": served.failed },
        "last_reload_error": served.last_error.as_deref(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AppState {
        let Ok((engine, _)) = Engine::bundled() else { panic!("the bundled example checks") };
        AppState {
            served: Arc::new(ArcSwap::from_pointee(Served::new(engine.table().clone()))),
            metrics: Arc::new(Metrics::new()),
            max_batch: 10,
        }
    }

    fn settings() -> Settings {
        Settings { addr: SocketAddr::from(([127, 0, 0, 1], 0)), max_body: 1024, max_batch: 10, token: None }
    }

    /// Reads one response off a keep-alive connection: the head and `Content-Length` bytes.
    fn response(s: &mut std::net::TcpStream) -> String {
        use std::io::Read;
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        while !out.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
            out.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&out).to_string();
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|n| n.trim().parse::<usize>()))
            .unwrap()
            .unwrap();
        let mut body = vec![0u8; length];
        s.read_exact(&mut body).unwrap();
        head + &String::from_utf8_lossy(&body)
    }

    #[test]
    fn readiness_is_one_snapshot_of_the_reloads() {
        let state = state();
        let table = state.served.load().table.clone();
        let writer = {
            let state = state.clone();
            std::thread::spawn(move || {
                for n in 1..=3000u64 {
                    let built = if n % 3 == 0 { Ok(table.clone()) } else { Err(format!("failure {}", n - n / 3)) };
                    publish(&state, built);
                }
            })
        };
        let mut looks = 0;
        while looks == 0 || !writer.is_finished() {
            let v = readiness(&state);
            let r = &v["reloads"];
            assert_eq!(v["generation"], r["succeeded"], "{v}");
            if let Some(last) = v["last_reload_error"].as_str() {
                assert_eq!(last, format!("failure {}", r["failed"]), "{v}");
            }
            looks += 1;
        }
        assert!(writer.join().is_ok());
        let v = readiness(&state);
        assert_eq!((v["generation"].as_u64(), v["reloads"]["failed"].as_u64()), (Some(1000), Some(2000)), "{v}");
    }

    #[test]
    fn a_watched_file_is_watched_through_its_directory_and_picked_out_by_name() {
        let root = std::env::temp_dir().join(format!("tenet-watched-{}", std::process::id()));
        let (pack, tenant) = (root.join("pack"), root.join("lakeside/tenant.tenet"));
        std::fs::create_dir_all(&pack).unwrap();
        std::fs::create_dir_all(root.join("lakeside")).unwrap();
        std::fs::write(&tenant, "").unwrap();
        let watched = Watched::new(&[pack.clone(), tenant.clone()]);
        let _ = std::fs::remove_dir_all(&root);
        let (pack, tenant) = (&watched.dirs[0], &watched.files[0]);
        let lakeside = tenant.parent().unwrap().to_path_buf();
        assert_eq!(
            watched.watches(),
            vec![
                (pack.clone(), notify::RecursiveMode::Recursive),
                (lakeside.clone(), notify::RecursiveMode::NonRecursive)
            ]
        );
        let event = |p: &std::path::Path| notify::Event::default().add_path(p.to_path_buf());
        assert!(watched.covers(&event(tenant)));
        assert!(watched.covers(&event(&pack.join("sub/decisions.tenet"))));
        assert!(!watched.covers(&event(&lakeside.join(".tenant.tenet.swp"))), "a neighbour is not a source");
        let renamed = event(&lakeside.join(".tenant.tenet.swp")).add_path(tenant.clone());
        assert!(watched.covers(&renamed), "renamed over a source");
    }

    #[test]
    fn heads_and_bodies_that_do_not_arrive_in_time_are_cut_off() {
        let limits = Limits {
            head: Duration::from_millis(300),
            request: Duration::from_millis(300),
            grace: Duration::from_millis(300),
        };
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            panic!("a runtime")
        };
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(settings().addr).await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let app = router(state(), &settings(), limits.request);
            let server = tokio::spawn(run(listener, app, limits, async move {
                let _ = stopped.await;
            }));
            let clients = tokio::task::spawn_blocking(move || {
                use std::io::{Read, Write};
                let connect = || {
                    let s = std::net::TcpStream::connect(addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    s
                };
                // Nothing, or half a head: the server hangs up once the head is overdue.
                let start = std::time::Instant::now();
                let mut silent = connect();
                let mut half = connect();
                half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
                for s in [&mut silent, &mut half] {
                    let mut out = Vec::new();
                    let _ = s.read_to_end(&mut out);
                    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
                }
                let took = start.elapsed();
                assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "{took:?}");

                // Half a body: 408 once the request is overdue.
                let mut slow = connect();
                slow.write_all(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{").unwrap();
                let answer = response(&mut slow);
                assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
                assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");

                // A keep-alive client that asks in time is served for as long as it keeps asking:
                // the head is due a limit after the last response, not after the connection opened.
                let mut steady = connect();
                for _ in 0..4 {
                    steady.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                    let answer = response(&mut steady);
                    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                    std::thread::sleep(Duration::from_millis(150));
                }
            })
            .await;
            let _ = stop.send(());
            let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
            if let Err(e) = clients {
                std::panic::resume_unwind(e.into_panic());
            }
            assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops: {stopped:?}");
        });
    }

    #[test]
    fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
        let (state, settings) = (state(), settings());
        async fn boom() -> StatusCode {
            let fail = true;
            assert!(!fail, "a handler bug");
            StatusCode::OK
        }
        let extra = Router::new().route("/boom", get(boom));
        let app = router_with(state, &settings, LIMITS.request, extra);
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            panic!("a runtime")
        };
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(settings.addr).await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            let get = |path: &'static str| {
                tokio::task::spawn_blocking(move || {
                    use std::io::{Read, Write};
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    s.write_all(req.as_bytes()).unwrap();
                    let mut out = String::new();
                    let _ = s.read_to_string(&mut out);
                    out
                })
            };
            let boom = get("/boom").await.unwrap();
            assert!(boom.starts_with("HTTP/1.1 500"), "{boom}");
            assert!(boom.contains("INTERNAL"), "{boom}");
            let health = get("/healthz").await.unwrap();
            assert!(health.starts_with("HTTP/1.1 200"), "{health}");
            // The panic is counted like any other answer.
            let metrics = get("/metrics").await.unwrap();
            assert!(metrics.contains(r#"tenet_http_requests_total{route="/boom",status="500"} 1"#), "{metrics}");
        });
    }
}
