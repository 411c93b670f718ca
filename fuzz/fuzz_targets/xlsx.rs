//! XLSX workbooks uploaded as import files. An input whose first byte is even is the uploaded
//! file itself; one whose first byte is odd is a worksheet's XML and, after a NUL byte, the
//! shared strings' XML, put in a well-formed workbook (so that the reading of the sheet is
//! reached, not only the ZIP's checksums). Reading never panics: the workbook is refused with
//! a sentence or read as XLSX, and every row read has a number and at most the 16,384 columns
//! of a worksheet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use xiansuo_app::data::import::source::{self, Format};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

fuzz_target!(|bytes: &[u8]| {
    let Some((&first, rest)) = bytes.split_first() else {
        return;
    };
    let workbook;
    let file = if first % 2 == 0 {
        bytes
    } else {
        let (sheet, strings) = match rest.iter().position(|&b| b == 0) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &b""[..]),
        };
        workbook = pack(sheet, strings);
        &workbook[..]
    };
    let mut rows = Vec::new();
    let read = source::read_bytes(file, &mut |row| {
        rows.push(row);
        true
    });
    match read {
        Ok(format) => {
            if file.starts_with(b"PK\x03\x04") {
                assert_eq!(format, Format::Xlsx);
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if file.starts_with(b"PK\x03\x04") {
        for row in &rows {
            assert!(row.number >= 1);
            assert!(!row.values.is_empty() && row.values.len() <= 16_384);
        }
    }
});

/// A workbook of one sheet, with the given worksheet and shared strings, stored uncompressed.
fn pack(sheet: &[u8], strings: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let parts: [(&str, &[u8]); 6] = [
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("xl/workbook.xml", WORKBOOK.as_bytes()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", strings),
    ];
    for (name, content) in parts {
        zip.start_file(name, options).expect("a part starts");
        zip.write_all(content).expect("a part is written");
    }
    zip.finish().expect("the workbook is finished").into_inner()
}
