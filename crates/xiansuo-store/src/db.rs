//! The connection to whichever database the URL names, and the one narrow way the use cases
//! talk to it: SQL text with `?` placeholders, a list of [`Param`]s, and rows decoded into
//! plain [`Row`]s. Each database keeps its own pools and its own dialect; nothing here is generic
//! over `sqlx::Database` (see docs/ARCHITECTURE.md for why).
//!
//! SQLite runs in WAL mode with one writer connection and a pool of readers, `busy_timeout` and
//! foreign keys on; PostgreSQL uses one pool.

use crate::dialect::Dialect;
use crate::param::Param;
use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::Hash;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A decoded value from a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    /// The value as JSON; bytes (which no JSON answer should carry) as base64 text.
    pub fn to_json(&self) -> serde_json::Value {
        use base64::Engine as _;
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Int(n) => (*n).into(),
            Cell::Real(n) => (*n).into(),
            Cell::Text(t) => t.as_str().into(),
            Cell::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b).into(),
        }
    }
}

/// One result row: column names and their values.
#[derive(Debug, Clone)]
pub struct Row {
    pub(crate) columns: Arc<[String]>,
    pub(crate) cells: Vec<Cell>,
}

impl Row {
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    pub fn into_cells(self) -> Vec<Cell> {
        self.cells
    }

    /// The cell of column `name`. A name the statement did not select is a mistake in the
    /// code, not a null: debug builds (and so every test) stop on it.
    pub fn get(&self, name: &str) -> &Cell {
        match self.columns.iter().position(|c| c == name) {
            Some(i) => &self.cells[i],
            None => {
                debug_assert!(false, "no column '{name}' in a row of {:?}", self.columns);
                &Cell::Null
            }
        }
    }

    pub fn int(&self, name: &str) -> i64 {
        self.opt_int(name).unwrap_or_default()
    }

    pub fn opt_int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Cell::Int(v) => Some(*v),
            Cell::Real(v) => Some(*v as i64),
            Cell::Text(s) => {
                let parsed = s.parse().ok();
                debug_assert!(parsed.is_some(), "column '{name}' holds text, not a number");
                parsed
            }
            Cell::Bytes(_) => {
                debug_assert!(false, "column '{name}' holds bytes, not a number");
                None
            }
            Cell::Null => None,
        }
    }

    pub fn text(&self, name: &str) -> String {
        self.opt_text(name).unwrap_or_default()
    }

    pub fn opt_text(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Cell::Text(s) => Some(s.clone()),
            Cell::Int(v) => Some(v.to_string()),
            Cell::Real(v) => Some(v.to_string()),
            Cell::Bytes(_) => {
                debug_assert!(false, "column '{name}' holds bytes, not text");
                None
            }
            Cell::Null => None,
        }
    }

    /// The bytes of a BLOB/bytea column; empty for a null.
    pub fn bytes(&self, name: &str) -> &[u8] {
        match self.get(name) {
            Cell::Bytes(b) => b,
            Cell::Null => &[],
            other => {
                debug_assert!(false, "column '{name}' holds {other:?}, not bytes");
                &[]
            }
        }
    }
}

