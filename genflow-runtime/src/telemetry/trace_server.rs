//! [`TraceServerExporter`]: finished spans posted to a Genkit telemetry server (the one
//! `genkit start` runs) in Genkit's trace format, `POST <url>/api/traces` (feature `server`).
//!
//! Each post is `{traceId, spans: {<spanId>: SpanData}}`, plus the root span's `displayName`,
//! `startTime` and `endTime` when the root is among them; the server merges posts of one
//! trace. With realtime telemetry a span is also posted when it starts, with `endTime` 0.
//! Posting happens on a background thread of its own, so recording a span never waits on the
//! network.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_sdk::trace::SpanData;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::store;

/// Spans waiting to be posted; more are dropped (and logged) rather than held.
const QUEUE: usize = 4096;

/// How long one post may take.
const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`TraceServerExporter::flush`] and shutdown wait for queued spans to be posted.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Posts spans to a Genkit telemetry server. Cheap to clone; every clone is the same exporter.
///
/// The server's URL is given up front ([`TraceServerExporter::new`], or
/// `GENKIT_TELEMETRY_SERVER` in [`TraceServerExporter::from_env`]) or later by
/// [`TraceServerExporter::connect`] (what the reflection API's `notify` does). Until then
/// nothing is posted, and spans are not kept for it.
#[derive(Clone, Debug)]
pub struct TraceServerExporter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    url: RwLock<Option<String>>,
    /// The URL was chosen by the environment: `connect` does not change it.
    pinned: bool,
    realtime: AtomicBool,
    /// The worker's queue, once a URL is known.
    queue: Mutex<Option<mpsc::Sender<Message>>>,
}

enum Message {
    Span(Value),
    /// Called once every span queued before it has been posted (or given up on).
    Flush(Box<dyn FnOnce() + Send>),
}

impl TraceServerExporter {
    /// Posts to the telemetry server at `url` (e.g. `http://localhost:4033`); `connect` does
    /// not change it.
    pub fn new(url: impl Into<String>) -> Self {
        let exporter = TraceServerExporter::waiting(true, false);
        exporter.set_url(url.into());
        exporter
    }

