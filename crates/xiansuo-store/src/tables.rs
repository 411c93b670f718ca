//! Whole tables in and out, for backup and restore, without knowing what any table holds: the
//! tables and columns the database's own catalogue lists, every row of a table read inside one
//! read-only snapshot and handed on in small batches (so a table of a million rows never sits in
//! memory), and the loading side: rows inserted in batches, triggers and foreign keys held
//! while a whole database is loaded, and id counters moved past the loaded ids.

use crate::db::{bind_all, decode_postgres, decode_sqlite, Backend, Cell, Db, Row, Tx};
use crate::dialect::Dialect;
use crate::param::Param;
use anyhow::Context;

/// A table as the catalogue describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    /// In the order the table declares them.
    pub columns: Vec<Column>,
    /// The primary key's columns, in key order (rows are read in this order).
    pub key: Vec<String>,
}

/// A column and its declared type, as the database names it (`BIGINT` on SQLite, `int8` on
/// PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: String,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Rows read or loaded together.
pub type Batch = Vec<Vec<Cell>>;

/// Rows read in the first page of a table; later pages hold about [`PAGE_BYTES`], at most
/// [`MAX_PAGE`] rows.
const FIRST_PAGE: usize = 16;
const PAGE_BYTES: usize = 4 << 20;
const MAX_PAGE: usize = 1_000;

/// PostgreSQL column types read as they are; any other (tsvector, jsonb, …) is read as its text.
const PG_NATIVE: &[&str] = &[
    "int8", "int4", "int2", "bool", "float8", "float4", "bytea", "text", "varchar", "bpchar",
];

/// Quotes an identifier for either database.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A consistent read-only view of the whole database, for as long as it is open: on SQLite a
/// read transaction on one reader connection (WAL keeps its snapshot while writers go on), on
/// PostgreSQL a `REPEATABLE READ READ ONLY` transaction.
pub struct Snapshot {
    conn: SnapConn,
}

enum SnapConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Db {
    /// Opens a [`Snapshot`]. Its first read fixes the state it sees.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let mut snapshot = match &self.backend {
            Backend::Sqlite { reader, .. } => Snapshot {
                conn: SnapConn::Sqlite(reader.begin().await?),
            },
            Backend::Postgres(pool) => {
                let mut snapshot = Snapshot {
                    conn: SnapConn::Postgres(pool.begin().await?),
                };
                snapshot
                    .fetch_all(
                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                        &[],
                    )
                    .await?;
                snapshot
            }
        };
        // SQLite starts the read transaction at the first read of the database file.
        let first = match snapshot.conn {
            SnapConn::Sqlite(_) => "SELECT COUNT(*) AS n FROM sqlite_master",
            SnapConn::Postgres(_) => "SELECT 1 AS started",
        };
        snapshot.fetch_all(first, &[]).await?;
        Ok(snapshot)
    }
}

