//! `tenet serve` end to end: the real binary on an ephemeral loopback port, every route and
//! every error status.

use crate::support::repo;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenet"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(repo())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut line = String::new();
        BufReader::new(stderr).read_line(&mut line).expect("the server says where it listens");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        Server { child, addr }
    }

    /// Sends one request; returns the status and the body.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("sends");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }

    fn json(&self, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let (status, text) = self.request(method, path, body);
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn decide_returns_exactly_the_cli_json() {
    let server = Server::start(&[]);
    let (status, body) = server.request(
        "POST",
        "/v1/decide",
        r#"{"user": "ana.rivera@lakeside.edu", "decision": "invite_guardian", "guardian": "maria.kim@example.com"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let cli = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["decide", "--user", "ana.rivera@lakeside.edu", "--decision", "invite_guardian"])
        .args(["--guardian", "maria.kim@example.com", "--format", "json"])
        .current_dir(repo())
        .output()
        .unwrap();
    let from_cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    let from_server: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(from_server, from_cli);
    // Same field order as the CLI, too.
    assert!(body.starts_with(r#"{"user":"ana.rivera@lakeside.edu","decision":"invite_guardian""#), "{body}");
}

#[test]
fn batch_answers_in_order_with_errors_in_their_slots() {
    let server = Server::start(&[]);
    let (status, v) = server.json(
        "POST",
        "/v1/decide/batch",
        r#"{"queries": [
            {"user": "ana.rivera@lakeside.edu", "decision": "chat_with_guardians"},
            {"user": "nobody@lakeside.edu", "decision": "chat_with_guardians"},
            {"user": "david.cohen@lakeside.edu", "decision": "chat_with_guardians"}
        ]}"#,
    );
    assert_eq!(status, 200);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0]["allowed"], true);
    assert_eq!(r[1]["error"]["code"], "UNKNOWN_USER");
    assert_eq!(r[2]["reason"]["code"], "CHAT_OFF");
}

#[test]
fn batch_over_the_limit_is_refused() {
    let server = Server::start(&["--max-batch", "2"]);
    let q = r#"{"user": "ana.rivera@lakeside.edu", "decision": "parents_app"}"#;
    let (status, v) = server.json("POST", "/v1/decide/batch", &format!(r#"{{"queries": [{q}, {q}, {q}]}}"#));
    assert_eq!(status, 413);
    assert_eq!(v["error"]["code"], "BATCH_TOO_LARGE");
}

#[test]
fn user_decisions_explain_health_and_readiness() {
    let server = Server::start(&[]);
    let (status, v) = server.json("GET", "/v1/users/ana.rivera@lakeside.edu/decisions", "");
    assert_eq!(status, 200);
    let decisions = v["decisions"].as_array().unwrap();
    // 5 decisions about the user, 7 guardian decisions for each of Ana's 4 guardians.
    assert_eq!(decisions.len(), 5 + 7 * 4);

    let (status, v) = server.json(
        "GET",
        "/v1/explain?user=ben.okafor@lakeside.edu&decision=call_guardian&guardian=kevin.martin@example.com",
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(v["reason"]["code"], "NO_PSTN_CONNECTIVITY");
    assert!(v["explanation"].as_str().unwrap().contains("deciding rule: NO_PSTN_CONNECTIVITY"));

    assert_eq!(server.json("GET", "/healthz", "").1["status"], "ok");
    let (status, ready) = server.json("GET", "/readyz", "");
    assert_eq!(status, 200);
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["users"], 22);
}

#[test]
fn bad_requests_get_json_errors_with_the_right_status() {
    let server = Server::start(&["--max-body", "4096"]);
    let cases: [(&str, &str, String, u16, &str); 8] = [
        ("POST", "/v1/decide", "{not json".into(), 400, "BAD_REQUEST"),
        ("POST", "/v1/decide", r#"{"user": "a@b.c", "decision": "x", "extra": 1}"#.into(), 400, "BAD_REQUEST"),
        ("POST", "/v1/decide", r#"{"user": "nobody@x.edu", "decision": "parents_app"}"#.into(), 400, "UNKNOWN_USER"),
        (
            "POST",
            "/v1/decide",
            r#"{"user": "ana.rivera@lakeside.edu", "decision": "chat"}"#.into(),
            400,
            "UNKNOWN_DECISION",
        ),
        (
            "POST",
            "/v1/decide",
            r#"{"user": "ana.rivera@lakeside.edu", "decision": "call_guardian", "guardian": "who@example.com"}"#.into(),
            400,
            "UNKNOWN_GUARDIAN",
        ),
        (
            "POST",
            "/v1/decide",
            format!(r#"{{"user": "{}", "decision": "x"}}"#, "a".repeat(10_000)),
            413,
            "BODY_TOO_LARGE",
        ),
        ("GET", "/v1/nothing-here", String::new(), 404, "NOT_FOUND"),
        ("GET", "/v1/decide", String::new(), 405, "METHOD_NOT_ALLOWED"),
    ];
    for (method, path, body, status, code) in cases {
        let (got, text) = server.request(method, path, &body);
        assert_eq!(got, status, "{method} {path}: {text}");
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path} ({e}): {text}"));
        assert_eq!(v["error"]["code"], code, "{method} {path}: {text}");
        assert!(!text.contains("who@example.com"), "a guardian id sent in is not echoed: {text}");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start(&[]);
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
