//! The store at scale: Postgres with pgvector, shared by every replica of a service. Documents
//! and embeddings in one table, an HNSW index (cosine) for the vector ranking, a generated
//! `tsvector` column with a GIN index for the full-text ranking, both fused by reciprocal
//! rank; the metadata filter in SQL over `jsonb`. Cargo feature `postgres`.

mod schema;
mod search;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures::future::BoxFuture;
use tokio_postgres::NoTls;
use tokio_postgres::config::Host;

use super::ranking::{checked_embedding, document_columns, embedding_length};
use super::{Retrieved, StoreEntry, StoreError, StoreQuery, VectorStore, normalized};

/// The table a store uses unless told otherwise.
pub const DEFAULT_TABLE: &str = "genflow_chunks";

/// How long a call waits for a free connection of the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Where a [`PgVectorStore`] is and how it is laid out.
#[derive(Clone)]
pub struct PgConfig {
    url: String,
    table: String,
    text_search: String,
    dimensions: Option<usize>,
    pool_size: usize,
    defer_vector_index: bool,
}

impl PgConfig {
    /// A store on the database at `url` (`postgres://user:password@host:port/database`, or
    /// `host=… user=… dbname=…`), in the table [`DEFAULT_TABLE`], English full text, a pool
    /// of 8 connections, the embedding length fixed by the first upsert. No TLS: reach the
    /// database over a private network or a local proxy.
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            table: DEFAULT_TABLE.to_owned(),
            text_search: "english".to_owned(),
            dimensions: None,
            pool_size: 8,
            defer_vector_index: false,
        }
    }

    /// The table (a plain SQL identifier: lowercase letters, digits, `_`; at most 40
    /// characters), created on first use. Stores sharing a table share one index.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The Postgres text search configuration of the full-text ranking (`english`, `simple`,
    /// `french`, …), fixed when the table is created.
    pub fn text_search(mut self, configuration: impl Into<String>) -> Self {
        self.text_search = configuration.into();
        self
    }

    /// The embedding length, fixed when the table is created rather than by the first upsert.
    pub fn dimensions(mut self, dimensions: usize) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// How many connections the store keeps at most (at least 1).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Leaves a new table without its HNSW index until [`PgVectorStore::build_vector_index`],
    /// for a first bulk load: pgvector builds the index over loaded rows far faster than it
    /// grows it row by row. Until then, vector search scans the table (exact, slower).
    pub fn defer_vector_index(mut self) -> Self {
        self.defer_vector_index = true;
        self
    }
}

impl std::fmt::Debug for PgConfig {
    /// Leaves the URL out: it may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("table", &self.table)
            .field("text_search", &self.text_search)
            .field("dimensions", &self.dimensions)
            .field("pool_size", &self.pool_size)
            .field("defer_vector_index", &self.defer_vector_index)
            .finish_non_exhaustive()
    }
}

/// The vector store on Postgres with pgvector: a connection pool and a table, created on first
/// use. Cheap to clone (clones share the pool). Any number of stores, in one process or in
/// many replicas, may share one table: upserts of the same ids from several of them are safe.
#[derive(Clone)]
pub struct PgVectorStore {
    inner: Arc<Inner>,
}

/// What the clones of a store share.
struct Inner {
    pool: Pool,
    table: String,
    text_search: String,
    describe: String,
    /// The embedding length, once the table's column has one (it never changes then).
    dimensions: OnceLock<usize>,
    /// Whether fixing the embedding length leaves the HNSW index for later.
    defer_vector_index: bool,
}

impl PgVectorStore {
    /// Connects to the database and creates what is missing: the `vector` extension, the
    /// table and its indexes.
    pub async fn connect(config: PgConfig) -> Result<Self, StoreError> {
        let pg: tokio_postgres::Config = config
            .url
            .parse()
            .map_err(|e| StoreError::Config(format!("the connection URL: {e}")))?;
        schema::check_identifier("table", &config.table)?;
        schema::check_identifier("text search configuration", &config.text_search)?;
        let describe = describe(&pg, &config.table);
        let manager = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        let store = PgVectorStore {
            inner: Arc::new(Inner {
                pool,
                table: config.table,
                text_search: config.text_search,
                describe,
                dimensions: OnceLock::new(),
                defer_vector_index: config.defer_vector_index,
            }),
        };
        schema::create(&store.inner, config.dimensions).await?;
        Ok(store)
    }

    /// Builds the HNSW index of the vector ranking unless the table has it: once a bulk load
    /// into a store made with [`PgConfig::defer_vector_index`] is done. Writes to the table
    /// wait while it builds. The embedding length must be known by then (something stored, or
    /// [`PgConfig::dimensions`]).
    pub async fn build_vector_index(&self) -> Result<(), StoreError> {
        let inner = &self.inner;
        let client = inner.client().await?;
        if inner.dimensions(&client).await?.is_none() {
            return Err(StoreError::Config(format!(
                "{}: no vector index before the embedding length is known: store something \
                 first, or set PgConfig::dimensions",
                inner.describe
            )));
        }
        client
            .batch_execute(&schema::vector_index(&inner.table))
            .await
            .map_err(|e| inner.fail(e))
    }
}