    /// What `genkit start` asks for: `GENKIT_TELEMETRY_SERVER` (else a URL given later by
    /// [`connect`](Self::connect)), realtime when `GENKIT_ENABLE_REALTIME_TELEMETRY` is set
    /// (to anything but `false` or `0`).
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let realtime = var("GENKIT_ENABLE_REALTIME_TELEMETRY")
            .is_some_and(|v| !matches!(v.trim(), "false" | "0"));
        let url = var("GENKIT_TELEMETRY_SERVER");
        let exporter = TraceServerExporter::waiting(url.is_some(), realtime);
        if let Some(url) = url {
            exporter.set_url(url);
        }
        exporter
    }

    /// No URL yet: spans are posted once [`connect`](Self::connect) gives one.
    pub fn waiting_for_url() -> Self {
        TraceServerExporter::waiting(false, false)
    }

    fn waiting(pinned: bool, realtime: bool) -> Self {
        TraceServerExporter {
            inner: Arc::new(Inner {
                url: RwLock::new(None),
                pinned,
                realtime: AtomicBool::new(realtime),
                queue: Mutex::new(None),
            }),
        }
    }

    /// Also posts each span when it starts (`endTime` 0), so a trace shows while it runs.
    #[must_use]
    pub fn realtime(self, on: bool) -> Self {
        self.inner.realtime.store(on, Ordering::Relaxed);
        self
    }

    /// Posts to `url` from now on, unless the URL was chosen up front. Says whether it was
    /// taken.
    pub fn connect(&self, url: &str) -> bool {
        if self.inner.pinned {
            return false;
        }
        self.set_url(url.to_owned());
        true
    }

    /// Where spans are posted, once known.
    pub fn url(&self) -> Option<String> {
        self.inner
            .url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether spans are posted at start as well as at end.
    pub fn is_realtime(&self) -> bool {
        self.inner.realtime.load(Ordering::Relaxed)
    }

    /// Whether a URL is known, so that spans are worth keeping.
    pub(crate) fn is_connected(&self) -> bool {
        self.lock_queue().is_some()
    }

    /// Waits (up to 2 s) until every span queued so far has been posted.
    pub async fn flush(&self) {
        let (done, posted) = tokio::sync::oneshot::channel();
        if self.send(|| {
            Message::Flush(Box::new(move || {
                let _ = done.send(());
            }))
        }) {
            let _ = tokio::time::timeout(FLUSH_TIMEOUT, posted).await;
        }
    }

    /// Posts `span` as it ended.
    pub(crate) fn export(&self, span: &SpanData) {
        self.send(|| Message::Span(genkit_span(span)));
    }

    /// Posts `span` as it started (`endTime` 0), when realtime.
    pub(crate) fn export_start(&self, span: &SpanData) {
        if self.is_realtime() {
            self.send(|| {
                let mut record = genkit_span(span);
                record["endTime"] = Value::from(0);
                Message::Span(record)
            });
        }
    }

    /// Blocks (up to 2 s) until the queued spans are posted.
    pub(crate) fn shutdown(&self) {
        let (done, posted) = std::sync::mpsc::channel();
        if self.send(|| {
            Message::Flush(Box::new(move || {
                let _ = done.send(());
            }))
        }) {
            let _ = posted.recv_timeout(FLUSH_TIMEOUT);
        }
    }

    fn set_url(&self, url: String) {
        let url = url.trim_end_matches('/').to_owned();
        *self
            .inner
            .url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(url);
        let mut queue = self.lock_queue();
        if queue.is_none() {
            *queue = start_worker(Arc::downgrade(&self.inner));
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Option<mpsc::Sender<Message>>> {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues the message `make` builds; false when there is no worker (then it is not built:
    /// a span is not converted when no URL is known) or its queue is full.
    fn send(&self, make: impl FnOnce() -> Message) -> bool {
        let Some(queue) = self.lock_queue().clone() else {
            return false;
        };
        match queue.try_send(make()) {
            Ok(()) => true,
            Err(_) => {
                tracing::debug!("the telemetry server's queue is full; a span is dropped");
                false
            }
        }
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Span(span) => f.debug_tuple("Span").field(span).finish(),
            Message::Flush(_) => f.write_str("Flush"),
        }
    }
}

/// The worker thread posting queued spans; it ends when the exporter is gone.
fn start_worker(exporter: std::sync::Weak<Inner>) -> Option<mpsc::Sender<Message>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::warn!(%error, "cannot start the telemetry server exporter");
            return None;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("genflow-trace-server".to_owned())
        .spawn(move || runtime.block_on(post_all(exporter, rx)));
    match spawned {
        Ok(_) => Some(tx),
        Err(error) => {
            tracing::warn!(%error, "cannot start the telemetry server exporter");
            None
        }
    }
}

/// Posts what arrives, one post per trace for the spans queued together.
async fn post_all(exporter: std::sync::Weak<Inner>, mut rx: mpsc::Receiver<Message>) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, QUEUE).await > 0 {
        let url = exporter.upgrade().and_then(|inner| {
            inner
                .url
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        });
        let mut spans = Vec::new();
        for message in batch.drain(..) {
            match message {
                Message::Span(span) => spans.push(span),
                Message::Flush(done) => {
                    post_traces(&client, url.as_deref(), std::mem::take(&mut spans)).await;
                    done();
                }
            }
        }
        post_traces(&client, url.as_deref(), spans).await;
    }
}

async fn post_traces(
    client: &Client<HttpConnector, Full<Bytes>>,
    url: Option<&str>,
    spans: Vec<Value>,
) {
    let Some(url) = url else { return };
    for trace in traces(spans) {
        let request = http::Request::post(format!("{url}/api/traces"))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(trace.to_string())));
        let Ok(request) = request else {
            tracing::debug!(url, "not a valid telemetry server URL");
            return;
        };
        match tokio::time::timeout(POST_TIMEOUT, client.request(request)).await {
            Ok(Ok(response)) if response.status().is_success() => {}
            Ok(Ok(response)) => {
                tracing::debug!(url, status = %response.status(), "the telemetry server refused a trace");
            }
            Ok(Err(error)) => tracing::debug!(url, %error, "cannot post a trace"),
            Err(_) => tracing::debug!(url, "posting a trace timed out"),
        }
    }
}