/// An open database: the pools, the dialect, and small caches shared by every clone.
#[derive(Clone)]
pub struct Db {
    pub(crate) backend: Backend,
    settings: Arc<Settings>,
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// What is read on every write and changes rarely, kept per open database: custom field
/// definitions per record type, dedup policies, scoring rules. Each kind of setting is its own
/// Rust type, so two use cases cannot read each other's values by mistake. A change through
/// this process clears its kind at once; one through another instance is seen within
/// [`Recent::TTL`].
#[derive(Default)]
pub struct Settings {
    values: Recent<(TypeId, u64), Arc<dyn Any + Send + Sync>>,
    shared: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Settings {
    /// The one value of kind `T` this database keeps for as long as it is open (a cache a use
    /// case owns), made on first use.
    pub fn shared<T: Any + Send + Sync + Default>(&self) -> Arc<T> {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let value = shared
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        drop(shared);
        value
            .downcast::<T>()
            .unwrap_or_else(|_| Arc::new(T::default()))
    }

    /// The value of kind `T` under `key` (0 for a setting with one value), when read recently.
    pub fn get<T: Any + Send + Sync + Clone>(&self, key: u64) -> Option<T> {
        self.values
            .get(&(TypeId::of::<T>(), key))
            .and_then(|value| value.downcast_ref::<T>().cloned())
    }

    pub fn put<T: Any + Send + Sync>(&self, key: u64, value: T) {
        self.values.put((TypeId::of::<T>(), key), Arc::new(value));
    }

    /// Forgets every value of kind `T`, after a change to it.
    pub fn clear<T: Any>(&self) {
        let kind = TypeId::of::<T>();
        self.values.entries().retain(|(k, _), _| *k != kind);
    }
}

/// Values read recently, per key, each good for [`Recent::TTL`]; at most about
/// [`Recent::CAPACITY`] keys, stale ones dropped first.
pub struct Recent<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K, V> Default for Recent<K, V> {
    fn default() -> Self {
        Recent {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    pub const TTL: Duration = Duration::from_secs(5);
    pub const CAPACITY: usize = 10_000;

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<K, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value for `key`, when it was read less than [`Recent::TTL`] ago.
    pub fn get(&self, key: &K) -> Option<V> {
        self.entries()
            .get(key)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(value, _)| value.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries();
        if entries.len() >= Self::CAPACITY {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets every value, after a change.
    pub fn clear(&self) {
        self.entries().clear();
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Sqlite { .. } => "Db::Sqlite",
            Backend::Postgres(_) => "Db::Postgres",
        })
    }
}

/// Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL. A `?` inside a quoted string or
/// identifier is left alone, and `??` stands for PostgreSQL's own `?` operator (so `??|` and
/// `??&` for `?|` and `?&`): placeholders forbid none of the database's operators.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') if chars.peek() == Some(&'?') => {
                chars.next();
                out.push('?');
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            (None, c) => out.push(c),
        }
    }
    out
}

macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                Param::NullInt => q.bind(None::<i64>),
                Param::NullText => q.bind(None::<String>),
                Param::Int(v) => q.bind(*v),
                Param::Real(v) => q.bind(*v),
                Param::Text(v) => q.bind(v.as_str()),
                Param::Bytes(v) => q.bind(v.as_slice()),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

fn columns_of<R: sqlx::Row>(row: &R) -> Arc<[String]> {
    row.columns().iter().map(|c| c.name().to_owned()).collect()
}

pub(crate) fn decode_sqlite(rows: Vec<SqliteRow>) -> anyhow::Result<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns = columns_of(first);
    rows.iter()
        .map(|row| {
            Ok(Row {
                columns: columns.clone(),
                cells: sqlite_cells(row)?,
            })
        })
        .collect()
}

/// The cells of one SQLite row, each in the type its value has (SQLite types values, not
/// columns).
fn sqlite_cells(row: &SqliteRow) -> Result<Vec<Cell>, sqlx::Error> {
    (0..row.columns().len())
        .map(|i| {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                return Ok(Cell::Null);
            }
            let kind = raw.type_info().name().to_owned();
            Ok(match kind.as_str() {
                "INTEGER" | "BOOLEAN" | "INT8" | "BIGINT" => Cell::Int(row.try_get(i)?),
                "REAL" | "DOUBLE" | "FLOAT" => Cell::Real(row.try_get(i)?),
                "BLOB" => Cell::Bytes(row.try_get(i)?),
                _ => Cell::Text(row.try_get(i)?),
            })
        })
        .collect()
}

pub(crate) fn decode_postgres(rows: Vec<PgRow>) -> anyhow::Result<Vec<Row>> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns = columns_of(first);
    let kinds = postgres_kinds(first);
    rows.iter()
        .map(|row| {
            Ok(Row {
                columns: columns.clone(),
                cells: postgres_cells(row, &kinds)?,
            })
        })
        .collect()
}

/// The type names of a PostgreSQL row's columns, for [`postgres_cells`].
fn postgres_kinds(row: &PgRow) -> Vec<String> {
    row.columns()
        .iter()
        .map(|c| c.type_info().name().to_owned())
        .collect()
}

