//! The typed client against the quickstart's flows served on loopback.

use genflow_runtime::Status;
use genflow_runtime::http::{FlowServer, serve};
use genflow_runtime::model::Models;
use genflow_runtime::prelude::*;
use tokio::net::TcpListener;

#[tokio::test]
async fn typed_calls_plain_and_streaming() {
    let registry = Registry::builder()
        .state(Models::new())
        .build()
        .expect("registry");
    let server = FlowServer::new(registry);
    let shutdown = server.shutdown_handle();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let serving = tokio::spawn(serve(server).listener(listener).run());

    let demo = client::demo(&base, "How does streaming work?")
        .await
        .expect("demo");
    assert!(
        demo.plain.citations.contains(&"streaming".to_owned()),
        "{demo:?}"
    );
    assert!(!demo.chunks.is_empty(), "{demo:?}");
    assert_eq!(demo.streamed.citations, demo.plain.citations);

    let err = client::demo(&base, "   ")
        .await
        .expect_err("empty question");
    assert_eq!(err.status(), Status::InvalidArgument);

    shutdown.shutdown();
    serving.await.expect("joins").expect("serves");
}
