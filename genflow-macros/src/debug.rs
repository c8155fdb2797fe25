//! `GENFLOW_MACROS_DEBUG=<dir>`: writes each expansion, formatted, to `<dir>/<function>.rs`.
//!
//! A file rather than stderr, because cargo replays a crate's cached compiler output on every
//! later build until the crate is rebuilt.

use std::path::Path;

use proc_macro2::TokenStream;

/// Writes `tokens`, the expansion of `function`, when `GENFLOW_MACROS_DEBUG` names a directory.
pub fn dump(function: &str, tokens: &TokenStream) {
    let Some(dir) = std::env::var_os("GENFLOW_MACROS_DEBUG") else {
        return;
    };
    let text = match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
    };
    let dir = Path::new(&dir);
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join(format!("{function}.rs")), text));
    if let Err(error) = written {
        // A proc macro has no other channel: a debugging aid failing must not fail the build.
        eprintln!(
            "GENFLOW_MACROS_DEBUG: cannot write to {}: {error}",
            dir.display()
        );
    }
}
