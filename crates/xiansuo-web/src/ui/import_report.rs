//! The row report of an import (errors.csv) in the user's language: the store writes it with
//! codes and the store's messages (as `/api/v1/imports/{id}/errors.csv` gives it to programs);
//! for a person the first four columns' headers, the row results, the field names and the
//! reasons are put in their words, and the file's own columns stay as they were.

use super::i18n::Texts;
use super::import_texts::{import_texts, ImportTexts};
use super::imports::target_label;
use super::leads::parse_id;
use super::page::{store_error_page, Chrome, Viewer};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use xiansuo_app::data::import::upload::{self, Kind};
use xiansuo_app::StoreError;

/// The report's own columns, in this language.
fn header(t: &Texts) -> [&'static str; 4] {
    if t.lang == "en" {
        ["Row", "Result", "Field", "Reason"]
    } else {
        ["行号", "结果", "字段", "原因"]
    }
}

/// The report `csv` (UTF-8 with a byte order mark) of an import of `kind` with its words in
/// this language.
fn translated(t: &Texts, it: &ImportTexts, kind: Kind, csv: &[u8]) -> Result<Vec<u8>, csv::Error> {
    let body = csv.strip_prefix("\u{FEFF}".as_bytes()).unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        for (i, record) in reader.records().enumerate() {
            let record = record?;
            let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
            if i == 0 {
                for (cell, word) in cells.iter_mut().zip(header(t)) {
                    *cell = word.to_owned();
                }
            } else if cells.len() >= 4 {
                let field = cells[2].clone();
                cells[1] = t.code(&cells[1]).to_owned();
                if !cells[3].is_empty() {
                    cells[3] = t.row_reason(&field, &cells[3]);
                }
                cells[2] = target_label(t, it, kind, &field).to_owned();
            }
            writer.write_record(&cells)?;
        }
        writer.flush()?;
    }
    Ok(out)
}

/// `GET /imports/{id}/errors.csv`
pub(super) async fn errors_csv(
    State(state): State<AppState>,
    user: Viewer,
    Path(id): Path<String>,
) -> Response {
    let chrome = Chrome::for_user(&user, "/imports");
    let t = chrome.t;
    let Some(id) = parse_id(&id) else {
        return store_error_page(chrome, StoreError::NotFound("Import"));
    };
    let it = import_texts(&user.actor.locale);
    let kind = match upload::get(&state.db, &user.actor, id).await {
        Ok(found) => Kind::parse(&found.kind).unwrap_or(Kind::Lead),
        Err(e) => return store_error_page(chrome, e),
    };
    let stream = match upload::errors_csv(&state.db, &user.actor, id).await {
        Ok(stream) => stream,
        Err(e) => return store_error_page(chrome, e),
    };
    let read: Result<Vec<Vec<u8>>, std::io::Error> = stream.try_collect().await;
    let file = match read
        .map_err(anyhow::Error::from)
        .and_then(|chunks| translated(t, it, kind, &chunks.concat()).map_err(anyhow::Error::from))
    {
        Ok(file) => file,
        Err(e) => return store_error_page(chrome, StoreError::Internal(e)),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{id}-errors.csv\""),
            ),
        ],
        file,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::texts;

    #[test]
    fn the_report_speaks_the_users_language_and_keeps_the_files_columns() {
        let csv =
            "\u{FEFF}row,result,field,reason,姓名,手机\n3,failed,name,must not be empty,,12\n";
        let lead = Kind::Lead;
        let zh = |csv: &str| translated(texts("zh"), import_texts("zh"), lead, csv.as_bytes());
        let out = String::from_utf8(zh(csv).unwrap()).unwrap();
        let lines: Vec<&str> = out.trim_start_matches('\u{FEFF}').lines().collect();
        assert_eq!(lines[0], "行号,结果,字段,原因,姓名,手机");
        assert!(lines[1].starts_with("3,失败,姓名,"), "{}", lines[1]);
        assert!(lines[1].ends_with(",,12"), "{}", lines[1]);
        let en = translated(texts("en"), import_texts("en"), lead, csv.as_bytes());
        let en = String::from_utf8(en.unwrap()).unwrap();
        assert!(en.contains("Row,Result,Field,Reason,姓名,手机"), "{en}");
        let accounts =
            "\u{FEFF}row,result,field,reason,Id,AccountId\n3,failed,account_ref,no account,C1,A9\n";
        let contacts = Kind::parse("contacts").unwrap();
        let out = translated(
            texts("zh"),
            import_texts("zh"),
            contacts,
            accounts.as_bytes(),
        );
        let out = String::from_utf8(out.unwrap()).unwrap();
        assert!(out.contains("3,失败,所属客户（来源系统编号）,"), "{out}");
    }
}