/// `spans` grouped into Genkit `TraceData` documents, in order: one per trace, and a further
/// one whenever a span comes again (its start, then its end, both queued before a post).
fn traces(spans: Vec<Value>) -> Vec<Value> {
    let mut docs: Vec<Map<String, Value>> = Vec::new();
    for span in spans {
        let (Some(trace_id), Some(span_id)) = (
            span["traceId"].as_str().map(str::to_owned),
            span["spanId"].as_str().map(str::to_owned),
        ) else {
            continue;
        };
        let latest = docs
            .iter()
            .rposition(|doc| doc["traceId"] == trace_id.as_str());
        let index = match latest {
            Some(index) if docs[index]["spans"].get(&span_id).is_none() => index,
            _ => {
                docs.push(Map::from_iter([
                    ("traceId".to_owned(), Value::from(trace_id)),
                    ("spans".to_owned(), Value::Object(Map::new())),
                ]));
                docs.len() - 1
            }
        };
        let doc = &mut docs[index];
        if span.get("parentSpanId").is_none() {
            for key in ["displayName", "startTime", "endTime"] {
                doc.insert(key.to_owned(), span[key].clone());
            }
        }
        if let Some(Value::Object(spans)) = doc.get_mut("spans") {
            spans.insert(span_id, span);
        }
    }
    docs.into_iter().map(Value::Object).collect()
}

/// A span in Genkit's `SpanData` shape, as Genkit JS's trace server exporter sends it.
fn genkit_span(span: &SpanData) -> Value {
    let mut record = serde_json::to_value(store::record_of(span)).unwrap_or_default();
    record["sameProcessAsParentSpan"] = json!({ "value": !span.parent_span_is_remote });
    record["timeEvents"] = json!({
        "timeEvent": span.events.iter().map(|event| json!({
            "time": store::millis(event.timestamp),
            "annotation": {
                "description": event.name,
                "attributes": event
                    .attributes
                    .iter()
                    .map(|kv| (kv.key.to_string(), store::json_of(&kv.value)))
                    .collect::<Map<_, _>>(),
            },
        })).collect::<Vec<_>>(),
    });
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_from_the_start_is_kept_and_a_later_one_connects() {
        let pinned = TraceServerExporter::new("http://127.0.0.1:9/");
        assert!(!pinned.connect("http://127.0.0.1:10"));
        assert_eq!(pinned.url().as_deref(), Some("http://127.0.0.1:9"));
        let waiting = TraceServerExporter::waiting_for_url();
        assert!(!waiting.is_connected());
        assert!(waiting.connect("http://127.0.0.1:10"));
        assert!(waiting.is_connected());
    }

    #[test]
    fn spans_group_into_one_document_per_trace_with_the_roots_times() {
        let span = |trace: &str, id: &str, parent: Option<&str>| {
            let mut span = json!({"traceId": trace, "spanId": id, "displayName": id,
                "startTime": 1.0, "endTime": 2.0});
            if let Some(parent) = parent {
                span["parentSpanId"] = Value::from(parent);
            }
            span
        };
        let mut started = span("a", "root", None);
        started["endTime"] = Value::from(0);
        let docs = traces(vec![
            started,
            span("a", "child", Some("root")),
            span("b", "other", Some("elsewhere")),
            span("a", "root", None),
        ]);
        assert_eq!(docs.len(), 3, "{docs:#?}");
        assert_eq!(docs[0]["traceId"], "a");
        assert_eq!(docs[0]["endTime"], 0, "the root as it started");
        assert_eq!(docs[0]["spans"].as_object().map(Map::len), Some(2));
        assert!(docs[1].get("displayName").is_none(), "no root among them");
        assert_eq!(docs[2]["spans"]["root"]["endTime"], 2.0, "then as it ended");
        assert_eq!(docs[2]["endTime"], 2.0);
    }
}