/// The cells of one PostgreSQL row whose column types are `kinds`: integers and booleans as
/// [`Cell::Int`], floats as [`Cell::Real`], bytea as [`Cell::Bytes`], anything else as text.
fn postgres_cells(row: &PgRow, kinds: &[String]) -> Result<Vec<Cell>, sqlx::Error> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind.as_str() {
                "INT8" => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Cell::Null, Cell::Int),
                "INT4" => row
                    .try_get::<Option<i32>, _>(i)?
                    .map_or(Cell::Null, |v| Cell::Int(v.into())),
                "INT2" => row
                    .try_get::<Option<i16>, _>(i)?
                    .map_or(Cell::Null, |v| Cell::Int(v.into())),
                "BOOL" => row
                    .try_get::<Option<bool>, _>(i)?
                    .map_or(Cell::Null, |v| Cell::Int(v.into())),
                "FLOAT8" => row
                    .try_get::<Option<f64>, _>(i)?
                    .map_or(Cell::Null, Cell::Real),
                "FLOAT4" => row
                    .try_get::<Option<f32>, _>(i)?
                    .map_or(Cell::Null, |v| Cell::Real(v.into())),
                "BYTEA" => row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Cell::Null, Cell::Bytes),
                _ => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Cell::Null, Cell::Text),
            })
        })
        .collect()
}

/// The settings of each of the server's SQLite connections to `sqlite://PATH` (the file is
/// created if missing): WAL, `synchronous=NORMAL`, foreign keys, a busy timeout, and the page
/// cache and memory map below. The benchmark's probe opens its raw SQLite file with them too.
pub fn sqlite_options(url: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)
        .context("parsing the SQLite URL")?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // 16 MiB of page cache per connection; with nine connections that keeps the
        // server within its memory budget on a large database.
        .pragma("cache_size", "-16384")
        // Readers drop their page cache whenever a write has happened since their last
        // read; through a memory map they read the pages in place instead of copying
        // them in again, which keeps a dedup probe per create cheap under write load.
        .pragma("mmap_size", "268435456")
        .pragma("temp_store", "memory"))
}

/// The settings of each of the server's connections to the PostgreSQL database `url` names.
pub fn postgres_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    // Plan each execution with its values: a generic plan cached while a table was still
    // small (a new install) would otherwise keep scanning it as it grows.
    Ok(PgConnectOptions::from_str(url)
        .context("parsing the PostgreSQL URL")?
        .options([("plan_cache_mode", "force_custom_plan")]))
}

impl Db {
    fn new(backend: Backend) -> Db {
        Db {
            backend,
            settings: Arc::default(),
        }
    }

