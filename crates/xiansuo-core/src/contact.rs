//! Contact points as people type them: phone numbers in any country's format (a number without a
//! country code is taken as Chinese, or as the [`Region`] a caller names) and email addresses.
//! Each keeps what was entered, for display, and a normalised form, for search and dedup.

use crate::Invalid;
use phonenumber::{country, Mode};
use std::str::FromStr;

/// The country whose numbering plan reads a phone number written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(country::Id);

impl Region {
    /// China: the region of a number when nothing says otherwise.
    pub const CHINA: Region = Region(country::Id::CN);

    /// A country as export files and people write it: an ISO 3166 code (`US`, `USA`, `gb`),
    /// an English name (`United States`, `United Kingdom`, `Germany`) or a Chinese one (美国,
    /// 英国, 中国). `None` for anything else.
    pub fn parse(value: &str) -> Option<Region> {
        let key: String = value
            .trim()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
            .collect();
        if key.is_empty() {
            return None;
        }
        if let Some((_, code)) = COUNTRY_NAMES
            .iter()
            .find(|(names, _)| names.split('|').any(|n| n == key))
        {
            return country::Id::from_str(code).ok().map(Region);
        }
        if key.len() == 2 && key.is_ascii() {
            return country::Id::from_str(&key).ok().map(Region);
        }
        None
    }

    /// The ISO 3166 alpha-2 code (`CN`, `US`).
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

/// Names and three-letter codes of the countries leads most often come from, upper-cased
/// without spaces or punctuation (`|` between names), with their ISO alpha-2 code. Two-letter
/// codes of every country are read by the numbering plan's own list.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("CHN|CHINA|PRC|PEOPLESREPUBLICOFCHINA|MAINLANDCHINA|中国|中国大陆|中华人民共和国|大陆", "CN"),
    ("USA|UNITEDSTATES|UNITEDSTATESOFAMERICA|AMERICA|美国|美利坚合众国", "US"),
    ("GBR|UK|UNITEDKINGDOM|GREATBRITAIN|BRITAIN|ENGLAND|SCOTLAND|WALES|NORTHERNIRELAND|英国|英格兰", "GB"),
    ("HKG|HONGKONG|HONGKONGSAR|香港|中国香港", "HK"),
    ("MAC|MACAU|MACAO|澳门|中国澳门", "MO"),
    ("TWN|TAIWAN|台湾|中国台湾", "TW"),
    ("JPN|JAPAN|日本", "JP"),
    ("KOR|KOREA|SOUTHKOREA|REPUBLICOFKOREA|韩国|南韩", "KR"),
    ("SGP|SINGAPORE|新加坡", "SG"),
    ("MYS|MALAYSIA|马来西亚", "MY"),
    ("THA|THAILAND|泰国", "TH"),
    ("VNM|VIETNAM|越南", "VN"),
    ("IDN|INDONESIA|印度尼西亚|印尼", "ID"),
    ("PHL|PHILIPPINES|菲律宾", "PH"),
    ("IND|INDIA|印度", "IN"),
    ("AUS|AUSTRALIA|澳大利亚|澳洲", "AU"),
    ("NZL|NEWZEALAND|新西兰", "NZ"),
    ("CAN|CANADA|加拿大", "CA"),
    ("MEX|MEXICO|墨西哥", "MX"),
    ("BRA|BRAZIL|BRASIL|巴西", "BR"),
    ("DEU|GERMANY|DEUTSCHLAND|德国", "DE"),
    ("FRA|FRANCE|法国", "FR"),
    ("ITA|ITALY|ITALIA|意大利", "IT"),
    ("ESP|SPAIN|ESPAÑA|ESPANA|西班牙", "ES"),
    ("NLD|NETHERLANDS|HOLLAND|荷兰", "NL"),
    ("BEL|BELGIUM|比利时", "BE"),
    ("CHE|SWITZERLAND|瑞士", "CH"),
    ("AUT|AUSTRIA|奥地利", "AT"),
    ("SWE|SWEDEN|瑞典", "SE"),
    ("NOR|NORWAY|挪威", "NO"),
    ("DNK|DENMARK|丹麦", "DK"),
    ("FIN|FINLAND|芬兰", "FI"),
    ("IRL|IRELAND|爱尔兰", "IE"),
    ("POL|POLAND|波兰", "PL"),
    ("PRT|PORTUGAL|葡萄牙", "PT"),
    ("RUS|RUSSIA|RUSSIANFEDERATION|俄罗斯", "RU"),
    ("TUR|TURKEY|TÜRKIYE|TURKIYE|土耳其", "TR"),
    ("ARE|UNITEDARABEMIRATES|UAE|阿联酋|阿拉伯联合酋长国", "AE"),
    ("SAU|SAUDIARABIA|沙特|沙特阿拉伯", "SA"),
    ("ISR|ISRAEL|以色列", "IL"),
    ("ZAF|SOUTHAFRICA|南非", "ZA"),
    ("EGY|EGYPT|埃及", "EG"),
    ("NGA|NIGERIA|尼日利亚", "NG"),
    ("ARG|ARGENTINA|阿根廷", "AR"),
    ("CHL|CHILE|智利", "CL"),
    ("COL|COLOMBIA|哥伦比亚", "CO"),
];

