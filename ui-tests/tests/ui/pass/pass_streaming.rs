//! A streaming flow sends typed chunks through its context.
use genflow_runtime::prelude::*;

#[derive(Serialize, JsonSchema)]
struct Token {
    text: String,
}

/// Stream the words of the input.
#[flow(stream = Token)]
async fn words(ctx: &FlowContext<Token>, input: String) -> Result<usize, FlowError> {
    let mut n = 0;
    for w in input.split_whitespace() {
        ctx.send_chunk(Token { text: w.to_owned() }).await?;
        n += 1;
    }
    Ok(n)
}

#[tokio::main]
async fn main() {
    let (ctx, mut rx) = FlowContext::<Token>::streaming(4);
    let n = words(&ctx, "a b".into()).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(rx.recv().await.unwrap().text, "a");
    assert!(<WordsFlow as Action>::META.streaming);
    assert!(<WordsFlow as Action>::schemas().chunk().is_some());
}
