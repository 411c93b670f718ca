//! Exports sent to the browser or an API client as a file attachment: a CSV streamed page by
//! page as it is read, an XLSX built whole (a zip file can only be finished at the end).

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use xiansuo_app::data::export::{Export, Format, Source};
use xiansuo_app::error::StoreResult;

/// The export as an attachment named after what it holds and the day, `leads-20261207.csv`.
pub async fn attachment(
    started: Export,
    source: Source,
    format: Format,
    now: DateTime<Utc>,
) -> StoreResult<Response> {
    let filename = format!(
        "{}-{}.{}",
        source.name(),
        now.format("%Y%m%d"),
        format.code()
    );
    let body = match format {
        Format::Csv => Body::from_stream(started.csv_stream()),
        Format::Xlsx => {
            let mut file = Vec::new();
            started.write_to(&mut file).await?;
            Body::from(file)
        }
    };
    let headers = [
        (header::CONTENT_TYPE, format.content_type().to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ),
    ];
    Ok((headers, body).into_response())
}
