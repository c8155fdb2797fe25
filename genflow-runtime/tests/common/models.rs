//! The models folder of the local-model tests: `GENFLOW_MODELS_DIR`, else the workspace's
//! `target/models`, as `scripts/fetch-test-models` fills it. The quickstart's tests include
//! this file too.

use std::path::{Path, PathBuf};

/// The models folder when it holds `file` (a path inside it); else `None` after a note, or a
/// failure when CI is set (CI fetches the weights).
pub fn models_dir_holding(file: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("GENFLOW_MODELS_DIR").map_or_else(
        || {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .find(|dir| dir.join("Cargo.lock").is_file())
                .expect("the test runs inside the workspace");
            workspace.join("target/models")
        },
        PathBuf::from,
    );
    if dir.join(file).is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{file} is missing from {}: run ./scripts/fetch-test-models",
        dir.display()
    );
    eprintln!(
        "skipped: {file} is not in {}; run ./scripts/fetch-test-models",
        dir.display()
    );
    None
}
