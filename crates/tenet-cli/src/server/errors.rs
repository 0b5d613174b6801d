//! The error answers: one JSON shape, and messages that never repeat what the caller sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tenet::QueryError;

/// The JSON error every route answers with: `{"error": {"code", "message"}}`.
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// A query the table could not answer: 400.
pub(super) fn query_error(e: &QueryError) -> Response {
    error(StatusCode::BAD_REQUEST, e.code(), &query_message(e))
}

/// A query error's message without what the caller sent: the table's text repeats an unknown
/// user or decision, and a caller may have put a guardian's email or phone in either field.
/// What the table knows (a suggestion, a decision's name) is kept.
pub(super) fn query_message(e: &QueryError) -> String {
    let hint = |s: &Option<String>| s.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
    match e {
        QueryError::UnknownUser { suggestion, .. } => format!("unknown user{}", hint(suggestion)),
        QueryError::UnknownDecision { suggestion, .. } => format!("unknown decision{}", hint(suggestion)),
        other => other.to_string(),
    }
}
