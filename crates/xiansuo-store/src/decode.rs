//! Reading a row into a struct: `row.decode::<T>()` for any `T: Deserialize` whose fields are
//! named as the row's columns. A field the row has no column for, and a cell of another type
//! than its field's, are errors naming the column, not a silent null or zero, so a misspelt
//! column or a changed type fails the first time the code runs. Columns the struct does not
//! name are left unread (a `SELECT *` row may hold more than one use case needs).
//!
//! What a cell can be read as: an integer as any integer type, or as a `bool` when it is 0 or 1
//! (SQLite and PostgreSQL booleans both arrive so); a real as `f32`/`f64` (an integer too); text
//! as a string, or as anything a string deserializes into (an enum of codes); bytes as bytes;
//! null as `None` (and as `()`). An `Option` field takes null or its inner type.

use crate::db::{Cell, Row};
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, MapAccess, Visitor};
use std::fmt;

/// Why a row could not be read into a struct: the column and what was wrong with it.
#[derive(Debug)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError(msg.to_string())
    }
}

impl Row {
    /// The row as a `T` whose fields are named as its columns; see the module documentation.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        T::deserialize(RowDeserializer { row: self })
    }
}

struct RowDeserializer<'a> {
    row: &'a Row,
}

impl<'a> RowDeserializer<'a> {
    fn cell(&self, column: &str) -> Option<&'a Cell> {
        self.row
            .columns()
            .iter()
            .position(|c| c == column)
            .map(|i| &self.row.cells()[i])
    }
}

impl<'de, 'a> Deserializer<'de> for RowDeserializer<'a> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let columns: Vec<&'a str> = self.row.columns().iter().map(String::as_str).collect();
        visitor.visit_map(Cells {
            row: self,
            columns: columns.into_iter(),
            current: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        if let Some(missing) = fields.iter().find(|f| self.cell(f).is_none()) {
            return Err(DecodeError(format!(
                "{name}.{missing}: the row has no column '{missing}' (it has {})",
                self.row.columns().join(", ")
            )));
        }
        visitor.visit_map(Cells {
            row: self,
            columns: fields.iter().copied(),
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// The columns of a row, each with its cell, as the entries of a map.
struct Cells<'a, I> {
    row: RowDeserializer<'a>,
    columns: I,
    current: Option<(&'a str, &'a Cell)>,
}

impl<'de, 'a, I: Iterator<Item = &'a str>> MapAccess<'de> for Cells<'a, I> {
    type Error = DecodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some(column) = self.columns.next() else {
            return Ok(None);
        };
        let cell = self.row.cell(column).unwrap_or(&Cell::Null);
        self.current = Some((column, cell));
        seed.deserialize(column.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let (column, cell) = self
            .current
            .take()
            .ok_or_else(|| DecodeError("a value was read before its column".into()))?;
        seed.deserialize(CellDeserializer { column, cell })
    }
}

/// One cell, read as the type its field asks for.
struct CellDeserializer<'a> {
    column: &'a str,
    cell: &'a Cell,
}

impl CellDeserializer<'_> {
    fn mistyped(&self, wanted: &str) -> DecodeError {
        let held = match self.cell {
            Cell::Null => "null",
            Cell::Int(_) => "an integer",
            Cell::Real(_) => "a real number",
            Cell::Text(_) => "text",
            Cell::Bytes(_) => "bytes",
        };
        DecodeError(format!(
            "column '{}' holds {held}, not {wanted}",
            self.column
        ))
    }

    fn int(&self) -> Result<i64, DecodeError> {
        match self.cell {
            Cell::Int(v) => Ok(*v),
            _ => Err(self.mistyped("an integer")),
        }
    }
}

macro_rules! integers {
    ($($method:ident $visit:ident $t:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            let value = self.int()?;
            let narrowed = <$t>::try_from(value).map_err(|_| {
                DecodeError(format!(
                    "column '{}' holds {value}, out of the range of {}",
                    self.column,
                    stringify!($t)
                ))
            })?;
            visitor.$visit(narrowed)
        }
    )*};
}

