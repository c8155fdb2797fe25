//! The renamed dependency works end to end: schemas, registry and direct calls.

use genflow_renamed_consumer::{repeat, shout};
use gf::{ActionKind, Registry};

#[tokio::test]
async fn flows_and_tools_work_under_a_renamed_dependency() {
    let registry = Registry::builder().build().expect("registry builds");
    let out = registry
        .run("shout", gf::serde_json::json!("hi"))
        .await
        .expect("flow runs");
    assert_eq!(out, gf::serde_json::json!("HI"));

    let tool = registry
        .get(ActionKind::Tool, "repeat")
        .expect("tool registered");
    assert_eq!(
        tool.schemas().input()["properties"]["word"]["description"],
        "The word to repeat"
    );
    let words = tool
        .invoke(
            registry.context(),
            gf::serde_json::json!({"word": "a", "times": 3}),
            None,
        )
        .await
        .expect("tool runs");
    assert_eq!(words, gf::serde_json::json!(["a", "a", "a"]));

    assert_eq!(
        shout(&gf::FlowContext::new(), "x".into())
            .await
            .expect("direct"),
        "X"
    );
    assert_eq!(repeat("b".into(), None).await.expect("direct"), ["b", "b"]);
}
