//! The server's own tests; the end-to-end ones, through the binary, are in `tests/tenet/server.rs`.

use super::deadlines::{LIMITS, Limits};
use super::metrics::Metrics;
use super::reload::{Served, publish};
use super::routes::readiness;
use super::watch::Watched;
use super::*;
use axum::http::StatusCode;
use axum::routing::get;

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
        vec![(pack.clone(), notify::RecursiveMode::Recursive), (lakeside.clone(), notify::RecursiveMode::NonRecursive)]
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
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { panic!("a runtime") };
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
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { panic!("a runtime") };
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
