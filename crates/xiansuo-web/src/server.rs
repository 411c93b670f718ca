//! The HTTP server around the application. Connections are accepted here rather than by
//! `axum::serve`, so that a slow or greedy client cannot hold the server:
//! - request headers must arrive within [`Limits::header_timeout`], which is also how long an
//!   idle kept-alive connection stays open;
//! - a request body must keep arriving: all of it within [`Limits::body_grace`] plus one second
//!   per [`Limits::body_min_rate`] bytes, or the request is answered 408 and the connection
//!   closed;
//! - one address holds at most [`Limits::connections_per_address`] connections at once;
//!   further ones are closed as soon as they are accepted.

use crate::error::ApiError;
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tower::Service as _;

/// What one client may hold of the server; see the module's documentation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send a request's headers, and how long an idle
    /// connection is kept open for the next request.
    pub header_timeout: Duration,
    /// How long any request body may take, before `body_min_rate` counts.
    pub body_grace: Duration,
    /// Bytes a second that a body larger than what fits in `body_grace` must keep up.
    pub body_min_rate: u64,
    /// Connections one client address may hold at once (0: no cap). Behind a reverse proxy
    /// every client has the proxy's address.
    pub connections_per_address: usize,
}

impl Default for Limits {
    /// 10 s for headers; 30 s for a body plus 1 s per 64 KiB, so the largest import file
    /// (100 MiB) may take up to 30 minutes; 256 connections per address.
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_grace: Duration::from_secs(30),
            body_min_rate: 64 * 1024,
            connections_per_address: 256,
        }
    }
}

/// Serves the application on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits;
    let cap = limits.connections_per_address;
    let router = crate::app(state);
    let open = Arc::new(OpenConnections::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = open.admit(peer.ip(), cap) else {
            tracing::warn!(address = %peer.ip(), cap, "closed a connection: too many from this address");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, address = %peer, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Open connections per address.
#[derive(Default)]
struct OpenConnections(Mutex<HashMap<IpAddr, usize>>);

impl OpenConnections {
    /// A place for one more connection from `address`, or none when it holds `cap` already
    /// (a cap of 0 means no cap).
    fn admit(self: &Arc<Self>, address: IpAddr, cap: usize) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(address).or_default();
        if cap != 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.clone(),
            address,
        })
    }
}

/// One admitted connection; dropping it frees its place.
struct Slot {
    open: Arc<OpenConnections>,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// Middleware: gives the request body its deadline, and answers 408 (closing the connection)
/// when the body did not arrive in time.
pub(crate) async fn body_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limits = state.limits;
    let expired = Arc::new(AtomicBool::new(false));
    let watched = expired.clone();
    let request = request.map(|body| Body::new(DeadlineBody::new(body, limits, watched)));
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    let mut response = ApiError::RequestTimeout(format!(
        "the request body did not arrive in time (all of it within {} s plus 1 s per {} KiB)",
        limits.body_grace.as_secs(),
        limits.body_min_rate / 1024
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once it falls behind its deadline, which moves later with every
/// byte received.
struct DeadlineBody {
    inner: Body,
    limits: Limits,
    started: Instant,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl DeadlineBody {
    fn new(inner: Body, limits: Limits, expired: Arc<AtomicBool>) -> Self {
        let started = Instant::now();
        DeadlineBody {
            inner,
            limits,
            started,
            received: 0,
            sleep: Box::pin(tokio::time::sleep_until(started + limits.body_grace)),
            expired,
        }
    }

    fn deadline(&self) -> Instant {
        let per_rate = self.received / self.limits.body_min_rate.max(1);
        self.started + self.limits.body_grace + Duration::from_secs(per_rate)
    }
}

/// The error a body gives once it is late.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyLate;

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                    let deadline = this.deadline();
                    this.sleep.as_mut().reset(deadline);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.expired.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(BodyLate.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_cap_and_a_closed_connection_frees_its_place() {
        let open = Arc::new(OpenConnections::default());
        let here: IpAddr = "10.0.0.1".parse().unwrap();
        let there: IpAddr = "10.0.0.2".parse().unwrap();
        let first = open.admit(here, 2).expect("first");
        let _second = open.admit(here, 2).expect("second");
        assert!(open.admit(here, 2).is_none(), "a third is refused");
        assert!(
            open.admit(there, 2).is_some(),
            "other addresses are not affected"
        );
        drop(first);
        assert!(
            open.admit(here, 2).is_some(),
            "a closed connection frees its place"
        );
        let uncapped: Vec<Slot> = (0..1000).filter_map(|_| open.admit(here, 0)).collect();
        assert_eq!(uncapped.len(), 1000, "a cap of 0 is no cap");
    }
}
