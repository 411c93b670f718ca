//! What the lead pages share: the use case context of a page, a lead's address, the fields of
//! a posted form, a JSON value as the text a form shows, people's names and phones.

use super::page::Viewer;
use crate::AppState;
use serde_json::Value;
use std::collections::HashMap;
use xiansuo_app::admin::users;
use xiansuo_app::{Ctx, StoreError};
use xiansuo_core::history::Channel;

/// The context of a use case run from a page: the signed-in user through the UI, now.
pub(super) fn ctx<'a>(state: &'a AppState, user: &'a Viewer) -> Ctx<'a> {
    Ctx {
        hooks: xiansuo_app::hooks::ALL,
        db: &state.db,
        actor: &user.actor,
        channel: Channel::Ui,
        now: state.clock.now(),
    }
}

/// The address of a lead's page.
pub(super) fn lead_url(id: i64) -> String {
    format!("/leads/{id}")
}

/// The text of a JSON value as a form or a page shows it: empty for null.
pub(super) fn text_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A form as posted: field name → value.
pub(super) struct Posted(HashMap<String, String>);

impl Posted {
    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Posted(pairs.into_iter().collect())
    }

    pub(super) fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    pub(super) fn csrf(&self) -> &str {
        self.get("csrf_token")
    }
}

/// The id in a page's path, if it is one.
pub(super) fn parse_id(id: &str) -> Option<i64> {
    id.parse().ok()
}

/// User id → the name people know them by (the display name, else the username), to show
/// owners and authors.
pub(super) async fn usernames(state: &AppState) -> Result<HashMap<i64, String>, StoreError> {
    Ok(users::list(&state.db, &[])
        .await?
        .into_iter()
        .map(|u| {
            let name = u
                .display_name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or(u.username);
            (u.id, name)
        })
        .collect())
}

/// The name of the user whose id is `id`, from [`usernames`]; empty when unknown.
pub(super) fn username(names: &HashMap<i64, String>, id: &Value) -> String {
    id.as_i64()
        .and_then(|id| names.get(&id).cloned())
        .unwrap_or_default()
}

/// A phone as every page shows it: Chinese mobiles as `138 0013 8000`, other numbers in E.164,
/// an extension after the number (`ext. 12`), with the `tel:` address to call it (none when the
/// number is masked); a phone an import kept as entered is shown as entered, unverified.
pub(super) struct PhoneShown {
    pub(super) text: String,
    pub(super) tel: Option<String>,
    pub(super) unverified: bool,
}

/// The phone of a record as [`PhoneShown`], from its normalised number; `None` without one.
pub(super) fn phone_shown(record: &Value) -> Option<PhoneShown> {
    let e164 = record["phone_normalized"]
        .as_str()
        .filter(|p| !p.is_empty())
        .or_else(|| record["phone"].as_str().filter(|p| !p.is_empty()))?;
    let masked = e164.contains('*');
    let unverified = record["phone_verified"] == Value::Bool(false);
    if unverified {
        return Some(PhoneShown {
            text: e164.to_owned(),
            tel: None,
            unverified,
        });
    }
    let extension = record["phone"]
        .as_str()
        .filter(|_| !masked)
        .and_then(xiansuo_core::contact::extension);
    let national = e164.strip_prefix("+86");
    let text = match national {
        Some(n) if n.chars().count() == 11 && n.starts_with('1') => {
            let chars: Vec<char> = n.chars().collect();
            format!(
                "{} {} {}",
                chars[..3].iter().collect::<String>(),
                chars[3..7].iter().collect::<String>(),
                chars[7..].iter().collect::<String>()
            )
        }
        Some(n) => format!("+86 {n}"),
        None => e164.to_owned(),
    };
    let text = match &extension {
        Some(ext) => format!("{text} ext. {ext}"),
        None => text,
    };
    let tel = match &extension {
        Some(ext) => format!("tel:{e164};ext={ext}"),
        None => format!("tel:{e164}"),
    };
    Some(PhoneShown {
        text,
        tel: (!masked && e164.starts_with('+')).then_some(tel),
        unverified,
    })
}
