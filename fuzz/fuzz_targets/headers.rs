//! Header rows as other systems' exports and people write them, mapped to fields for leads and
//! for accounts, contacts, opportunities and activities. The input's lines are the headers, up
//! to an empty line; the lines after it are a mapping file's `header=target` entries. Mapping
//! never panics; it is deterministic and each column's target depends on its own header only;
//! a row gives each field at most one value, a cell of a column mapped to it; and it is
//! idempotent: a header row made of the targets' own names maps to the same targets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::BTreeMap;
use xiansuo_app::data::import::mapping::{self, CustomColumn, Mapping};
use xiansuo_app::data::import::objects::headers::{self, Object, ObjectMapping};
use xiansuo_core::custom_field::FieldType;

const OBJECTS: [Object; 4] = [
    Object::Account,
    Object::Contact,
    Object::Opportunity,
    Object::Activity,
];

/// Lead fields whose value is a cell as it is (the others are translated or joined).
const PLAIN: &[&str] = &[
    "company",
    "title",
    "phone",
    "email",
    "industry",
    "province",
    "city",
    "description",
    "external_id",
];

fuzz_target!(|text: &str| {
    let (head, specs) = text.split_once("\n\n").unwrap_or((text, ""));
    let headers: Vec<String> = head.split('\n').map(str::to_owned).collect();
    let overrides: BTreeMap<String, String> = specs
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(h, t)| (h.to_owned(), t.to_owned()))
        .collect();
    let custom = [CustomColumn {
        key: "region_code".into(),
        label: "大区".into(),
        field_type: FieldType::Text,
    }];
    let values: Vec<String> = (0..headers.len()).map(|i| format!("v{i}")).collect();

    leads(&headers, &custom, &overrides, &values);
    for object in OBJECTS {
        objects(object, &headers, &custom, &overrides, &values);
    }
});

fn leads(
    headers: &[String],
    custom: &[CustomColumn],
    overrides: &BTreeMap<String, String>,
    values: &[String],
) {
    let Ok(mapped) = Mapping::new(headers, custom, overrides) else {
        return;
    };
    let again = Mapping::new(headers, custom, overrides).expect("the same row maps again");
    assert_eq!(mapped.describe(), again.describe());
    let targets: Vec<Option<mapping::Target>> = mapped
        .describe()
        .into_iter()
        .map(|(_, t)| t.cloned())
        .collect();
    assert_eq!(targets.len(), headers.len());

    // Idempotent: the targets' own names map to the same targets.
    let named: Vec<String> = targets
        .iter()
        .flatten()
        .map(|t| match t {
            mapping::Target::Field(f) => (*f).to_owned(),
            mapping::Target::Custom { key, .. } => key.clone(),
        })
        .collect();
    let renamed = Mapping::new(&named, custom, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{named:?} maps again: {e}"));
    let retargeted: Vec<_> = renamed.describe().into_iter().map(|(_, t)| t).collect();
    let kept: Vec<_> = targets.iter().flatten().map(Some).collect();
    assert_eq!(retargeted, kept, "{named:?}");

    // At most one value per field, the cell of a column mapped to it.
    let body = mapped.body(values);
    let Value::Object(body) = body else {
        panic!("a body is an object");
    };
    for (key, value) in &body {
        assert!(
            mapping::FIELDS.contains(&key.as_str()) || key == "custom",
            "{key}"
        );
        if PLAIN.contains(&key.as_str()) {
            let cell = value.as_str().expect("a plain field is text");
            let column: usize = cell[1..].parse().expect("a cell of the row");
            assert_eq!(
                targets[column],
                Some(mapping::Target::Field(
                    mapping::FIELDS.iter().find(|f| **f == key).unwrap()
                )),
                "{key}"
            );
        }
    }
}

fn objects(
    object: Object,
    headers: &[String],
    custom: &[CustomColumn],
    overrides: &BTreeMap<String, String>,
    values: &[String],
) {
    let Ok(mapped) = ObjectMapping::proposed(object, headers, custom, overrides) else {
        return;
    };
    let again = ObjectMapping::proposed(object, headers, custom, overrides).expect("maps again");
    assert_eq!(mapped.describe(), again.describe());
    assert_eq!(mapped.complete().is_ok(), again.complete().is_ok());
    let targets: Vec<Option<headers::Target>> = mapped
        .describe()
        .into_iter()
        .map(|(_, t)| t.cloned())
        .collect();
    assert_eq!(targets.len(), headers.len());

    // Each column's target depends on its own header only.
    for (header, target) in headers.iter().zip(&targets) {
        let alone = ObjectMapping::proposed(object, &[header.clone()], custom, overrides)
            .expect("a column that maps in a row maps alone");
        assert_eq!(alone.describe()[0].1, target.as_ref(), "{header}");
    }

    // Idempotent: the targets' own names map to the same targets.
    let named: Vec<String> = targets
        .iter()
        .flatten()
        .map(|t| match t {
            headers::Target::Field(f) => (*f).to_owned(),
            headers::Target::Custom { key, .. } => key.clone(),
        })
        .collect();
    let renamed = ObjectMapping::proposed(object, &named, custom, &BTreeMap::new())
        .expect("the targets' names map");
    let retargeted: Vec<_> = renamed.describe().into_iter().map(|(_, t)| t).collect();
    let kept: Vec<_> = targets.iter().flatten().map(Some).collect();
    assert_eq!(retargeted, kept, "{} {named:?}", object.code());

    // At most one value per field, the cell of a column mapped to it.
    for field in object.targets() {
        let picked = mapped.pick(values, field);
        assert_eq!(picked.is_some(), mapped.maps(field), "{field}");
        if let Some(cell) = picked {
            let column: usize = cell[1..].parse().expect("a cell of the row");
            assert_eq!(
                targets[column],
                Some(headers::Target::Field(field)),
                "{field}"
            );
        }
    }
}
