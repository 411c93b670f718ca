//! The customer pages after conversion: lists of accounts (客户), contacts (联系人) and
//! opportunities (销售机会) with their total, search and keyset paging; a page for each record
//! with its details, its contacts and deals, its follow-ups (an account also shows those of the
//! leads converted into it), and for an account its won amount, RFM value and A-class flag;
//! and the handover of a departing rep's records (个人资源 → 公司资源) for managers and admins.
//!
//! Every read goes through the record engine and the customers use cases with the signed-in
//! user as the actor, so a record outside their scope is a 404 here as in the API.

use super::i18n::Texts;
use super::leads::{ctx, parse_id, text_of, username, usernames};
use super::page::{
    csrf_refusal, group_digits, render, store_error_page, thousands, Choice, Chrome, Viewer, Zone,
};
use super::sales_texts::{sales_texts, SalesTexts};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use xiansuo_app::admin::users;
use xiansuo_app::leads::activities::{self, Activity};
use xiansuo_app::records;
use xiansuo_app::records::schema::{Table, ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES};
use xiansuo_app::records::totals;
use xiansuo_app::sales::customers::{self, NewHandover};
use xiansuo_app::sales::pipeline;
use xiansuo_app::StoreError;
use xiansuo_core::lead::{ActivityType, Outcome};
use xiansuo_core::role::Role;

/// Rows per list page.
const PAGE_SIZE: &str = "30";
/// Contacts and deals shown on a record's page.
const RELATED: &str = "100";

/// Which customer records a page is about.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Account,
    Contact,
    Opportunity,
}

impl Kind {
    fn table(self) -> &'static Table {
        match self {
            Kind::Account => &ACCOUNTS,
            Kind::Contact => &CONTACTS,
            Kind::Opportunity => &OPPORTUNITIES,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::Account => "/accounts",
            Kind::Contact => "/contacts",
            Kind::Opportunity => "/opportunities",
        }
    }

    fn title(self, s: &SalesTexts) -> &'static str {
        match self {
            Kind::Account => s.accounts_title,
            Kind::Contact => s.contacts_title,
            Kind::Opportunity => s.opportunities_title,
        }
    }

    fn url(self, id: i64) -> String {
        format!("{}/{id}", self.path())
    }
}

/// Yuan as the pages show money: `¥1,234,567.50`, whole amounts without decimals.
pub(super) fn yuan(amount: &Value) -> String {
    amount.as_f64().map(yuan_of).unwrap_or_default()
}

/// An amount in yuan as the pages show money.
fn yuan_of(n: f64) -> String {
    let cents = (n.abs() * 100.0).round() as i64;
    let sign = if n < 0.0 { "-" } else { "" };
    let whole = group_digits(&(cents / 100).to_string());
    match cents % 100 {
        0 => format!("{sign}¥{whole}"),
        rest => format!("{sign}¥{whole}.{rest:02}"),
    }
}

/// Code → name of every pipeline stage, in the user's language.
async fn stage_names(state: &AppState, lang: &str) -> Result<HashMap<String, String>, StoreError> {
    Ok(pipeline::stages(&state.db)
        .await?
        .into_iter()
        .map(|s| {
            let name = if lang == "en" { s.name_en } else { s.name_zh };
            (s.code, name)
        })
        .collect())
}

/// One cell of a table: its text, and where it leads if anywhere.
pub(super) struct Cell {
    pub(super) text: String,
    pub(super) url: Option<String>,
    /// `num`, `date`, `phone` or empty: how the cell is aligned.
    pub(super) class: &'static str,
}

impl Cell {
    fn text(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            url: None,
            class: "",
        }
    }

    fn link(text: impl Into<String>, url: String) -> Self {
        Cell {
            text: text.into(),
            url: Some(url),
            class: "",
        }
    }

    fn with_class(self, class: &'static str) -> Self {
        Cell { class, ..self }
    }
}

/// A table of records: headers, then rows of cells, the first of which names the record.
pub(super) struct Grid {
    pub(super) id: &'static str,
    pub(super) title: String,
    pub(super) headers: Vec<&'static str>,
    pub(super) rows: Vec<Vec<Cell>>,
    pub(super) empty: &'static str,
}

