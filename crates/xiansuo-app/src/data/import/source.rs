//! Reading an import file row by row: CSV in UTF-8 (with or without BOM) or GBK/GB18030, found
//! out from the bytes, or the first sheet of an XLSX workbook. Rows are read on a thread of
//! their own and handed over through a bounded channel, so memory stays flat however long the
//! file is, and the database work never waits on parsing more than a few batches ahead.

use anyhow::{bail, Context};
use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// How much of the file is looked at to tell its format and encoding.
const SAMPLE: usize = 64 * 1024;
/// Rows waiting between the reading thread and the importer.
const QUEUE: usize = 4096;
/// The columns a worksheet can have, A to XFD: a cell beyond them is refused rather than read
/// into a row of that many cells.
const COLUMNS: usize = 16_384;

/// What kind of file it is, as told from its bytes rather than its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv {
        encoding: &'static Encoding,
        delimiter: u8,
    },
    Xlsx,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Csv {
                encoding,
                delimiter,
            } => {
                let name = if *encoding == GB18030 {
                    "GBK/GB18030"
                } else {
                    encoding.name()
                };
                let separator = match delimiter {
                    b'\t' => "tab",
                    b';' => "semicolon",
                    _ => "comma",
                };
                write!(f, "CSV, {name}, {separator}-separated")
            }
            Format::Xlsx => f.write_str("XLSX, first sheet"),
        }
    }
}

/// One row of the file: its number as a spreadsheet shows it (the header is row 1) and its
/// cells as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub number: u64,
    pub values: Vec<String>,
}

impl SourceRow {
    pub fn is_empty(&self) -> bool {
        self.values.iter().all(|v| v.trim().is_empty())
    }
}

/// An open import file: its format, its header row and a stream of the rows after it.
pub struct Sheet {
    pub format: Format,
    pub headers: Vec<String>,
    pub rows: mpsc::Receiver<anyhow::Result<SourceRow>>,
}

/// The SHA-256 of a file (hex) and a cheap estimate of its data rows, for the progress bar.
pub fn fingerprint(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0_u8; 256 * 1024];
    let mut lines = 0_u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Ok((hex::encode(hasher.finalize()), lines))
}

/// Tells the format of a file from its first bytes. A binary file or a text in an encoding
/// other than UTF-8, UTF-16 or GBK/GB18030 is refused with a sentence saying what to do.
pub fn detect(path: &Path) -> anyhow::Result<Format> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut sample = Vec::with_capacity(SAMPLE);
    file.by_ref().take(SAMPLE as u64).read_to_end(&mut sample)?;
    detect_bytes(&sample, sample.len() < SAMPLE)
}

/// `complete` is true when `sample` is the whole file, so a character cut at its end is an
/// error rather than the sample's edge.
pub fn detect_bytes(sample: &[u8], complete: bool) -> anyhow::Result<Format> {
    if sample.starts_with(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    if sample.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        bail!("this is an old Excel .xls workbook, which cannot be read: save it as .xlsx or as CSV (UTF-8)");
    }
    if sample.is_empty() {
        bail!("the file is empty: it needs a header row and at least one row of leads");
    }
    let (encoding, text) = if let Some((encoding, bom)) = Encoding::for_bom(sample) {
        (encoding, &sample[bom..])
    } else {
        (text_encoding(sample, complete)?, sample)
    };
    let (header, _, _) = encoding.decode(first_line(text, encoding));
    let delimiter = [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| header.matches(char::from(*d)).count())
        .filter(|d| header.contains(char::from(*d)))
        .unwrap_or(b',');
    Ok(Format::Csv {
        encoding,
        delimiter,
    })
}

fn first_line<'a>(text: &'a [u8], encoding: &'static Encoding) -> &'a [u8] {
    if encoding == UTF_16LE || encoding == UTF_16BE {
        return text;
    }
    text.split(|&b| b == b'\n').next().unwrap_or(text)
}

