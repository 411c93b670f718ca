//! Whole tables in and out, for backup and restore, without knowing what any table holds: the
//! tables and columns the database's own catalogue lists, every row of a table read inside one
//! read-only snapshot and handed on in small batches (so a table of a million rows never sits in
//! memory), and the loading side: rows inserted in batches, triggers and foreign keys held
//! while a whole database is loaded, and id counters moved past the loaded ids.

use crate::db::{
    bind_all, decode_postgres, decode_sqlite, postgres_cells, postgres_kinds, sqlite_cells,
    Backend, Cell, Db, Reader, Row, Tx,
};
use crate::dialect::Dialect;
use crate::param::Param;
use anyhow::Context;
use futures_util::TryStreamExt;
use tokio::sync::mpsc::Sender;

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

/// Rows handed on by [`Snapshot::stream`], a batch at a time.
pub type Batch = Vec<Vec<Cell>>;

/// At most this many rows, or about [`BATCH_BYTES`], go into one batch.
const BATCH_ROWS: usize = 512;
const BATCH_BYTES: usize = 4 << 20;

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
                let mut tx = pool.begin().await?;
                sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                Snapshot {
                    conn: SnapConn::Postgres(tx),
                }
            }
        };
        // SQLite starts the read transaction at the first read of the database file.
        let first = match snapshot.conn {
            SnapConn::Sqlite(_) => "SELECT COUNT(*) AS n FROM sqlite_master",
            SnapConn::Postgres(_) => "SELECT 1 AS started",
        };
        snapshot.rows(first, &[]).await?;
        Ok(snapshot)
    }
}

