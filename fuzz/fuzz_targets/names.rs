//! Names and companies as imports and forms bring them: the dedup keys, the search text and
//! the free-text and code checks never panic, and a key is stable (the key of a key is itself
//! for companies; folding is idempotent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiansuo_core::{dedup, search, validation};

fuzz_target!(|text: &str| {
    if let Some(key) = dedup::company_key(text) {
        assert!(!key.is_empty());
    }
    let _ = dedup::person_key(text);
    let _ = search::normalise(text);
    let _ = search::grams(&[Some(text)], None);
    let folded = validation::fold(text);
    assert_eq!(validation::fold(&folded), folded);
    let _ = validation::Text::parse("name", text, 200);
});