impl<'de> Deserializer<'de> for CellDeserializer<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Null => visitor.visit_unit(),
            Cell::Int(v) => visitor.visit_i64(*v),
            Cell::Real(v) => visitor.visit_f64(*v),
            Cell::Text(s) => visitor.visit_str(s),
            Cell::Bytes(b) => visitor.visit_bytes(b),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Int(0) => visitor.visit_bool(false),
            Cell::Int(1) => visitor.visit_bool(true),
            _ => Err(self.mistyped("a boolean (0 or 1)")),
        }
    }

    integers! {
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16, deserialize_i32 visit_i32 i32,
        deserialize_i64 visit_i64 i64, deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Real(v) => visitor.visit_f64(*v),
            Cell::Int(v) => visitor.visit_f64(*v as f64),
            _ => Err(self.mistyped("a number")),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Text(s) => visitor.visit_str(s),
            _ => Err(self.mistyped("text")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Bytes(b) => visitor.visit_bytes(b),
            _ => Err(self.mistyped("bytes")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_bytes(visitor)
    }

    /// Bytes as a `Vec<u8>`, which serde reads as a sequence.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Bytes(b) => visitor.visit_seq(de::value::SeqDeserializer::<_, DecodeError>::new(
                b.iter().copied(),
            )),
            _ => Err(self.mistyped("bytes")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.cell {
            Cell::Text(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => Err(self.mistyped("the text of a code")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char unit unit_struct tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::sync::Arc;

    fn row(columns: &[&str], cells: Vec<Cell>) -> Row {
        let columns: Arc<[String]> = columns.iter().map(|c| c.to_string()).collect();
        Row { columns, cells }
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Lead,
        Contact,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Stored {
        id: i64,
        name: String,
        owner_id: Option<i64>,
        active: bool,
        score: f64,
        kind: Kind,
        content: Option<Vec<u8>>,
    }

    #[test]
    fn a_row_reads_into_a_struct_named_as_its_columns_and_extra_columns_are_left() {
        let read: Stored = row(
            &[
                "id", "name", "owner_id", "active", "score", "kind", "content", "extra",
            ],
            vec![
                Cell::Int(7),
                Cell::Text("张伟".into()),
                Cell::Null,
                Cell::Int(1),
                Cell::Int(3),
                Cell::Text("contact".into()),
                Cell::Bytes(vec![1, 2]),
                Cell::Text("not read".into()),
            ],
        )
        .decode()
        .unwrap();
        assert_eq!(
            read,
            Stored {
                id: 7,
                name: "张伟".into(),
                owner_id: None,
                active: true,
                score: 3.0,
                kind: Kind::Contact,
                content: Some(vec![1, 2]),
            }
        );
    }

    #[test]
    fn a_field_without_its_column_or_a_cell_of_another_type_is_an_error_naming_it() {
        #[derive(Debug, Deserialize)]
        struct Misspelt {
            #[allow(dead_code)]
            ownr_id: Option<i64>,
        }
        let owner = row(&["owner_id"], vec![Cell::Int(3)]);
        let error = owner.decode::<Misspelt>().unwrap_err().to_string();
        assert!(error.contains("no column 'ownr_id'"), "{error}");

        #[derive(Debug, Deserialize)]
        struct Numbered {
            #[allow(dead_code)]
            owner_id: i64,
        }
        let text = row(&["owner_id"], vec![Cell::Text("3".into())]);
        let error = text.decode::<Numbered>().unwrap_err().to_string();
        assert!(error.contains("column 'owner_id' holds text"), "{error}");
        let null = row(&["owner_id"], vec![Cell::Null]);
        let error = null.decode::<Numbered>().unwrap_err().to_string();
        assert!(error.contains("holds null"), "{error}");
        let two = row(&["active"], vec![Cell::Int(2)]);
        #[derive(Debug, Deserialize)]
        struct Flag {
            #[allow(dead_code)]
            active: bool,
        }
        assert!(two.decode::<Flag>().is_err());
    }
}
