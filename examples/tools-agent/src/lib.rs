//! A tool-calling agent: `planTrip` offers the model three tools — the weather, hotel prices
//! and the quickstart's `searchDocs` — which it may call in parallel within a bounded number of
//! turns, then answers with a typed plan.

use genflow_runtime::model::GenerateExt;
use genflow_runtime::prelude::*;
use quickstart::rag::SearchDocsTool;

/// What `planTrip` takes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct TripInput {
    /// Where to go.
    pub city: String,
    /// How many nights.
    pub nights: u32,
}

/// What `planTrip` returns.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct TripPlan {
    /// The plan in a few sentences.
    pub summary: String,
    /// Expected temperature in °C.
    pub celsius: f64,
    /// Total hotel cost in euros.
    pub hotel_total_eur: f64,
}

/// The most tool-calling turns the model gets before the flow fails with `ABORTED`.
pub const MAX_TURNS: u32 = 4;

/// Today's forecast for a city.
#[tool(name = "getWeather")]
pub async fn get_weather(
    /// The city
    city: String,
) -> Result<f64, ToolError> {
    // A deterministic stand-in for a weather API.
    Ok(12.0 + (city.len() % 10) as f64)
}

/// The nightly price of a mid-range hotel in a city, in euros.
#[tool(name = "hotelPrice")]
pub async fn hotel_price(
    /// The city
    city: String,
) -> Result<f64, ToolError> {
    Ok(80.0 + 5.0 * (city.len() % 7) as f64)
}

/// Plan a short trip: weather, hotel cost and tips, gathered by the model with tools.
#[flow(name = "planTrip", timeout = "60s")]
pub async fn plan_trip(ctx: &FlowContext, input: TripInput) -> Result<TripPlan, FlowError> {
    ctx.generate()
        .system("Plan trips. Call getWeather and hotelPrice (in parallel) before answering; use searchDocs for questions about genflow.")
        .prompt(format!("Plan {} nights in {}.", input.nights, input.city))
        .tool::<GetWeatherTool>()
        .tool::<HotelPriceTool>()
        .tool::<SearchDocsTool>()
        .max_turns(MAX_TURNS)
        .generate_data::<TripPlan>()
        .await
}
