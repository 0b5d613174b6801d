//! Slow clients and oversized bodies: a connection wrapper whose reads and writes fail once a
//! request head or a stalled write is overdue, the request deadline (408) and the announced
//! body size check (413).

use super::errors::error;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long clients may take. hyper has a header-read timeout, but `axum::serve` gives it no
/// timer, so without these a client that sends half a request holds its connection (and, after
/// SIGTERM, the whole process) for ever.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// For a request head, from the connection opening or the last response byte written; also
    /// how long a write may wait for a client that doesn't read.
    pub(super) head: Duration,
    /// For a request's body and answer, from the end of its head.
    pub(super) request: Duration,
    /// After SIGTERM or SIGINT, for the requests in flight; then the process exits anyway.
    pub(super) grace: Duration,
}

pub(super) const LIMITS: Limits =
    Limits { head: Duration::from_secs(10), request: Duration::from_secs(10), grace: Duration::from_secs(5) };

/// The listener `axum::serve` takes: TCP, each connection under [`Deadlines`].
pub(super) struct Guarded {
    pub(super) listener: tokio::net::TcpListener,
    pub(super) limit: Duration,
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
pub(super) struct Deadlines {
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
pub(super) async fn announced_size(
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

pub(super) async fn deadline(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use tokio::io::{AsyncRead as _, AsyncWrite as _};

    /// A served connection under `limit` and the client's end of it (small writes to loopback
    /// never block).
    async fn connection(limit: Duration) -> (Deadlines, std::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (served, _) = listener.accept().await.unwrap();
        (Deadlines::new(served, limit), client)
    }

    impl Deadlines {
        async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::future::poll_fn(|cx| {
                let mut filled = tokio::io::ReadBuf::new(&mut *buf);
                match Pin::new(&mut *self).poll_read(cx, &mut filled) {
                    Poll::Ready(result) => Poll::Ready(result.map(|()| filled.filled().len())),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await
        }

        async fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            std::future::poll_fn(|cx| Pin::new(&mut *self).poll_write(cx, bytes)).await
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn the_head_ends_at_the_first_empty_line_after_some_text_however_it_is_split() {
        runtime().block_on(async {
            let (mut d, _client) = connection(Duration::from_secs(10)).await;
            // Empty lines before a request are not its end (RFC 9112 lets a server skip them).
            d.scan(b"\r\n\r\n");
            assert!(d.head.is_some());
            for chunk in [&b"GET /healthz HTTP/1.1\r"[..], b"\nHost: x\r\n", b"\r", b"\n"] {
                assert!(d.head.is_some(), "not over before {:?}", String::from_utf8_lossy(chunk));
                d.scan(chunk);
            }
            assert!(d.head.is_none(), "over at the empty line");
            // A response written: the next head is due again and is scanned for afresh.
            d.wrote(&Poll::Ready(Ok(10)));
            assert!(d.head.is_some());
            assert!(!d.begun && !d.line_end);
            d.scan(b"GET / HTTP/1.1\n\n");
            assert!(d.head.is_none(), "bare line feeds end a head too");
            // A write of nothing (or one that failed) is no response.
            d.wrote(&Poll::Ready(Ok(0)));
            assert!(d.head.is_none());
        });
    }

    #[test]
    fn a_read_fails_once_the_head_is_overdue_and_not_before() {
        runtime().block_on(async {
            let limit = Duration::from_millis(200);
            let (mut d, mut client) = connection(limit).await;
            client.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
            let start = tokio::time::Instant::now();
            let mut buf = [0u8; 64];
            let n = d.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"GET /healthz HTTP/1.1\r\n");
            let e = d.read(&mut buf).await.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
            assert!(start.elapsed() >= limit - Duration::from_millis(20), "{:?}", start.elapsed());
        });
    }

    #[test]
    fn between_head_and_response_reads_wait_as_long_as_it_takes() {
        runtime().block_on(async {
            let limit = Duration::from_millis(100);
            let (mut d, mut client) = connection(limit).await;
            client.write_all(b"POST /v1/decide HTTP/1.1\r\nContent-Length: 2\r\n\r\n").unwrap();
            let mut buf = [0u8; 128];
            let _ = d.read(&mut buf).await.unwrap();
            assert!(d.head.is_none());
            // The body comes after three limits: no error here (the request deadline is the
            // router's, with its 408).
            tokio::time::sleep(limit * 3).await;
            client.write_all(b"{}").unwrap();
            let n = d.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"{}");
        });
    }

    #[test]
    fn a_write_fails_once_the_client_has_not_read_for_the_limit() {
        runtime().block_on(async {
            let limit = Duration::from_millis(200);
            let (mut d, _client) = connection(limit).await;
            // The client never reads: the socket buffers fill, then writes wait, then fail.
            let chunk = vec![b'x'; 64 * 1024];
            let start = tokio::time::Instant::now();
            let e = loop {
                match d.write(&chunk).await {
                    Ok(_) => assert!(start.elapsed() < Duration::from_secs(10), "writes never stall"),
                    Err(e) => break e,
                }
            };
            assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
            assert_eq!(e.to_string(), "the client stopped reading");
        });
    }
}
