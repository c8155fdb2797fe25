//! A broken tool is one error: its handle and argument struct still exist, so the flow that
//! calls it by them adds none.

use genflow_runtime::prelude::*;

#[tool]
async fn lookup(word: String) -> Result<usize, ToolError> {
    Ok(word.len())
}

/// Calls the tool through its handle.
#[flow]
async fn uses(ctx: &FlowContext, word: String) -> Result<usize, FlowError> {
    ctx.call::<LookupTool>(LookupArgs { word }).await
}

/// A flow with a broken attribute, called by its handle elsewhere.
#[flow(timeout = 30)]
async fn slow(input: String) -> Result<String, FlowError> {
    Ok(input)
}

async fn caller(registry: &Registry) -> Result<String, FlowError> {
    registry.call::<SlowFlow>("x".to_owned()).await
}

fn main() {
    let _ = caller;
}
