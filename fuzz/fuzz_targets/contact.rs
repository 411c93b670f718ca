//! Phones and e-mail addresses as anyone may type them, with a country as export files write
//! it (the input's first line): parsing never panics; a phone that parses has an E.164 form
//! that reads again as itself, strictly or as an import reads it; an import keeps what it
//! cannot read as entered, at most 40 characters; an address that parses keeps a lower-cased
//! form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiansuo_core::contact::{Email, ImportedPhone, Phone, Region};

fuzz_target!(|text: &str| {
    let (country, entered) = text.split_once('\n').unwrap_or(("", text));
    let region = Region::parse(country).unwrap_or(Region::CHINA);
    if let Ok(phone) = Phone::parse_in(entered, region) {
        let again = Phone::parse(phone.e164()).expect("an E.164 number parses");
        assert_eq!(again.e164(), phone.e164());
        let _ = Phone::mask(phone.e164());
    }
    match Phone::import(entered, region) {
        ImportedPhone::Verified(phone) => match Phone::import(phone.e164(), region) {
            ImportedPhone::Verified(again) => assert_eq!(again.e164(), phone.e164()),
            ImportedPhone::Unverified { reason, .. } => panic!("{}: {reason}", phone.e164()),
        },
        ImportedPhone::Unverified { entered, .. } => assert!(entered.chars().count() <= 40),
    }
    if let Ok(email) = Email::parse(entered) {
        assert_eq!(email.normalized(), email.normalized().to_lowercase());
    }
});