/// The encoding of a text without a BOM: UTF-8 if it is valid UTF-8, else GB18030 when it reads
/// as Chinese text in it.
fn text_encoding(sample: &[u8], complete: bool) -> anyhow::Result<&'static Encoding> {
    if sample.contains(&0) {
        bail!(
            "this is a binary file, not a CSV or XLSX file: export the data as CSV (UTF-8) or XLSX"
        );
    }
    // Only whole lines are judged, so that a character cut at the sample's end is no error.
    let whole = if complete {
        sample
    } else {
        let end = sample
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(sample.len(), |i| i + 1);
        &sample[..end]
    };
    if std::str::from_utf8(whole).is_ok() {
        return Ok(UTF_8);
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(whole, true);
    let guess = detector.guess(None, false);
    let decoded = GB18030.decode_without_bom_handling_and_without_replacement(whole);
    let reads_as_chinese = decoded.as_deref().is_some_and(mostly_chinese);
    if guess == encoding_rs::GBK || guess == GB18030 || reads_as_chinese {
        if decoded.is_none() {
            bail!("the file looks like GBK/GB18030 but has bytes that are not valid in it: save it again as CSV (UTF-8)");
        }
        return Ok(GB18030);
    }
    bail!(
        "the file's text encoding is not UTF-8 or GBK/GB18030 (it looks like {}): save it as CSV (UTF-8)",
        guess.name()
    )
}

/// True when most characters beyond ASCII are CJK ideographs or CJK punctuation, as in a
/// Chinese text; a Latin-1 or Shift_JIS text read as GB18030 gives a jumble of rare symbols.
fn mostly_chinese(text: &str) -> bool {
    let (mut cjk, mut other) = (0_usize, 0_usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}')
        {
            cjk += 1;
        } else {
            other += 1;
        }
    }
    cjk > 0 && cjk >= 4 * other
}

/// Opens a file for import: tells its format, reads its header row, and starts reading the
/// rest on a thread of its own.
pub async fn open(path: &Path) -> anyhow::Result<Sheet> {
    let format = detect(path)?;
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let owned: PathBuf = path.to_owned();
    std::thread::spawn(move || {
        // False when the importer has stopped listening, so reading can stop.
        let mut each = |row: SourceRow| tx.blocking_send(Ok(row)).is_ok();
        let result = File::open(&owned)
            .map_err(anyhow::Error::from)
            .and_then(|file| read(format, file, &mut each));
        if let Err(e) = result {
            // The importer may have stopped listening; then nobody needs the error.
            let _ = tx.blocking_send(Err(e));
        }
    });
    let headers = match rx.recv().await {
        Some(Ok(row)) => row.values,
        Some(Err(e)) => return Err(e),
        None => bail!("the file has no header row"),
    };
    if headers.iter().all(|h| h.trim().is_empty()) {
        bail!("the first row of the file must be a header row naming the columns, and it is empty");
    }
    Ok(Sheet {
        format,
        headers,
        rows: rx,
    })
}

/// Reads a whole import file held in memory as [`open`] reads one on disk: tells its format,
/// then hands every row, the header row first, to `each` until it returns false. An error
/// (a file that cannot be read as CSV or XLSX) ends the reading, after the rows read before it.
pub fn read_bytes(bytes: &[u8], each: &mut dyn FnMut(SourceRow) -> bool) -> anyhow::Result<Format> {
    let format = detect_bytes(&bytes[..bytes.len().min(SAMPLE)], bytes.len() <= SAMPLE)?;
    read(format, std::io::Cursor::new(bytes), each)?;
    Ok(format)
}

/// Reads the rows of a file of a known format; `each` returns false to stop.
fn read(
    format: Format,
    file: impl Read + std::io::Seek,
    each: &mut dyn FnMut(SourceRow) -> bool,
) -> anyhow::Result<()> {
    match format {
        Format::Csv {
            encoding,
            delimiter,
        } => read_csv(file, encoding, delimiter, each),
        Format::Xlsx => read_xlsx(file, each),
    }
}

fn read_csv(
    file: impl Read,
    encoding: &'static Encoding,
    delimiter: u8,
    each: &mut dyn FnMut(SourceRow) -> bool,
) -> anyhow::Result<()> {
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .strip_bom(true)
        .build(BufReader::with_capacity(256 * 1024, file));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(decoded);
    let mut record = csv::StringRecord::new();
    let mut first = true;
    // Rows are counted one by one, a cell over several lines in one row, as a spreadsheet
    // shows them (blank lines, which are skipped, are not counted). The reader's own line
    // numbers count only `\n`: after a `\r\n` or a lone `\r` two rows had the same number.
    let mut number = 0_u64;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            anyhow::anyhow!("the CSV cannot be read at line {line}: {e}")
        })?;
        if !more {
            break;
        }
        number += 1;
        let values = record
            .iter()
            .enumerate()
            .map(|(i, v)| {
                // A BOM left by a converter that added one of its own before ours.
                if first && i == 0 {
                    v.trim_start_matches('\u{FEFF}').to_owned()
                } else {
                    v.to_owned()
                }
            })
            .collect();
        first = false;
        if !each(SourceRow { number, values }) {
            break;
        }
    }
    Ok(())
}

