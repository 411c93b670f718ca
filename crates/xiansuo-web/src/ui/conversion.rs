//! Converting a lead from its page (转化), and undoing a conversion made by mistake.
//!
//! The conversion page shows, on one form, the accounts the lead would join (those the user may
//! see with the lead's company key; else a new account from the lead's company), the contact
//! the lead becomes, and an optional opportunity (name, amount, stage, expected close date).
//! Converting lands on the new opportunity, or on the account when there is none. Both the
//! conversion and its undo are the store's use cases ([`xiansuo_app::leads::conversion`],
//! [`xiansuo_app::unconvert`]) with the signed-in user as the actor.

use super::leads::{ctx, lead_url, parse_id, text_of, Posted};
use super::page::{
    csrf_refusal, lead_not_found, message_page, render, store_error_page, Choice, Chrome, Viewer,
};
use super::sales_texts::{sales_texts, SalesTexts};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use xiansuo_app::leads::conversion::{self, NewConversion, NewDeal};
use xiansuo_app::leads::unconvert;
use xiansuo_app::records;
use xiansuo_app::records::schema::LEADS;
use xiansuo_app::sales::pipeline::{self, StageKind};
use xiansuo_app::StoreError;
use xiansuo_core::lead::LeadStatus;
use xiansuo_core::Invalid;

/// An account the lead may join.
struct AccountChoice {
    id: i64,
    name: String,
    region: String,
    selected: bool,
}

/// The fields of the conversion form as typed, with the error that belongs to each.
#[derive(Default)]
struct Typed {
    account_id: String,
    create_opportunity: bool,
    name: String,
    amount: String,
    stage: String,
    expected_close_date: String,
}

#[derive(Template)]
#[template(path = "convert.html")]
struct ConvertPage {
    chrome: Chrome,
    s: &'static SalesTexts,
    csrf: String,
    lead_url: String,
    lead_name: String,
    company: String,
    accounts: Vec<AccountChoice>,
    /// The name a new account would take, when no account matches.
    new_account: String,
    /// (label, value) of the contact the lead becomes.
    contact: Vec<(&'static str, String)>,
    typed: Typed,
    stages: Vec<Choice>,
    /// (field, message) of the error from the last post.
    error: Option<(String, String)>,
}

impl ConvertPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The error that belongs to none of the form's fields.
    fn other_error(&self) -> Option<&str> {
        const FIELDS: [&str; 5] = [
            "account_id",
            "opportunity.name",
            "opportunity.amount",
            "opportunity.stage",
            "opportunity.expected_close_date",
        ];
        self.error
            .as_ref()
            .filter(|(f, _)| !FIELDS.contains(&f.as_str()))
            .map(|(_, m)| m.as_str())
    }
}

/// A store message about the conversion as a person reads it.
fn conversion_message(s: &SalesTexts, chrome: &Chrome, invalid: &Invalid) -> String {
    // The checklist message quotes the checklist and its missing items.
    let checklist = invalid
        .message
        .strip_prefix("the lead is not qualified: required items of the checklist '")
        .and_then(|rest| rest.split_once("' are not met: "))
        .map(|(name, items)| (name, items.split(" (tick them").next().unwrap_or(items)));
    if let Some((name, items)) = checklist {
        return s.checklist_unmet.replace("{0}", name).replace("{1}", items);
    }
    if invalid.field == "status" {
        return s.store_message(&invalid.message);
    }
    let t = chrome.t;
    let field = match invalid.field.strip_prefix("opportunity.") {
        Some(field) => s.opportunity_field(field).unwrap_or(t.field(field)),
        None => t.field(&invalid.field),
    };
    format!("{field}: {}", t.invalid(invalid))
}

