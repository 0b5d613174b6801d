//! The handlers and their JSON: the same shape as `tenet decide --format json`. Error messages
//! never quote what the caller sent.

use super::AppState;
use super::errors::{error, query_error, query_message};
use super::metrics::{known, logged};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tenet::output::AnswerJson;
use tenet::{DecisionTable, QueryError};

/// The routes and fallbacks, before the layers; `extra` ones first (tests add a panicking one).
pub(super) fn routes(extra: Router<AppState>) -> Router<AppState> {
    extra
        .route("/metrics", get(super::metrics::metrics))
        .route("/v1/decide", post(decide))
        .route("/v1/decide/batch", post(batch))
        .route("/v1/users/{upn}/decisions", get(user_decisions))
        .route("/v1/explain", get(explain))
        .route("/v1/what-if", post(what_if))
        .route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/readyz", get(ready))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "this route does not take that method")
        })
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

fn answer<'t>(table: &'t DecisionTable, q: &DecideRequest) -> Result<AnswerJson<'t>, QueryError> {
    let d = table.decide(&q.user, &q.decision, q.guardian.as_deref())?;
    Ok(AnswerJson::new(&d))
}

/// A batch slot: the decision, or the error of that one query.
#[derive(Serialize)]
#[serde(untagged)]
enum Slot<'t> {
    Decision(AnswerJson<'t>),
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
    decisions: Vec<AnswerJson<'t>>,
}

/// The decision's JSON and the admin-facing explanation text.
#[derive(Serialize)]
struct Explained<'t> {
    #[serde(flatten)]
    decision: AnswerJson<'t>,
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
                    decisions.push(AnswerJson::new(&d));
                }
            }
        } else if let Ok(d) = table.decide_handles(user, handle, None) {
            decisions.push(AnswerJson::new(&d));
        }
    }
    for d in &decisions {
        s.metrics.decided(d.decision, d.allowed);
    }
    let upn = table.user_at(user).upn();
    logged(Json(UserDecisions { user: upn, decisions }).into_response(), upn, "*")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainParams {
    user: String,
    decision: String,
    guardian: Option<String>,
}

/// `{"change": "<cmdlet lines>"}`: what `tenet what-if --change` takes, in the body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WhatIfRequest {
    change: String,
}

impl Shape for WhatIfRequest {
    const SHAPE: &'static str = r#"{"change": "<Teams PowerShell lines>"}"#;
}

/// The changed decisions as `tenet what-if --format json` prints them (guardians always by
/// pseudonym), or 400 with the script's located errors. Built off the request path's thread:
/// it compiles a second table.
async fn what_if(State(s): State<AppState>, body: Result<Body<WhatIfRequest>, Response>) -> Response {
    let Body(q) = match body {
        Ok(b) => b,
        Err(rejected) => return rejected,
    };
    let table = s.served.load_full().table.clone();
    let built = tokio::task::spawn_blocking(move || {
        let before = tenet::Engine::from(table);
        match before.with_changes(tenet::Source::new("change.ps1", q.change)) {
            Ok(after) => {
                let guardians = tenet::snapshot::Guardians::Pseudonyms;
                Ok(crate::what_if::json(&crate::what_if::changes(&before, &after, guardians, true)))
            }
            Err(report) => {
                let items: Vec<serde_json::Value> =
                    report.diagnostics.iter().map(|d| d.to_json(&report.sources)).collect();
                Err(items)
            }
        }
    })
    .await;
    match built {
        Ok(Ok(v)) => logged(Json(v).into_response(), "", "what-if"),
        Ok(Err(diagnostics)) => {
            let n = diagnostics.len();
            let body = serde_json::json!({
                "error": { "code": "CHANGE_REFUSED", "message": format!("the change script has {n} error{}", if n == 1 { "" } else { "s" }) },
                "diagnostics": diagnostics,
            });
            logged((StatusCode::BAD_REQUEST, Json(body)).into_response(), "", "what-if")
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the what-if failed inside the server"),
    }
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
            let v = AnswerJson::new(&d);
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
pub(super) fn readiness(s: &AppState) -> serde_json::Value {
    let served = s.served.load();
    let t = &served.table;
    serde_json::json!({
        "ready": true,
        "generation": served.generation,
        "users": t.model().directory.user_count(),
        "decisions": t.model().decisions.len(),
        "profiles": t.profile_count(),
        "bundle": t.bundle_checksum().map(|sha256| serde_json::json!({ "sha256": sha256 })),
        "reloads": { "succeeded": served.succeeded, "failed": served.failed },
        "last_reload_error": served.last_error.as_deref(),
    })
}