/// The most strings a workbook's shared string table may announce. calamine sets aside room
/// for the `uniqueCount` the table announces before it reads a string, so a workbook announcing
/// billions would take more memory than the machine has; a string also takes at least the 9
/// bytes of `<si></si>`, so no table announces more than its size allows.
const MAX_SHARED_STRINGS: u64 = 20_000_000;

/// Refuses a workbook whose shared string table announces more strings than it can hold.
fn check_shared_strings(file: &mut (impl Read + std::io::Seek)) -> anyhow::Result<()> {
    // A file that is no ZIP is refused by calamine, with its reason.
    if let Ok(mut zip) = zip::ZipArchive::new(&mut *file) {
        for i in 0..zip.len() {
            let Ok(entry) = zip.by_index(i) else { continue };
            if !entry
                .name()
                .to_ascii_lowercase()
                .ends_with("sharedstrings.xml")
            {
                continue;
            }
            let size = entry.size();
            let mut head = Vec::new();
            // What cannot be read here, calamine reports when it reads it.
            let _ = entry.take(64 * 1024).read_to_end(&mut head);
            if let Some(announced) = announced_strings(&head) {
                if announced > MAX_SHARED_STRINGS.min(size / 9 + 1) {
                    bail!(
                        "the XLSX workbook cannot be read: its shared strings announce {announced} strings, more than it holds"
                    );
                }
            }
        }
    }
    file.rewind()?;
    Ok(())
}