/// The conversion page for a lead, filled with `typed`.
async fn convert_page(
    state: &AppState,
    user: &Viewer,
    id: i64,
    typed: Option<Typed>,
    error: Option<StoreError>,
    status: StatusCode,
) -> Response {
    let url = format!("{}/convert", lead_url(id));
    let chrome = Chrome::for_user(user, url);
    let s = sales_texts(&user.actor.locale);
    let t = chrome.t;
    let loaded = async {
        let lead = records::get(&state.db, &user.actor, &LEADS, id).await?;
        let accounts = unconvert::matching_accounts(&state.db, &user.actor, &lead).await?;
        let stages = pipeline::stages(&state.db).await?;
        Ok::<_, StoreError>((lead, accounts, stages))
    };
    let (lead, accounts, stages) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => return store_error_page(chrome, e),
    };
    if lead["status"] == LeadStatus::Converted.code() {
        return Redirect::to(&lead_url(id)).into_response();
    }
    let company = text_of(&lead["company"]);
    let typed = typed.unwrap_or_else(|| Typed {
        name: if company.is_empty() {
            text_of(&lead["name"])
        } else {
            company.clone()
        },
        ..Typed::default()
    });
    let chosen = typed.account_id.trim().to_owned();
    let accounts: Vec<AccountChoice> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let id = a["id"].as_i64().unwrap_or_default();
            AccountChoice {
                id,
                name: text_of(&a["name"]),
                region: [text_of(&a["province"]), text_of(&a["city"])]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
                selected: if chosen.is_empty() {
                    i == 0
                } else {
                    chosen == id.to_string()
                },
            }
        })
        .collect();
    let lang = t.lang;
    let stages = stages
        .iter()
        .filter(|st| st.active && st.kind == StageKind::Open)
        .map(|st| {
            let name = if lang == "en" {
                &st.name_en
            } else {
                &st.name_zh
            };
            let label = format!("{name} ({}%)", st.probability);
            Choice::new(st.code.clone(), label, &typed.stage)
        })
        .collect();
    let shown = |name: &str| {
        let value = text_of(&lead[name]);
        if value.is_empty() {
            t.none.to_owned()
        } else {
            value
        }
    };
    let error = error.map(|e| match e {
        StoreError::Invalid(invalid) => {
            let message = match invalid.field.as_str() {
                "account_id"
                | "opportunity.name"
                | "opportunity.amount"
                | "opportunity.stage"
                | "opportunity.expected_close_date" => t.invalid(&invalid),
                _ => conversion_message(s, &chrome, &invalid),
            };
            (invalid.field.clone(), message)
        }
        StoreError::Conflict(message) => ("".to_owned(), s.store_message(&message)),
        other => ("".to_owned(), other.to_string()),
    });
    let page = ConvertPage {
        s,
        csrf: user.csrf.clone(),
        lead_url: lead_url(id),
        lead_name: text_of(&lead["name"]),
        new_account: if company.is_empty() {
            text_of(&lead["name"])
        } else {
            company.clone()
        },
        company,
        accounts,
        contact: vec![
            (t.name, shown("name")),
            (t.title, shown("title")),
            (t.phone, shown("phone")),
            (t.email, shown("email")),
        ],
        typed,
        stages,
        error,
        chrome,
    };
    render(status, &page)
}

/// `GET /leads/{id}/convert`
pub(super) async fn form(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
) -> Response {
    match parse_id(&id) {
        Some(id) => convert_page(&state, &user, id, None, None, StatusCode::OK).await,
        None => lead_not_found(Chrome::for_user(&user, "/leads")),
    }
}

/// The conversion request the form asks for, or the field the store would refuse.
fn request(typed: &Typed) -> Result<NewConversion, Invalid> {
    let account = typed.account_id.trim();
    let account_id = if account.is_empty() {
        None
    } else {
        let id = account
            .parse::<i64>()
            .map_err(|_| Invalid::new("account_id", "must be a whole number of at least 1"))?;
        Some(id)
    };
    let opportunity = if typed.create_opportunity {
        let given = |value: &str| {
            let value = value.trim();
            (!value.is_empty()).then(|| value.to_owned())
        };
        let amount = typed.amount.trim().replace([',', '，', '¥', ' '], "");
        let amount = if amount.is_empty() {
            None
        } else {
            let amount = amount
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| Invalid::new("opportunity.amount", "must be a number"))?;
            Some(amount)
        };
        Some(NewDeal {
            name: given(&typed.name),
            amount,
            expected_close_date: given(&typed.expected_close_date),
            stage: given(&typed.stage),
        })
    } else {
        None
    };
    Ok(NewConversion {
        account_id,
        create_opportunity: Some(typed.create_opportunity),
        opportunity,
    })
}

