//! The lead list: the total (exact up to [`TOTAL_CAP`], "10,000+" beyond), a page size, built-in views shared by everyone (我的线索,
//! 今日新增, 待跟进, 逾期未跟进) and each person's own saved views, filters on every standard field, dates, tags, tier and pool
//! state, the next follow-up and last activity of each lead, an export of exactly what the list
//! shows, and the row selection the bulk actions start from ([`super::bulk`]). The list is the
//! record engine's, read with the user as actor, so data scope is the store's.

use super::i18n::Texts;
pub(super) use super::lead_form::{phone_shown, PhoneShown};
use super::leads::{ctx, lead_url, text_of, usernames as people};
use super::list_texts::{fill, list_texts, ListTexts};
use super::page::{
    csrf_refusal, message_page, render, store_error_page, thousands, Choice, Chrome, Viewer, Zone,
};
use crate::{download, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use xiansuo_app::data::export::{Export, Format, Source};
use xiansuo_app::leads::followups;
use xiansuo_app::leads::saved_views;
use xiansuo_app::records::custom_fields;
use xiansuo_app::records::schema::LEADS;
use xiansuo_app::records::{self, Count};
use xiansuo_app::StoreError;
use xiansuo_core::choice::ChoiceKind;
use xiansuo_core::lead::{DemandStage, Grade, Tier, Urgency};

/// The list counts its matches exactly up to this many and shows "10,000+" beyond: an exact
/// count over a million leads took 100 ms at every request.
const TOTAL_CAP: i64 = 10_000;

/// The page sizes offered; the first is the default.
const PAGE_SIZES: [&str; 3] = ["30", "50", "100"];

/// The statuses of leads still being worked, for the follow-up views.
const OPEN: &str = "new,working,qualified,nurturing";

/// The list's sort choices: the store's sort parameter and the label. The first is the default.
fn sort_choices(t: &Texts) -> [(&'static str, &'static str); 5] {
    [
        ("-created_at", t.sort_newest),
        ("created_at", t.sort_oldest),
        ("-updated_at", t.sort_updated),
        ("-score", t.sort_score),
        ("name", t.sort_name),
    ]
}

/// The list's address: a view, search, filters, sorting, page size and page.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub(super) struct ListQuery {
    view: String,
    q: String,
    status: String,
    source: String,
    grade: String,
    tier: String,
    urgency: String,
    demand_stage: String,
    owner: String,
    tags: String,
    in_pool: String,
    industry: String,
    province: String,
    city: String,
    campaign: String,
    created_from: String,
    created_to: String,
    updated_from: String,
    updated_to: String,
    sort: String,
    per: String,
    cursor: String,
    /// Custom field filters, `custom.KEY=value`, and whatever else the address holds.
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

impl ListQuery {
    /// The view and filters that are set, by their names in the page's address.
    fn filters(&self) -> Vec<(&str, &str)> {
        let mut set: Vec<(&str, &str)> = [
            ("view", &self.view),
            ("q", &self.q),
            ("status", &self.status),
            ("source", &self.source),
            ("grade", &self.grade),
            ("tier", &self.tier),
            ("urgency", &self.urgency),
            ("demand_stage", &self.demand_stage),
            ("owner", &self.owner),
            ("tags", &self.tags),
            ("in_pool", &self.in_pool),
            ("industry", &self.industry),
            ("province", &self.province),
            ("city", &self.city),
            ("campaign", &self.campaign),
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("updated_from", &self.updated_from),
            ("updated_to", &self.updated_to),
        ]
        .into_iter()
        .map(|(name, value)| (name, value.trim()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
        set.extend(
            self.extra
                .iter()
                .filter(|(name, value)| name.starts_with("custom.") && !value.trim().is_empty())
                .map(|(name, value)| (name.as_str(), value.trim())),
        );
        set
    }

    /// The value of a custom field filter.
    fn custom(&self, name: &str) -> &str {
        self.extra.get(name).map_or("", |v| v.trim())
    }

    /// The filters as a query string, which the bulk actions and the export carry.
    pub(super) fn filter_string(&self) -> String {
        serde_urlencoded::to_string(self.filters()).unwrap_or_default()
    }

    /// Reads the filters back from [`Self::filter_string`].
    pub(super) fn from_filter_string(filters: &str) -> Self {
        serde_urlencoded::from_str(filters).unwrap_or_default()
    }

    fn sort(&self) -> &str {
        self.sort.trim()
    }

    fn per(&self) -> &'static str {
        PAGE_SIZES
            .iter()
            .find(|size| **size == self.per.trim())
            .copied()
            .unwrap_or(PAGE_SIZES[0])
    }

    /// This list's address on another page (`cursor`), keeping everything else.
    fn url(&self, cursor: Option<&str>) -> String {
        let mut pairs = self.filters();
        if !self.sort().is_empty() {
            pairs.push(("sort", self.sort()));
        }
        if self.per() != PAGE_SIZES[0] {
            pairs.push(("per", self.per()));
        }
        pairs.extend(cursor.map(|c| ("cursor", c)));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            "/leads".to_owned()
        } else {
            format!("/leads?{query}")
        }
    }

    /// The view and filters as the store's list parameters, for `user` at `now`. Dates are
    /// whole days in the user's time zone, as they mean them.
    pub(super) fn store_params(
        &self,
        user_id: i64,
        zone: Zone,
        now: DateTime<Utc>,
    ) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = Vec::new();
        let mut push = |name: &str, value: String| params.push((name.to_owned(), value));
        let day_start = |date: NaiveDate| zone.midnight(date).to_rfc3339();
        let day_end = |date: NaiveDate| {
            (zone.midnight(date + Duration::days(1)) - Duration::milliseconds(1)).to_rfc3339()
        };
        for (name, value) in self.filters() {
            let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
            match (name, date) {
                ("view", _) => match value {
                    "mine" => push("owner_id", user_id.to_string()),
                    "today" => push("created_from", day_start(zone.today(now))),
                    "due" => {
                        push(
                            "follow_up_before",
                            day_start(zone.today(now) + Duration::days(1)),
                        );
                        push("status", OPEN.to_owned());
                    }
                    "overdue" => {
                        push("follow_up_before", now.to_rfc3339());
                        push("status", OPEN.to_owned());
                    }
                    _ => {}
                },
                ("owner", _) => push("owner_id", value.to_owned()),
                ("in_pool", _) => push("in_pool", value.to_owned()),
                ("created_from" | "updated_from", Some(date)) => push(name, day_start(date)),
                ("created_to" | "updated_to", Some(date)) => push(name, day_end(date)),
                _ => push(name, value.to_owned()),
            }
        }
        params
    }
}