/// The `uniqueCount` of a shared string table's `<sst>`, as calamine reads it.
fn announced_strings(head: &[u8]) -> Option<u64> {
    let at = head.windows(11).position(|w| w == b"uniqueCount")?;
    let rest = &head[at + 11..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    // Beyond u64, calamine's own parsing gives up too.
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

fn read_xlsx(
    mut file: impl Read + std::io::Seek,
    each: &mut dyn FnMut(SourceRow) -> bool,
) -> anyhow::Result<()> {
    use calamine::{Reader, Xlsx};
    check_shared_strings(&mut file)?;
    let mut workbook = Xlsx::new(BufReader::new(file))
        .map_err(|e| anyhow::anyhow!("the XLSX workbook cannot be read: {e}"))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .context("the XLSX workbook has no sheet")?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| anyhow::anyhow!("the sheet '{sheet}' cannot be read: {e}"))?;
    let mut current: Option<SourceRow> = None;
    while let Some(cell) = cells
        .next_cell()
        .map_err(|e| anyhow::anyhow!("the sheet '{sheet}' cannot be read: {e}"))?
    {
        let (row, column) = cell.get_position();
        let number = u64::from(row) + 1;
        if current.as_ref().is_some_and(|r| r.number != number) {
            if let Some(done) = current.take() {
                if !each(done) {
                    return Ok(());
                }
            }
        }
        let target = current.get_or_insert_with(|| SourceRow {
            number,
            values: Vec::new(),
        });
        let column = column as usize;
        if column >= COLUMNS {
            bail!("the sheet '{sheet}' has a cell in row {number} beyond column XFD, the last of the 16,384 a worksheet can have");
        }
        if target.values.len() <= column {
            target.values.resize(column + 1, String::new());
        }
        target.values[column] = cell_text(cell.get_value());
    }
    if let Some(done) = current {
        each(done);
    }
    Ok(())
}

/// A cell as text. Numbers without a fraction lose the `.0`, because phone numbers are often
/// stored as numbers; a formula's cached result is what is read.
fn cell_text(value: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match value {
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.as_datetime().map_or_else(
            || d.to_string(),
            |t| {
                if t.time() == chrono::NaiveTime::MIN {
                    t.format("%Y-%m-%d").to_string()
                } else {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                }
            },
        ),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom_is_read_as_utf8() {
        let text = "姓名,手机\n张三,13800138000\n";
        let plain = detect_bytes(text.as_bytes(), true).unwrap();
        assert_eq!(
            plain,
            Format::Csv {
                encoding: UTF_8,
                delimiter: b','
            }
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(detect_bytes(&bom, true).unwrap(), plain);
    }

    #[test]
    fn gbk_is_detected_without_being_told() {
        let text = "姓名,手机,公司,职位\n张三,13800138000,北京星辰科技有限公司,销售总监\n李四,13900139000,上海云海信息技术有限公司,采购经理\n";
        let (bytes, _, errors) = encoding_rs::GBK.encode(text);
        assert!(!errors);
        assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
        let format = detect_bytes(&bytes, true).unwrap();
        assert_eq!(
            format,
            Format::Csv {
                encoding: GB18030,
                delimiter: b','
            }
        );
        // Cut in the middle of a character: the sample's edge is not held against it.
        let cut = &bytes[..bytes.len() - 4];
        assert!(detect_bytes(cut, false).is_ok());
    }

    /// The rows of a file held in memory, the header row first.
    fn rows_of(bytes: &[u8]) -> anyhow::Result<(Format, Vec<SourceRow>)> {
        let mut rows = Vec::new();
        let format = read_bytes(bytes, &mut |row| {
            rows.push(row);
            true
        })?;
        Ok((format, rows))
    }

    #[test]
    fn a_gbk_file_reads_as_the_text_it_holds_with_its_line_numbers() {
        let text = "姓名,手机\n张三,13800138000\n\n李四,\"139 0013 9000\"\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        let (format, rows) = rows_of(&bytes).unwrap();
        assert_eq!(format.to_string(), "CSV, GBK/GB18030, comma-separated");
        let cells: Vec<_> = rows
            .iter()
            .map(|r| (r.number, r.values.join("|")))
            .collect();
        assert_eq!(
            cells,
            [
                (1, "姓名|手机".to_owned()),
                (2, "张三|13800138000".to_owned()),
                (3, "李四|139 0013 9000".to_owned())
            ]
        );
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them_whatever_the_line_ends() {
        // Found by fuzzing: after a \r\n the next row had the number of the one before it,
        // and with lone \r line ends every row was row 1.
        for text in [
            "Name,Notes\r\nA,\"two\r\nlines\"\r\nB,x\r\n",
            "Name,Notes\rA,\"two\r\nlines\"\rB,x\r",
            "Name,Notes\nA,\"two\r\nlines\"\nB,x",
        ] {
            let (_, rows) = rows_of(text.as_bytes()).unwrap();
            let numbered: Vec<_> = rows
                .iter()
                .map(|r| (r.number, r.values[0].as_str()))
                .collect();
            assert_eq!(numbered, [(1, "Name"), (2, "A"), (3, "B")], "{text:?}");
        }
    }

    #[test]
    fn tabs_and_semicolons_are_recognised_as_separators() {
        assert_eq!(
            detect_bytes(b"Name\tEmail\nA\ta@b.cn\n", true).unwrap(),
            Format::Csv {
                encoding: UTF_8,
                delimiter: b'\t'
            }
        );
        assert_eq!(
            detect_bytes(b"Name;Email\n", true).unwrap(),
            Format::Csv {
                encoding: UTF_8,
                delimiter: b';'
            }
        );
    }

    #[test]
    fn binary_files_and_unknown_encodings_get_a_clear_error() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let e = detect_bytes(png, true).unwrap_err().to_string();
        assert!(e.contains("binary"), "{e}");
        let xls = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        assert!(detect_bytes(&xls, true)
            .unwrap_err()
            .to_string()
            .contains(".xls"));
        let (latin1, _, _) = encoding_rs::WINDOWS_1252
            .encode("Name,Company\nJosé Müller,Café Größe AG\nFrançois,Hôtel Zürich\n");
        let e = detect_bytes(&latin1, true).unwrap_err().to_string();
        assert!(e.contains("not UTF-8 or GBK"), "{e}");
        assert!(detect_bytes(b"", true).is_err());
    }

    /// A workbook of one sheet with the given cells (the XML of a `sheetData`), and shared
    /// strings when some are given.
    fn workbook(cells: &str, strings: Option<&[&str]>) -> Vec<u8> {
        workbook_with(cells, strings, "")
    }

    /// [`workbook`], with `attributes` in the shared strings' `<sst>`.
    fn workbook_with(cells: &str, strings: Option<&[&str]>, attributes: &str) -> Vec<u8> {
        use std::io::Write;
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
        const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let mut parts = vec![
            (
                "_rels/.rels".to_owned(),
                format!(
                    r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/workbook.xml".to_owned(),
                format!(
                    r#"<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet name="线索" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels".to_owned(),
                format!(
                    r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/worksheets/sheet1.xml".to_owned(),
                format!(r#"<worksheet xmlns="{MAIN}"><sheetData>{cells}</sheetData></worksheet>"#),
            ),
        ];
        if let Some(strings) = strings {
            let items: String = strings
                .iter()
                .map(|s| format!("<si><t>{s}</t></si>"))
                .collect();
            parts.push((
                "xl/sharedStrings.xml".to_owned(),
                format!(r#"<sst xmlns="{MAIN}"{attributes}>{items}</sst>"#),
            ));
        }
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, text) in parts {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn a_workbook_is_read_row_by_row_and_one_naming_a_missing_string_is_refused() {
        let cells = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row><row r="3"><c r="B3"><v>13800138000</v></c></row>"#;
        let (format, rows) = rows_of(&workbook(cells, Some(&["姓名", "手机"]))).unwrap();
        assert_eq!(format, Format::Xlsx);
        let numbered: Vec<_> = rows
            .iter()
            .map(|r| (r.number, r.values.join("|")))
            .collect();
        assert_eq!(
            numbered,
            [(1, "姓名||手机".to_owned()), (3, "|13800138000".to_owned())]
        );
        // Found by fuzzing: a cell naming a shared string the workbook does not have stopped
        // the reading with a panic instead of an error.
        for strings in [None, Some(&["姓名"][..])] {
            let e = rows_of(&workbook(cells, strings)).unwrap_err().to_string();
            assert!(e.contains("cannot be read"), "{e}");
        }
    }

    #[test]
    fn a_workbook_announcing_more_shared_strings_than_it_holds_is_refused() {
        // Found by fuzzing: calamine set aside room for the announced count before reading,
        // and a count in the quadrillions stopped the reading with a panic.
        let cells = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
        let announcing = |count: &str| {
            workbook_with(
                cells,
                Some(&["姓名"]),
                &format!(" count=\"1\" uniqueCount = '{count}'"),
            )
        };
        for count in ["13333333333333337", "4000000000", "1000"] {
            let e = rows_of(&announcing(count)).unwrap_err().to_string();
            assert!(e.contains("announce"), "{count}: {e}");
        }
        let (_, rows) = rows_of(&announcing("1")).unwrap();
        assert_eq!(rows[0].values, ["姓名"]);
    }

    #[test]
    fn a_cell_beyond_the_last_column_of_a_worksheet_is_refused() {
        let last = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="XFD1"><v>1</v></c></row>"#;
        let (_, rows) = rows_of(&workbook(last, None)).unwrap();
        assert_eq!(rows[0].values.len(), COLUMNS);
        // Found by fuzzing: a cell in a column numbered in the billions made a row of that
        // many cells, more memory than the machine has.
        for cell in [
            r#"<c r="XFE1"><v>1</v></c>"#,
            r#"<c r="ZZZZZZ1"><v>1</v></c>"#,
        ] {
            let e = rows_of(&workbook(&format!(r#"<row r="1">{cell}</row>"#), None))
                .unwrap_err()
                .to_string();
            assert!(e.contains("beyond column XFD"), "{e}");
        }
    }

    #[test]
    fn xlsx_is_told_by_its_zip_signature() {
        assert_eq!(
            detect_bytes(b"PK\x03\x04\x14\0\x06\0", false).unwrap(),
            Format::Xlsx
        );
    }

    #[test]
    fn spreadsheet_numbers_read_as_people_typed_them() {
        use calamine::DataRef;
        assert_eq!(cell_text(&DataRef::Float(13800138000.0)), "13800138000");
        assert_eq!(cell_text(&DataRef::Float(2.5)), "2.5");
        assert_eq!(cell_text(&DataRef::SharedString("张三")), "张三");
        assert_eq!(cell_text(&DataRef::Empty), "");
    }
}
