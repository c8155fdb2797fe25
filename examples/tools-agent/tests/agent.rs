//! The agent's tools run in parallel within one turn, and the turn limit holds.

use genflow_runtime::Status;
use genflow_runtime::model::Models;
use genflow_runtime::model::testing::ScriptedModel;
use genflow_runtime::prelude::*;
use serde_json::json;
use tools_agent::{MAX_TURNS, TripInput, plan_trip};

fn ctx_with(model: &ScriptedModel) -> FlowContext {
    FlowContext::new().with_state(
        Models::new()
            .model(model.clone())
            .default_model("local/scripted"),
    )
}

fn oslo() -> TripInput {
    TripInput {
        city: "Oslo".into(),
        nights: 2,
    }
}

#[tokio::test]
async fn the_model_calls_both_tools_in_one_turn_then_answers() {
    let model = ScriptedModel::new("scripted")
        .tool_requests(vec![
            ("getWeather", json!({"city": "Oslo"})),
            ("hotelPrice", json!({"city": "Oslo"})),
        ])
        .text(r#"{"summary": "Pack a coat.", "celsius": 16.0, "hotel_total_eur": 190.0}"#);
    let plan = plan_trip(&ctx_with(&model), oslo()).await.expect("plans");
    assert_eq!(plan.summary, "Pack a coat.");
    let requests = model.requests();
    assert_eq!(requests.len(), 2, "one tool turn, one answer");
    let results = serde_json::to_string(&requests[1].messages).expect("json");
    // Both tool results went back to the model together, computed by the real tools.
    assert!(
        results.contains("16.0") || results.contains("16"),
        "{results}"
    );
    assert!(
        results.contains("100.0") || results.contains("100"),
        "{results}"
    );
    let offered: Vec<String> = requests[0].tools.iter().map(|t| t.name.clone()).collect();
    assert_eq!(offered, ["getWeather", "hotelPrice", "searchDocs"]);
}

#[tokio::test]
async fn a_model_that_never_stops_calling_tools_is_aborted() {
    let mut model = ScriptedModel::new("scripted");
    for _ in 0..=MAX_TURNS {
        model = model.tool_request("getWeather", json!({"city": "Oslo"}));
    }
    let err = plan_trip(&ctx_with(&model), oslo())
        .await
        .expect_err("too many turns");
    assert_eq!(err.status(), Status::Aborted);
}

#[tokio::test]
async fn offline_the_test_model_calls_every_tool_and_returns_a_valid_plan() {
    let plan = plan_trip(&FlowContext::new().with_state(Models::new()), oslo())
        .await
        .expect("the local test model plans");
    assert!(plan.celsius.is_finite());
}
