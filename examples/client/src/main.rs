//! `cargo run -p client -- [URL] [QUESTION]`: calls a running quickstart (default
//! `http://127.0.0.1:3400`) plain and streaming, and prints what came back.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:3400".to_owned());
    let question = args
        .next()
        .unwrap_or_else(|| "How do tools work?".to_owned());
    let demo = client::demo(&url, &question).await?;
    println!("ragQuery       -> {:?}", demo.plain);
    for chunk in &demo.chunks {
        println!("ragQueryStream chunk  {chunk}");
    }
    println!("ragQueryStream -> {:?}", demo.streamed);
    Ok(())
}
