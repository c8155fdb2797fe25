//! The Postgres store's schema: created on first use, its embedding length fixed once, under
//! an advisory lock so replicas starting together do not race.

use deadpool_postgres::Transaction;
use tokio_postgres::GenericClient;

use super::Inner;
use crate::retrieval::StoreError;

/// The longest table name: the indexes' names append to it, within Postgres' 63 bytes.
const MAX_IDENTIFIER: usize = 40;

/// Refuses anything but a plain lowercase SQL identifier: names are written into the SQL.
pub(super) fn check_identifier(what: &str, name: &str) -> Result<(), StoreError> {
    let mut chars = name.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= MAX_IDENTIFIER;
    if plain {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "the {what} '{name}' must be lowercase letters, digits and '_', at most \
             {MAX_IDENTIFIER} characters, not starting with a digit"
        )))
    }
}

/// Takes the lock that orders schema changes of every genflow store in the database, until
/// the transaction ends.
async fn lock(transaction: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock(hashtext('genflow:schema'))",
            &[],
        )
        .await
        .map(drop)
}

/// Creates the extension, the table and its full-text index when missing; fixes the
/// embedding length when `dimensions` is given.
pub(super) async fn create(inner: &Inner, dimensions: Option<usize>) -> Result<(), StoreError> {
    let mut client = inner.client().await?;
    let transaction = client.transaction().await.map_err(|e| inner.fail(e))?;
    lock(&transaction).await.map_err(|e| inner.fail(e))?;
    let ddl = format!(
        "CREATE EXTENSION IF NOT EXISTS vector;
         CREATE TABLE IF NOT EXISTS {table} (
             id text PRIMARY KEY,
             hash text NOT NULL,
             content jsonb NOT NULL,
             metadata jsonb NOT NULL,
             text text NOT NULL,
             embedding vector NOT NULL,
             fts tsvector GENERATED ALWAYS AS (to_tsvector('{config}', text)) STORED
         );
         CREATE INDEX IF NOT EXISTS {table}_fts ON {table} USING gin (fts);",
        table = inner.table,
        config = inner.text_search
    );
    transaction
        .batch_execute(&ddl)
        .await
        .map_err(|e| inner.fail(e))?;
    if let Some(wanted) = dimensions {
        let fixed = fix_locked(inner, &transaction, wanted).await?;
        if fixed != wanted {
            return Err(StoreError::Dimensions {
                expected: fixed,
                got: wanted,
            });
        }
    }
    transaction.commit().await.map_err(|e| inner.fail(e))?;
    if let Some(fixed) = dimensions {
        inner.dimensions.get_or_init(|| fixed);
    }
    Ok(())
}

/// The embedding length of the table's column (its type modifier), `None` while unset.
pub(super) async fn dimensions(
    client: &impl GenericClient,
    table: &str,
) -> Result<Option<usize>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT atttypmod FROM pg_attribute
             WHERE attrelid = to_regclass($1) AND attname = 'embedding'",
            &[&table],
        )
        .await?;
    let modifier: Option<i32> = row.map(|row| row.try_get(0)).transpose()?;
    Ok(modifier.and_then(|m| usize::try_from(m).ok()))
}

/// The table's embedding length in `transaction`: the one it has, or `length` once the
/// column is typed `vector(length)` and (unless deferred) the HNSW index built.
pub(super) async fn fix_dimensions(
    inner: &Inner,
    transaction: &Transaction<'_>,
    length: usize,
) -> Result<usize, StoreError> {
    if let Some(known) = inner.dimensions.get() {
        return Ok(*known);
    }
    lock(transaction).await.map_err(|e| inner.fail(e))?;
    fix_locked(inner, transaction, length).await
}

/// [`fix_dimensions`] with the schema lock held.
async fn fix_locked(
    inner: &Inner,
    transaction: &Transaction<'_>,
    length: usize,
) -> Result<usize, StoreError> {
    let found = dimensions(&**transaction, &inner.table)
        .await
        .map_err(|e| inner.fail(e))?;
    let fixed = match found {
        Some(found) => found,
        None => {
            let mut ddl = format!(
                "ALTER TABLE {table} ALTER COLUMN embedding TYPE vector({length});",
                table = inner.table
            );
            if !inner.defer_vector_index {
                ddl.push_str(&vector_index(&inner.table));
            }
            transaction
                .batch_execute(&ddl)
                .await
                .map_err(|e| inner.fail(e))?;
            length
        }
    };
    Ok(fixed)
}

/// The statement creating the HNSW index (cosine) of `table`'s embeddings, when missing.
pub(super) fn vector_index(table: &str) -> String {
    format!(
        "CREATE INDEX IF NOT EXISTS {table}_embedding ON {table}
             USING hnsw (embedding vector_cosine_ops);"
    )
}
