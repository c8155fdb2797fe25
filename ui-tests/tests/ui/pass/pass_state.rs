//! Application state reaches flows as `State<T>` without globals.
use genflow_runtime::prelude::*;

struct Db {
    rows: Vec<String>,
}

/// Count rows matching the input.
#[flow]
async fn count(db: State<Db>, needle: String) -> Result<usize, FlowError> {
    Ok(db.rows.iter().filter(|r| r.contains(&needle)).count())
}

#[tokio::main]
async fn main() {
    assert!(Registry::builder().build().is_err(), "Db was not provided");
    let registry = Registry::builder()
        .state(Db { rows: vec!["ab".into(), "b".into()] })
        .build()
        .unwrap();
    assert_eq!(registry.run("count", serde_json::json!("b")).await.unwrap(), 2);
}
