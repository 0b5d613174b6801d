//! `tenet serve` end to end: the real binary on an ephemeral loopback port, every route and
//! every error status.
//!
//! Hygiene: a started server is killed and reaped on every path (also when an assertion fails),
//! nothing waits on the server without a deadline, and each test's scratch files live in a
//! directory of their own that is removed when the test ends.

use crate::support::repo;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for the server to do something it should do at once.
const PATIENCE: Duration = Duration::from_secs(10);

/// A running server, killed and reaped when dropped.
struct Server {
    child: Child,
    client: Client,
    /// What the server wrote on stderr after announcing its address.
    log: Arc<Mutex<Vec<String>>>,
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
        let child = Command::new(env!("CARGO_BIN_EXE_tenet"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .current_dir(repo())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        // From here on the guard owns the process: a failed start still kills it.
        let mut server = Server { child, client: Client { addr: String::new() }, log: Arc::default() };
        let stderr = server.child.stderr.take().expect("stderr is piped");
        let (first, announced) = std::sync::mpsc::channel();
        let sink = server.log.clone();
        // Keep reading what the server logs, so its writes never meet a closed pipe.
        std::thread::spawn(move || {
            let lines = BufReader::new(stderr).lines().map_while(Result::ok);
            // Lines before the address (an import's summary, say) are kept with the log.
            let mut announced = false;
            for line in lines {
                if !announced && line.starts_with("listening on http://") {
                    announced = true;
                    let _ = first.send(line);
                    continue;
                }
                sink.lock().unwrap().push(line);
            }
            if !announced {
                let _ = first.send(String::new());
            }
        });
        let line = announced.recv_timeout(PATIENCE).expect("the server says where it listens");
        server.client.addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected: {line}"))
            .to_string();
        server
    }

    /// Sends a signal (`-HUP`, `-TERM`, ...) to the server.
    #[cfg(unix)]
    fn signal(&self, signal: &str) {
        let sent = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill {signal}");
    }

    /// The exit status, if the process ends within `limit`.
    fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        // SIGKILL can't be caught: a bounded wait reaps the process.
        let _ = self.exited_within(PATIENCE);
    }
}

/// A response as read off the wire.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn parse(bytes: &[u8]) -> Reply {
        let text = String::from_utf8_lossy(bytes);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        Reply { status, head: head.to_string(), body: body.to_string() }
    }

    /// A header's value (the name compared case-insensitively).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    /// Whether the body is as long as `Content-Length` says.
    fn complete(&self) -> bool {
        self.header("content-length").and_then(|n| n.parse::<usize>().ok()) == Some(self.body.len())
    }
}

impl Client {
    /// A connection that gives up on a silent server after [`PATIENCE`].
    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.addr).expect("connects");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        stream
    }

    /// Sends raw bytes on a fresh connection and reads the response to the end.
    fn send(&self, raw: &str) -> Reply {
        let mut stream = self.connect();
        stream.write_all(raw.as_bytes()).expect("sends");
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        Reply::parse(&bytes)
    }

    /// Sends one request; returns the status and the body.
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let reply = self.send(&format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        (reply.status, reply.body)
    }

    fn json(&self, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
        let (status, text) = self.request(method, path, body);
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
    }

    /// Like [`Client::request`], with an `Authorization` header.
    fn request_with(&self, method: &str, path: &str, authorization: &str) -> Reply {
        self.send(&format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {authorization}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
    }

    /// The `/metrics` text.
    fn metrics(&self) -> String {
        let (status, text) = self.request("GET", "/metrics", "");
        assert_eq!(status, 200, "{text}");
        text
    }
}

