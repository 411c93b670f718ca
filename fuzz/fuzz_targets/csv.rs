//! Any bytes uploaded as a CSV import file: reading never panics, and either refuses the file
//! with a sentence or reads it. What is read: the format is told the same way every time, and
//! a text that is valid UTF-8 is read as UTF-8; rows come in the order of their line numbers;
//! every row, whatever its number of cells, maps to a lead's body when the header maps; and
//! the rows written back as UTF-8 CSV read again as the same cells.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use xiansuo_app::data::import::mapping::Mapping;
use xiansuo_app::data::import::source::{self, Format, SourceRow};

fuzz_target!(|bytes: &[u8]| {
    // XLSX files have a target of their own.
    if bytes.starts_with(b"PK\x03\x04") {
        return;
    }
    let (format, rows) = match read(bytes) {
        (Ok(format), rows) => (format, rows),
        (Err(e), _) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_eq!(source::detect_bytes(bytes, true).ok(), Some(format));
    let Format::Csv {
        encoding,
        delimiter,
    } = format
    else {
        panic!("{format}: not a CSV");
    };
    let utf8_bom = bytes.starts_with(b"\xEF\xBB\xBF");
    let utf16_bom = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
    if !utf16_bom && std::str::from_utf8(bytes).is_ok() {
        assert_eq!(encoding, encoding_rs::UTF_8, "{bytes:?}");
    }
    assert!(!utf8_bom || encoding == encoding_rs::UTF_8);
    for pair in rows.windows(2) {
        assert!(pair[0].number < pair[1].number, "{rows:?}");
    }

    if let Some(header) = rows.first() {
        if let Ok(mapping) = Mapping::new(&header.values, &[], &BTreeMap::new()) {
            for row in &rows[1..] {
                assert!(mapping.body(&row.values).is_object());
                let _ = mapping.facts(&row.values);
            }
        }
    }

    // Written back as UTF-8 with the same separator, the same cells read again.
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(Vec::new());
    for row in &rows {
        writer.write_record(&row.values).expect("a row is written");
    }
    let written = writer.into_inner().expect("written");
    if let (Ok(again), reread) = read(&written) {
        if again == format_of(delimiter) {
            let cells =
                |rows: &[SourceRow]| rows.iter().map(|r| r.values.clone()).collect::<Vec<_>>();
            assert_eq!(cells(&reread), cells(&rows), "{written:?}");
        }
    }
});

/// The rows of a file and how it was read.
fn read(bytes: &[u8]) -> (anyhow::Result<Format>, Vec<SourceRow>) {
    let mut rows = Vec::new();
    let format = source::read_bytes(bytes, &mut |row| {
        rows.push(row);
        true
    });
    (format, rows)
}

fn format_of(delimiter: u8) -> Format {
    Format::Csv {
        encoding: encoding_rs::UTF_8,
        delimiter,
    }
}
