//! The default limits of a server: without any setting, at most
//! [`DEFAULT_CONCURRENCY_LIMIT`] flow requests run at once and the rest are shed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use genflow_runtime::http::{DEFAULT_CONCURRENCY_LIMIT, FlowServer};
use genflow_runtime::prelude::*;
use tokio::sync::watch;
use tower::ServiceExt;

/// Requests inside `wait`, and the switch that lets them finish.
struct Doorway {
    inside: AtomicUsize,
    open: watch::Sender<bool>,
}

/// Waits until the doorway opens.
#[flow]
async fn wait(doorway: State<Doorway>, _input: ()) -> Result<(), FlowError> {
    doorway.inside.fetch_add(1, Ordering::SeqCst);
    let mut open = doorway.open.subscribe();
    // The sender lives in the registry's state for as long as the flow can run.
    let _ = open.wait_for(|open| *open).await;
    Ok(())
}

fn request() -> Request<Body> {
    Request::post("/wait")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"data": null}"#))
        .expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_limit_sheds_past_512_requests() {
    assert_eq!(DEFAULT_CONCURRENCY_LIMIT, 512);
    let registry = Registry::builder()
        .state(Doorway {
            inside: AtomicUsize::new(0),
            open: watch::Sender::new(false),
        })
        .build()
        .expect("registry");
    let doorway = registry.context().state::<Doorway>().expect("state");
    let app = FlowServer::new(registry).into_router();

    let held: Vec<_> = (0..DEFAULT_CONCURRENCY_LIMIT)
        .map(|_| tokio::spawn(app.clone().oneshot(request())))
        .collect();
    for _ in 0..2_000 {
        if doorway.inside.load(Ordering::SeqCst) == DEFAULT_CONCURRENCY_LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        doorway.inside.load(Ordering::SeqCst),
        DEFAULT_CONCURRENCY_LIMIT
    );

    let shed = app.clone().oneshot(request()).await.expect("infallible");
    assert_eq!(shed.status(), 503);
    assert!(shed.headers().contains_key(header::RETRY_AFTER));

    doorway.open.send_replace(true);
    for answer in held {
        let response = answer.await.expect("join").expect("infallible");
        assert_eq!(response.status(), 200);
    }
    let after = app.oneshot(request()).await.expect("infallible");
    assert_eq!(after.status(), 200, "slots are free again");
}