/// How an import reads a phone number: normalised as the API would, or kept as entered
/// because no numbering plan makes sense of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportedPhone {
    /// Read as a number, with its E.164 form.
    Verified(Phone),
    /// Kept as entered (at most 40 characters), with why it could not be read.
    Unverified { entered: String, reason: String },
}

/// A phone number that parsed and is valid for its country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    entered: String,
    e164: String,
}

/// Whether an E.164 form read for its length alone reads back as the same number: digits
/// such as `0000550055` are otherwise "possible" as +86 00550055, which is no number at all.
fn reads_as_itself(e164: &str) -> bool {
    phonenumber::parse(None, e164)
        .ok()
        .filter(is_possible)
        .is_some_and(|n| n.format().mode(Mode::E164).to_string() == e164)
}

/// The error of a phone that no numbering plan reads.
fn not_a_number(entered: &str) -> Invalid {
    Invalid::new(
        "phone",
        format!(
            "'{entered}' is not a valid phone number (use e.g. 13800138000 or +86 138 0013 8000)"
        ),
    )
}

impl Phone {
    /// Accepts `+86 138 0013 8000`, `138-0013-8000`, `0086 13800138000`, `8613800138000`,
    /// `+1 415 555 0100` and the like: a number without a country code is Chinese.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        Phone::parse_in(value, Region::CHINA)
    }

    /// Like [`Phone::parse`], with numbers without a country code read in `region`'s plan
    /// (`(415) 555-2671 x12` in the United States). An extension is kept in what was
    /// entered; the E.164 form is the line's.
    pub fn parse_in(value: &str, region: Region) -> Result<Self, Invalid> {
        Phone::read(value, region, false)
    }

    /// How an import reads a phone: as [`Phone::parse_in`] does, except that a number of the
    /// right length for its country whose area code the numbering plan does not list (as
    /// in test data and old exports) still gets its E.164 form, and that what cannot be
    /// read at all is kept as entered, unverified, rather than refused.
    pub fn import(value: &str, region: Region) -> ImportedPhone {
        match Phone::read(value, region, true) {
            Ok(phone) => ImportedPhone::Verified(phone),
            Err(e) => ImportedPhone::Unverified {
                entered: value.trim().chars().take(40).collect(),
                reason: e.message,
            },
        }
    }

    /// Reads `value` and accepts the number only when its E.164 form reads again, the same
    /// way, as the same number: the parser may take digits after a country code for a
    /// national prefix (`+81 00…`), and a number that changes each time it is read again
    /// would not match itself in dedup or survive an export and re-import.
    fn read(value: &str, region: Region, possible_is_enough: bool) -> Result<Self, Invalid> {
        let phone = Phone::read_once(value, region, possible_is_enough)?;
        // When every digit typed is still in the E.164 form (a country code may have been put
        // before them), nothing was taken for a prefix and reading it again changes nothing.
        let typed: String = phone.entered.chars().filter(char::is_ascii_digit).collect();
        if phone.e164[1..].ends_with(&typed) {
            return Ok(phone);
        }
        match Phone::read_once(&phone.e164, region, possible_is_enough) {
            Ok(again) if again.e164 == phone.e164 => Ok(phone),
            _ => Err(not_a_number(&phone.entered)),
        }
    }

    fn read_once(value: &str, region: Region, possible_is_enough: bool) -> Result<Self, Invalid> {
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
        let candidate = if region == Region::CHINA
            && !entered.starts_with('+')
            && digits.len() == 13
            && digits.starts_with("861")
            && entered.starts_with("86")
        {
            format!("+{digits}")
        } else {
            entered.to_owned()
        };
        let invalid = || not_a_number(entered);
        // A number with its country code is read without the region, whose national prefix
        // the parser would otherwise strip from it (+86 138… read as +86 38… in a US row).
        let hint = (!candidate.starts_with('+')).then_some(region.0);
        let mut number = phonenumber::parse(hint, &candidate).map_err(|_| invalid())?;
        // The parser takes a national prefix off a number written with its country code
        // (+7 812… read as +7 12…, as the trunk prefix 8 of Russia). The same digits after
        // China's international prefix 00 keep it: that reading wins when only it is valid and
        // it keeps every digit typed (the parser may take other digits off it as well).
        if let Some(rest) = candidate.strip_prefix('+') {
            if !phonenumber::is_valid(&number) {
                // `digits` are the candidate's digits: a candidate with a plus is what was
                // entered, or the plus and the digits entered.
                let keeps_every_digit = |n: &phonenumber::PhoneNumber| {
                    let e164 = n.format().mode(Mode::E164).to_string();
                    let extension = n.extension().map_or("", |e| e.as_ref());
                    format!("{}{extension}", &e164[1..]) == digits
                };
                if let Some(whole) = phonenumber::parse(Some(Region::CHINA.0), format!("00{rest}"))
                    .ok()
                    .filter(|n| phonenumber::is_valid(n) && keeps_every_digit(n))
                {
                    number = whole;
                }
            }
        }
        let e164 = number.format().mode(Mode::E164).to_string();
        // The length is the number's own, without the international prefix typed before it
        // (`00`), so that the E.164 form reads again as the same kind of number.
        let accepted = phonenumber::is_valid(&number)
            || (possible_is_enough
                && is_possible(&number)
                && e164.len() > 7
                && reads_as_itself(&e164));
        if !accepted {
            return Err(invalid());
        }
        Ok(Self {
            entered: entered.to_owned(),
            e164,
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

/// Whether a number has a length its country's numbering plan allows, area code unchecked.
fn is_possible(number: &phonenumber::PhoneNumber) -> bool {
    let national = number.national().to_string();
    phonenumber::metadata::DATABASE
        .by_code(&number.code().value())
        .into_iter()
        .flatten()
        .any(|meta| {
            let d = meta.descriptors();
            [Some(d.general()), d.fixed_line(), d.mobile()]
                .into_iter()
                .flatten()
                .any(|desc| desc.possible_length().contains(&(national.len() as u16)))
        })
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

/// The extension at the end of a phone as typed (`x9373`, `ext. 12`, `转12`, `分机 12`): its
/// digits; `None` without one.
pub fn extension(entered: &str) -> Option<String> {
    let lower = entered.to_lowercase();
    let (_, rest) = split_extension(&lower)?;
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let only_digits = rest
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_whitespace() || ".:#-".contains(c));
    (only_digits && !digits.is_empty()).then_some(digits)
}

/// A phone as typed, lower-cased, cut at its extension marker: (number, extension).
fn split_extension(lower: &str) -> Option<(&str, &str)> {
    ["分机", "ext.", "ext", "转", "x"]
        .iter()
        .find_map(|marker| {
            lower
                .find(marker)
                .map(|at| (&lower[..at], &lower[at + marker.len()..]))
        })
}

/// Whether a phone number holds letters other than its extension marker (`ext. 12`, `x12`,
/// `转12`, `分机12`). Number parsers read letters as a keypad's digits (or drop them), which
/// would silently store another number than the one typed.
fn has_stray_letters(entered: &str) -> bool {
    let lower = entered.to_lowercase();
    let (number, extension) = split_extension(&lower).unwrap_or((lower.as_str(), ""));
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
    fn a_region_reads_numbers_without_a_country_code_and_keeps_the_extension() {
        let us = Region::parse("USA").unwrap();
        let phone = Phone::parse_in("(415) 555-2671 x9373", us).unwrap();
        assert_eq!(phone.e164(), "+14155552671");
        assert_eq!(phone.entered(), "(415) 555-2671 x9373");
        assert_eq!(
            Phone::parse_in(
                "020 7946 0958 ext. 12",
                Region::parse("United Kingdom").unwrap()
            )
            .unwrap()
            .e164(),
            "+442079460958"
        );
        assert_eq!(
            Phone::parse_in("+86 138 0013 8000", us).unwrap().e164(),
            "+8613800138000",
            "a country code wins over the region"
        );
        assert_ne!(
            Phone::parse("(415) 555-2671").map(|p| p.e164().to_owned()),
            Ok("+14155552671".to_owned()),
            "without a region the number is read as Chinese"
        );
        assert_eq!(extension("(415) 555-2671 x9373").as_deref(), Some("9373"));
        assert_eq!(extension("010-65529988 转 12").as_deref(), Some("12"));
        assert_eq!(extension("+1 415 555 2671"), None);
    }

    #[test]
    fn countries_are_read_by_code_and_by_name() {
        for (written, code) in [
            ("US", "US"),
            ("usa", "US"),
            ("United States", "US"),
            ("美国", "US"),
            ("gb", "GB"),
            ("U.K.", "GB"),
            ("英国", "GB"),
            ("中国", "CN"),
            ("China", "CN"),
            ("de", "DE"),
            ("Deutschland", "DE"),
            ("Japan", "JP"),
        ] {
            assert_eq!(
                Region::parse(written).map(|r| r.code().to_owned()),
                Some(code.to_owned()),
                "{written}"
            );
        }
        for unknown in ["", "Atlantis", "XX", "火星"] {
            assert_eq!(Region::parse(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn an_import_keeps_what_it_cannot_read_and_numbers_of_the_right_length() {
        let us = Region::parse("US").unwrap();
        match Phone::import("(885)696-9384x9373", us) {
            ImportedPhone::Verified(p) => assert_eq!(p.e164(), "+18856969384"),
            other => panic!("{other:?}"),
        }
        assert!(
            Phone::parse_in("(885)696-9384x9373", us).is_err(),
            "the API stays strict"
        );
        match Phone::import("call reception", us) {
            ImportedPhone::Unverified { entered, reason } => {
                assert_eq!(entered, "call reception");
                assert!(reason.contains("letters"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Phone::import("12", Region::CHINA),
            ImportedPhone::Unverified { .. }
        ));
        // Found by fuzzing: digits "possible" only as a number that does not read back.
        assert!(matches!(
            Phone::import("0000550055", Region::CHINA),
            ImportedPhone::Unverified { .. }
        ));
        // Found by fuzzing: "00" and six digits read as +43 4040, which was kept as verified
        // although +434040 itself, imported again, is too short to be.
        for entered in ["00)434040", "+434040"] {
            assert!(
                matches!(
                    Phone::import(entered, Region::CHINA),
                    ImportedPhone::Unverified { .. }
                ),
                "{entered}"
            );
        }
    }

    #[test]
    fn a_number_whose_area_code_starts_with_the_trunk_prefix_keeps_it() {
        // St Petersburg (812) and toll-free (800) numbers begin with Russia's trunk prefix 8.
        for (entered, e164) in [
            ("+7 812 200-81-27", "+78122008127"),
            ("+78005553535", "+78005553535"),
            ("+375 800 111111", "+375800111111"),
            // Found by fuzzing: read through China's international prefix, as +78122008127,
            // which did not read again.
            ("00.7812200812-.7", "+78122008127"),
        ] {
            let phone = Phone::parse(entered).unwrap();
            assert_eq!(phone.e164(), e164, "{entered}");
            assert_eq!(Phone::parse(e164).unwrap().e164(), e164);
        }
        // A national prefix written after the country code still goes.
        assert_eq!(
            Phone::parse("+33 06 31 96 65 43").unwrap().e164(),
            "+33631966543"
        );
    }

    #[test]
    fn a_number_is_never_read_as_one_with_fewer_digits() {
        // Found by fuzzing: read through China's international prefix, +43 11714578610 lost
        // five digits (as +43 578610), so an imported number did not import again as itself.
        for entered in ["0043011714578610x", "+4311714578610"] {
            if let ImportedPhone::Verified(phone) = Phone::import(entered, Region::CHINA) {
                match Phone::import(phone.e164(), Region::CHINA) {
                    ImportedPhone::Verified(again) => assert_eq!(again.e164(), phone.e164()),
                    ImportedPhone::Unverified { reason, .. } => panic!("{entered}: {reason}"),
                }
            }
        }
        assert!(!matches!(
            Phone::import("+4311714578610", Region::CHINA),
            ImportedPhone::Verified(phone) if phone.e164() == "+43578610"
        ));
    }

    #[test]
    fn a_number_is_accepted_only_when_it_reads_again_as_itself() {
        // Found by fuzzing: the phone metadata takes +81 00371160200100720 as valid, but
        // read again it loses more zeros, so it could never match itself.
        for entered in [" +810000371160200100720", "+8100371160200100720"] {
            assert!(Phone::parse(entered).is_err(), "{entered}");
            if let ImportedPhone::Verified(phone) = Phone::import(entered, Region::CHINA) {
                match Phone::import(phone.e164(), Region::CHINA) {
                    ImportedPhone::Verified(again) => assert_eq!(again.e164(), phone.e164()),
                    ImportedPhone::Unverified { reason, .. } => panic!("{entered}: {reason}"),
                }
            }
        }
        // A national prefix written after the country code is still taken off once.
        assert_eq!(
            Phone::parse("+44 (0)20 7946 0018").unwrap().e164(),
            "+442079460018"
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