/// `POST /leads/{id}/convert`: converts the lead and opens the new opportunity, or the account.
pub(super) async fn convert(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, posted.csrf()) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let typed = Typed {
        account_id: posted.get("account_id").to_owned(),
        create_opportunity: !posted.get("create_opportunity").is_empty(),
        name: posted.get("opportunity_name").to_owned(),
        amount: posted.get("amount").to_owned(),
        stage: posted.get("stage").to_owned(),
        expected_close_date: posted.get("expected_close_date").to_owned(),
    };
    let converted = match request(&typed) {
        Ok(new) => conversion::convert(ctx(&state, &user), id, new.into()).await,
        Err(invalid) => Err(invalid.into()),
    };
    match converted {
        Ok(done) => {
            let opportunity = done.opportunity.as_ref().and_then(|o| o["id"].as_i64());
            let to = match (opportunity, done.account["id"].as_i64()) {
                (Some(opportunity), _) => format!("/opportunities/{opportunity}?converted=1"),
                (None, Some(account)) => format!("/accounts/{account}?converted=1"),
                (None, None) => lead_url(id),
            };
            Redirect::to(&to).into_response()
        }
        Err(e @ StoreError::Invalid(_)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            convert_page(&state, &user, id, Some(typed), Some(e), status).await
        }
        Err(e @ StoreError::Conflict(_)) => {
            convert_page(
                &state,
                &user,
                id,
                Some(typed),
                Some(e),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => store_error_page(Chrome::for_user(&user, lead_url(id)), e),
    }
}

/// `POST /leads/{id}/conversion/undo`: reopens the lead; its page says what was archived.
pub(super) async fn undo(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted::from_pairs(pairs);
    if let Some(refused) = csrf_refusal(&user, posted.csrf()) {
        return refused;
    }
    let Some(id) = parse_id(&id) else {
        return lead_not_found(Chrome::for_user(&user, "/leads"));
    };
    let chrome = Chrome::for_user(&user, lead_url(id));
    let (t, s) = (chrome.t, sales_texts(&user.actor.locale));
    match unconvert::undo(ctx(&state, &user), id).await {
        Ok(_) => Redirect::to(&format!("{}?undone=1", lead_url(id))).into_response(),
        Err(StoreError::Conflict(m)) => {
            let message = s.store_message(&m);
            message_page(chrome, StatusCode::CONFLICT, t.error_title, &message)
        }
        Err(StoreError::Forbidden(m)) => {
            let message = s.store_message(&m);
            message_page(chrome, StatusCode::FORBIDDEN, t.forbidden_title, &message)
        }
        Err(e) => store_error_page(chrome, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_asks_for_an_opportunity_only_when_ticked() {
        let typed = Typed {
            account_id: "12".into(),
            name: "云启 ERP".into(),
            amount: "1,200.50".into(),
            ..Typed::default()
        };
        let asked = request(&typed).unwrap();
        assert_eq!(asked.account_id, Some(12));
        assert_eq!(asked.create_opportunity, Some(false));
        assert!(asked.opportunity.is_none());
        let typed = Typed {
            create_opportunity: true,
            stage: "found".into(),
            ..typed
        };
        let deal = request(&typed).unwrap().opportunity.unwrap();
        assert_eq!(deal.name.as_deref(), Some("云启 ERP"));
        assert_eq!(deal.stage.as_deref(), Some("found"));
        assert_eq!(deal.amount, Some(1200.5));
        assert_eq!(deal.expected_close_date, None);
    }

    #[test]
    fn an_amount_that_is_not_a_number_is_refused_by_its_field() {
        let typed = Typed {
            create_opportunity: true,
            amount: "很多".into(),
            ..Typed::default()
        };
        assert_eq!(request(&typed).unwrap_err().field, "opportunity.amount");
    }
}
