//! An example genflow service for interop tests: a plain, a streaming, a failing and an
//! auth-protected flow, served on `PORT` (default 3400) until SIGTERM or Ctrl-C.
//!
//! `API_KEY` sets the bearer key of `whoami` (default `interop-secret`).

use genflow_runtime::http::{ApiKey, ApiKeyAuth, FlowServer, serve};
use genflow_runtime::prelude::*;

/// A greeting request.
#[derive(Deserialize, JsonSchema)]
struct Greeting {
    /// Who to greet.
    name: String,
}

/// Greets someone.
#[flow]
async fn greet(input: Greeting) -> Result<String, FlowError> {
    Ok(format!("Hello, {}!", input.name))
}

/// Counts down from `input` to 1, one chunk per number.
#[flow(stream = u32)]
async fn countdown(ctx: &FlowContext<u32>, input: u32) -> Result<String, FlowError> {
    for n in (1..=input).rev() {
        ctx.send_chunk(n).await?;
    }
    Ok("liftoff".to_owned())
}

/// Sends one chunk, then fails with a message callers may see.
#[flow(name = "failStream", stream = String)]
async fn fail_stream(ctx: &FlowContext<String>, input: String) -> Result<String, FlowError> {
    ctx.send_chunk(format!("about to fail on {input}")).await?;
    // Genkit JS's `streamFlow` leaves a rejected promise unhandled when the error frame arrives
    // in the same read as the chunk before it and the caller iterates the chunks; a pause keeps
    // the frames apart, as a real flow's work between them would.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    Err(FlowError::public(
        Status::FailedPrecondition,
        "this flow always fails",
    ))
}

/// Fails with an internal error, whose message production servers hide.
#[flow]
async fn fail(_input: ()) -> Result<(), FlowError> {
    Err(FlowError::internal("the database password is hunter2"))
}

/// Says whether the caller presented the API key (the flow is protected by it).
#[flow]
async fn whoami(ctx: &FlowContext, _input: ()) -> Result<String, FlowError> {
    Ok(match ctx.auth::<ApiKeyAuth>() {
        Some(_) => "a key holder".to_owned(),
        None => "nobody".to_owned(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = std::env::var("API_KEY").unwrap_or_else(|_| "interop-secret".to_owned());
    let server =
        FlowServer::new(Registry::builder().build()?).flow_auth("whoami", ApiKey::bearer(key));
    serve(server).await?;
    Ok(())
}