    /// The settings cache of this database, shared by every clone.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Opens the database a URL names: `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = postgres_options(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Db::new(Backend::Postgres(pool)))
        } else if url.starts_with("sqlite:") {
            let options = sqlite_options(url)?;
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.clone())
                .await
                .context("opening the SQLite database")?;
            let reader = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options.read_only(true))
                .await
                .context("opening the SQLite database for reading")?;
            Ok(Db::new(Backend::Sqlite { writer, reader }))
        } else {
            anyhow::bail!("unsupported database URL '{url}': use sqlite://PATH or postgres://…")
        }
    }

    pub fn dialect(&self) -> Dialect {
        match &self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a read-only query.
    pub async fn fetch_all(&self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Row>> {
        match &self.backend {
            Backend::Sqlite { reader, .. } => {
                let rows = bind_all!(sqlx::query(sql), params)
                    .fetch_all(reader)
                    .await?;
                decode_sqlite(rows)
            }
            Backend::Postgres(pool) => {
                let sql = numbered(sql);
                let rows = bind_all!(sqlx::query(&sql), params).fetch_all(pool).await?;
                decode_postgres(rows)
            }
        }
    }

    pub async fn fetch_optional(&self, sql: &str, params: &[Param]) -> anyhow::Result<Option<Row>> {
        Ok(self.fetch_all(sql, params).await?.into_iter().next())
    }

    /// Runs one write outside an explicit transaction.
    pub async fn execute(&self, sql: &str, params: &[Param]) -> anyhow::Result<u64> {
        let mut tx = self.begin().await?;
        let n = tx.execute(sql, params).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Starts a write transaction (on SQLite, on the one writer connection).
    pub async fn begin(&self) -> anyhow::Result<Tx> {
        Ok(match &self.backend {
            Backend::Sqlite { writer, .. } => Tx::new(Conn::Sqlite(writer.begin().await?)),
            Backend::Postgres(pool) => Tx::new(Conn::Postgres(pool.begin().await?)),
        })
    }

    /// Runs statements outside any transaction, such as `CREATE DATABASE`.
    pub async fn execute_script(&self, sql: &str) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                sqlx::raw_sql(sql).execute(writer).await?;
            }
            Backend::Postgres(pool) => {
                sqlx::raw_sql(sql).execute(pool).await?;
            }
        }
        Ok(())
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.fetch_all("SELECT 1 AS ok", &[]).await.is_ok()
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// Reads through the database or inside a write transaction, so that the same rule or lookup
/// can run in a read path and in a write path. Its futures are awaited where they are made, so
/// they need no `Send` bound of their own.
#[allow(async_fn_in_trait)]
pub trait Reader {
    async fn rows(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Row>>;

    async fn row(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<Option<Row>> {
        Ok(self.rows(sql, params).await?.into_iter().next())
    }
}

impl Reader for &Db {
    async fn rows(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Row>> {
        self.fetch_all(sql, params).await
    }
}

impl Reader for Tx {
    async fn rows(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Row>> {
        self.fetch_all(sql, params).await
    }
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls it back, so an error anywhere
/// in a use case leaves nothing half-written.
pub struct Tx {
    pub(crate) conn: Conn,
    /// Values a use case reads once per transaction and reuses for the rest of it, one per type
    /// (the active webhook subscriptions: a batch of a thousand creates asks once, not a
    /// thousand times, and still sees every subscription committed before it began).
    memo: HashMap<TypeId, Box<dyn Any + Send>>,
}

pub(crate) enum Conn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    fn new(conn: Conn) -> Self {
        Tx {
            conn,
            memo: HashMap::new(),
        }
    }

    /// The value of type `T` kept in this transaction by [`Tx::remember`].
    pub fn memo<T: Any + Send>(&self) -> Option<&T> {
        self.memo
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }

    /// Keeps `value` for the rest of this transaction.
    pub fn remember<T: Any + Send>(&mut self, value: T) {
        self.memo.insert(TypeId::of::<T>(), Box::new(value));
    }

    pub fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn execute(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<u64> {
        Ok(match &mut self.conn {
            Conn::Sqlite(tx) => bind_all!(sqlx::query(sql), params)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Conn::Postgres(tx) => {
                let sql = numbered(sql);
                bind_all!(sqlx::query(&sql), params)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
        })
    }

    pub async fn fetch_all(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Row>> {
        match &mut self.conn {
            Conn::Sqlite(tx) => {
                let rows = bind_all!(sqlx::query(sql), params)
                    .fetch_all(&mut **tx)
                    .await?;
                decode_sqlite(rows)
            }
            Conn::Postgres(tx) => {
                let sql = numbered(sql);
                let rows = bind_all!(sqlx::query(&sql), params)
                    .fetch_all(&mut **tx)
                    .await?;
                decode_postgres(rows)
            }
        }
    }

    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> anyhow::Result<Option<Row>> {
        Ok(self.fetch_all(sql, params).await?.into_iter().next())
    }

    /// Runs an INSERT … RETURNING id and gives the new id.
    pub async fn insert_returning_id(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> anyhow::Result<i64> {
        let row = self
            .fetch_optional(&format!("{sql} RETURNING id"), params)
            .await?
            .context("INSERT returned no row")?;
        Ok(row.int("id"))
    }

    /// Runs a script of several statements (migrations).
    pub async fn execute_script(&mut self, sql: &str) -> anyhow::Result<()> {
        match &mut self.conn {
            Conn::Sqlite(tx) => {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
            Conn::Postgres(tx) => {
                sqlx::raw_sql(sql).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    pub async fn commit(self) -> anyhow::Result<()> {
        match self.conn {
            Conn::Sqlite(tx) => tx.commit().await?,
            Conn::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("SELECT * FROM leads WHERE a = ? AND (b = ? OR c IN (?, ?))"),
            "SELECT * FROM leads WHERE a = $1 AND (b = $2 OR c IN ($3, $4))"
        );
    }

    #[test]
    fn quoted_question_marks_and_postgresql_operators_are_not_placeholders() {
        assert_eq!(
            numbered("SELECT '?', \"a?\" FROM t WHERE tags::jsonb ?? ? AND x ??| ?"),
            "SELECT '?', \"a?\" FROM t WHERE tags::jsonb ? $1 AND x ?| $2"
        );
    }
}
