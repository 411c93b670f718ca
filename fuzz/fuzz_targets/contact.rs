//! Phones and e-mail addresses as anyone may type them: parsing never panics, a phone that
//! parses has an E.164 form that parses again to itself, and an address that parses keeps a
//! lower-cased form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xiansuo_core::contact::{Email, Phone};

fuzz_target!(|text: &str| {
    if let Ok(phone) = Phone::parse(text) {
        let again = Phone::parse(phone.e164()).expect("an E.164 number parses");
        assert_eq!(again.e164(), phone.e164());
        let _ = Phone::mask(phone.e164());
    }
    if let Ok(email) = Email::parse(text) {
        assert_eq!(email.normalized(), email.normalized().to_lowercase());
    }
});
