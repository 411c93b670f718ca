//! The lead search index on each database: keeping it up to date inside the write transactions
//! of the record engine, and turning a search string into a condition on lead ids.

use xiansuo_core::search::{grams, GramQuery};
use xiansuo_store::{Db, Dialect, Param, Tx};

/// The texts of a lead that search looks at.
pub struct Searchable {
    pub id: i64,
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone_e164: Option<String>,
}

impl Searchable {
    /// The searchable texts of a lead row or record with the columns of the leads table.
    pub fn of(row: &xiansuo_store::Row) -> Searchable {
        Searchable {
            id: row.int("id"),
            name: row.text("name"),
            company: row.opt_text("company"),
            email: row.opt_text("email_normalized"),
            phone_e164: row.opt_text("phone_normalized"),
        }
    }
}

/// Writes the index entries of these leads; `replace` when they may have entries already.
pub async fn index(tx: &mut Tx, leads: &[Searchable], replace: bool) -> anyhow::Result<()> {
    if leads.is_empty() {
        return Ok(());
    }
    let mut params = Vec::with_capacity(leads.len() * 2);
    for lead in leads {
        params.push(Param::Int(lead.id));
        params.push(Param::from(grams(
            &[
                Some(&lead.name),
                lead.company.as_deref(),
                lead.email.as_deref(),
            ],
            lead.phone_e164.as_deref(),
        )));
    }
    match tx.dialect() {
        Dialect::Sqlite => {
            if replace {
                let ids: Vec<String> = leads.iter().map(|l| l.id.to_string()).collect();
                tx.execute(
                    &format!("DELETE FROM lead_search WHERE rowid IN ({})", ids.join(",")),
                    &[],
                )
                .await?;
            }
            let rows = vec!["(?, ?)"; leads.len()].join(", ");
            tx.execute(
                &format!("INSERT INTO lead_search (rowid, grams) VALUES {rows}"),
                &params,
            )
            .await?;
        }
        Dialect::Postgres => {
            let rows = vec!["(?, to_tsvector('simple', ?))"; leads.len()].join(", ");
            tx.execute(
                &format!("INSERT INTO lead_search (lead_id, grams) VALUES {rows} ON CONFLICT (lead_id) DO UPDATE SET grams = excluded.grams"),
                &params,
            )
            .await?;
        }
    }
    Ok(())
}

/// Beyond this many candidates, the ids are not listed in the query but matched by a subquery.
const MAX_LISTED_CANDIDATES: usize = 2_000;

/// A condition on `leads.id` that keeps (a superset of) the leads matching `q`, with its
/// parameters; `None` when the index cannot narrow the search down (nothing to look up, or so
/// many matches that scanning is faster).
pub async fn candidates(db: &Db, q: &str) -> anyhow::Result<Option<(String, Vec<Param>)>> {
    let Some(query) = GramQuery::parse(q) else {
        return Ok(None);
    };
    let (subquery, param) = match db.dialect() {
        Dialect::Sqlite => (
            "SELECT rowid AS id FROM lead_search WHERE lead_search MATCH ?",
            Param::from(query.fts5()),
        ),
        Dialect::Postgres => (
            "SELECT lead_id AS id FROM lead_search WHERE grams @@ to_tsquery('simple', ?)",
            Param::from(query.tsquery()),
        ),
    };
    // A rare fragment gives a few ids, which the list then fetches by key; a common one gives
    // many, and then scanning the list's own order with the subquery as a filter is faster.
    let rows = db
        .fetch_all(
            &format!("{subquery} LIMIT {}", MAX_LISTED_CANDIDATES + 1),
            std::slice::from_ref(&param),
        )
        .await?;
    if rows.len() > MAX_LISTED_CANDIDATES {
        // A common fragment: walking the list's own sort index and checking each row finds a
        // page quickly, since matches are frequent. Driving the query by the candidates instead
        // means thousands of row look-ups and a sort. SQLite is kept on the index walk by the
        // unary plus; PostgreSQL's planner joins the candidates whatever the form of the
        // condition, so there the exact `LIKE` check alone does the filtering.
        return Ok(match db.dialect() {
            Dialect::Sqlite => Some((format!("+id IN ({subquery})"), vec![param])),
            Dialect::Postgres => None,
        });
    }
    if rows.is_empty() {
        return Ok(Some(("1 = 0".into(), Vec::new())));
    }
    let ids: Vec<String> = rows.iter().map(|r| r.int("id").to_string()).collect();
    Ok(Some((format!("id IN ({})", ids.join(",")), Vec::new())))
}
