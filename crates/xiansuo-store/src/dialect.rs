//! Where SQLite and PostgreSQL differ, in one place: row locks, time buckets, null-safe
//! comparison, case-insensitive matching, substring tests, reading JSON values, planner
//! statistics. Use cases write portable SQL and ask the [`Dialect`] for these pieces, so no
//! use case branches on the database for them.

use crate::param::Param;

/// Which SQL dialect a statement must be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A scalar compared with a value inside a JSON column.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonScalar {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// A length of time that rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    /// Weeks starting on Monday.
    Week,
    Month,
}

impl Dialect {
    /// The clause that locks the rows a `SELECT` inside a write transaction reads, so that
    /// concurrent transactions wait for each other: `FOR UPDATE` on PostgreSQL; nothing on
    /// SQLite, whose single writer already serialises write transactions.
    pub fn lock_rows(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// Like [`Dialect::lock_rows`], but rows another transaction holds are skipped instead of
    /// waited for (a queue that several instances take work from).
    pub fn lock_rows_skip_locked(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }

    /// The null-safe equality operator: `a IS b` on SQLite, `a IS NOT DISTINCT FROM b` on
    /// PostgreSQL.
    pub fn same_as(self) -> &'static str {
        match self {
            Dialect::Sqlite => "IS",
            Dialect::Postgres => "IS NOT DISTINCT FROM",
        }
    }

    /// An SQL expression naming the period that the instant in `millis_column` (Unix
    /// milliseconds) falls in, in the time zone `offset_ms` east of UTC: `2026-12-06` for a
    /// day, the Monday `2026-11-30` for a week, `2026-12` for a month. Both databases give the
    /// same text, so the labels sort and compare alike.
    pub fn period(self, millis_column: &str, offset_ms: i64, period: Period) -> String {
        let seconds = format!("({millis_column} + {offset_ms}) / 1000");
        match (self, period) {
            (Dialect::Sqlite, Period::Day) => format!("date({seconds}, 'unixepoch')"),
            (Dialect::Sqlite, Period::Week) => {
                format!("date({seconds}, 'unixepoch', 'weekday 0', '-6 days')")
            }
            (Dialect::Sqlite, Period::Month) => {
                format!("strftime('%Y-%m', {seconds}, 'unixepoch')")
            }
            (Dialect::Postgres, Period::Day) => {
                format!("to_char(to_timestamp({seconds}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
            }
            (Dialect::Postgres, Period::Week) => format!(
                "to_char(date_trunc('week', to_timestamp({seconds}) AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
            ),
            (Dialect::Postgres, Period::Month) => {
                format!("to_char(to_timestamp({seconds}) AT TIME ZONE 'UTC', 'YYYY-MM')")
            }
        }
    }

    /// An aggregate of the text of `expression` over a group's rows, joined by commas, in no
    /// particular order: one value to fetch instead of a row per record, for figures such as a
    /// median that the database has no aggregate for on both sides.
    pub fn joined_text(self, expression: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat({expression}, ',')"),
            Dialect::Postgres => format!("string_agg(CAST({expression} AS TEXT), ',')"),
        }
    }

    /// The operator of a `LIKE` that ignores case (ASCII on SQLite, whose `LIKE` already does).
    pub fn like_ignoring_case(self) -> &'static str {
        match self {
            Dialect::Sqlite => "LIKE",
            Dialect::Postgres => "ILIKE",
        }
    }

    /// A condition true when `column` contains the text bound to its one placeholder, taken
    /// literally (no pattern characters).
    pub fn contains_text(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({column}, ?) > 0"),
            Dialect::Postgres => format!("strpos({column}, ?) > 0"),
        }
    }

    /// A condition true when the JSON array in `column` (or in its object's `key`, when
    /// given) holds any of `values`, with its parameters. `key` must be a plain identifier.
    pub fn json_array_has_any(
        self,
        column: &str,
        key: Option<&str>,
        values: &[String],
    ) -> (String, Vec<Param>) {
        match self {
            Dialect::Sqlite => {
                let array = match key {
                    Some(key) => format!("json_each({column}, '$.{key}')"),
                    None => format!("json_each({column})"),
                };
                let marks = vec!["?"; values.len()].join(", ");
                (
                    format!("EXISTS (SELECT 1 FROM {array} WHERE json_each.value IN ({marks}))"),
                    values.iter().map(|v| Param::from(v.as_str())).collect(),
                )
            }
            Dialect::Postgres => {
                let array = match key {
                    Some(key) => format!("({column}::jsonb -> '{key}')"),
                    None => format!("{column}::jsonb"),
                };
                let parts = vec![format!("{array} @> ?::jsonb"); values.len()].join(" OR ");
                let params = values
                    .iter()
                    .map(|v| Param::from(serde_json::json!([v]).to_string()))
                    .collect();
                (format!("({parts})"), params)
            }
        }
    }

    /// A condition true when the value under `key` of the JSON object in `column` equals
    /// `value`, with its parameter. `key` must be a plain identifier.
    pub fn json_value_is(self, column: &str, key: &str, value: &JsonScalar) -> (String, Param) {
        match (self, value) {
            (Dialect::Sqlite, JsonScalar::Text(text)) => (
                format!("json_extract({column}, '$.{key}') = ?"),
                Param::from(text.as_str()),
            ),
            (Dialect::Sqlite, JsonScalar::Number(n)) => (
                format!("json_extract({column}, '$.{key}') = ?"),
                Param::Real(*n),
            ),
            (Dialect::Sqlite, JsonScalar::Bool(b)) => (
                format!("json_extract({column}, '$.{key}') = ?"),
                Param::Int(i64::from(*b)),
            ),
            (Dialect::Postgres, JsonScalar::Text(text)) => (
                format!("({column}::jsonb ->> '{key}') = ?"),
                Param::from(text.as_str()),
            ),
            (Dialect::Postgres, JsonScalar::Number(n)) => (
                format!("({column}::jsonb -> '{key}') = ?::jsonb"),
                Param::from(serde_json::json!(n).to_string()),
            ),
            (Dialect::Postgres, JsonScalar::Bool(b)) => (
                format!("({column}::jsonb -> '{key}') = ?::jsonb"),
                Param::from(b.to_string()),
            ),
        }
    }

    /// The statement that refreshes the planner's statistics of `table`, where the database
    /// needs one after a table grows fast (PostgreSQL); SQLite plans by its indexes alone.
    pub fn refresh_statistics(self, table: &str) -> Option<String> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(format!("ANALYZE {table}")),
        }
    }
}
