//! What the pages of the outbound channels (webhooks, robots) share: the checkboxes of the
//! events a subscriber hears of, and the delivery log with its "send again" buttons.

use super::frame::{text_of, time_in};
use crate::ui::page::Viewer;
use crate::AppState;
use serde_json::Value;
use xiansuo_app::admin::users;
use xiansuo_app::StoreError;

/// A checkbox per event.
pub(super) struct EventChoice {
    pub(super) code: &'static str,
    /// Shown instead of the code when not empty.
    pub(super) label: &'static str,
    pub(super) checked: bool,
}

/// The checkboxes of `codes`, `chosen` ones ticked, each with its label.
pub(super) fn event_choices(
    codes: impl Iterator<Item = &'static str>,
    label: impl Fn(&'static str) -> &'static str,
    chosen: &[String],
) -> Vec<EventChoice> {
    codes
        .map(|code| EventChoice {
            code,
            label: label(code),
            checked: chosen.iter().any(|c| c == code),
        })
        .collect()
}

/// One delivery as the log shows it.
pub(super) struct DeliveryRow {
    pub(super) id: i64,
    pub(super) event: String,
    pub(super) state: String,
    pub(super) attempts: i64,
    pub(super) status_code: String,
    pub(super) error: String,
    pub(super) created: String,
    /// Finished (succeeded or failed), so it may be sent again.
    pub(super) finished: bool,
}

/// A subscriber's delivery log and where its "send again" buttons post.
pub(super) struct DeliveryLog {
    pub(super) rows: Vec<DeliveryRow>,
    /// `{redeliver}/{delivery}/redeliver` sends a delivery again.
    pub(super) redeliver: &'static str,
    /// The hidden field naming the subscriber, so a refusal shows on its page.
    pub(super) owner_field: &'static str,
    pub(super) owner: i64,
}

impl DeliveryLog {
    /// The log from a page of `GET …/deliveries`, times in `zone`.
    pub(super) fn new(
        page: &Value,
        zone: &str,
        redeliver: &'static str,
        owner_field: &'static str,
        owner: i64,
    ) -> DeliveryLog {
        let rows = page["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|d| {
                        let state = text_of(&d["state"]);
                        DeliveryRow {
                            id: d["id"].as_i64().unwrap_or_default(),
                            event: text_of(&d["event"]),
                            finished: state != "pending",
                            state,
                            attempts: d["attempts"].as_i64().unwrap_or_default(),
                            status_code: text_of(&d["status_code"]),
                            error: text_of(&d["error"]),
                            created: time_in(zone, d["created_at"].as_str().unwrap_or_default()),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        DeliveryLog {
            rows,
            redeliver,
            owner_field,
            owner,
        }
    }
}

/// The viewer's time zone, for the times of a log.
pub(super) async fn viewer_zone(state: &AppState, user: &Viewer) -> Result<String, StoreError> {
    Ok(users::get(&state.db, user.actor.user_id).await?.time_zone)
}
