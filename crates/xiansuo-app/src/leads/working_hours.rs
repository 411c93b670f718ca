//! The working hours, holidays and 调休 (make-up workdays) that SLA clocks and recycle
//! timers count in, as stored (`PUT /api/v1/settings/working-hours`), else Monday to Friday
//! 09:00–18:00, Asia/Shanghai.

use std::collections::BTreeSet;
use xiansuo_core::validation::date as parse_date;
use xiansuo_core::working_hours::{parse_time, parse_time_zone, WorkingHours};
use xiansuo_store::Db;

/// The working hours SLA clocks count in: the stored ones, else Monday to Friday 09:00–18:00,
/// Asia/Shanghai.
pub async fn working_hours(db: &Db) -> anyhow::Result<WorkingHours> {
    let Some(r) = db
        .fetch_optional("SELECT * FROM working_hours ORDER BY id LIMIT 1", &[])
        .await?
    else {
        return Ok(WorkingHours::default());
    };
    let weekdays: BTreeSet<u8> = serde_json::from_str(&r.text("weekdays"))?;
    let dates = |column: &str| -> anyhow::Result<BTreeSet<chrono::NaiveDate>> {
        let list: Vec<String> = serde_json::from_str(&r.text(column))?;
        Ok(list
            .iter()
            .map(|d| parse_date(column, d))
            .collect::<Result<_, _>>()?)
    };
    Ok(WorkingHours::new(
        parse_time_zone("time_zone", &r.text("time_zone"))?,
        weekdays,
        parse_time("start", &r.text("start_time"))?,
        parse_time("end", &r.text("end_time"))?,
        dates("holidays")?,
        dates("workdays")?,
    )?)
}