impl Snapshot {
    /// Runs a query inside the snapshot.
    pub async fn fetch_all(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Row>> {
        match &mut self.conn {
            SnapConn::Sqlite(tx) => {
                let rows = bind_all!(sqlx::query(sql), params)
                    .fetch_all(&mut **tx)
                    .await?;
                decode_sqlite(rows)
            }
            SnapConn::Postgres(tx) => {
                let sql = crate::db::numbered(sql);
                let rows = bind_all!(sqlx::query(&sql), params)
                    .fetch_all(&mut **tx)
                    .await?;
                decode_postgres(rows)
            }
        }
    }
}

impl Snapshot {
    pub fn dialect(&self) -> Dialect {
        match self.conn {
            SnapConn::Sqlite(_) => Dialect::Sqlite,
            SnapConn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Every ordinary table of the database (see [`CATALOGUE_SQLITE`]).
    pub async fn tables(&mut self) -> anyhow::Result<Vec<Table>> {
        let dialect = self.dialect();
        let rows = self.fetch_all(catalogue_sql(dialect), &[]).await?;
        Ok(catalogue(dialect, rows))
    }

    /// The next rows of the table `cursor` reads, `None` after the last; see [`Cursor`].
    pub async fn next_page(&mut self, cursor: &mut Cursor) -> anyhow::Result<Option<Batch>> {
        let (sql, params) = cursor.query();
        let rows = self.fetch_all(&sql, &params).await?;
        Ok(cursor.advance(rows))
    }

    /// Ends the read transaction.
    pub async fn close(self) -> anyhow::Result<()> {
        match self.conn {
            SnapConn::Sqlite(tx) => tx.rollback().await?,
            SnapConn::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// Where reading a table has got to: every row of it in primary key order, each row's cells
/// in the table's column order, a page at a time after the last key read, each page sized to
/// hold a few megabytes whatever the width of the rows. Values keep their type: integers,
/// floats, text, bytes, null (PostgreSQL types with no counterpart, such as tsvector, are read
/// as their text).
pub struct Cursor {
    select: String,
    order_by: String,
    /// `(key columns) > (placeholders)`.
    after: String,
    /// Where the key columns are among the table's columns.
    positions: Vec<usize>,
    keyless: bool,
    last: Option<Vec<Param>>,
    limit: usize,
    read: u64,
}

impl Cursor {
    pub fn new(dialect: Dialect, table: &Table) -> Cursor {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| match dialect {
                Dialect::Postgres if !PG_NATIVE.contains(&c.kind.as_str()) => {
                    format!("CAST({0} AS TEXT) AS {0}", quoted(&c.name))
                }
                _ => quoted(&c.name),
            })
            .collect();
        // A table without a primary key (there is none today) is read in the order of all its
        // columns, by offset.
        let order: Vec<&str> = if table.key.is_empty() {
            table.columns.iter().map(|c| c.name.as_str()).collect()
        } else {
            table.key.iter().map(String::as_str).collect()
        };
        let order_by: Vec<String> = order.iter().map(|k| quoted(k)).collect();
        let placeholders: Vec<String> = order
            .iter()
            .map(|k| placeholder(dialect, table.column(k).map_or("", |c| c.kind.as_str())))
            .collect();
        Cursor {
            select: format!("SELECT {} FROM {}", columns.join(", "), quoted(&table.name)),
            after: format!("({}) > ({})", order_by.join(", "), placeholders.join(", ")),
            order_by: order_by.join(", "),
            positions: order
                .iter()
                .filter_map(|k| table.columns.iter().position(|c| c.name == *k))
                .collect(),
            keyless: table.key.is_empty(),
            last: None,
            limit: FIRST_PAGE,
            read: 0,
        }
    }

    /// How many rows have been read.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// The query of the next page.
    fn query(&self) -> (String, Vec<Param>) {
        let (select, order_by, limit) = (&self.select, &self.order_by, self.limit);
        match &self.last {
            Some(key) if !self.keyless => (
                format!(
                    "{select} WHERE {} ORDER BY {order_by} LIMIT {limit}",
                    self.after
                ),
                key.clone(),
            ),
            _ => {
                let offset = if self.keyless { self.read } else { 0 };
                (
                    format!("{select} ORDER BY {order_by} LIMIT {limit} OFFSET {offset}"),
                    Vec::new(),
                )
            }
        }
    }

    /// Notes a page read: its last key, and the size of the next page.
    fn advance(&mut self, rows: Vec<Row>) -> Option<Batch> {
        let final_row = rows.last()?;
        self.last = Some(
            self.positions
                .iter()
                .map(|&i| param_of(&final_row.cells()[i]))
                .collect(),
        );
        let bytes: usize = rows
            .iter()
            .map(|r| r.cells().iter().map(cell_size).sum::<usize>())
            .sum();
        self.read += rows.len() as u64;
        self.limit = (PAGE_BYTES * rows.len() / bytes.max(1)).clamp(1, MAX_PAGE);
        Some(rows.into_iter().map(Row::into_cells).collect())
    }
}

/// The parameter that stands for a cell's value.
fn param_of(cell: &Cell) -> Param {
    match cell {
        Cell::Null => Param::NullText,
        Cell::Int(v) => Param::Int(*v),
        Cell::Real(v) => Param::Real(*v),
        Cell::Text(v) => Param::Text(v.clone()),
        Cell::Bytes(v) => Param::Bytes(v.clone()),
    }
}

/// A cell as text for PostgreSQL, which casts it to the column's type. A statement is prepared
/// once with the types of its first parameters; as text every parameter keeps one type however
/// the values of a column differ (a null first, a number later).
fn text_param(cell: &Cell) -> Param {
    match cell {
        Cell::Null => Param::NullText,
        Cell::Int(v) => Param::Text(v.to_string()),
        // Rust writes the shortest text that reads back to the same float.
        Cell::Real(v) if v.is_nan() => Param::Text("NaN".into()),
        Cell::Real(v) if v.is_infinite() => {
            Param::Text(if *v > 0.0 { "Infinity" } else { "-Infinity" }.into())
        }
        Cell::Real(v) => Param::Text(v.to_string()),
        Cell::Text(v) => Param::Text(v.clone()),
        Cell::Bytes(v) => Param::Text(format!("\\x{}", hex_of(v))),
    }
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The placeholder of a value for a column of type `kind`: PostgreSQL is told the column's
/// type, since a parameter's own type (text for a null) need not be the column's.
fn placeholder(dialect: Dialect, kind: &str) -> String {
    match dialect {
        Dialect::Sqlite => "?".to_owned(),
        Dialect::Postgres if kind == "bool" => "(CAST(CAST(? AS text) AS int8) <> 0)".to_owned(),
        Dialect::Postgres => format!("CAST(? AS {kind})"),
    }
}

/// About how much memory a cell takes.
pub fn cell_size(cell: &Cell) -> usize {
    match cell {
        Cell::Text(t) => t.len() + 24,
        Cell::Bytes(b) => b.len() + 24,
        _ => 16,
    }
}

impl Db {
    /// Every ordinary table of the database (see [`CATALOGUE_SQLITE`]).
    pub async fn tables(&self) -> anyhow::Result<Vec<Table>> {
        let dialect = self.dialect();
        Ok(catalogue(
            dialect,
            self.fetch_all(catalogue_sql(dialect), &[]).await?,
        ))
    }

    /// Turns SQLite's foreign key enforcement off (`held`) or on again on the writer connection,
    /// for a bulk load whose keys [`Tx::resume_checks`] checks in one pass: enforced, every row
    /// loaded before the row it refers to makes SQLite look for such rows again at each insert
    /// into the table referred to. The pragma has no effect inside a transaction. PostgreSQL:
    /// nothing to do (its foreign keys are dropped and added again by the load's transaction).
    pub async fn hold_foreign_keys(&self, held: bool) -> anyhow::Result<()> {
        if self.dialect() == Dialect::Sqlite {
            let on = if held { "OFF" } else { "ON" };
            self.execute_script(&format!("PRAGMA foreign_keys = {on}"))
                .await?;
        }
        Ok(())
    }
}

/// Every ordinary table of a SQLite database with its columns, one row per column. SQLite's own
/// tables, virtual tables (the FTS5 search index) and the tables a virtual table keeps its data
/// in are left out by [`catalogue`]: they are not rows a program wrote.
const CATALOGUE_SQLITE: &str = "SELECT m.name AS tbl, m.sql AS definition, c.name AS col, \
     c.type AS kind, c.pk AS pk FROM sqlite_master m JOIN pragma_table_info(m.name) c \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid";

/// Every base table of the PostgreSQL schema in use with its columns, one row per column.
const CATALOGUE_POSTGRES: &str = "SELECT CAST(c.table_name AS TEXT) AS tbl, '' AS definition, \
     CAST(c.column_name AS TEXT) AS col, CAST(c.udt_name AS TEXT) AS kind, \
     COALESCE((SELECT array_position(CAST(i.indkey AS int2[]), a.attnum) FROM pg_index i \
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
       WHERE i.indrelid = to_regclass(quote_ident(c.table_name)) AND i.indisprimary \
       AND a.attname = c.column_name), 0) AS pk \
     FROM information_schema.columns c JOIN information_schema.tables t \
       ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
     ORDER BY c.table_name, c.ordinal_position";

fn catalogue_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => CATALOGUE_SQLITE,
        Dialect::Postgres => CATALOGUE_POSTGRES,
    }
}

/// The tables the rows of the catalogue query describe, by name.
fn catalogue(dialect: Dialect, rows: Vec<Row>) -> Vec<Table> {
    let virtual_tables: Vec<String> = rows
        .iter()
        .filter(|r| {
            dialect == Dialect::Sqlite
                && r.text("definition")
                    .to_ascii_uppercase()
                    .starts_with("CREATE VIRTUAL TABLE")
        })
        .map(|r| r.text("tbl"))
        .collect();
    let mut tables: Vec<(Table, Vec<(i64, String)>)> = Vec::new();
    for row in rows {
        let name = row.text("tbl");
        if virtual_tables
            .iter()
            .any(|v| name == *v || name.starts_with(&format!("{v}_")))
        {
            continue;
        }
        if tables.last().is_none_or(|(t, _)| t.name != name) {
            let table = Table {
                name: name.clone(),
                columns: Vec::new(),
                key: Vec::new(),
            };
            tables.push((table, Vec::new()));
        }
        if let Some((table, key)) = tables.last_mut() {
            let column = row.text("col");
            if row.int("pk") > 0 {
                key.push((row.int("pk"), column.clone()));
            }
            table.columns.push(Column {
                name: column,
                kind: row.text("kind"),
            });
        }
    }
    tables
        .into_iter()
        .map(|(mut table, mut key)| {
            key.sort();
            table.key = key.into_iter().map(|(_, k)| k).collect();
            table
        })
        .collect()
}

/// Triggers, foreign keys and secondary indexes set aside by [`Tx::hold_checks`], to be put
/// back by [`Tx::resume_checks`].
pub struct Held {
    /// SQLite: the triggers' `CREATE TRIGGER` statements. PostgreSQL: the tables whose
    /// triggers are disabled.
    triggers: Vec<String>,
    /// PostgreSQL: (table, constraint name, definition) of each foreign key dropped.
    foreign_keys: Vec<(String, String, String)>,
    /// The `CREATE INDEX` statement of each index dropped: every index but those of primary
    /// keys and unique constraints, built again in one pass over the loaded rows.
    indexes: Vec<String>,
}

impl Tx {
    /// Every ordinary table of the database (see [`CATALOGUE_SQLITE`]).
    pub async fn tables(&mut self) -> anyhow::Result<Vec<Table>> {
        let dialect = self.dialect();
        let rows = self.fetch_all(catalogue_sql(dialect), &[]).await?;
        Ok(catalogue(dialect, rows))
    }

