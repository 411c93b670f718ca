//! The backup archive: one zip file holding `manifest.json` ([`Manifest`]) and one
//! `tables/NAME.jsonl` entry per table, each line a JSON array of one row's values in the
//! manifest's column order. A value keeps its type exactly whichever database wrote it and
//! whichever reads it: a JSON integer is an integer, a number with a fraction or exponent is a
//! float (written in the shortest form that reads back to the same bits), a string is text,
//! `null` is null, `{"base64": "…"}` is bytes and `{"real": "NaN"|"inf"|"-inf"}` a float JSON
//! cannot spell. The archive is written on a thread of its own while the database is read, so
//! compressing never holds up the async runtime.

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use xiansuo_store::tables::Batch;
use xiansuo_store::Cell;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// The layout of the archive; a reader refuses a format it does not know.
pub const FORMAT: u32 = 1;
/// The name of the manifest entry.
pub const MANIFEST: &str = "manifest.json";

/// What the archive holds, written after every table so that the counts are the rows written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The last migration applied to the database the backup was taken from.
    pub schema_version: String,
    /// `sqlite` or `postgres`.
    pub dialect: String,
    pub created_at: DateTime<Utc>,
    pub tables: Vec<TableEntry>,
    /// Tables not in the archive because a restore computes them again from the others.
    pub rebuilt: Vec<String>,
}

/// One table of the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    /// The zip entry holding its rows.
    pub entry: String,
    pub columns: Vec<String>,
    pub rows: u64,
}

impl TableEntry {
    pub fn new(name: &str, columns: Vec<String>) -> Self {
        TableEntry {
            name: name.to_owned(),
            entry: format!("tables/{name}.jsonl"),
            columns,
            rows: 0,
        }
    }
}

/// What the database side hands to the writing thread, in order.
pub enum Piece {
    /// The rows that follow belong to this table.
    Table(TableEntry),
    Rows(Batch),
    /// Every table is written: the manifest closes the archive.
    Finish(Box<Manifest>),
}

/// Writes the pieces received into the zip file `path`, through `PATH.partial` renamed at the
/// end, so that an interrupted backup never leaves a file that looks whole. Returns the size of
/// the archive. Runs on a blocking thread.
pub fn write(path: &Path, mut pieces: tokio::sync::mpsc::Receiver<Piece>) -> anyhow::Result<u64> {
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let written = (|| {
        let file =
            File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .large_file(true);
        while let Some(piece) = pieces.blocking_recv() {
            match piece {
                Piece::Table(table) => zip.start_file(table.entry.as_str(), options)?,
                Piece::Rows(rows) => {
                    for row in &rows {
                        serde_json::to_writer(&mut zip, &RowOut(row))?;
                        zip.write_all(b"\n")?;
                    }
                }
                Piece::Finish(manifest) => {
                    zip.start_file(MANIFEST, options)?;
                    serde_json::to_writer_pretty(&mut zip, &manifest)?;
                    let mut file = zip.finish()?.into_inner().map_err(|e| e.into_error())?;
                    file.flush()?;
                    file.sync_all()?;
                    return Ok(());
                }
            }
        }
        anyhow::bail!("the backup stopped before every table was read")
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(std::fs::metadata(path)?.len())
}

/// An archive opened for reading, its manifest read and checked.
pub struct Reader {
    zip: ZipArchive<BufReader<File>>,
    pub manifest: Manifest,
}

impl Reader {
    pub fn open(path: &Path) -> anyhow::Result<Reader> {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut zip = ZipArchive::new(BufReader::new(file)).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a readable backup archive (damaged or cut short?): {e}",
                path.display()
            )
        })?;
        let manifest: Manifest = {
            let entry = zip.by_name(MANIFEST).map_err(|_| {
                anyhow::anyhow!(
                    "{} is not a Xiansuo backup: it has no {MANIFEST}",
                    path.display()
                )
            })?;
            serde_json::from_reader(entry)
                .with_context(|| format!("the manifest of {} is damaged", path.display()))?
        };
        anyhow::ensure!(
            manifest.format == FORMAT,
            "{} is in backup format {}, which this program does not know (it reads format {FORMAT})",
            path.display(),
            manifest.format
        );
        Ok(Reader { zip, manifest })
    }

    /// The rows of `table`, to be read a batch at a time.
    pub fn table<'a>(&'a mut self, table: &'a TableEntry) -> anyhow::Result<TableRows<'a>> {
        let entry = self
            .zip
            .by_name(&table.entry)
            .with_context(|| format!("the archive has no rows of {}", table.name))?;
        Ok(TableRows {
            table,
            lines: BufReader::with_capacity(1 << 20, entry),
            line: String::new(),
            count: 0,
        })
    }
}

/// The rows of one table of an archive, read a batch of bounded size at a time.
pub struct TableRows<'a> {
    table: &'a TableEntry,
    lines: BufReader<zip::read::ZipFile<'a, BufReader<File>>>,
    line: String,
    count: u64,
}