/// A directory of one test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("tenet-server-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A scratch copy of the pack (`teams/`) and the Lakeside tenant (`lakeside/`), for reload tests.
    fn policies(name: &str) -> Scratch {
        let dir = Scratch::new(name);
        for (from, to) in [("policies/teams", "teams"), ("policies/examples/lakeside", "lakeside")] {
            std::fs::create_dir_all(dir.join(to)).unwrap();
            for e in std::fs::read_dir(repo().join(from)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "tenet" || x == "yaml") {
                    std::fs::copy(&p, dir.join(to).join(p.file_name().unwrap())).unwrap();
                }
            }
        }
        dir
    }

    /// `--policies teams --policies lakeside`, as strings for [`Server::start`].
    fn policy_args(&self) -> Vec<String> {
        let path = |sub: &str| self.join(sub).to_str().unwrap().to_string();
        vec!["--policies".into(), path("teams"), "--policies".into(), path("lakeside")]
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn args(owned: &[String]) -> Vec<&str> {
    owned.iter().map(String::as_str).collect()
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
fn serves_a_tenant_imported_from_exports() {
    let exports = repo().join("tests/fixtures/exports/lakeside");
    let mut owned: Vec<String> = Vec::new();
    for d in ["teams", "graph", "sds-v2.1", "supplement"] {
        owned.extend(["--import".to_string(), exports.join(d).display().to_string()]);
    }
    owned.extend(["--parents-app-id".into(), crate::import::PARENTS_APP_ID.into()]);
    owned.extend(["--approvals-app-id".into(), crate::import::APPROVALS_APP_ID.into()]);
    let server = Server::start(&args(&owned));
    let (status, body) =
        server.request("POST", "/v1/decide", r#"{"user": "frank.mueller@lakeside.edu", "decision": "parents_app"}"#);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("APP_BLOCKED_BY_PERMISSION_POLICY"), "{body}");
    // Provenance names the admin's own export, never the generated tenant file.
    assert!(body.contains("Get-CsOnlineUser.json:240 [5].TeamsAppPermissionPolicy"), "{body}");
    assert!(!body.contains("imported tenant.tenet"), "{body}");
}

#[test]
fn a_body_announced_over_the_limit_is_refused_at_once() {
    let server = Server::start(&["--max-body", "4096"]);
    let started = std::time::Instant::now();
    // 10 GB announced, nothing sent: the answer comes before any body byte does.
    let reply = server.send(
        "POST /v1/decide HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(reply.body.contains("BODY_TOO_LARGE"), "{}", reply.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn serves_decisions_as_of_a_date() {
    let server = Server::start(&["--as-of", "2025-10-01"]);
    let (status, body) =
        server.request("POST", "/v1/decide", r#"{"user": "ana.rivera@lakeside.edu", "decision": "parents_app"}"#);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("FEATURE_RETIRED") && body.contains("--as-of 2025-10-01"), "{body}");
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

    // Both routes count the decisions they answer, like /v1/decide.
    let mut counted = std::collections::BTreeMap::new();
    for d in decisions {
        let outcome = if d["allowed"] == true { "allow" } else { "deny" };
        *counted.entry((d["decision"].as_str().unwrap().to_string(), outcome)).or_insert(0) += 1;
    }
    *counted.entry(("call_guardian".to_string(), "deny")).or_insert(0) += 1;
    let metrics = server.metrics();
    for ((decision, outcome), n) in counted {
        let line = format!(r#"tenet_decisions_total{{decision="{decision}",outcome="{outcome}"}} {n}"#);
        assert!(metrics.contains(&line), "missing `{line}` in:\n{metrics}");
    }
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

#[test]
fn error_messages_never_repeat_what_the_caller_sent() {
    let server = Server::start(&[]);
    // serde's messages quote values in double quotes, in backticks and with escaped quotes.
    let bodies = [
        // An unknown field named by a guardian's email (serde: unknown field `...`).
        (
            "/v1/decide",
            r#"{"user": "ana.rivera@lakeside.edu", "decision": "call_guardian", "maria.kim@example.com": 1}"#,
        ),
        // A string where a list belongs, with escaped quotes around the email.
        ("/v1/decide/batch", r#"{"queries": "call \"maria.kim@example.com\" or +12065550101"}"#),
        // A guardian's email and phone as the user and the decision.
        ("/v1/decide", r#"{"user": "maria.kim@example.com", "decision": "+12065550101"}"#),
        // Not JSON after the email.
        ("/v1/decide", "{\"user\": \"maria.kim@example.com\",\n \"decision\" \"+12065550101\"}"),
    ];
    for (path, body) in bodies {
        let (status, text) = server.request("POST", path, body);
        assert_eq!(status, 400, "{body}: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        assert!(v["error"]["code"].is_string(), "{text}");
        assert!(!text.contains("maria.kim") && !text.contains("5550101"), "{body} was echoed: {text}");
    }
    // A JSON error says where, not what.
    let (_, v) = server.json("POST", "/v1/decide", "{\"user\": \"maria.kim@example.com\",\n \"decision\" 1}");
    assert_eq!(v["error"]["code"], "BAD_REQUEST");
    assert!(v["error"]["message"].as_str().unwrap().contains("line 2, column 13"), "{v}");
    // In a batch slot.
    let (status, text) = server.request(
        "POST",
        "/v1/decide/batch",
        r#"{"queries": [{"user": "ana.rivera@lakeside.edu", "decision": "parents_app", "maria.kim@example.com": 1}]}"#,
    );
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("BAD_REQUEST") && !text.contains("maria.kim"), "{text}");
    // In a query string.
    let (status, text) =
        server.request("GET", "/v1/explain?user=ana.rivera%40lakeside.edu&decision=x&maria.kim%40example.com=1", "");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("BAD_REQUEST") && !text.contains("maria.kim"), "{text}");
}

#[test]
fn a_path_that_is_not_utf8_gets_a_json_error() {
    let server = Server::start(&[]);
    let (status, v) = server.json("GET", "/v1/users/%FF/decisions", "");
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "BAD_REQUEST", "{v}");
}

#[cfg(unix)]
#[test]
fn sigterm_and_sigint_stop_the_server_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let mut server = Server::start(&[]);
        server.signal(signal);
        let status = server.exited_within(PATIENCE).unwrap_or_else(|| panic!("still running after {signal}"));
        assert_eq!(status.code(), Some(0), "after {signal}");
    }
}

/// Bound on how long a stopping server may take: its grace for requests in flight (5 s) and slack.
const STOP_BOUND: Duration = Duration::from_secs(8);

#[cfg(unix)]
#[test]
fn a_slow_client_does_not_keep_the_server_from_stopping() {
    let mut server = Server::start(&[]);
    let head = "POST /v1/decide HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
    // Half a request head, and a whole head with half its body: neither ever finishes.
    let mut half_head = server.connect();
    half_head.write_all(head.as_bytes()).unwrap();
    let mut half_body = server.connect();
    half_body.write_all(format!("{head}Content-Length: 200\r\n\r\n{{\"user\": ").as_bytes()).unwrap();
    // One that finishes its body after the signal, within the grace period, and is answered.
    let body = r#"{"user": "ana.rivera@lakeside.edu", "decision": "parents_app"}"#;
    let mut in_flight = server.connect();
    in_flight.write_all(format!("{head}Content-Length: {}\r\n\r\n{}", body.len(), &body[..10]).as_bytes()).unwrap();
    // The server has taken all three by the time it answers a fourth.
    assert_eq!(server.request("GET", "/healthz", "").0, 200);
    std::thread::sleep(Duration::from_millis(200));

    let signalled = Instant::now();
    server.signal("-TERM");
    std::thread::sleep(Duration::from_millis(300));
    in_flight.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = Vec::new();
    let _ = in_flight.read_to_end(&mut answer);
    let answer = Reply::parse(&answer);
    assert_eq!(answer.status, 200, "a request in flight is finished: {answer:?}");
    assert!(answer.complete(), "{answer:?}");

    let status = server.exited_within(STOP_BOUND).expect("the server stops although two clients never finish");
    assert_eq!(status.code(), Some(0));
    assert!(signalled.elapsed() < STOP_BOUND);
    drop((half_head, half_body));
}

/// The Lakeside tenant with privacy mode on or off, and with a line that breaks it or not.
fn tenant_text(dir: &Path, on: bool, broken: bool) -> String {
    let text = std::fs::read_to_string(dir.join("lakeside/tenant.tenet")).unwrap();
    let text = text
        .replace("EnablePrivacyMode = false", &format!("EnablePrivacyMode = {on}"))
        .replace("EnablePrivacyMode = true", &format!("EnablePrivacyMode = {on}"))
        .replace("\nthis is not a policy\n", "\n");
    if broken { format!("{text}\nthis is not a policy\n") } else { text }
}

fn set_privacy(dir: &Path, on: bool, broken: bool) {
    let text = tenant_text(dir, on, broken);
    std::fs::write(dir.join("lakeside/tenant.tenet"), text).unwrap();
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

/// Polls `/readyz` until it says what `until` wants (at most [`PATIENCE`]).
fn wait_ready(server: &Server, until: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, v) = server.json("GET", "/readyz", "");
        if until(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "the server did not reload in time: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
#[test]
fn sighup_reloads_and_a_broken_reload_keeps_the_last_good_table() {
    let dir = Scratch::policies("hup");
    let server = Server::start(&args(&dir.policy_args()));
    assert_eq!(presence(&server), "ALLOW");

    set_privacy(&dir, true, false);
    server.signal("-HUP");
    let v = wait_ready(&server, |v| v["generation"] == 1);
    assert_eq!(presence(&server), "PRIVACY_MODE_ON");
    assert!(v["bundle"].is_null(), "a table built from sources names no bundle: {v}");

    set_privacy(&dir, false, true);
    server.signal("-HUP");
    let v = wait_ready(&server, |v| v["reloads"]["failed"] == 1);
    assert!(v["last_reload_error"].as_str().unwrap().contains("E0004"), "{v}");
    assert_eq!(v["generation"], 1);
    assert_eq!(presence(&server), "PRIVACY_MODE_ON", "the last good table still serves");
    let metrics = server.metrics();
    for line in [
        r#"tenet_reloads_total{result="success"} 1"#,
        r#"tenet_reloads_total{result="failure"} 1"#,
        "tenet_table_generation 1",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in:\n{metrics}");
    }
}

#[test]
fn watch_reloads_when_a_file_changes() {
    let dir = Scratch::policies("watch");
    let mut argv = vec!["--watch".to_string()];
    argv.extend(dir.policy_args());
    let server = Server::start(&args(&argv));
    assert_eq!(presence(&server), "ALLOW");
    set_privacy(&dir, true, false);
    wait_ready(&server, |v| v["generation"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(presence(&server), "PRIVACY_MODE_ON");
}

#[test]
fn watch_follows_a_file_an_editor_replaces_by_renaming() {
    let dir = Scratch::policies("rename");
    let tenant = dir.join("lakeside/tenant.tenet");
    let (teams, directory) = (dir.join("teams"), dir.join("lakeside/directory.yaml"));
    let server = Server::start(&[
        "--watch",
        "--policies",
        teams.to_str().unwrap(),
        "--policies",
        tenant.to_str().unwrap(),
        "--directory",
        directory.to_str().unwrap(),
    ]);
    assert_eq!(presence(&server), "ALLOW");
    // Saved twice the way editors do: a new file beside it, renamed over it. A watch on the
    // file itself would end with the first save.
    for (generation, on, answer) in [(1, true, "PRIVACY_MODE_ON"), (2, false, "ALLOW")] {
        let saved = dir.join("lakeside/.tenant.tenet.swp");
        std::fs::write(&saved, tenant_text(&dir, on, false)).unwrap();
        std::fs::rename(&saved, &tenant).unwrap();
        wait_ready(&server, |v| v["generation"].as_u64().unwrap_or(0) >= generation);
        assert_eq!(presence(&server), answer, "after save {generation}");
    }
}

/// What the presence query answered, checked to be a whole, well-formed decision.
fn checked_presence(reply: &Reply) -> String {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.complete(), "a cut-off body: {reply:?}");
    let v: serde_json::Value =
        serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {reply:?}"));
    assert_eq!(v["user"], "ana.rivera@lakeside.edu", "{v}");
    assert_eq!(v["decision"], "presence_visible_to_guardians", "{v}");
    let code = v["reason"]["code"].as_str().unwrap_or_default().to_string();
    assert_eq!(v["allowed"], code == "ALLOW", "{v}");
    assert!(code == "ALLOW" || code == "PRIVACY_MODE_ON", "an answer from neither table: {v}");
    code
}

#[cfg(unix)]
#[test]
fn reloads_under_load_answer_every_request_whole() {
    let dir = Scratch::policies("load");
    let server = Server::start(&args(&dir.policy_args()));
    let stop = Arc::new(AtomicBool::new(false));
    let request = "POST /v1/decide HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 80\r\nConnection: close\r\n\r\n{\"user\": \"ana.rivera@lakeside.edu\", \"decision\": \"presence_visible_to_guardians\"}";
    assert_eq!(request.split_once("\r\n\r\n").unwrap().1.len(), 80);
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (client, stop) = (server.client.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut allowed, mut private) = (0, 0);
                while !stop.load(Ordering::SeqCst) {
                    match checked_presence(&client.send(request)).as_str() {
                        "ALLOW" => allowed += 1,
                        _ => private += 1,
                    }
                }
                (allowed, private)
            })
        })
        .collect();
    // Six good reloads alternating the answer, with a broken one after every second.
    let mut failed = 0;
    for generation in 1..=6 {
        set_privacy(&dir, generation % 2 == 1, false);
        server.signal("-HUP");
        wait_ready(&server, |v| v["generation"] == generation);
        // Give the clients time to meet this table.
        std::thread::sleep(Duration::from_millis(100));
        if generation % 2 == 0 {
            set_privacy(&dir, false, true);
            server.signal("-HUP");
            failed += 1;
            wait_ready(&server, |v| v["reloads"]["failed"] == failed);
        }
    }
    stop.store(true, Ordering::SeqCst);
    let (mut allowed, mut private) = (0, 0);
    for c in clients {
        let (a, p) = c.join().unwrap();
        (allowed, private) = (allowed + a, private + p);
    }
    assert!(allowed > 0 && private > 0, "both tables answered: {allowed} ALLOW, {private} PRIVACY_MODE_ON");
    let ready = server.json("GET", "/readyz", "").1;
    assert_eq!(ready["generation"], 6, "{ready}");
    assert_eq!(ready["reloads"]["succeeded"], 6, "{ready}");
    assert_eq!(ready["reloads"]["failed"], 3, "{ready}");
}

#[test]
fn a_token_guards_every_route_but_healthz() {
    let dir = Scratch::new("token");
    let file = dir.join("token");
    std::fs::write(&file, "s3cret-token\n").unwrap();
    let server = Server::start(&["--token-file", file.to_str().unwrap()]);
    assert_eq!(server.request("GET", "/healthz", "").0, 200);
    let (status, text) = server.request("GET", "/readyz", "");
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("UNAUTHORIZED"));
    let refused = server.request_with("GET", "/readyz", "Bearer wrong");
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"), "{refused:?}");
    assert_eq!(server.request_with("GET", "/readyz", "Basic czNjcmV0LXRva2Vu").status, 401);
    assert_eq!(server.request_with("GET", "/readyz", "Bearer s3cret-token").status, 200);
    // The scheme's name is case-insensitive (RFC 9110).
    assert_eq!(server.request_with("GET", "/readyz", "bearer s3cret-token").status, 200);
    assert_eq!(server.request_with("GET", "/readyz", "BEARER s3cret-token").status, 200);
    assert_eq!(
        server.request_with("GET", "/v1/users/ana.rivera@lakeside.edu/decisions", "Bearer s3cret-token").status,
        200
    );

    let missing = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["serve", "--addr", "127.0.0.1:0", "--token-file", "no/such/token"])
        .current_dir(repo())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut missing = Server { child: missing, client: Client { addr: String::new() }, log: Arc::default() };
    let status = missing.exited_within(PATIENCE).expect("a missing token file stops the server at once");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn metrics_count_requests_decisions_and_reloads() {
    let server = Server::start(&[]);
    server.request("POST", "/v1/decide", r#"{"user": "ana.rivera@lakeside.edu", "decision": "parents_app"}"#);
    server.request("POST", "/v1/decide", r#"{"user": "liam.chen@lakeside.edu", "decision": "parents_app"}"#);
    server.request("POST", "/v1/decide", r#"{"user": "nobody@lakeside.edu", "decision": "parents_app"}"#);
    // The fallback is counted too, under one label whatever the path.
    assert_eq!(server.request("GET", "/v1/nothing-here", "").0, 404);
    assert_eq!(server.request("GET", "/nor-here", "").0, 404);
    let text = server.metrics();
    for line in [
        r#"tenet_http_requests_total{route="unmatched",status="404"} 2"#,
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

/// The first log line that mentions `needle`, waiting for it at most [`PATIENCE`].
fn log_line(server: &Server, needle: &str) -> serde_json::Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(line) = server.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
            return serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        }
        assert!(Instant::now() < deadline, "no log line with {needle}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn json_request_logs_name_route_status_user_and_decision_but_no_guardian() {
    let server = Server::start(&["--log-format", "json"]);
    server.request(
        "POST",
        "/v1/decide",
        r#"{"user": "ana.rivera@lakeside.edu", "decision": "call_guardian", "guardian": "maria.kim@example.com"}"#,
    );
    let v = log_line(&server, "/v1/decide");
    let f = &v["fields"];
    assert_eq!(f["route"], "/v1/decide", "{v}");
    assert_eq!(f["status"], 200, "{v}");
    assert_eq!(f["user"], "ana.rivera@lakeside.edu", "{v}");
    assert_eq!(f["decision"], "call_guardian", "{v}");
    assert!(f["latency_us"].is_u64(), "{v}");
    // A guardian's email sent as the user (a failed query) is not logged either.
    server.request("POST", "/v1/decide", r#"{"user": "maria.kim@example.com", "decision": "+12065550101"}"#);
    // /v1/explain logs the user and decision too, and not the guardian.
    server.request(
        "GET",
        "/v1/explain?user=ana.rivera%40lakeside.edu&decision=call_guardian&guardian=maria.kim%40example.com",
        "",
    );
    let v = log_line(&server, "/v1/explain");
    assert_eq!(v["fields"]["user"], "ana.rivera@lakeside.edu", "{v}");
    assert_eq!(v["fields"]["decision"], "call_guardian", "{v}");
    // A 404 is logged, without its path (a caller may have put anything in it).
    server.request("GET", "/v1/nothing-here/maria.kim@example.com", "");
    // A request after them: once its line is there, so are the ones before.
    server.request("GET", "/healthz", "");
    log_line(&server, "/healthz");
    let v = log_line(&server, r#""status":404"#);
    assert_eq!(v["fields"]["route"], "unmatched", "{v}");
    let log = server.log.lock().unwrap();
    assert!(log.iter().filter(|l| l.contains("/v1/decide")).count() >= 2, "{log:?}");
    assert!(!log.iter().any(|l| l.contains("maria.kim") || l.contains("5550101")), "no guardian in the logs: {log:?}");
}

#[cfg(unix)]
#[test]
fn a_broken_reload_never_shows_a_guardians_contact_details() {
    let dir = Scratch::policies("contacts");
    let server = Server::start(&args(&dir.policy_args()));
    let directory = dir.join("lakeside/directory.yaml");
    let text = std::fs::read_to_string(&directory).unwrap();
    // A parent's email as a group member, a phone number as a bool: both errors quote the line.
    let broken = text
        .replacen("      - ana.rivera@lakeside.edu\n", "      - canary.parent@family-mail.example\n", 1)
        .replacen("on_teams: true", "on_teams: 2065550199", 1);
    std::fs::write(&directory, broken).unwrap();
    server.signal("-HUP");
    let v = wait_ready(&server, |v| v["reloads"]["failed"] == 1);
    let error = v["last_reload_error"].as_str().unwrap();
    assert!(error.contains("<contact hidden>") || error.contains("****"), "{error}");
    let (_, explained) =
        server.request("GET", "/v1/decide?user=canary.parent@family-mail.example&decision=chat_with_guardians", "");
    let log = server.log.lock().unwrap().join("\n");
    for text in [error, &explained, &log] {
        for leak in ["canary", "family-mail", "2065550199"] {
            assert!(!text.contains(leak), "`{leak}` leaked in:\n{text}");
        }
    }
}

#[test]
fn what_if_over_http_answers_like_the_cli_and_refuses_at_the_line() {
    let server = Server::start(&[]);
    let change =
        r#"{"change": "Set-CsExternalAccessPolicy -Identity Tag:Teachers -EnableTeamsConsumerAccess $false\n"}"#;
    let (status, v) = server.json("POST", "/v1/what-if", change);
    assert_eq!(status, 200, "{v}");
    let changed = v["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 97);
    assert!(changed.iter().all(|c| c["guardian"].is_null() || c["guardian"].as_str().unwrap().starts_with("g:")));
    assert!(!v.to_string().contains("@example."), "no guardian's email in the answer");
    let ana = changed
        .iter()
        .find(|c| c["user"] == "ana.rivera@lakeside.edu" && c["decision"] == "chat_with_guardians")
        .unwrap();
    assert_eq!(ana["after"]["reason"]["code"], "CONSUMER_OFF_USER");
    assert!(ana["cause"].as_str().unwrap().contains("set at change.ps1:1:"), "{}", ana["cause"]);

    // Refused: 400, every error located, and a guardian's email named where a user belongs is
    // not repeated.
    let bad = r#"{"change": "Set-CsExternalAccessPolicy -Identity FederationOnly -EnableTeamsConsumerAccess $true\nGrant-CsExternalAccessPolicy -Identity maria.kim@example.com -PolicyName Tag:Teachers\n"}"#;
    let (status, v) = server.json("POST", "/v1/what-if", bad);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "CHANGE_REFUSED");
    let d = v["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{v}");
    assert_eq!((d[0]["file"].as_str(), d[0]["line"].as_u64()), (Some("change.ps1"), Some(1)), "{v}");
    assert_eq!(d[1]["line"], 2);
    assert!(!v.to_string().contains("maria.kim@example.com"), "{v}");
    // Not the body's shape.
    let (status, v) = server.json("POST", "/v1/what-if", r#"{"script": "x"}"#);
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("BAD_REQUEST")));
}

/// `tenet build` of the scratch tenant into `out`.
fn build_bundle(dir: &Scratch, out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .arg("build")
        .args(args(&dir.policy_args()))
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn watch_swaps_a_rebuilt_bundle_and_keeps_serving_through_a_damaged_one() {
    let dir = Scratch::policies("bundle");
    let bundle = dir.join("district.bundle");
    build_bundle(&dir, &bundle);
    let server = Server::start(&["--watch", "--bundle", bundle.to_str().unwrap()]);
    assert_eq!(presence(&server), "ALLOW");
    // A replica sees the new bundle when the builder renames it into place.
    set_privacy(&dir, true, false);
    build_bundle(&dir, &bundle);
    let v = wait_ready(&server, |v| v["generation"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(presence(&server), "PRIVACY_MODE_ON");
    // /readyz names the bundle served by its checksum: the one `check --bundle` reports.
    let checked = Command::new(env!("CARGO_BIN_EXE_tenet"))
        .args(["check", "--bundle", bundle.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let checked: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(v["bundle"]["sha256"], checked["bundle"]["sha256"], "{v}");
    // A bundle cut short is refused, and the last good table still serves.
    let bytes = std::fs::read(&bundle).unwrap();
    std::fs::write(&bundle, &bytes[..bytes.len() / 2]).unwrap();
    let v = wait_ready(&server, |v| v["reloads"]["failed"].as_u64().unwrap_or(0) >= 1);
    assert!(v["last_reload_error"].as_str().unwrap().contains("truncated"), "{v}");
    assert_eq!(presence(&server), "PRIVACY_MODE_ON");
    assert!(server.log.lock().unwrap().iter().any(|l| l.starts_with("loaded the bundle")), "{:?}", server.log);
}