impl Reader for Snapshot {
    async fn rows(&mut self, sql: &str, params: &[Param]) -> anyhow::Result<Vec<Row>> {
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

    /// Every ordinary table of the database (see [`catalogue`]).
    pub async fn tables(&mut self) -> anyhow::Result<Vec<Table>> {
        let dialect = self.dialect();
        catalogue(self, dialect).await
    }

    /// Sends every row of `table` to `out` in batches, in primary key order, each row's cells
    /// in the table's column order; returns how many rows there were. Values keep their type:
    /// integers, floats, text, bytes, null (PostgreSQL types with no counterpart, such as
    /// tsvector, are sent as their text).
    pub async fn stream<T: From<Batch>>(
        &mut self,
        table: &Table,
        out: &Sender<T>,
    ) -> anyhow::Result<u64> {
        let dialect = self.dialect();
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
        let order = if table.key.is_empty() {
            String::new()
        } else {
            let key: Vec<String> = table.key.iter().map(|k| quoted(k)).collect();
            format!(" ORDER BY {}", key.join(", "))
        };
        let sql = format!(
            "SELECT {} FROM {}{order}",
            columns.join(", "),
            quoted(&table.name)
        );
        let mut batcher = Batcher::new(out);
        match &mut self.conn {
            SnapConn::Sqlite(tx) => {
                let mut rows = sqlx::query(&sql).fetch(&mut **tx);
                while let Some(row) = rows.try_next().await? {
                    batcher.push(sqlite_cells(&row)?).await?;
                }
            }
            SnapConn::Postgres(tx) => {
                let mut rows = sqlx::query(&sql).fetch(&mut **tx);
                let mut kinds = None;
                while let Some(row) = rows.try_next().await? {
                    let kinds = kinds.get_or_insert_with(|| postgres_kinds(&row));
                    batcher.push(postgres_cells(&row, kinds)?).await?;
                }
            }
        }
        batcher.finish().await
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

/// Gathers rows into batches of bounded size and sends them on.
struct Batcher<'a, T> {
    out: &'a Sender<T>,
    batch: Batch,
    bytes: usize,
    rows: u64,
}

impl<'a, T: From<Batch>> Batcher<'a, T> {
    fn new(out: &'a Sender<T>) -> Self {
        Batcher {
            out,
            batch: Vec::new(),
            bytes: 0,
            rows: 0,
        }
    }

    async fn push(&mut self, cells: Vec<Cell>) -> anyhow::Result<()> {
        self.bytes += cells.iter().map(cell_size).sum::<usize>();
        self.batch.push(cells);
        self.rows += 1;
        if self.batch.len() >= BATCH_ROWS || self.bytes >= BATCH_BYTES {
            self.send().await?;
        }
        Ok(())
    }

    async fn send(&mut self) -> anyhow::Result<()> {
        self.bytes = 0;
        let batch = std::mem::take(&mut self.batch);
        self.out
            .send(T::from(batch))
            .await
            .map_err(|_| anyhow::anyhow!("the receiver of the rows stopped"))
    }

    async fn finish(mut self) -> anyhow::Result<u64> {
        if !self.batch.is_empty() {
            self.send().await?;
        }
        Ok(self.rows)
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

/// Every ordinary table the catalogue lists, by name, with its columns and primary key.
/// SQLite's own tables, virtual tables (the FTS5 search index) and the tables a virtual table
/// keeps its data in are left out: they are not rows a program wrote.
pub async fn catalogue(reader: &mut impl Reader, dialect: Dialect) -> anyhow::Result<Vec<Table>> {
    let mut tables = Vec::new();
    match dialect {
        Dialect::Sqlite => {
            let listed = reader
                .rows(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' ORDER BY name",
                    &[],
                )
                .await?;
            let virtual_tables: Vec<String> = listed
                .iter()
                .filter(|t| {
                    t.text("sql")
                        .to_ascii_uppercase()
                        .starts_with("CREATE VIRTUAL TABLE")
                })
                .map(|t| t.text("name"))
                .collect();
            for listed in &listed {
                let name = listed.text("name");
                if virtual_tables
                    .iter()
                    .any(|v| name == *v || name.starts_with(&format!("{v}_")))
                {
                    continue;
                }
                let columns = reader
                    .rows(
                        "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid",
                        &[Param::from(name.as_str())],
                    )
                    .await?;
                let mut key: Vec<(i64, String)> = columns
                    .iter()
                    .filter(|c| c.int("pk") > 0)
                    .map(|c| (c.int("pk"), c.text("name")))
                    .collect();
                key.sort();
                tables.push(Table {
                    name,
                    columns: columns
                        .iter()
                        .map(|c| Column {
                            name: c.text("name"),
                            kind: c.text("type"),
                        })
                        .collect(),
                    key: key.into_iter().map(|(_, k)| k).collect(),
                });
            }
        }
        Dialect::Postgres => {
            let listed = reader
                .rows(
                    "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                     ORDER BY table_name",
                    &[],
                )
                .await?;
            for listed in &listed {
                let name = listed.text("name");
                let columns = reader
                    .rows(
                        "SELECT CAST(column_name AS TEXT) AS name, CAST(udt_name AS TEXT) AS kind \
                         FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = ? \
                         ORDER BY ordinal_position",
                        &[Param::from(name.as_str())],
                    )
                    .await?;
                let key = reader
                    .rows(
                        "SELECT CAST(a.attname AS TEXT) AS name FROM pg_index i \
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
                         WHERE i.indrelid = CAST(? AS regclass) AND i.indisprimary \
                         ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)",
                        &[Param::from(quoted(&name))],
                    )
                    .await?;
                tables.push(Table {
                    name,
                    columns: columns
                        .iter()
                        .map(|c| Column {
                            name: c.text("name"),
                            kind: c.text("kind"),
                        })
                        .collect(),
                    key: key.iter().map(|k| k.text("name")).collect(),
                });
            }
        }
    }
    Ok(tables)
}

/// Triggers and foreign keys set aside by [`Tx::hold_checks`], to be put back by
/// [`Tx::resume_checks`].
pub struct Held {
    /// SQLite: the triggers' `CREATE TRIGGER` statements. PostgreSQL: the tables whose
    /// triggers are disabled.
    triggers: Vec<String>,
    /// PostgreSQL: (table, constraint name, definition) of each foreign key dropped.
    foreign_keys: Vec<(String, String, String)>,
}

impl Tx {
    /// Every ordinary table of the database (see [`catalogue`]).
    pub async fn tables(&mut self) -> anyhow::Result<Vec<Table>> {
        let dialect = self.dialect();
        catalogue(self, dialect).await
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
            .map(|name| {
                let kind = table.column(name).map_or("", |c| c.kind.as_str());
                match dialect {
                    Dialect::Sqlite => "?".to_owned(),
                    Dialect::Postgres if kind == "bool" => "(CAST(? AS int8) <> 0)".to_owned(),
                    Dialect::Postgres => format!("CAST(? AS {kind})"),
                }
            })
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
                params.extend(row.iter().map(|cell| match cell {
                    Cell::Null => Param::NullText,
                    Cell::Int(v) => Param::Int(*v),
                    Cell::Real(v) => Param::Real(*v),
                    Cell::Text(v) => Param::Text(v.clone()),
                    Cell::Bytes(v) => Param::Bytes(v.clone()),
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

    /// Sets triggers and foreign keys aside for the rest of the transaction, so that rows can
    /// be loaded as they were in any order without triggers adding to tables loaded as they
    /// were too: SQLite defers its foreign key checks to the commit and drops the triggers;
    /// PostgreSQL disables the tables' triggers and drops the foreign keys.
    pub async fn hold_checks(&mut self) -> anyhow::Result<Held> {
        let mut held = Held {
            triggers: Vec::new(),
            foreign_keys: Vec::new(),
        };
        match self.dialect() {
            Dialect::Sqlite => {
                self.execute("PRAGMA defer_foreign_keys = ON", &[]).await?;
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
            }
        }
        Ok(held)
    }

    /// Puts back what [`Tx::hold_checks`] set aside. On PostgreSQL each foreign key is checked
    /// against the loaded rows as it is added again; SQLite checks them at the commit.
    pub async fn resume_checks(&mut self, held: Held) -> anyhow::Result<()> {
        match self.dialect() {
            Dialect::Sqlite => {
                for sql in held.triggers {
                    self.execute_script(&sql).await?;
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
