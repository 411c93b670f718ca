//! The duplicate check of a lead being typed: before anything is saved, the phone, e-mail,
//! name and company entered so far are compared like a new lead's ([`super::holders`],
//! [`super::matches`]), and the matches are described as the person may see them — a colleague's
//! or a pooled prospect only by who holds it and whether it is protected (撞单), never its data.
//! The lead form asks this while the person types, and again when a save was flagged.

use super::{describe, holders, matches, Candidate};
use crate::error::StoreResult;
use crate::scope::Actor;
use xiansuo_core::dedup::{company_key, is_strong, person_key, Keys};
use xiansuo_core::{Email, Phone};
use xiansuo_store::Db;

/// What was typed into a lead form, as entered; `except` is the lead being edited.
#[derive(Debug, Default, Clone)]
pub struct Typed<'a> {
    pub phone: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub company: &'a str,
    pub except: Option<i64>,
}

/// One record that matches what was typed, as the person may see it.
#[derive(Debug, Clone)]
pub struct Probed {
    pub candidate: Candidate,
    /// A phone, an e-mail, or a person and company in common (not merely the company).
    pub strong: bool,
}

/// The records that share a phone, an e-mail, or a person and company with what was typed
/// (strong), then those that share only the company, strongest first, at most ten, each as
/// [`describe`] shows it to `actor`. Values that do not parse yet (half a phone number) are
/// left out; nothing typed, nothing found.
pub async fn check(
    db: &Db,
    actor: &Actor,
    typed: &Typed<'_>,
    now_ms: i64,
) -> StoreResult<Vec<Probed>> {
    let keys = Keys {
        phone: Phone::parse(typed.phone).ok().map(|p| p.e164().to_owned()),
        email: Email::parse(typed.email)
            .ok()
            .map(|e| e.normalized().to_owned()),
        person: person_key(typed.name.trim()),
        company: company_key(typed.company.trim()),
        external_id: None,
    };
    if keys.phone.is_none() && keys.email.is_none() && keys.company.is_none() {
        return Ok(Vec::new());
    }
    let except: Vec<i64> = typed.except.into_iter().collect();
    let mut found = matches(&keys, &holders(db, &[&keys], &except, true).await?);
    found.sort_by_key(|m| !is_strong(&m.signals));
    found.truncate(10);
    let described = describe(db, actor, &found, now_ms).await?;
    Ok(found
        .iter()
        .zip(described)
        .map(|(m, candidate)| Probed {
            candidate,
            strong: is_strong(&m.signals),
        })
        .collect())
}