    /// How many rows `table` holds.
    pub async fn count(&mut self, table: &str) -> anyhow::Result<u64> {
        let row = self
            .fetch_optional(&format!("SELECT COUNT(*) AS n FROM {}", quoted(table)), &[])
            .await?
            .context("COUNT returned no row")?;
        Ok(u64::try_from(row.int("n")).unwrap_or_default())
    }

    /// Inserts rows as they are, ids included: each row holds the cells of `columns` (columns
    /// of `table`) in that order. Many rows go into one statement.
    pub async fn insert_rows(
        &mut self,
        table: &Table,
        columns: &[String],
        rows: &[Vec<Cell>],
    ) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let dialect = self.dialect();
        let placeholders: Vec<String> = columns
            .iter()
            .map(|name| placeholder(dialect, table.column(name).map_or("", |c| c.kind.as_str())))
            .collect();
        let tuple = format!("({})", placeholders.join(", "));
        let names: Vec<String> = columns.iter().map(|c| quoted(c)).collect();
        // Both databases take tens of thousands of parameters per statement; stay well below.
        let per_statement = (30_000 / columns.len().max(1)).clamp(1, 1_000);
        for chunk in rows.chunks(per_statement) {
            let mut params = Vec::with_capacity(chunk.len() * columns.len());
            for row in chunk {
                anyhow::ensure!(
                    row.len() == columns.len(),
                    "a row of {} has {} values for {} columns",
                    table.name,
                    row.len(),
                    columns.len()
                );
                params.extend(row.iter().map(|cell| match dialect {
                    Dialect::Sqlite => param_of(cell),
                    Dialect::Postgres => text_param(cell),
                }));
            }
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                quoted(&table.name),
                names.join(", "),
                vec![tuple.as_str(); chunk.len()].join(", ")
            );
            self.execute(&sql, &params)
                .await
                .with_context(|| format!("loading rows into {}", table.name))?;
        }
        Ok(())
    }

