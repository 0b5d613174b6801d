//! Prometheus metrics on `/metrics` and the one log line per request.

use super::AppState;
use super::errors::error;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tenet::DecisionTable;

pub(super) type Labels = Vec<(&'static str, String)>;

/// Prometheus metrics, served on `/metrics` in the OpenMetrics text format.
pub(super) struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    decisions: Family<Labels, Counter>,
    latency: Histogram,
    generation: Gauge,
    reloads: Family<Labels, Counter>,
}

impl Metrics {
    pub(super) fn new() -> Self {
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

    pub(super) fn decided(&self, decision: &str, allowed: bool) {
        let outcome = if allowed { "allow" } else { "deny" };
        self.decisions.get_or_create(&vec![("decision", decision.to_string()), ("outcome", outcome.to_string())]).inc();
    }

    pub(super) fn reloaded(&self, ok: bool, generation: u64) {
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
pub(super) fn known(table: &DecisionTable, user: &str, decision: &str) -> (String, String) {
    let user = table.user(user).map(|u| table.user_at(u).upn().to_string()).unwrap_or_default();
    let decision =
        table.decision(decision).map(|d| table.model().decisions[d.index()].name.clone()).unwrap_or_default();
    (user, decision)
}

pub(super) fn logged(mut response: Response, user: &str, decision: &str) -> Response {
    response.extensions_mut().insert(Logged { user: user.to_string(), decision: decision.to_string() });
    response
}

/// Counts every request by route and status, times it, and logs one line for it. The route is
/// the matched pattern, or `unmatched` for the 404 fallback: never the path, which the caller
/// wrote (and which would make one metric series per path).
pub(super) async fn track(
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

pub(super) async fn metrics(State(s): State<AppState>) -> Response {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &s.metrics.registry).is_err() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "metrics could not be encoded");
    }
    ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
        .into_response()
}
