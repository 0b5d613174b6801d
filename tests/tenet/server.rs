//! `tenet serve` end to end: the real binary on an ephemeral loopback port, every route and
//! every error status.

use crate::support::repo;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    client: Client,
    /// What the server wrote on stderr after announcing its address.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Sends HTTP/1.1 requests to a server.
#[derive(Clone)]
struct Client {
    addr: String,
}

impl std::ops::Deref for Server {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
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
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        reader.read_line(&mut line).expect("the server says where it listens");
        // Keep reading what the server logs, so its writes never meet a closed pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        Server { child, client: Client { addr }, log }
    }
}

impl Client {
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
            {"user": "david.cohen@lakeside.edu", "decision": "chat_with_guardians"},
            {"user": "ana.rivera@lakeside.edu"}
        ]}"#,
    );
    assert_eq!(status, 200);
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r[3]["error"]["code"], "BAD_REQUEST", "a malformed query fails only its slot");
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
fn sigterm_and_sigint_stop_the_server_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let mut server = Server::start(&[]);
        let pid = server.child.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
        let status = server.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "after {signal}");
    }
}

/// A scratch copy of the pack and the Lakeside tenant, for reload tests.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tenet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["teams", "lakeside"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (from, to) in [("policies/teams", "teams"), ("policies/examples/lakeside", "lakeside")] {
        for e in std::fs::read_dir(repo().join(from)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "tenet" || x == "yaml") {
                std::fs::copy(&p, dir.join(to).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    dir
}

fn set_privacy(dir: &std::path::Path, on: bool, broken: bool) {
    let path = dir.join("lakeside/tenant.tenet");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("EnablePrivacyMode = false", &format!("EnablePrivacyMode = {on}"))
        .replace("EnablePrivacyMode = true", &format!("EnablePrivacyMode = {on}"))
        .replace("\nthis is not a policy\n", "\n");
    let text = if broken { format!("{text}\nthis is not a policy\n") } else { text };
    std::fs::write(&path, text).unwrap();
}

fn presence(server: &Client) -> String {
    let (status, v) = server.json(
        "POST",
        "/v1/decide",
        r#"{"user": "ana.rivera@lakeside.edu", "decision": "presence_visible_to_guardians"}"#,
    );
    assert_eq!(status, 200);
    v["reason"]["code"].as_str().unwrap().to_string()
}

/// Polls until `ready` says what `until` wants (at most ten seconds).
fn wait_ready(server: &Server, until: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..200 {
        let (_, v) = server.json("GET", "/readyz", "");
        if until(&v) {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the server did not reload in time");
}

#[cfg(unix)]
#[test]
fn sighup_reloads_and_a_broken_reload_keeps_the_last_good_table() {
    let dir = scratch("hup");
    let (teams, lakeside) = (dir.join("teams"), dir.join("lakeside"));
    let server = Server::start(&["--policies", teams.to_str().unwrap(), "--policies", lakeside.to_str().unwrap()]);
    assert_eq!(presence(&server), "ALLOW");
    let hup =
        || assert!(Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().unwrap().success());

    set_privacy(&dir, true, false);
    hup();
    wait_ready(&server, |v| v["generation"] == 1);
    assert_eq!(presence(&server), "PRIVACY_MODE_ON");

    set_privacy(&dir, false, true);
    hup();
    let v = wait_ready(&server, |v| v["reloads"]["failed"] == 1);
    assert!(v["last_reload_error"].as_str().unwrap().contains("E0004"), "{v}");
    assert_eq!(v["generation"], 1);
    assert_eq!(presence(&server), "PRIVACY_MODE_ON", "the last good table still serves");
    let metrics = server.request("GET", "/metrics", "").1;
    for line in [
        r#"tenet_reloads_total{result="success"} 1"#,
        r#"tenet_reloads_total{result="failure"} 1"#,
        "tenet_table_generation 1",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in:\n{metrics}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn watch_reloads_when_a_file_changes() {
    let dir = scratch("watch");
    let (teams, lakeside) = (dir.join("teams"), dir.join("lakeside"));
    let server =
        Server::start(&["--watch", "--policies", teams.to_str().unwrap(), "--policies", lakeside.to_str().unwrap()]);
    assert_eq!(presence(&server), "ALLOW");
    set_privacy(&dir, true, false);
    wait_ready(&server, |v| v["generation"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(presence(&server), "PRIVACY_MODE_ON");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn reloads_under_load_never_fail_a_request() {
    let dir = scratch("load");
    let (teams, lakeside) = (dir.join("teams"), dir.join("lakeside"));
    let server = Server::start(&["--policies", teams.to_str().unwrap(), "--policies", lakeside.to_str().unwrap()]);
    let pid = server.child.id().to_string();
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let client = server.client.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                for _ in 0..150 {
                    seen.push(presence(&client));
                }
                seen
            })
        })
        .collect();
    for i in 0..12 {
        set_privacy(&dir, i % 2 == 0, i % 3 == 2);
        assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
        std::thread::sleep(std::time::Duration::from_millis(40));
    }
    for c in clients {
        for answer in c.join().unwrap() {
            assert!(answer == "ALLOW" || answer == "PRIVACY_MODE_ON", "an answer from neither table: {answer}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

impl Client {
    /// Like [`Client::request`], with an `Authorization` header.
    fn request_with(&self, method: &str, path: &str, authorization: &str) -> u16 {
        let mut stream = TcpStream::connect(&self.addr).expect("connects");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {authorization}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("sends");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }
}

#[test]
fn a_token_guards_every_route_but_healthz() {
    let file = std::env::temp_dir().join(format!("tenet-token-{}", std::process::id()));
    std::fs::write(&file, "s3cret-token\n").unwrap();
    let server = Server::start(&["--token-file", file.to_str().unwrap()]);
    assert_eq!(server.request("GET", "/healthz", "").0, 200);
    let (status, text) = server.request("GET", "/readyz", "");
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("UNAUTHORIZED"));
    assert_eq!(server.request_with("GET", "/readyz", "Bearer wrong"), 401);
    assert_eq!(server.request_with("GET", "/readyz", "Bearer s3cret-token"), 200);
    assert_eq!(server.request_with("GET", "/v1/users/ana.rivera@lakeside.edu/decisions", "Bearer s3cret-token"), 200);
    let _ = std::fs::remove_file(&file);

    let missing = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["serve", "--addr", "127.0.0.1:0", "--token-file", "no/such/token"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn metrics_count_requests_decisions_and_reloads() {
    let server = Server::start(&[]);
    server.request("POST", "/v1/decide", r#"{"user": "ana.rivera@lakeside.edu", "decision": "parents_app"}"#);
    server.request("POST", "/v1/decide", r#"{"user": "liam.chen@lakeside.edu", "decision": "parents_app"}"#);
    server.request("POST", "/v1/decide", r#"{"user": "nobody@lakeside.edu", "decision": "parents_app"}"#);
    let (status, text) = server.request("GET", "/metrics", "");
    assert_eq!(status, 200);
    for line in [
        r#"tenet_decisions_total{decision="parents_app",outcome="allow"} 1"#,
        r#"tenet_decisions_total{decision="parents_app",outcome="deny"} 1"#,
        r#"tenet_http_requests_total{route="/v1/decide",status="200"} 2"#,
        r#"tenet_http_requests_total{route="/v1/decide",status="400"} 1"#,
        "tenet_table_generation 0",
        "tenet_http_request_duration_seconds_count",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(text.trim_end().ends_with("# EOF"), "OpenMetrics text ends with # EOF");
}

#[test]
fn json_request_logs_name_route_status_user_and_decision_but_no_guardian() {
    let server = Server::start(&["--log-format", "json"]);
    server.request(
        "POST",
        "/v1/decide",
        r#"{"user": "ana.rivera@lakeside.edu", "decision": "call_guardian", "guardian": "maria.kim@example.com"}"#,
    );
    let mut line = None;
    for _ in 0..100 {
        line = server.log.lock().unwrap().iter().find(|l| l.contains("/v1/decide")).cloned();
        if line.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let line = line.expect("a log line for the request");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let f = &v["fields"];
    assert_eq!(f["route"], "/v1/decide", "{line}");
    assert_eq!(f["status"], 200, "{line}");
    assert_eq!(f["user"], "ana.rivera@lakeside.edu", "{line}");
    assert_eq!(f["decision"], "call_guardian", "{line}");
    assert!(f["latency_us"].is_u64(), "{line}");
    // A guardian's email sent as the user (a failed query) is not logged either.
    server.request("POST", "/v1/decide", r#"{"user": "maria.kim@example.com", "decision": "+12065550101"}"#);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = server.log.lock().unwrap();
    assert!(log.iter().filter(|l| l.contains("/v1/decide")).count() >= 2, "{log:?}");
    assert!(!log.iter().any(|l| l.contains("maria.kim") || l.contains("5550101")), "no guardian in the logs: {log:?}");
}