/// Names of linked records (accounts, contacts, leads), read once each.
struct Names<'a> {
    state: &'a AppState,
    user: &'a Viewer,
    cache: HashMap<(&'static str, i64), Option<String>>,
}

impl<'a> Names<'a> {
    fn new(state: &'a AppState, user: &'a Viewer) -> Self {
        Names {
            state,
            user,
            cache: HashMap::new(),
        }
    }

    /// A link to the record `id` of `table` if the user may see it, else nothing.
    async fn link(&mut self, table: &'static Table, id: &Value, path: &str) -> Cell {
        let Some(id) = id.as_i64() else {
            return Cell::text("");
        };
        let key = (table.name, id);
        if !self.cache.contains_key(&key) {
            let name = records::get(&self.state.db, &self.user.actor, table, id)
                .await
                .ok()
                .map(|r| text_of(&r["name"]));
            self.cache.insert(key, name);
        }
        match self.cache.get(&key).cloned().flatten() {
            Some(name) => Cell::link(name, format!("{path}/{id}")),
            None => Cell::text(""),
        }
    }
}

fn region(record: &Value) -> String {
    [text_of(&record["province"]), text_of(&record["city"])]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The row of a record in a list.
async fn row(
    kind: Kind,
    record: &Value,
    t: &Texts,
    s: &SalesTexts,
    names: &mut Names<'_>,
    people: &HashMap<i64, String>,
    stages: &HashMap<String, String>,
) -> Vec<Cell> {
    let id = record["id"].as_i64().unwrap_or_default();
    let name = Cell::link(text_of(&record["name"]), kind.url(id));
    let owner = Cell::text(username(people, &record["owner_id"]));
    match kind {
        Kind::Account => vec![
            name,
            Cell::text(text_of(&record["industry"])),
            Cell::text(region(record)),
            owner,
            Cell::text(
                names
                    .user
                    .zone
                    .date(record["created_at"].as_str().unwrap_or_default()),
            )
            .with_class("date"),
        ],
        Kind::Contact => vec![
            name,
            names
                .link(&ACCOUNTS, &record["account_id"], "/accounts")
                .await,
            Cell::text(text_of(&record["title"])),
            Cell::text(text_of(&record["phone"])).with_class("phone"),
            owner,
        ],
        Kind::Opportunity => {
            let stage = text_of(&record["stage"]);
            vec![
                name,
                names
                    .link(&ACCOUNTS, &record["account_id"], "/accounts")
                    .await,
                Cell::text(stages.get(&stage).cloned().unwrap_or(stage)),
                Cell::text(yuan(&record["amount"])).with_class("num"),
                Cell::text(text_of(&record["expected_close_date"])).with_class("date"),
                Cell::text(result_label(s, &record["result"])),
                owner,
            ]
        }
    }
    .into_iter()
    .map(|c| {
        if c.text.is_empty() && c.url.is_none() {
            Cell {
                text: t.none.to_owned(),
                ..c
            }
        } else {
            c
        }
    })
    .collect()
}

fn headers(kind: Kind, t: &'static Texts, s: &'static SalesTexts) -> Vec<&'static str> {
    match kind {
        Kind::Account => vec![s.record_name, t.industry, t.region, t.owner, t.created_at],
        Kind::Contact => vec![t.name, s.account, t.title, t.phone, t.owner],
        Kind::Opportunity => vec![
            s.record_name,
            s.account,
            s.stage,
            s.amount,
            s.expected_close_date,
            s.result,
            t.owner,
        ],
    }
}

