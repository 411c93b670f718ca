//! Contact points as people type them: phone numbers in any country's format (a number without a
//! country code is taken as Chinese) and email addresses. Each keeps what was entered, for
//! display, and a normalised form, for search and dedup.

use crate::Invalid;
use phonenumber::{country, Mode};

/// A phone number that parsed and is valid for its country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    entered: String,
    e164: String,
}

impl Phone {
    /// Accepts `+86 138 0013 8000`, `138-0013-8000`, `0086 13800138000`, `8613800138000`,
    /// `+1 415 555 0100` and the like.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let entered = value.trim();
        if entered.is_empty() {
            return Err(Invalid::new("phone", "must not be empty"));
        }
        if entered.chars().count() > 40 {
            return Err(Invalid::new("phone", "must be at most 40 characters"));
        }
        if has_stray_letters(entered) {
            return Err(Invalid::new(
                "phone",
                format!(
                    "'{entered}' has letters in it: a phone number has digits, spaces, +, - and ( ), \
                     and may end with an extension such as ext. 12"
                ),
            ));
        }
        let digits: String = entered.chars().filter(char::is_ascii_digit).collect();
        // "86 138…" without the plus is how many Chinese systems export mobiles.
        let candidate = if !entered.starts_with('+')
            && digits.len() == 13
            && digits.starts_with("861")
            && entered.starts_with("86")
        {
            format!("+{digits}")
        } else {
            entered.to_owned()
        };
        let invalid = || {
            Invalid::new(
                "phone",
                format!("'{entered}' is not a valid phone number (use e.g. 13800138000 or +86 138 0013 8000)"),
            )
        };
        let number =
            phonenumber::parse(Some(country::Id::CN), &candidate).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self {
            entered: entered.to_owned(),
            e164: number.format().mode(Mode::E164).to_string(),
        })
    }

    /// The number as the person typed it.
    pub fn entered(&self) -> &str {
        &self.entered
    }

    /// The number in E.164 (`+8613800138000`).
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// Phone numbers shown to those who may not see them in full: `+86 138****8000`.
    pub fn mask(e164: &str) -> String {
        let chars: Vec<char> = e164.chars().collect();
        if chars.len() <= 7 {
            return "*".repeat(chars.len());
        }
        let keep_tail = 4;
        let keep_head = if e164.starts_with("+86") { 6 } else { 4 };
        let mut out = String::new();
        for (i, c) in chars.iter().enumerate() {
            if i < keep_head || i >= chars.len() - keep_tail {
                out.push(*c);
            } else {
                out.push('*');
            }
        }
        out
    }
}

/// An email address: one `@`, a non-empty local part and a domain with a dot, no white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    entered: String,
    normalized: String,
}

impl Email {
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let entered = value.trim();
        let invalid = || {
            Invalid::new(
                "email",
                format!("'{entered}' is not a valid email address (use e.g. name@example.com)"),
            )
        };
        if entered.is_empty() || entered.len() > 254 {
            return Err(invalid());
        }
        let (local, domain) = entered.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
        if !domain_ok || !local_ok {
            return Err(invalid());
        }
        Ok(Self {
            entered: entered.to_owned(),
            normalized: entered.to_lowercase(),
        })
    }

    pub fn entered(&self) -> &str {
        &self.entered
    }

    /// Lower-cased, for search and dedup.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// Whether a phone number holds letters other than its extension marker (`ext. 12`, `x12`,
/// `转12`, `分机12`). Number parsers read letters as a keypad's digits (or drop them), which
/// would silently store another number than the one typed.
fn has_stray_letters(entered: &str) -> bool {
    let lower = entered.to_lowercase();
    let (number, extension) = ["分机", "ext.", "ext", "转", "x"]
        .iter()
        .find_map(|marker| {
            lower
                .find(marker)
                .map(|at| (&lower[..at], &lower[at + marker.len()..]))
        })
        .unwrap_or((lower.as_str(), ""));
    number
        .chars()
        .chain(extension.chars())
        .any(char::is_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_in_a_phone_are_refused_rather_than_read_as_digits() {
        for typed in ["l3912345678", "1380013800O", "138 0013 8000 张"] {
            let refused = Phone::parse(typed).unwrap_err();
            assert_eq!(refused.field, "phone");
            assert!(refused.message.contains("letters"), "{typed}: {refused:?}");
        }
        assert!(!has_stray_letters("+86 10 6552 9988 ext. 12"));
        assert!(!has_stray_letters("010-65529988转12"));
        assert!(has_stray_letters("010-65529988 ext. 1a"));
    }

    #[test]
    fn chinese_mobiles_in_every_common_shape_normalise_to_one_number() {
        for entered in [
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "+86 138 0013 8000",
            "+86-138-0013-8000",
            "0086 13800138000",
            "8613800138000",
            "86 138 0013 8000",
        ] {
            let phone = Phone::parse(entered).unwrap_or_else(|e| panic!("{entered}: {e}"));
            assert_eq!(phone.e164(), "+8613800138000", "{entered}");
            assert_eq!(phone.entered(), entered);
        }
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        assert_eq!(
            Phone::parse("+1 415-555-2671").unwrap().e164(),
            "+14155552671"
        );
        assert_eq!(
            Phone::parse("+44 20 7946 0958").unwrap().e164(),
            "+442079460958"
        );
    }

    #[test]
    fn chinese_landlines_are_accepted() {
        assert_eq!(
            Phone::parse("010-6552 9988").unwrap().e164(),
            "+861065529988"
        );
    }

    #[test]
    fn garbage_is_not_a_phone() {
        for bad in [
            "",
            "abc",
            "12",
            "138001380001234567",
            "'; DROP TABLE leads;--",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn masking_hides_the_middle_digits() {
        assert_eq!(Phone::mask("+8613812345678"), "+86138****5678");
    }

    #[test]
    fn emails_are_validated_and_lower_cased() {
        let e = Email::parse(" Zhang.San@Example.COM ").unwrap();
        assert_eq!(e.entered(), "Zhang.San@Example.COM");
        assert_eq!(e.normalized(), "zhang.san@example.com");
        assert!(Email::parse("张三@公司.中国").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "@c.com",
            "a@.com",
            "a@c..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