impl TableRows<'_> {
    /// How many rows have been read.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The next rows, or `None` after the last. A damaged entry (a line that is not a row, a
    /// checksum that does not match at the end) is an error.
    pub fn next_batch(&mut self) -> anyhow::Result<Option<Batch>> {
        let (mut batch, mut bytes) = (Vec::new(), 0usize);
        while batch.len() < 1_000 && bytes < 8 << 20 {
            self.line.clear();
            let read = self.lines.read_line(&mut self.line).with_context(|| {
                format!("reading the rows of {} (damaged archive?)", self.table.name)
            })?;
            if read == 0 {
                break;
            }
            self.count += 1;
            let row: RowIn = serde_json::from_str(&self.line).with_context(|| {
                format!(
                    "row {} of {} in the archive is damaged",
                    self.count, self.table.name
                )
            })?;
            anyhow::ensure!(
                row.0.len() == self.table.columns.len(),
                "row {} of {} has {} values for {} columns",
                self.count,
                self.table.name,
                row.0.len(),
                self.table.columns.len()
            );
            bytes += read;
            batch.push(row.0);
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// One row, written as a JSON array.
struct RowOut<'a>(&'a [Cell]);

impl Serialize for RowOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for cell in self.0 {
            seq.serialize_element(&CellOut(cell))?;
        }
        seq.end()
    }
}

struct CellOut<'a>(&'a Cell);

/// The spelling of a bytes value.
#[derive(Serialize)]
struct BytesOut {
    base64: String,
}

/// The spelling of a float JSON has no number for.
#[derive(Serialize)]
struct RealOut {
    real: &'static str,
}

impl Serialize for CellOut<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Cell::Null => serializer.serialize_none(),
            Cell::Int(v) => serializer.serialize_i64(*v),
            Cell::Real(v) if v.is_nan() => RealOut { real: "NaN" }.serialize(serializer),
            Cell::Real(v) if v.is_infinite() => RealOut {
                real: if *v > 0.0 { "inf" } else { "-inf" },
            }
            .serialize(serializer),
            Cell::Real(v) => serializer.serialize_f64(*v),
            Cell::Text(v) => serializer.serialize_str(v),
            Cell::Bytes(v) => BytesOut {
                base64: STANDARD.encode(v),
            }
            .serialize(serializer),
        }
    }
}

/// One row, read back.
struct RowIn(Vec<Cell>);

impl<'de> Deserialize<'de> for RowIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Row;
        impl<'de> Visitor<'de> for Row {
            type Value = RowIn;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RowIn, A::Error> {
                let mut cells = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some(CellIn(cell)) = seq.next_element()? {
                    cells.push(cell);
                }
                Ok(RowIn(cells))
            }
        }
        deserializer.deserialize_seq(Row)
    }
}

struct CellIn(Cell);

impl<'de> Deserialize<'de> for CellIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = CellIn;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("null, a number, a string, {\"base64\": …} or {\"real\": …}")
    }

    fn visit_unit<E: de::Error>(self) -> Result<CellIn, E> {
        Ok(CellIn(Cell::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<CellIn, E> {
        Ok(CellIn(Cell::Null))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<CellIn, E> {
        Ok(CellIn(Cell::Int(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<CellIn, E> {
        i64::try_from(v)
            .map(|v| CellIn(Cell::Int(v)))
            .map_err(|_| E::custom(format!("the integer {v} is too large")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<CellIn, E> {
        Ok(CellIn(Cell::Real(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<CellIn, E> {
        Ok(CellIn(Cell::Text(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<CellIn, E> {
        Ok(CellIn(Cell::Text(v)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CellIn, A::Error> {
        let (key, value): (String, String) = map
            .next_entry()?
            .ok_or_else(|| de::Error::custom("an empty object is not a value"))?;
        let cell = match (key.as_str(), value.as_str()) {
            ("base64", text) => Cell::Bytes(STANDARD.decode(text).map_err(de::Error::custom)?),
            ("real", "NaN") => Cell::Real(f64::NAN),
            ("real", "inf") => Cell::Real(f64::INFINITY),
            ("real", "-inf") => Cell::Real(f64::NEG_INFINITY),
            _ => return Err(de::Error::custom(format!("unknown value {{\"{key}\": …}}"))),
        };
        Ok(CellIn(cell))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_reads_back_as_it_was_written() {
        let row = vec![
            Cell::Null,
            Cell::Int(i64::MIN),
            Cell::Int(7),
            Cell::Real(1.0),
            Cell::Real(0.1 + 0.2),
            Cell::Real(-2.5e-300),
            Cell::Real(f64::INFINITY),
            Cell::Text("张三 \"quoted\"\n".into()),
            Cell::Text("12".into()),
            Cell::Bytes(vec![0, 255, 10]),
        ];
        let line = serde_json::to_string(&RowOut(&row)).unwrap();
        let back: RowIn = serde_json::from_str(&line).unwrap();
        assert_eq!(back.0, row);
        let nan: RowIn = serde_json::from_str(r#"[{"real": "NaN"}]"#).unwrap();
        assert!(matches!(nan.0[0], Cell::Real(v) if v.is_nan()));
    }
}