fn result_label(s: &SalesTexts, result: &Value) -> String {
    match result.as_str() {
        Some("won") => s.result_won,
        Some("lost") => s.result_lost,
        Some("open") => s.result_open,
        _ => "",
    }
    .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ListQuery {
    q: String,
    cursor: String,
}

#[derive(Template)]
#[template(path = "records.html")]
struct ListPage {
    chrome: Chrome,
    s: &'static SalesTexts,
    heading: &'static str,
    path: &'static str,
    /// Related pages: (address, label).
    links: Vec<(&'static str, &'static str)>,
    q: String,
    total: String,
    grid: Grid,
    first_url: Option<String>,
    next_url: Option<String>,
    error: Option<String>,
}

async fn list(state: AppState, user: Viewer, uri: Uri, query: ListQuery, kind: Kind) -> Response {
    let back = uri
        .path_and_query()
        .map_or_else(|| kind.path().to_owned(), ToString::to_string);
    let chrome = Chrome::for_user(&user, back);
    let t = chrome.t;
    let s = sales_texts(&user.actor.locale);
    let q = query.q.trim().to_owned();
    let links = match kind {
        Kind::Account => {
            let mut links = vec![("/contacts", s.contacts_title)];
            // Only managers and admins may hand over; the store refuses anyone else anyway.
            if user.actor.role != Role::Rep {
                links.push(("/handover", s.handover_title));
            }
            links
        }
        Kind::Contact => vec![("/accounts", s.accounts_title)],
        Kind::Opportunity => vec![("/board", t.nav_board)],
    };
    let mut params = vec![
        ("limit".to_owned(), PAGE_SIZE.to_owned()),
        ("sort".to_owned(), "-created_at".to_owned()),
    ];
    if !q.is_empty() {
        params.push(("q".into(), q.clone()));
    }
    if !query.cursor.is_empty() {
        params.push(("cursor".into(), query.cursor.clone()));
    }
    let loaded = async {
        let page = records::list(&state.db, &user.actor, kind.table(), &params).await?;
        let total = totals::count(&state.db, &user.actor, kind.table(), &q, None).await?;
        let people = usernames(&state).await?;
        let stages = stage_names(&state, t.lang).await?;
        Ok::<_, StoreError>((page, total, people, stages))
    };
    let (page, total, people, stages, error) = match loaded.await {
        Ok((page, total, people, stages)) => (page.items, total, people, stages, page.next_cursor),
        Err(StoreError::Invalid(invalid)) => {
            // Only the cursor can be wrong: start again from the first page.
            let message = format!("{}: {}", t.field(&invalid.field), t.invalid(&invalid));
            let page = ListPage {
                s,
                heading: kind.title(s),
                path: kind.path(),
                links,
                q,
                total: String::new(),
                grid: Grid {
                    id: "records",
                    title: String::new(),
                    headers: headers(kind, t, s),
                    rows: Vec::new(),
                    empty: s.nothing_found,
                },
                first_url: Some(kind.path().to_owned()),
                next_url: None,
                error: Some(message),
                chrome,
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return store_error_page(chrome, e),
    };
    let mut names = Names::new(&state, &user);
    let mut rows = Vec::with_capacity(page.len());
    for r in &page {
        rows.push(row(kind, r, t, s, &mut names, &people, &stages).await);
    }
    let url = |cursor: Option<&str>| {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if !q.is_empty() {
            pairs.push(("q", &q));
        }
        pairs.extend(cursor.map(|c| ("cursor", c)));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            kind.path().to_owned()
        } else {
            format!("{}?{query}", kind.path())
        }
    };
    let page = ListPage {
        s,
        heading: kind.title(s),
        path: kind.path(),
        links,
        total: thousands(total),
        grid: Grid {
            id: "records",
            title: String::new(),
            headers: headers(kind, t, s),
            rows,
            empty: if q.is_empty() {
                s.nothing_yet
            } else {
                s.nothing_found
            },
        },
        first_url: (!query.cursor.is_empty()).then(|| url(None)),
        next_url: error.map(|c| url(Some(&c))),
        error: None,
        q,
        chrome,
    };
    render(StatusCode::OK, &page)
}

/// `GET /accounts`
pub(super) async fn accounts(
    State(state): State<AppState>,
    user: Viewer,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> Response {
    list(state, user, uri, query, Kind::Account).await
}

/// `GET /contacts`
pub(super) async fn contacts(
    State(state): State<AppState>,
    user: Viewer,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> Response {
    list(state, user, uri, query, Kind::Contact).await
}

/// `GET /opportunities`
pub(super) async fn opportunities(
    State(state): State<AppState>,
    user: Viewer,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> Response {
    list(state, user, uri, query, Kind::Opportunity).await
}

// ---------------------------------------------------------------------------------------------
// A record's page

/// A label and a value of a record's details, the value maybe a link.
pub(super) struct Fact {
    label: &'static str,
    value: String,
    url: Option<String>,
}

fn fact(label: &'static str, value: String) -> Fact {
    Fact {
        label,
        value,
        url: None,
    }
}

/// A follow-up on a record's page.
struct ActivityItem {
    at: String,
    when: String,
    kind: String,
    outcome: Option<String>,
    content: Option<String>,
    who: String,
    /// The lead it was logged on, for an account's follow-ups from before the conversion.
    from_lead: Option<Cell>,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    chrome: Chrome,
    s: &'static SalesTexts,
    list_url: &'static str,
    list_title: &'static str,
    name: String,
    /// `account`, `contact` or `opportunity`.
    kind: &'static str,
    a_class: bool,
    badges: Vec<String>,
    facts: Vec<Fact>,
    /// The account's RFM value: (label, value) pairs; empty for other records.
    rfm: Vec<(&'static str, String)>,
    grids: Vec<Grid>,
    activities: Vec<ActivityItem>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RecordQuery {
    converted: String,
}

fn activity_item(
    t: &Texts,
    zone: Zone,
    people: &HashMap<i64, String>,
    activity: &Activity,
    from_lead: Option<Cell>,
) -> ActivityItem {
    let at = activity.created_at.clone();
    let lang = t.lang;
    let kind = activity.kind.as_str();
    ActivityItem {
        when: zone.time(&at),
        at,
        kind: ActivityType::parse(kind)
            .map_or(kind, |a| a.label(lang))
            .to_owned(),
        outcome: activity
            .outcome
            .as_deref()
            .map(|c| Outcome::parse(c).map_or(c, |o| o.label(lang)).to_owned()),
        content: activity.content.clone(),
        who: username(people, &Value::from(activity.owner_id)),
        from_lead,
    }
}

/// The page of one account, contact or opportunity.
async fn record_page(
    state: AppState,
    user: Viewer,
    id: &str,
    query: RecordQuery,
    kind: Kind,
) -> Response {
    let chrome = Chrome::for_user(
        &user,
        id.parse::<i64>()
            .map_or_else(|_| kind.path().to_owned(), |id| kind.url(id)),
    );
    let t = chrome.t;
    let s = sales_texts(&user.actor.locale);
    let Some(id) = parse_id(id) else {
        return store_error_page(chrome, StoreError::NotFound(kind.table().schema));
    };
    let table = kind.table();
    let loaded = async {
        let record = records::get(&state.db, &user.actor, table, id).await?;
        let activities = activities::list(&state.db, &user.actor, table, id).await?;
        let people = usernames(&state).await?;
        let stages = stage_names(&state, t.lang).await?;
        Ok::<_, StoreError>((record, activities, people, stages))
    };
    let (record, activity_list, people, stages) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    let mut names = Names::new(&state, &user);
    let or_none = |value: String| {
        if value.is_empty() {
            t.none.to_owned()
        } else {
            value
        }
    };
    let shown = |name: &str| or_none(text_of(&record[name]));
    let owner = or_none(username(&people, &record["owner_id"]));
    let mut badges = Vec::new();
    let mut rfm = Vec::new();
    let mut a_class = false;
    let mut grids = Vec::new();
    let related = |field: &str| {
        vec![
            (field.to_owned(), id.to_string()),
            ("limit".to_owned(), RELATED.to_owned()),
            ("sort".to_owned(), "-created_at".to_owned()),
        ]
    };
    let facts = match kind {
        Kind::Account => {
            let loaded = async {
                let value =
                    customers::account_rfm(&state.db, &user.actor, id, state.clock.now()).await?;
                let contacts =
                    records::list(&state.db, &user.actor, &CONTACTS, &related("account_id"))
                        .await?;
                let deals = records::list(
                    &state.db,
                    &user.actor,
                    &OPPORTUNITIES,
                    &related("account_id"),
                )
                .await?;
                Ok::<_, StoreError>((value, contacts.items, deals.items))
            };
            let (value, contacts, deals) = match loaded.await {
                Ok(loaded) => loaded,
                Err(e) => return store_error_page(chrome, e),
            };
            a_class = value.a_class;
            let class = value.class.clone().unwrap_or_default();
            rfm = vec![
                (s.won_amount, yuan_of(value.monetary)),
                (s.won_deals, value.frequency.to_string()),
                (
                    s.last_won,
                    or_none(
                        user.zone
                            .date(value.last_won_at.as_deref().unwrap_or_default()),
                    ),
                ),
                (
                    s.rfm_scores,
                    match (
                        value.recency_score,
                        value.frequency_score,
                        value.monetary_score,
                        value.score,
                    ) {
                        (Some(r), Some(f), Some(m), Some(score)) => {
                            format!("R {r} · F {f} · M {m} = {score}")
                        }
                        _ => t.none.to_owned(),
                    },
                ),
                (
                    s.customer_class,
                    if class.is_empty() {
                        s.no_won_deals.to_owned()
                    } else {
                        s.class_label(&class)
                    },
                ),
            ];
            let mut rows = Vec::new();
            for c in &contacts {
                rows.push(
                    row(Kind::Contact, c, t, s, &mut names, &people, &stages)
                        .await
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| *i != 1)
                        .map(|(_, c)| c)
                        .collect(),
                );
            }
            grids.push(Grid {
                id: "contacts",
                title: format!("{} ({})", s.contacts_title, contacts.len()),
                headers: vec![t.name, t.title, t.phone, t.owner],
                rows,
                empty: s.nothing_yet,
            });
            grids.push(deal_grid(s, t, &deals, &stages, &people, &mut names, false).await);
            vec![
                fact(t.industry, shown("industry")),
                fact(t.region, or_none(region(&record))),
                fact(t.phone, shown("phone")),
                fact(s.website, shown("website")),
                fact(s.company_size, shown("company_size")),
                fact(t.owner, owner),
                fact(
                    t.created_at,
                    user.zone.time(&text_of(&record["created_at"])),
                ),
            ]
        }
        Kind::Contact => {
            let deals = match records::list(
                &state.db,
                &user.actor,
                &OPPORTUNITIES,
                &related("contact_id"),
            )
            .await
            {
                Ok(page) => page.items,
                Err(e) => return store_error_page(chrome, e),
            };
            grids.push(deal_grid(s, t, &deals, &stages, &people, &mut names, true).await);
            let account = names
                .link(&ACCOUNTS, &record["account_id"], "/accounts")
                .await;
            vec![
                Fact {
                    label: s.account,
                    value: or_none(account.text),
                    url: account.url,
                },
                fact(t.title, shown("title")),
                fact(t.phone, shown("phone")),
                fact(t.email, shown("email")),
                fact(s.wechat, shown("wechat")),
                fact(t.owner, owner),
                fact(
                    t.created_at,
                    user.zone.time(&text_of(&record["created_at"])),
                ),
            ]
        }
        Kind::Opportunity => {
            let stage = text_of(&record["stage"]);
            badges.push(stages.get(&stage).cloned().unwrap_or(stage));
            badges.push(result_label(s, &record["result"]));
            let account = names
                .link(&ACCOUNTS, &record["account_id"], "/accounts")
                .await;
            let contact = names
                .link(&CONTACTS, &record["contact_id"], "/contacts")
                .await;
            let lead = names.link(&LEADS, &record["lead_id"], "/leads").await;
            let probability = record["probability"]
                .as_i64()
                .map_or_else(|| t.none.to_owned(), |p| format!("{p}%"));
            let mut facts = vec![
                Fact {
                    label: s.account,
                    value: or_none(account.text),
                    url: account.url,
                },
                Fact {
                    label: s.contact,
                    value: or_none(contact.text),
                    url: contact.url,
                },
                fact(s.amount, or_none(yuan(&record["amount"]))),
                fact(s.probability, probability),
                fact(s.expected_close_date, shown("expected_close_date")),
                fact(t.owner, owner),
            ];
            if !record["close_reason"].is_null() {
                facts.push(fact(s.close_reason, shown("close_reason")));
            }
            if lead.url.is_some() {
                facts.push(Fact {
                    label: s.converted_from,
                    value: lead.text,
                    url: lead.url,
                });
            }
            facts.push(fact(
                t.created_at,
                user.zone.time(&text_of(&record["created_at"])),
            ));
            facts
        }
    };
    let mut activity_items = Vec::with_capacity(activity_list.items.len());
    for a in &activity_list.items {
        let from_lead = if a.record_type == "lead" {
            Some(
                names
                    .link(&LEADS, &Value::from(a.record_id), "/leads")
                    .await,
            )
        } else {
            None
        };
        activity_items.push(activity_item(t, user.zone, &people, a, from_lead));
    }
    let page = RecordPage {
        s,
        list_url: kind.path(),
        list_title: kind.title(s),
        name: text_of(&record["name"]),
        kind: table.record_type.code(),
        a_class,
        badges: badges.into_iter().filter(|b| !b.is_empty()).collect(),
        facts,
        rfm,
        grids,
        activities: activity_items,
        notice: (!query.converted.is_empty()).then_some(s.converted_notice),
        chrome,
    };
    render(StatusCode::OK, &page)
}

/// The deals of an account or a contact.
async fn deal_grid(
    s: &'static SalesTexts,
    t: &'static Texts,
    deals: &[Value],
    stages: &HashMap<String, String>,
    people: &HashMap<i64, String>,
    names: &mut Names<'_>,
    with_account: bool,
) -> Grid {
    let mut rows = Vec::new();
    for d in deals {
        let mut cells = row(Kind::Opportunity, d, t, s, names, people, stages).await;
        if !with_account {
            cells.remove(1);
        }
        rows.push(cells);
    }
    let mut headers = headers(Kind::Opportunity, t, s);
    if !with_account {
        headers.remove(1);
    }
    Grid {
        id: "opportunities",
        title: format!("{} ({})", s.opportunities_title, deals.len()),
        headers,
        rows,
        empty: s.nothing_yet,
    }
}

/// `GET /accounts/{id}`
pub(super) async fn account(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Response {
    record_page(state, user, &id, query, Kind::Account).await
}

/// `GET /contacts/{id}`
pub(super) async fn contact(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Response {
    record_page(state, user, &id, query, Kind::Contact).await
}

/// `GET /opportunities/{id}`
pub(super) async fn opportunity(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Response {
    record_page(state, user, &id, query, Kind::Opportunity).await
}

// ---------------------------------------------------------------------------------------------
// Handover

/// The record types a handover may move, with their labels.
fn handover_types(t: &'static Texts, s: &'static SalesTexts) -> [(&'static str, &'static str); 4] {
    [
        ("lead", t.nav_leads),
        ("account", s.accounts_title),
        ("contact", s.contacts_title),
        ("opportunity", s.opportunities_title),
    ]
}

#[derive(Template)]
#[template(path = "handover.html")]
struct HandoverPage {
    chrome: Chrome,
    s: &'static SalesTexts,
    csrf: String,
    from: Vec<Choice>,
    to: Vec<Choice>,
    /// (code, label, ticked)
    types: Vec<(&'static str, &'static str, bool)>,
    /// (field, message) of a refused handover.
    error: Option<(String, String)>,
    done: Option<String>,
}

impl HandoverPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn other_error(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| !["from_user_id", "to_user_id", "record_types"].contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }
}

/// The handover form as posted; `record_type` is repeated, once per ticked box.
#[derive(Default)]
pub(super) struct HandoverForm {
    csrf_token: String,
    from_user_id: String,
    to_user_id: String,
    record_types: Vec<String>,
}

impl HandoverForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = HandoverForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf_token" => form.csrf_token = value,
                "from_user_id" => form.from_user_id = value,
                "to_user_id" => form.to_user_id = value,
                "record_type" => form.record_types.push(value),
                _ => {}
            }
        }
        form
    }
}

async fn handover_page(
    state: &AppState,
    user: &Viewer,
    form: Option<&HandoverForm>,
    error: Option<(String, String)>,
    done: Option<String>,
    status: StatusCode,
) -> Response {
    let chrome = Chrome::for_user(user, "/handover");
    let t = chrome.t;
    let s = sales_texts(&user.actor.locale);
    let people = match users::list(&state.db, &[]).await {
        Ok(people) => people,
        Err(e) => return store_error_page(chrome, e),
    };
    // Only people within the user's scope: the store refuses anyone else anyway.
    let mut people: Vec<(i64, String, bool)> = people
        .iter()
        .filter(|u| user.actor.sees_owner(u.id))
        .map(|u| {
            let name = u
                .display_name
                .as_deref()
                .filter(|n| !n.is_empty())
                .map_or_else(|| u.username.clone(), |n| format!("{n} ({})", u.username));
            (u.id, name, u.active)
        })
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let chosen = |f: fn(&HandoverForm) -> &str| form.map_or("", f).trim().to_owned();
    let from = chosen(|f| &f.from_user_id);
    let to = chosen(|f| &f.to_user_id);
    let choices = |current: &str, active_only: bool| {
        std::iter::once(Choice::new("", s.choose_person, current))
            .chain(
                people
                    .iter()
                    .filter(|(_, _, active)| *active || !active_only)
                    .map(|(id, name, active)| {
                        let label = if *active {
                            name.clone()
                        } else {
                            format!("{name} · {}", s.inactive)
                        };
                        Choice::new(id.to_string(), label, current)
                    }),
            )
            .collect()
    };
    let types = handover_types(t, s)
        .into_iter()
        .map(|(code, label)| {
            let ticked = form.is_none_or(|f| f.record_types.iter().any(|c| c == code));
            (code, label, ticked)
        })
        .collect();
    let page = HandoverPage {
        s,
        csrf: user.csrf.clone(),
        from: choices(&from, false),
        to: choices(&to, true),
        types,
        error,
        done,
        chrome,
    };
    render(status, &page)
}

/// `GET /handover`
pub(super) async fn handover_form(State(state): State<AppState>, user: Viewer) -> Response {
    handover_page(&state, &user, None, None, None, StatusCode::OK).await
}

/// `POST /handover`: gives every record of one user to another, through the store's handover.
pub(super) async fn handover(
    State(state): State<AppState>,
    user: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = HandoverForm::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let t = super::i18n::texts(&user.actor.locale);
    let s = sales_texts(&user.actor.locale);
    let refuse = |field: &str, message: String, status| {
        let error = Some((field.to_owned(), message));
        handover_page(&state, &user, Some(&form), error, None, status)
    };
    let Some(from) = parse_id(form.from_user_id.trim()) else {
        return refuse(
            "from_user_id",
            s.choose_person_error.to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    // A person not chosen, or not a number, is refused by the store as not given.
    let handover = NewHandover {
        to_user_id: form.to_user_id.trim().parse().ok(),
        record_types: Some(form.record_types.clone()),
    };
    match customers::handover(ctx(&state, &user), from, handover.into()).await {
        Ok(done) => {
            let counts = handover_types(t, s)
                .iter()
                .map(|(code, label)| {
                    let moved = done.counts.get(*code).copied().unwrap_or(0);
                    format!("{label} {}", thousands(moved))
                })
                .collect::<Vec<_>>()
                .join(" · ");
            let message = s
                .handed_over
                .replace("{0}", &thousands(done.total))
                .replace("{1}", &counts);
            handover_page(&state, &user, None, None, Some(message), StatusCode::OK).await
        }
        Err(StoreError::Invalid(invalid)) => {
            let message = if invalid.field == "to_user_id" {
                s.choose_person_error.to_owned()
            } else if invalid.field == "record_types" {
                s.choose_types_error.to_owned()
            } else {
                format!("{}: {}", t.field(&invalid.field), t.invalid(&invalid))
            };
            refuse(&invalid.field, message, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::Forbidden(message)) => {
            let message = s.forbidden_message(&message);
            refuse("", message, StatusCode::FORBIDDEN).await
        }
        Err(StoreError::NotFound(_)) => {
            refuse(
                "from_user_id",
                s.choose_person_error.to_owned(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => store_error_page(Chrome::for_user(&user, "/handover"), e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_shown_in_yuan_with_thousands() {
        assert_eq!(yuan(&json!(1234567)), "¥1,234,567");
        assert_eq!(yuan(&json!(1200.5)), "¥1,200.50");
        assert_eq!(yuan(&json!(0.07)), "¥0.07");
        assert_eq!(yuan(&Value::Null), "");
    }
}