/// The people a user may pick as an owner or filter by: everyone in their scope, by name.
pub(super) fn people_in_scope(user: &Viewer, names: &HashMap<i64, String>) -> Vec<(i64, String)> {
    let mut people: Vec<(i64, String)> = names
        .iter()
        .filter(|(id, _)| {
            user.actor
                .visible_owners
                .as_ref()
                .is_none_or(|ids| ids.contains(id))
        })
        .map(|(id, name)| (*id, name.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    people
}

struct LeadRow {
    id: i64,
    select_label: String,
    url: String,
    name: String,
    title: String,
    company: String,
    phone: Option<PhoneShown>,
    status: String,
    status_label: String,
    grade: String,
    grade_label: String,
    tier_label: String,
    score: String,
    owner: String,
    next_follow_up: String,
    overdue: bool,
    last_activity: String,
    created: String,
}

/// A filter on a lead custom field: a choice for select and yes/no fields, text otherwise.
struct CustomFilter {
    name: String,
    label: String,
    value: String,
    /// Empty for a text box.
    choices: Vec<Choice>,
}

/// The filters for the lead custom fields the admin defined.
async fn custom_filters(
    state: &AppState,
    t: &Texts,
    query: &ListQuery,
) -> Result<Vec<CustomFilter>, StoreError> {
    Ok(custom_fields::list(&state.db)
        .await?
        .items
        .iter()
        .filter(|def| def.object == "lead")
        .map(|def| {
            let name = format!("custom.{}", def.key);
            let value = query.custom(&name).to_owned();
            let choices = match def.field_type.as_str() {
                "boolean" => with_all(
                    t,
                    &value,
                    [("true", t.yes), ("false", t.no)]
                        .into_iter()
                        .map(|(v, label)| (v.to_owned(), label.to_owned())),
                ),
                "single_select" | "multi_select" => with_all(
                    t,
                    &value,
                    def.options.iter().map(|o| (o.clone(), o.clone())),
                ),
                _ => Vec::new(),
            };
            CustomFilter {
                label: def.label.clone(),
                name,
                value,
                choices,
            }
        })
        .collect())
}

/// A link to a built-in view.
struct ViewLink {
    label: &'static str,
    url: String,
    current: bool,
}

/// A link to one of the user's saved views, with the form that deletes it.
struct SavedLink {
    id: i64,
    name: String,
    delete_label: String,
    url: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "lead_list.html")]
struct LeadListPage {
    chrome: Chrome,
    l: &'static ListTexts,
    csrf: String,
    views: Vec<ViewLink>,
    saved: Vec<SavedLink>,
    query: ListQuery,
    total: String,
    apply_all: String,
    statuses: Vec<Choice>,
    sources: Vec<Choice>,
    grades: Vec<Choice>,
    tiers: Vec<Choice>,
    urgencies: Vec<Choice>,
    demand_stages: Vec<Choice>,
    pool_states: Vec<Choice>,
    customs: Vec<CustomFilter>,
    /// Empty when the user sees only their own leads.
    owners: Vec<Choice>,
    sorts: Vec<Choice>,
    sizes: Vec<Choice>,
    /// Whether a filter beyond the first row is set, to open "more filters".
    more_set: bool,
    rows: Vec<LeadRow>,
    filtered: bool,
    filters: String,
    export_csv: String,
    export_xlsx: String,
    first_url: Option<String>,
    next_url: Option<String>,
    error: Option<String>,
}

/// A filter's choices, led by "all" (no filter).
pub(super) fn with_all(
    t: &Texts,
    current: &str,
    choices: impl Iterator<Item = (String, String)>,
) -> Vec<Choice> {
    std::iter::once(Choice::new("", t.all, current))
        .chain(choices.map(|(value, label)| Choice::new(value, label, current)))
        .collect()
}

/// `GET /leads`
pub(super) async fn list(
    State(state): State<AppState>,
    user: Viewer,
    uri: Uri,
    Query(query): Query<ListQuery>,
) -> Response {
    let back = uri
        .path_and_query()
        .map_or_else(|| "/leads".to_owned(), ToString::to_string);
    let chrome = Chrome::for_user(&user, back);
    let t = chrome.t;
    let l = list_texts(t.lang);
    let now = state.clock.now();
    let loaded = async {
        Ok::<_, StoreError>((
            people(&state).await?,
            custom_filters(&state, t, &query).await?,
            saved_views::list(&state.db, &user.actor).await?,
        ))
    };
    let (names, customs, saved) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    let sorts = sort_choices(t);
    let sort = sorts
        .iter()
        .find(|(value, _)| *value == query.sort())
        .map_or(sorts[0].0, |s| s.0);
    let filters = query.store_params(user.actor.user_id, user.zone, now);
    let mut params = filters.clone();
    params.push(("limit".into(), query.per().into()));
    params.push(("sort".into(), sort.into()));
    if !query.cursor.is_empty() {
        params.push(("cursor".into(), query.cursor.clone()));
    }
    let counted = Count::UpTo(TOTAL_CAP);
    let (page, error) =
        match records::list_counted(&state.db, &user.actor, &LEADS, &params, counted).await {
            Ok(page) => (Some(page), None),
            Err(StoreError::Invalid(invalid)) => {
                (None, Some(super::leads::invalid_text(t, &invalid)))
            }
            Err(e) => return store_error_page(chrome, e),
        };
    let (items, next_cursor, total) = page.map_or((Vec::new(), None, String::from("0")), |p| {
        let shown = thousands(p.total.unwrap_or_default());
        let total = if p.total_capped { shown + "+" } else { shown };
        (p.items, p.next_cursor, total)
    });
    let ids: Vec<i64> = items.iter().filter_map(|l| l["id"].as_i64()).collect();
    let next = match followups::next_planned(&state.db, &ids).await {
        Ok(next) => next,
        Err(e) => return store_error_page(chrome, StoreError::Internal(e)),
    };
    let rows = items
        .iter()
        .map(|lead| {
            let id = lead["id"].as_i64().unwrap_or_default();
            let status = text_of(&lead["status"]);
            let grade = text_of(&lead["grade"]);
            let planned = next.get(&id);
            let name = text_of(&lead["name"]);
            LeadRow {
                id,
                select_label: fill(l.select_row, &[("name", &name)]),
                url: lead_url(id),
                name,
                title: text_of(&lead["title"]),
                company: text_of(&lead["company"]),
                phone: phone_shown(lead),
                status_label: user
                    .choices
                    .status_label(&status, lead["status_detail"].as_str(), t.lang)
                    .to_owned(),
                status,
                grade_label: Grade::parse(&grade)
                    .map_or_else(|_| grade.clone(), |g| g.label(t.lang).to_owned()),
                grade,
                tier_label: lead["tier"]
                    .as_str()
                    .and_then(|c| Tier::parse(c).ok())
                    .map_or_else(String::new, |tier| tier.label(t.lang).to_owned()),
                score: text_of(&lead["score"]),
                owner: lead["owner_id"]
                    .as_i64()
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_default(),
                next_follow_up: planned.map_or_else(String::new, |at| user.zone.time(at)),
                overdue: planned
                    .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                    .is_some_and(|at| at < now),
                last_activity: user
                    .zone
                    .date(lead["last_activity_at"].as_str().unwrap_or_default()),
                created: user
                    .zone
                    .date(lead["created_at"].as_str().unwrap_or_default()),
            }
        })
        .collect();
    let owners = match &user.actor.visible_owners {
        Some(ids) if ids.len() < 2 => Vec::new(),
        _ => with_all(
            t,
            query.owner.trim(),
            people_in_scope(&user, &names)
                .into_iter()
                .map(|(id, name)| (id.to_string(), name)),
        ),
    };
    let view_url = |view: &str| {
        let mut q = ListQuery {
            per: query.per.clone(),
            ..ListQuery::default()
        };
        q.view = view.to_owned();
        q.url(None)
    };
    let views = [
        ("", l.view_all),
        ("mine", l.view_mine),
        ("today", l.view_today),
        ("due", l.view_due),
        ("overdue", l.view_overdue),
    ]
    .into_iter()
    .map(|(view, label)| ViewLink {
        label,
        url: view_url(view),
        current: query.view.trim() == view,
    })
    .collect();
    let filter_string = query.filter_string();
    let saved = saved
        .iter()
        .map(|view| {
            let stored = text_of(&view["query"]);
            let name = text_of(&view["name"]);
            SavedLink {
                id: view["id"].as_i64().unwrap_or_default(),
                delete_label: fill(l.delete_view, &[("name", &name)]),
                name,
                url: ListQuery::from_filter_string(&stored).url(None),
                current: !stored.is_empty() && stored == filter_string,
            }
        })
        .collect();
    let export = |format: &str| {
        let mut pairs = vec![("format", format)];
        pairs.extend(query.filters());
        format!(
            "/leads/export?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let more_set = [
        &query.tier,
        &query.urgency,
        &query.demand_stage,
        &query.tags,
        &query.in_pool,
        &query.industry,
        &query.province,
        &query.city,
        &query.campaign,
        &query.created_from,
        &query.created_to,
        &query.updated_from,
        &query.updated_to,
    ]
    .iter()
    .any(|v| !v.trim().is_empty())
        || query
            .filters()
            .iter()
            .any(|(name, _)| name.starts_with("custom."));
    let page = LeadListPage {
        l,
        csrf: user.csrf.clone(),
        views,
        saved,
        total: fill(l.total, &[("n", &total)]),
        apply_all: fill(l.apply_all, &[("n", &total)]),
        statuses: with_all(
            t,
            query.status.trim(),
            user.choices
                .active(ChoiceKind::Status)
                .map(|s| (s.code.clone(), s.label(t.lang).to_owned())),
        ),
        sources: with_all(
            t,
            query.source.trim(),
            user.choices
                .active(ChoiceKind::Source)
                .map(|s| (s.code.clone(), s.label(t.lang).to_owned())),
        ),
        grades: with_all(
            t,
            query.grade.trim(),
            Grade::ALL
                .iter()
                .map(|g| (g.code().to_owned(), g.label(t.lang).to_owned())),
        ),
        tiers: with_all(
            t,
            query.tier.trim(),
            Tier::ALL
                .iter()
                .map(|c| (c.code().to_owned(), c.label(t.lang).to_owned())),
        ),
        urgencies: with_all(
            t,
            query.urgency.trim(),
            Urgency::ALL
                .iter()
                .map(|c| (c.code().to_owned(), c.label(t.lang).to_owned())),
        ),
        demand_stages: with_all(
            t,
            query.demand_stage.trim(),
            DemandStage::ALL
                .iter()
                .map(|c| (c.code().to_owned(), c.label(t.lang).to_owned())),
        ),
        pool_states: with_all(
            t,
            query.in_pool.trim(),
            [("true", l.in_pool), ("false", l.held)]
                .into_iter()
                .map(|(v, label)| (v.to_owned(), label.to_owned())),
        ),
        owners,
        customs,
        sorts: sorts
            .iter()
            .map(|(value, label)| Choice::new(*value, *label, sort))
            .collect(),
        sizes: PAGE_SIZES
            .iter()
            .map(|size| Choice::new(*size, *size, query.per()))
            .collect(),
        more_set,
        rows,
        filtered: !query.filters().is_empty(),
        export_csv: export("csv"),
        export_xlsx: export("xlsx"),
        filters: filter_string,
        first_url: (!query.cursor.is_empty()).then(|| query.url(None)),
        next_url: next_cursor.map(|c| query.url(Some(&c))),
        error,
        query,
        chrome,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ExportQuery {
    format: String,
    #[serde(flatten)]
    list: ListQuery,
}

/// `GET /leads/export?format=csv|xlsx&…`: every lead the list with the same view and filters
/// shows, through the export use case (recorded in the export audit).
pub(super) async fn export(
    State(state): State<AppState>,
    user: Viewer,
    Query(query): Query<ExportQuery>,
) -> Response {
    let chrome = Chrome::for_user(&user, "/leads");
    let format = if query.format == "xlsx" {
        Format::Xlsx
    } else {
        Format::Csv
    };
    let filters = query
        .list
        .store_params(user.actor.user_id, user.zone, state.clock.now());
    let source = Source::Records(&LEADS);
    let started = match Export::start(ctx(&state, &user), source, format, filters).await {
        Ok(started) => started,
        Err(e) => return store_error_page(chrome, e),
    };
    download::attachment(started, source, format, state.clock.now())
        .await
        .unwrap_or_else(|e| store_error_page(chrome, e))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SaveViewForm {
    csrf_token: String,
    name: String,
    filters: String,
}

/// `POST /leads/views`: saves the list's filters under a name, then opens the view.
pub(super) async fn save_view(
    State(state): State<AppState>,
    user: Viewer,
    Form(form): Form<SaveViewForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    // Only what the list understands is kept, in its own spelling.
    let query = ListQuery::from_filter_string(&form.filters);
    let chrome = Chrome::for_user(&user, query.url(None));
    let t = chrome.t;
    match saved_views::create(ctx(&state, &user), &form.name, &query.filter_string()).await {
        Ok(_) => Redirect::to(&query.url(None)).into_response(),
        Err(StoreError::Invalid(invalid)) => message_page(
            chrome,
            StatusCode::UNPROCESSABLE_ENTITY,
            t.error_title,
            &super::leads::invalid_text(t, &invalid),
        ),
        Err(e) => store_error_page(chrome, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct DeleteViewForm {
    csrf_token: String,
}

/// `POST /leads/views/{id}/delete`
pub(super) async fn delete_view(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(form): Form<DeleteViewForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&user, &form.csrf_token) {
        return refused;
    }
    let chrome = Chrome::for_user(&user, "/leads");
    let Ok(id) = id.parse::<i64>() else {
        return store_error_page(chrome, StoreError::NotFound("Saved view"));
    };
    match saved_views::delete(&state.db, &user.actor, id).await {
        Ok(()) => Redirect::to("/leads").into_response(),
        Err(e) => store_error_page(chrome, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phones_have_one_format_and_a_tel_link_unless_masked() {
        let shown =
            phone_shown(&json!({"phone": "138-0013-8000", "phone_normalized": "+8613800138000"}))
                .unwrap();
        assert_eq!(shown.text, "138 0013 8000");
        assert_eq!(shown.tel.as_deref(), Some("tel:+8613800138000"));
        let masked = phone_shown(&json!({"phone_normalized": "+86138****8000"})).unwrap();
        assert_eq!(masked.text, "138 **** 8000");
        assert_eq!(masked.tel, None);
        let abroad = phone_shown(&json!({"phone_normalized": "+14155550100"})).unwrap();
        assert_eq!(abroad.text, "+14155550100");
        assert_eq!(phone_shown(&json!({"phone": null})).map(|p| p.text), None);
    }

    #[test]
    fn views_and_dates_become_the_stores_filters_in_the_users_time_zone() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let query = ListQuery::from_filter_string("view=due&created_to=2026-12-01&owner=7");
        let params = query.store_params(3, Zone::default(), now);
        assert!(params.contains(&(
            "follow_up_before".into(),
            "2026-12-07T16:00:00+00:00".into()
        )));
        assert!(params.contains(&("status".into(), OPEN.into())));
        assert!(params.contains(&("created_to".into(), "2026-12-01T15:59:59.999+00:00".into())));
        assert!(params.contains(&("owner_id".into(), "7".into())));
        let berlin = query.store_params(3, Zone::of(Some("Europe/Berlin")), now);
        assert!(berlin.contains(&("created_to".into(), "2026-12-01T22:59:59.999+00:00".into())));
        assert!(berlin.contains(&(
            "follow_up_before".into(),
            "2026-12-06T23:00:00+00:00".into()
        )));
        let mine = ListQuery::from_filter_string("view=mine").store_params(3, Zone::default(), now);
        assert_eq!(mine, vec![("owner_id".to_owned(), "3".to_owned())]);
    }
}
