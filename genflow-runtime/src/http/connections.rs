//! The connection loop under [`serve`](super::serve): accepts up to a cap of open connections,
//! serves each with hyper (HTTP/1.1 and HTTP/2), closes connections that carry no request for
//! too long, and drains them on shutdown.
//!
//! A connection is *active* while one of its requests is in the router or its response body is
//! being written; otherwise it is idle. Three limits keep slow or silent peers from holding
//! resources: a request head must arrive within the header-read timeout (hyper's timer, which
//! in HTTP/1.1 also runs while a kept-alive connection waits for its next request), an idle
//! connection closes after the idle timeout (HTTP/2 included), and at most `max_connections`
//! are open at once: beyond that, new connections wait in the kernel's accept queue.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::future::RouteFuture;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use pin_project_lite::pin_project;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::Service;

/// How long a request head may take to arrive, unless set.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection may carry no request, unless set.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How many connections may be open at once, unless set.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// How long a connection closed for idleness gets to say goodbye (HTTP/2 `GOAWAY`).
const GOODBYE: Duration = Duration::from_secs(1);

/// The limits every connection is served under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `app` on `listener` until `stop_accepting` resolves, then asks every connection to
/// finish (idle ones close at once) and returns when all are closed.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop_accepting: impl Future<Output = ()>,
) {
    // `acquire_many` counts in u32: a larger cap is no cap in practice.
    let max = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let slots = Arc::new(Semaphore::new(max as usize));
    let draining = CancellationToken::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());

    let mut stop_accepting = pin!(stop_accepting);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut stop_accepting => break,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    on_accept_error(error).await;
                    continue;
                }
            },
            () = &mut stop_accepting => break,
        };
        let connection = Connection {
            builder: builder.clone(),
            app: app.clone(),
            peer,
            idle_timeout: limits.idle_timeout,
            draining: draining.clone(),
        };
        tokio::spawn(async move {
            connection.serve(stream).await;
            drop(slot);
        });
    }
    drop(listener);
    draining.cancel();
    // Every open connection holds a slot: all slots back means all connections closed.
    let _all_closed = slots.acquire_many(max).await;
}

/// Refused or reset connections are the peer's business; anything else (out of file
/// descriptors) gets a pause so the loop does not spin.
async fn on_accept_error(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accepting a connection failed: {error}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One accepted connection and what it is served with.
struct Connection {
    builder: auto::Builder<TokioExecutor>,
    app: Router,
    peer: SocketAddr,
    idle_timeout: Duration,
    draining: CancellationToken,
}

impl Connection {
    async fn serve(self, stream: TcpStream) {
        // Streamed frames go out as written, not held back for a full segment.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let service = ConnectionService {
            app: self.app,
            peer: self.peer,
            activity: Arc::clone(&activity),
        };
        let mut conn = pin!(
            self.builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
        );
        let mut draining = pin!(self.draining.cancelled());
        let mut shutting_down = false;
        loop {
            let idle_for = if shutting_down {
                Duration::ZERO
            } else {
                self.idle_timeout
            };
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(error) = served {
                        tracing::debug!(peer = %self.peer, "connection ended: {error}");
                    }
                    return;
                }
                () = &mut draining, if !shutting_down => {
                    shutting_down = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = activity.idle_for(idle_for) => {
                    // No request in flight: a half-sent request head or a silent peer.
                    if !shutting_down {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(GOODBYE, conn.as_mut()).await;
                    }
                    return;
                }
            }
        }
    }
}

/// Counts a connection's requests in progress and when it last had none.
struct Activity {
    state: Mutex<ActivityState>,
    changed: Notify,
}

struct ActivityState {
    active: usize,
    idle_since: Instant,
}

impl Activity {
    fn new() -> Self {
        Activity {
            state: Mutex::new(ActivityState {
                active: 0,
                idle_since: Instant::now(),
            }),
            changed: Notify::new(),
        }
    }

    fn update<T>(&self, f: impl FnOnce(&mut ActivityState) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// When the connection became idle, or `None` while a request is in progress.
    fn idle_since(&self) -> Option<Instant> {
        self.update(|state| (state.active == 0).then_some(state.idle_since))
    }

    /// Resolves once the connection has been idle for `period`.
    async fn idle_for(&self, period: Duration) {
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            match self.idle_since() {
                Some(since) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(since + period) => {
                            if self.idle_since() == Some(since) {
                                return;
                            }
                        }
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Marks a request in progress until the guard drops.
    fn begin(self: &Arc<Self>) -> ActiveRequest {
        self.update(|state| state.active += 1);
        self.changed.notify_waiters();
        ActiveRequest(Arc::clone(self))
    }
}

/// A request in progress: from the router's call to the end of its response body.
struct ActiveRequest(Arc<Activity>);

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        self.0.update(|state| {
            state.active -= 1;
            if state.active == 0 {
                state.idle_since = Instant::now();
            }
        });
        self.0.changed.notify_waiters();
    }
}

/// The router as hyper calls it for one connection: with the peer's address (read by
/// `ConnectInfo`) and the request counted as activity.
#[derive(Clone)]
struct ConnectionService {
    app: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<http::Request<Incoming>> for ConnectionService {
    type Response = http::Response<TrackedBody>;
    type Error = Infallible;
    type Future = TrackedResponse;

    fn call(&self, mut request: http::Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let active = self.activity.begin();
        TrackedResponse {
            inner: self.app.clone().call(request),
            active: Some(active),
        }
    }
}

pin_project! {
    /// The router's response future; hands the request's activity on to the body.
    struct TrackedResponse {
        #[pin]
        inner: RouteFuture<Infallible>,
        active: Option<ActiveRequest>,
    }
}

impl Future for TrackedResponse {
    type Output = Result<http::Response<TrackedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.inner.poll(cx));
        let active = this.active.take();
        Poll::Ready(Ok(response.map(|body| TrackedBody {
            body,
            _active: active,
        })))
    }
}

pin_project! {
    /// A response body that keeps its request counted as activity until it is written or
    /// dropped.
    struct TrackedBody {
        #[pin]
        body: Body,
        _active: Option<ActiveRequest>,
    }
}

impl http_body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