impl Inner {
    /// A connection of the pool.
    async fn client(&self) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(|e| self.fail(e))
    }

    /// A database error of this store.
    fn fail(&self, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Database {
            store: self.describe.clone(),
            source: Box::new(e),
        }
    }

    /// The embedding length of the table's column, `None` until something was stored (or
    /// [`PgConfig::dimensions`] fixed it).
    async fn dimensions(&self, client: &Object) -> Result<Option<usize>, StoreError> {
        if let Some(known) = self.dimensions.get() {
            return Ok(Some(*known));
        }
        let found = schema::dimensions(&***client, &self.table)
            .await
            .map_err(|e| self.fail(e))?;
        if let Some(found) = found {
            self.dimensions.get_or_init(|| found);
        }
        Ok(found)
    }
}

impl VectorStore for PgVectorStore {
    fn describe(&self) -> String {
        self.inner.describe.clone()
    }

    fn hashes(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'static, Result<HashMap<String, String>, StoreError>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let client = inner.client().await?;
            let sql = format!("SELECT id, hash FROM {} WHERE id = ANY($1)", inner.table);
            let rows = client
                .query(&sql, &[&ids])
                .await
                .map_err(|e| inner.fail(e))?;
            rows.iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect::<Result<_, tokio_postgres::Error>>()
                .map_err(|e| inner.fail(e))
        })
    }

    fn upsert(&self, entries: Vec<StoreEntry>) -> BoxFuture<'static, Result<(), StoreError>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let Some(length) = embedding_length(&entries)? else {
                return Ok(());
            };
            // One row per id (the last wins), in the order of the ids: concurrent upserts of
            // overlapping batches lock their rows in one order and never deadlock.
            let rows: BTreeMap<String, StoreEntry> = entries
                .into_iter()
                .map(|entry| (entry.document.id.clone(), entry))
                .collect();
            let mut columns: [Vec<String>; 6] = Default::default();
            for (id, entry) in rows {
                let [content, metadata, text] = document_columns(&entry.document)?;
                columns[0].push(id);
                columns[1].push(entry.hash);
                columns[2].push(content);
                columns[3].push(metadata);
                columns[4].push(text);
                columns[5].push(search::vector_text(&normalized(entry.embedding)));
            }
            let mut client = inner.client().await?;
            let transaction = client.transaction().await.map_err(|e| inner.fail(e))?;
            let expected = schema::fix_dimensions(&inner, &transaction, length).await?;
            if expected != length {
                return Err(StoreError::Dimensions {
                    expected,
                    got: length,
                });
            }
            let sql = format!(
                "INSERT INTO {table} (id, hash, content, metadata, text, embedding)
                 SELECT id, hash, content::jsonb, metadata::jsonb, text, embedding::vector
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                             $6::text[]) AS u (id, hash, content, metadata, text, embedding)
                 ON CONFLICT (id) DO UPDATE SET hash = excluded.hash,
                     content = excluded.content, metadata = excluded.metadata,
                     text = excluded.text, embedding = excluded.embedding",
                table = inner.table
            );
            let [ids, hashes, contents, metadata, texts, embeddings] = &columns;
            transaction
                .execute(&sql, &[ids, hashes, contents, metadata, texts, embeddings])
                .await
                .map_err(|e| inner.fail(e))?;
            transaction.commit().await.map_err(|e| inner.fail(e))?;
            inner.dimensions.get_or_init(|| length);
            Ok(())
        })
    }

    fn delete(&self, ids: Vec<String>) -> BoxFuture<'static, Result<usize, StoreError>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let client = inner.client().await?;
            let sql = format!("DELETE FROM {} WHERE id = ANY($1)", inner.table);
            let removed = client
                .execute(&sql, &[&ids])
                .await
                .map_err(|e| inner.fail(e))?;
            Ok(usize::try_from(removed).unwrap_or(usize::MAX))
        })
    }

    fn search(&self, query: StoreQuery) -> BoxFuture<'static, Result<Vec<Retrieved>, StoreError>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            let mut client = inner.client().await?;
            let expected = inner.dimensions(&client).await?;
            let embedding = checked_embedding(&query, expected)?;
            if expected.is_none() || query.k == 0 {
                return Ok(Vec::new());
            }
            search::run(&inner, &mut client, query, embedding).await
        })
    }
}

impl std::fmt::Debug for PgVectorStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.inner.describe)
    }
}

/// `postgres:host:port/database/table`, without the user or password.
fn describe(pg: &tokio_postgres::Config, table: &str) -> String {
    let host = match pg.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let database = pg.get_dbname().unwrap_or("postgres");
    format!("postgres:{host}:{port}/{database}/{table}")
}
