//! Dates and times as people and other systems write them: parsing never panics, and what
//! parses lies in the years the product accepts.
#![no_main]

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;
use xiansuo_core::validation;

fuzz_target!(|text: &str| {
    if let Ok(date) = validation::date("date", text) {
        assert!((1800..=2999).contains(&date.year()), "{date}");
    }
    if let Ok(instant) = validation::instant("at", text) {
        assert!((1800..=2999).contains(&instant.year()), "{instant}");
    }
});