    /// Sets triggers, foreign keys and secondary indexes aside for the rest of the transaction,
    /// so that rows can be loaded as they were in any order without triggers adding to tables
    /// loaded as they were too, and indexes are built once over the loaded rows instead of
    /// entry by entry: SQLite drops the triggers and indexes and checks foreign keys when they
    /// are put back (call it on a connection whose enforcement [`Db::hold_foreign_keys`] has
    /// turned off; otherwise they are deferred to the commit); PostgreSQL disables the tables'
    /// triggers and drops the foreign keys and indexes.
    pub async fn hold_checks(&mut self) -> anyhow::Result<Held> {
        let mut held = Held {
            triggers: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
        };
        match self.dialect() {
            Dialect::Sqlite => {
                self.execute("PRAGMA defer_foreign_keys = ON", &[]).await?;
                let indexes = self
                    .fetch_all(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
                         AND sql IS NOT NULL ORDER BY name",
                        &[],
                    )
                    .await?;
                for index in indexes {
                    self.execute(&format!("DROP INDEX {}", quoted(&index.text("name"))), &[])
                        .await?;
                    held.indexes.push(index.text("sql"));
                }
                let triggers = self
                    .fetch_all(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
                        &[],
                    )
                    .await?;
                for trigger in triggers {
                    self.execute(
                        &format!("DROP TRIGGER {}", quoted(&trigger.text("name"))),
                        &[],
                    )
                    .await?;
                    held.triggers.push(trigger.text("sql"));
                }
            }
            Dialect::Postgres => {
                let tables = self
                    .fetch_all(
                        "SELECT DISTINCT CAST(c.relname AS TEXT) AS name FROM pg_trigger t \
                         JOIN pg_class c ON c.oid = t.tgrelid \
                         JOIN pg_namespace n ON n.oid = c.relnamespace \
                         WHERE NOT t.tgisinternal AND n.nspname = current_schema() ORDER BY 1",
                        &[],
                    )
                    .await?;
                for table in tables {
                    let name = quoted(&table.text("name"));
                    self.execute(&format!("ALTER TABLE {name} DISABLE TRIGGER USER"), &[])
                        .await?;
                    held.triggers.push(name);
                }
                let keys = self
                    .fetch_all(
                        "SELECT CAST(c.conrelid AS regclass)::text AS tbl, CAST(c.conname AS TEXT) AS name, \
                         pg_get_constraintdef(c.oid) AS def FROM pg_constraint c \
                         JOIN pg_namespace n ON n.oid = c.connamespace \
                         WHERE c.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2",
                        &[],
                    )
                    .await?;
                for key in keys {
                    let (table, name) = (key.text("tbl"), quoted(&key.text("name")));
                    self.execute(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"), &[])
                        .await?;
                    held.foreign_keys.push((table, name, key.text("def")));
                }
                let indexes = self
                    .fetch_all(
                        "SELECT CAST(i.relname AS TEXT) AS name, pg_get_indexdef(x.indexrelid) AS def \
                         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                         JOIN pg_namespace n ON n.oid = i.relnamespace \
                         WHERE n.nspname = current_schema() AND NOT EXISTS (SELECT 1 \
                         FROM pg_constraint c WHERE c.conindid = x.indexrelid \
                         AND c.contype IN ('p', 'u', 'x')) ORDER BY 1",
                        &[],
                    )
                    .await?;
                for index in indexes {
                    self.execute(&format!("DROP INDEX {}", quoted(&index.text("name"))), &[])
                        .await?;
                    held.indexes.push(index.text("def"));
                }
            }
        }
        Ok(held)
    }

    /// Puts back what [`Tx::hold_checks`] set aside, indexes first. Every foreign key is checked
    /// against the loaded rows: on PostgreSQL as it is added again, on SQLite by
    /// `PRAGMA foreign_key_check`, whose first violations are named in the error.
    pub async fn resume_checks(&mut self, held: Held) -> anyhow::Result<()> {
        for sql in held.indexes {
            self.execute_script(&sql)
                .await
                .with_context(|| format!("building the index again: {sql}"))?;
        }
        match self.dialect() {
            Dialect::Sqlite => {
                for sql in held.triggers {
                    self.execute_script(&sql).await?;
                }
                let broken = self.fetch_all("PRAGMA foreign_key_check", &[]).await?;
                if !broken.is_empty() {
                    let named: Vec<String> = broken
                        .iter()
                        .take(5)
                        .map(|r| {
                            format!(
                                "{} row {} refers to a missing {}",
                                r.text("table"),
                                r.int("rowid"),
                                r.text("parent")
                            )
                        })
                        .collect();
                    anyhow::bail!(
                        "{} rows refer to rows that are not there: {}",
                        broken.len(),
                        named.join("; ")
                    );
                }
            }
            Dialect::Postgres => {
                for table in held.triggers {
                    self.execute(&format!("ALTER TABLE {table} ENABLE TRIGGER USER"), &[])
                        .await?;
                }
                for (table, name, definition) in held.foreign_keys {
                    self.execute(
                        &format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"),
                        &[],
                    )
                    .await
                    .with_context(|| format!("checking the foreign key {name} of {table}"))?;
                }
            }
        }
        Ok(())
    }

    /// Moves every id counter past the highest id its table holds, so that new records never
    /// take a loaded id: PostgreSQL's identity sequences (`setval`), SQLite's
    /// `sqlite_sequence` (tables without AUTOINCREMENT take the highest rowid plus one anyway).
    pub async fn advance_counters(&mut self) -> anyhow::Result<()> {
        match self.dialect() {
            Dialect::Sqlite => {
                let has_sequences = self
                    .fetch_optional(
                        "SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'",
                        &[],
                    )
                    .await?
                    .is_some();
                if !has_sequences {
                    return Ok(());
                }
                for counter in self
                    .fetch_all("SELECT name FROM sqlite_sequence", &[])
                    .await?
                {
                    let table = counter.text("name");
                    self.execute(
                        &format!(
                            "UPDATE sqlite_sequence SET seq = MAX(seq, \
                             COALESCE((SELECT MAX(rowid) FROM {}), 0)) WHERE name = ?",
                            quoted(&table)
                        ),
                        &[Param::from(table.as_str())],
                    )
                    .await?;
                }
            }
            Dialect::Postgres => {
                let counters = self
                    .fetch_all(
                        "SELECT CAST(table_name AS TEXT) AS tbl, CAST(column_name AS TEXT) AS col \
                         FROM information_schema.columns WHERE table_schema = current_schema() \
                         AND (is_identity = 'YES' OR column_default LIKE 'nextval(%') ORDER BY 1",
                        &[],
                    )
                    .await?;
                for counter in counters {
                    let (table, column) = (counter.text("tbl"), counter.text("col"));
                    self.fetch_all(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX({}), 0) + 1, false) \
                             AS next FROM {}",
                            quoted(&column),
                            quoted(&table)
                        ),
                        &[Param::from(quoted(&table)), Param::from(column.as_str())],
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}
