//! The embedded store: one SQLite file (the database compiled in, nothing to install or
//! start), documents and embeddings in a table, an FTS5 index for BM25 full-text search, exact
//! cosine similarity over the embeddings in Rust, hybrid ranking by reciprocal rank fusion.
//! Cargo feature `sqlite`.

mod search;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::ranking::{document_columns, embedding_length};
use super::{Retrieved, StoreEntry, StoreError, StoreQuery, VectorStore, normalized};

/// The tables, the full-text index (kept in step with the table by triggers) and the store's
/// settings (the embedding length, fixed by the first upsert).
const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS genflow_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS genflow_chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    content TEXT NOT NULL,
    metadata TEXT NOT NULL,
    text TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS genflow_chunks_fts USING fts5(
    text, content = 'genflow_chunks', content_rowid = 'rowid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS genflow_chunks_ai AFTER INSERT ON genflow_chunks BEGIN
    INSERT INTO genflow_chunks_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS genflow_chunks_ad AFTER DELETE ON genflow_chunks BEGIN
    INSERT INTO genflow_chunks_fts (genflow_chunks_fts, rowid, text)
        VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER IF NOT EXISTS genflow_chunks_au AFTER UPDATE ON genflow_chunks BEGIN
    INSERT INTO genflow_chunks_fts (genflow_chunks_fts, rowid, text)
        VALUES ('delete', old.rowid, old.text);
    INSERT INTO genflow_chunks_fts (rowid, text) VALUES (new.rowid, new.text);
END;
";

/// The embedded vector store: a SQLite file. Cheap to clone (clones share the connection).
///
/// Calls run on tokio's blocking pool, one at a time per store (SQLite writes one at a time
/// anyway; a WAL journal lets other processes read meanwhile).
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    describe: Arc<str>,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its tables if needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path: PathBuf = path.as_ref().to_owned();
        let describe = format!("sqlite:{}", path.display());
        let connection = Connection::open(&path).map_err(|e| database(&describe, e))?;
        SqliteStore::with(connection, describe)
    }

    /// A store in memory, gone when the last clone is dropped (for tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        let describe = "sqlite::memory:".to_owned();
        let connection = Connection::open_in_memory().map_err(|e| database(&describe, e))?;
        SqliteStore::with(connection, describe)
    }

    fn with(connection: Connection, describe: String) -> Result<Self, StoreError> {
        connection
            .execute_batch(SCHEMA)
            .map_err(|e| database(&describe, e))?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            describe: describe.into(),
        })
    }

    /// Runs `work` on the connection, on the blocking pool.
    fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, &str) -> Result<T, StoreError> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, StoreError>> {
        let store = self.clone();
        Box::pin(async move {
            let describe = Arc::clone(&store.describe);
            tokio::task::spawn_blocking(move || {
                let mut connection = store
                    .connection
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                work(&mut connection, &store.describe)
            })
            .await
            .map_err(|e| database(&describe, e))?
        })
    }
}

impl VectorStore for SqliteStore {
    fn describe(&self) -> String {
        self.describe.to_string()
    }

    fn hashes(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'static, Result<HashMap<String, String>, StoreError>> {
        self.blocking(move |connection, describe| {
            let mut hashes = HashMap::new();
            // SQLite's default limit of bound parameters is 32766.
            for some in ids.chunks(10_000) {
                let marks = vec!["?"; some.len()].join(",");
                let sql = format!("SELECT id, hash FROM genflow_chunks WHERE id IN ({marks})");
                let mut run = || -> rusqlite::Result<()> {
                    let mut statement = connection.prepare(&sql)?;
                    let rows = statement
                        .query_map(params_from_iter(some), |row| Ok((row.get(0)?, row.get(1)?)))?;
                    for row in rows {
                        let (id, hash) = row?;
                        hashes.insert(id, hash);
                    }
                    Ok(())
                };
                run().map_err(|e| database(describe, e))?;
            }
            Ok(hashes)
        })
    }

    fn upsert(&self, entries: Vec<StoreEntry>) -> BoxFuture<'static, Result<(), StoreError>> {
        self.blocking(move |connection, describe| {
            let Some(length) = embedding_length(&entries)? else {
                return Ok(());
            };
            let transaction = connection
                .transaction()
                .map_err(|e| database(describe, e))?;
            match dimensions(&transaction, describe)? {
                Some(expected) if expected != length => {
                    return Err(StoreError::Dimensions {
                        expected,
                        got: length,
                    });
                }
                Some(_) => {}
                None => {
                    transaction
                        .execute(
                            "INSERT INTO genflow_settings (key, value) VALUES ('dimensions', ?1)",
                            params![length.to_string()],
                        )
                        .map_err(|e| database(describe, e))?;
                }
            }
            {
                let mut statement = transaction
                    .prepare(
                        "INSERT INTO genflow_chunks (id, hash, content, metadata, text, embedding)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (id) DO UPDATE SET hash = excluded.hash,
                             content = excluded.content, metadata = excluded.metadata,
                             text = excluded.text, embedding = excluded.embedding",
                    )
                    .map_err(|e| database(describe, e))?;
                for entry in entries {
                    let [content, metadata, text] = document_columns(&entry.document)?;
                    let blob = search::to_blob(&normalized(entry.embedding));
                    statement
                        .execute(params![
                            entry.document.id,
                            entry.hash,
                            content,
                            metadata,
                            text,
                            blob
                        ])
                        .map_err(|e| database(describe, e))?;
                }
            }
            transaction.commit().map_err(|e| database(describe, e))
        })
    }

    fn delete(&self, ids: Vec<String>) -> BoxFuture<'static, Result<usize, StoreError>> {
        self.blocking(move |connection, describe| {
            let transaction = connection
                .transaction()
                .map_err(|e| database(describe, e))?;
            let mut removed = 0;
            for id in &ids {
                removed += transaction
                    .execute("DELETE FROM genflow_chunks WHERE id = ?1", params![id])
                    .map_err(|e| database(describe, e))?;
            }
            transaction.commit().map_err(|e| database(describe, e))?;
            Ok(removed)
        })
    }

    fn search(&self, query: StoreQuery) -> BoxFuture<'static, Result<Vec<Retrieved>, StoreError>> {
        self.blocking(move |connection, describe| {
            let expected = dimensions(connection, describe)?;
            search::run(connection, describe, expected, query)
        })
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// The store's embedding length, once something was stored.
fn dimensions(connection: &Connection, describe: &str) -> Result<Option<usize>, StoreError> {
    let value: Option<String> = connection
        .query_row(
            "SELECT value FROM genflow_settings WHERE key = 'dimensions'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(|e| database(describe, e))?;
    value
        .map(|v| {
            v.parse()
                .map_err(|_| StoreError::Corrupt(format!("the stored dimensions '{v}'")))
        })
        .transpose()
}

/// A database error of the store `describe`.
fn database(describe: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Database {
        store: describe.to_owned(),
        source: Box::new(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_in_memory_store_passes_the_store_suite() {
        let store = SqliteStore::in_memory().expect("opens");
        crate::retrieval::testing::conformance(&store).await;
    }
}
