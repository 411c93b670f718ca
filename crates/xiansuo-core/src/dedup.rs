//! Finding duplicates. Normalised keys first: two spellings of one company or one person give
//! the same key. Phones and emails have theirs already (E.164 and lower-case, in
//! [`crate::contact`]); here are the company key (legal suffixes, region prefixes and
//! punctuation removed) and the person key (the name without its form: case, width, spaces,
//! punctuation, and word order for Latin names).
//!
//! Then how keys weigh as evidence ([`signals`]): the same phone, email or external id is a
//! certain match, the same person at the same company a probable one ([`Certainty`]), both
//! strong; the same company alone is weak (a
//! colleague, shown as "same company" but never blocking). Last, what to do with a new lead that
//! strongly matches ([`Policy`]), and how groups of duplicates form across the base
//! ([`connected`]).

use crate::Invalid;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The tag a lead created despite strong matches carries (warn policy); remove it to dismiss.
pub const FLAG_TAG: &str = "possible_duplicate";

/// Provinces, autonomous regions and major cities, as they appear in registered company names
/// before the trade name (上海恒远…) or in brackets (恒远…（上海）有限公司).
const REGIONS: &[&str] = &[
    "黑龙江",
    "内蒙古",
    "哈尔滨",
    "石家庄",
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "深圳",
    "广州",
    "杭州",
    "南京",
    "苏州",
    "成都",
    "武汉",
    "西安",
    "长沙",
    "郑州",
    "青岛",
    "宁波",
    "厦门",
    "无锡",
    "合肥",
    "济南",
    "大连",
    "沈阳",
    "福州",
    "东莞",
    "佛山",
    "昆明",
    "长春",
    "太原",
    "南昌",
    "南宁",
    "贵阳",
    "兰州",
    "海口",
    "珠海",
    "温州",
    "常州",
];

/// What may follow a region's name: 上海市, 广东省, 广西壮族自治区 is rare enough to leave out.
const REGION_ENDINGS: &[&str] = &["特别行政区", "自治区", "省", "市"];

/// Chinese legal forms, longest first so 股份有限公司 is not cut to 股份.
const CHINESE_SUFFIXES: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "集团", "公司"];

/// Latin legal forms, as whole words after punctuation became spaces (Co., Ltd. → co ltd).
const LATIN_SUFFIXES: &[&str] = &[
    "co",
    "ltd",
    "inc",
    "llc",
    "corp",
    "corporation",
    "limited",
    "company",
    "plc",
];

/// Names of institutions whose region is part of who they are: 北京银行 and 上海银行, 上海交通大学
/// and 西安交通大学 are different organisations, so their region stays in the key.
const INSTITUTIONS: &[&str] = &[
    "大学",
    "学院",
    "学校",
    "中学",
    "小学",
    "医院",
    "银行",
    "饭店",
    "酒店",
    "宾馆",
    "研究院",
    "研究所",
    "图书馆",
    "博物馆",
    "电视台",
    "日报",
    "机场",
];

/// The key under which spellings of one company meet: 上海恒远信息科技有限公司,
/// 恒远信息科技（上海）有限公司 and 恒远信息科技 all give 恒远信息科技; `Hengyuan Co., Ltd.` and
/// `HENGYUAN LIMITED` give `hengyuan`. `None` when nothing but a legal form or a region is left.
pub fn company_key(name: &str) -> Option<String> {
    let text = without_bracketed_regions(&to_half_width(name).to_lowercase());
    let (rest, had_suffix) = without_legal_suffixes(&text);
    let key = without_region_prefix(&rest, had_suffix);
    (!key.is_empty()).then_some(key)
}

/// Full-width Latin letters, digits and punctuation (Ｃｏ．，Ｌｔｄ．, （）) as their ASCII forms.
fn to_half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A region's name, optionally followed by 省/市/…, at the start of `text`: its length in bytes.
fn region_at_start(text: &str) -> Option<usize> {
    let region = REGIONS.iter().find(|r| text.starts_with(*r))?;
    let rest = &text[region.len()..];
    let ending = REGION_ENDINGS
        .iter()
        .find(|e| rest.starts_with(*e))
        .map_or(0, |e| e.len());
    Some(region.len() + ending)
}

fn is_region(text: &str) -> bool {
    text == "中国" || text == "china" || region_at_start(text) == Some(text.len())
}

/// Removes bracketed regions anywhere ((北京), 【上海市】, (中国)) and turns other brackets into
/// spaces, so that 恒远（上海）科技 and 恒远科技 meet.
fn without_bracketed_regions(text: &str) -> String {
    let opening = |c: char| matches!(c, '(' | '[' | '【' | '〔');
    let closing = |c: char| matches!(c, ')' | ']' | '】' | '〕');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, open)) = rest.char_indices().find(|&(_, c)| opening(c)) {
        out.push_str(&rest[..start]);
        let after = &rest[start + open.len_utf8()..];
        match after.char_indices().find(|&(_, c)| closing(c)) {
            Some((end, close)) if is_region(after[..end].trim()) => {
                rest = &after[end + close.len_utf8()..];
            }
            _ => {
                out.push(' ');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace(closing, " ")
}

/// Keeps only letters and digits (Chinese characters are letters), dropping spaces and
/// punctuation.
fn alphanumeric(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Strips legal forms from the end, repeatedly (集团有限公司 is 集团 + 有限公司). Returns what
/// is left as letters and digits only, and whether anything was stripped.
fn without_legal_suffixes(text: &str) -> (String, bool) {
    let mut rest = text.trim_end_matches(|c: char| !c.is_alphanumeric());
    let mut stripped = false;
    loop {
        let before = rest.len();
        if let Some(suffix) = CHINESE_SUFFIXES.iter().find(|s| rest.ends_with(*s)) {
            rest = &rest[..rest.len() - suffix.len()];
        } else {
            let word_start = rest
                .rfind(|c: char| !c.is_ascii_alphanumeric())
                .map_or(0, |i| {
                    i + rest[i..].chars().next().map_or(1, char::len_utf8)
                });
            if LATIN_SUFFIXES.contains(&&rest[word_start..]) {
                rest = &rest[..word_start];
            }
        }
        rest = rest.trim_end_matches(|c: char| !c.is_alphanumeric());
        if rest.len() == before {
            return (alphanumeric(rest), stripped);
        }
        stripped = true;
    }
}

/// Strips leading regions (广东省深圳市恒远 → 恒远) unless what is left is too generic to name a
/// company on its own: an institution (北京银行), or two characters without a legal form.
fn without_region_prefix(text: &str, had_suffix: bool) -> String {
    let mut rest = text;
    while let Some(len) = region_at_start(rest) {
        let candidate = &rest[len..];
        let chars = candidate.chars().count();
        let specific = chars >= 3 || (chars == 2 && had_suffix);
        if !specific || INSTITUTIONS.iter().any(|i| candidate.ends_with(i)) {
            break;
        }
        rest = candidate;
    }
    rest.to_owned()
}

/// The key under which spellings of one person's name meet: the same name in another form —
/// upper or lower case, full- or half-width, with or without spaces and punctuation, a Latin
/// name's words in another order (`Wei Zhang`, `zhang wei`) — gives the same key. Names that
/// differ in more than their form are different people: 张伟 and 章玮 (homophones), 张伟 and
/// `Zhang Wei` (another script), 测试1 and 测试2 (digits count). `None` when the name has no
/// letters.
pub fn person_key(name: &str) -> Option<String> {
    let text = to_half_width(name).to_lowercase();
    if !text.chars().any(char::is_alphabetic) {
        return None;
    }
    // Han characters, kana and hangul: scripts whose names are written without spaces.
    let is_cjk = |c: char| {
        matches!(c,
            '\u{3040}'..='\u{30FF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{AC00}'..='\u{D7AF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{2FA1F}')
    };
    if text.chars().any(is_cjk) {
        // A Chinese name is its characters and digits, whatever stands between them.
        return Some(text.chars().filter(|c| c.is_alphanumeric()).collect());
    }
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else if c != '\'' && c != '’' {
            // An apostrophe joins its word (O'Brien is obrien); anything else separates words.
            words.push(std::mem::take(&mut word));
        }
    }
    words.push(word);
    words.retain(|w| !w.is_empty());
    words.sort_unstable();
    Some(words.join(" "))
}

/// What a record is compared by: its phone in E.164, its lower-cased email, the id it had in
/// the system it came from (leads only), its person key and its company key (for a contact,
/// its account's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub person: Option<String>,
    pub company: Option<String>,
}

/// One reason to take two records for the same person or company; in JSON, its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The same phone number.
    Phone,
    /// The same email address.
    Email,
    /// The same id in the system both came from (an import's `external_id`).
    ExternalId,
    /// The same person's name at the same company.
    PersonAndCompany,
    /// The same company, another person (or no name to compare): weak.
    Company,
}

impl Signal {
    /// The code used in the API.
    pub fn code(self) -> &'static str {
        match self {
            Signal::Phone => "phone",
            Signal::Email => "email",
            Signal::ExternalId => "external_id",
            Signal::PersonAndCompany => "person_and_company",
            Signal::Company => "company",
        }
    }

    /// True when the signal alone makes a duplicate.
    pub fn is_strong(self) -> bool {
        self != Signal::Company
    }

    /// True when the signal makes a duplicate certain: an exact key (phone, email, external
    /// id). The same name at the same company is only probable: two people may share a name.
    pub fn is_certain(self) -> bool {
        matches!(self, Signal::Phone | Signal::Email | Signal::ExternalId)
    }

    fn weight(self) -> u32 {
        match self {
            Signal::ExternalId => 5,
            Signal::Phone | Signal::Email => 4,
            Signal::PersonAndCompany => 3,
            Signal::Company => 1,
        }
    }
}

/// The signals by which `other` matches `probe`, strongest first; empty when they share nothing.
/// A shared company counts once: as [`Signal::PersonAndCompany`] when the names meet too,
/// otherwise as the weak [`Signal::Company`].
pub fn signals(probe: &Keys, other: &Keys) -> Vec<Signal> {
    fn same(a: &Option<String>, b: &Option<String>) -> bool {
        matches!((a, b), (Some(a), Some(b)) if a == b)
    }
    let mut found = Vec::new();
    if same(&probe.external_id, &other.external_id) {
        found.push(Signal::ExternalId);
    }
    if same(&probe.phone, &other.phone) {
        found.push(Signal::Phone);
    }
    if same(&probe.email, &other.email) {
        found.push(Signal::Email);
    }
    if same(&probe.company, &other.company) {
        found.push(if same(&probe.person, &other.person) {
            Signal::PersonAndCompany
        } else {
            Signal::Company
        });
    }
    found
}

/// True when the signals make a duplicate (not merely the same company).
pub fn is_strong(signals: &[Signal]) -> bool {
    signals.iter().any(|s| s.is_strong())
}

/// How sure a set of signals makes a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Certainty {
    /// The same name at the same company, and no exact key.
    Probable,
    /// An exact key: phone, email or external id.
    Certain,
}

impl Certainty {
    /// The code used in the API and reports.
    pub fn code(self) -> &'static str {
        match self {
            Certainty::Probable => "probable",
            Certainty::Certain => "certain",
        }
    }
}

/// How sure these signals make a duplicate; `None` when they do not make one.
pub fn certainty(signals: &[Signal]) -> Option<Certainty> {
    if signals.iter().any(|s| s.is_certain()) {
        Some(Certainty::Certain)
    } else if is_strong(signals) {
        Some(Certainty::Probable)
    } else {
        None
    }
}

/// How much a set of signals weighs, to pick the strongest of several matches: a phone and an
/// email together outweigh either alone.
pub fn weight(signals: &[Signal]) -> u32 {
    signals.iter().map(|s| s.weight()).sum()
}

/// What happens to a new lead that strongly matches records already there; in JSON, its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Refuse it and list the matches (409).
    Block,
    /// Create it, flagged as a possible duplicate.
    Warn,
    /// Put its data into the strongest matching lead instead of creating it.
    Merge,
}

impl Policy {
    pub const ALL: &'static [Policy] = &[Policy::Block, Policy::Warn, Policy::Merge];

    /// The code used in the API and the database.
    pub fn code(self) -> &'static str {
        match self {
            Policy::Block => "block",
            Policy::Warn => "warn",
            Policy::Merge => "merge",
        }
    }

    /// Parses a code for `field`, with an error listing the accepted ones.
    pub fn parse(field: &str, value: &str) -> Result<Policy, Invalid> {
        Policy::ALL
            .iter()
            .copied()
            .find(|p| p.code() == value)
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{value}' is not a dedup policy: use block, warn or merge"),
                )
            })
    }
}

/// The key under which the policy for sources without one of their own is kept.
pub const ANY_SOURCE: &str = "*";

/// The policies in force when an admin has set none: a web form that is sent twice by the
/// same person updates their lead (as HubSpot's and Zoho's forms do), and every other channel
/// creates the lead and flags it, so that nothing typed or sent is ever lost to a false match.
pub fn default_policies() -> BTreeMap<String, Policy> {
    BTreeMap::from([
        (ANY_SOURCE.to_owned(), Policy::Warn),
        ("web_form".to_owned(), Policy::Merge),
    ])
}

/// The policies for probable matches (the same name at the same company) when an admin has set
/// none: on every channel the lead is created and flagged for a person to review, since two
/// people may share a name at one company.
pub fn default_probable_policies() -> BTreeMap<String, Policy> {
    BTreeMap::from([(ANY_SOURCE.to_owned(), Policy::Warn)])
}

/// The policy for `source` under `policies` (source → policy, with [`ANY_SOURCE`] for the rest).
pub fn policy_for(policies: &BTreeMap<String, Policy>, source: &str) -> Policy {
    policies
        .get(source)
        .or_else(|| policies.get(ANY_SOURCE))
        .copied()
        .unwrap_or(Policy::Warn)
}

/// Groups of records that are duplicates of each other, directly or through others: each set
/// lists records sharing one key, and sets that share a record join one group (A shares a phone
/// with B, B an email with C: A, B and C are one group). Groups come back sorted, each with at
/// least two records, smallest id first.
pub fn connected(sets: &[Vec<i64>]) -> Vec<Vec<i64>> {
    fn root(parent: &mut HashMap<i64, i64>, id: i64) -> i64 {
        let mut r = id;
        while let Some(&p) = parent.get(&r).filter(|&&p| p != r) {
            r = p;
        }
        let mut at = id;
        while at != r {
            let next = parent.insert(at, r).unwrap_or(r);
            at = next;
        }
        r
    }
    let mut parent: HashMap<i64, i64> = HashMap::new();
    for set in sets {
        let Some(&first) = set.first() else { continue };
        parent.entry(first).or_insert(first);
        for &id in &set[1..] {
            parent.entry(id).or_insert(id);
            let (a, b) = (root(&mut parent, first), root(&mut parent, id));
            if a != b {
                parent.insert(a.max(b), a.min(b));
            }
        }
    }
    let ids: Vec<i64> = parent.keys().copied().collect();
    let mut groups: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for id in ids {
        let r = root(&mut parent, id);
        groups.entry(r).or_default().push(id);
    }
    let mut out: Vec<Vec<i64>> = groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort_unstable();
            g
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_and_policies_are_their_codes_in_json() {
        for signal in [
            Signal::Phone,
            Signal::Email,
            Signal::ExternalId,
            Signal::PersonAndCompany,
            Signal::Company,
        ] {
            let json = serde_json::to_value(signal).unwrap();
            assert_eq!(json, signal.code());
            assert_eq!(serde_json::from_value::<Signal>(json).unwrap(), signal);
        }
        for policy in Policy::ALL {
            assert_eq!(serde_json::to_value(policy).unwrap(), policy.code());
        }
    }

    fn same_company(a: &str, b: &str) -> bool {
        company_key(a).is_some() && company_key(a) == company_key(b)
    }

    #[test]
    fn one_company_spelled_many_ways_has_one_key() {
        let spellings = [
            "上海恒远信息科技有限公司",
            "恒远信息科技（上海）有限公司",
            "恒远信息科技(上海)有限公司",
            "恒远信息科技",
            " 恒远信息科技有限公司。",
            "上海市恒远信息科技有限公司",
            "恒远信息科技股份有限公司",
            "恒远信息科技有限责任公司",
            "恒远信息科技集团有限公司",
            "恒远信息科技集团",
            "恒远信息科技公司",
            "「恒远 信息科技」",
            "恒远信息科技【上海】",
        ];
        for spelling in spellings {
            assert_eq!(
                company_key(spelling).as_deref(),
                Some("恒远信息科技"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn regions_are_stripped_before_and_inside_the_name() {
        assert!(same_company(
            "广东省深圳市华信通讯有限公司",
            "华信通讯有限公司"
        ));
        assert!(same_company(
            "深圳华信通讯有限公司",
            "华信通讯（深圳）有限公司"
        ));
        assert!(same_company(
            "杭州云帆网络科技有限公司",
            "浙江云帆网络科技有限公司"
        ));
        assert!(same_company(
            "北京字节跳动科技有限公司",
            "字节跳动科技（北京）有限公司"
        ));
        assert!(same_company(
            "安踏体育用品（中国）有限公司",
            "安踏体育用品有限公司"
        ));
        assert!(same_company("江苏恒瑞医药股份有限公司", "恒瑞医药"));
        assert!(same_company("上海恒远有限公司", "恒远（上海）有限公司"));
    }

    #[test]
    fn latin_legal_forms_and_case_are_ignored() {
        for spelling in [
            "Hengyuan Co., Ltd.",
            "HENGYUAN CO.,LTD",
            "Hengyuan Co. Ltd",
            "hengyuan limited",
            "Hengyuan Inc.",
            "Hengyuan, LLC",
            "Hengyuan Corp.",
            "Hengyuan Company",
            "ＨＥＮＧＹＵＡＮ　Ｃｏ．，Ｌｔｄ．",
            "  Hengyuan  ",
        ] {
            assert_eq!(
                company_key(spelling).as_deref(),
                Some("hengyuan"),
                "{spelling}"
            );
        }
        assert!(same_company("Blue Sky Tech Co., Ltd.", "blue sky tech"));
        assert!(same_company("Acme Corporation", "ACME INC"));
    }

    #[test]
    fn different_companies_keep_different_keys() {
        let pairs = [
            ("恒远信息科技有限公司", "恒远信息技术有限公司"),
            ("恒远科技有限公司", "恒通科技有限公司"),
            ("北京银行股份有限公司", "上海银行股份有限公司"),
            ("上海交通大学", "西安交通大学"),
            ("北京大学", "上海大学"),
            ("上海恒远科技有限公司", "上海恒远贸易有限公司"),
            ("Zinc Mining Ltd", "Z Mining Ltd"),
            ("Acme Co", "Acme Consulting"),
            ("上海华信", "深圳华信"),
        ];
        for (a, b) in pairs {
            assert!(!same_company(a, b), "{a} vs {b}");
        }
        assert_eq!(
            company_key("Zinc Mining Ltd").as_deref(),
            Some("zincmining")
        );
    }

    #[test]
    fn a_name_of_only_legal_forms_or_regions_has_no_key() {
        for name in [
            "",
            "   ",
            "有限公司",
            "（北京）有限公司",
            "Co., Ltd.",
            "Inc.",
            "（）",
            "...",
        ] {
            assert_eq!(company_key(name), None, "{name:?}");
        }
        assert_eq!(company_key("北京").as_deref(), Some("北京"));
    }

    #[test]
    fn one_person_spelled_many_ways_has_one_key() {
        for spelling in ["张伟", "张 伟", " 张伟 ", "张·伟", "张伟\u{3000}"] {
            assert_eq!(person_key(spelling).as_deref(), Some("张伟"), "{spelling}");
        }
        for spelling in [
            "Zhang Wei",
            "zhang wei",
            "Wei Zhang",
            "WEI ZHANG",
            "Ｚｈａｎｇ Ｗｅｉ",
        ] {
            assert_eq!(
                person_key(spelling).as_deref(),
                Some("wei zhang"),
                "{spelling}"
            );
        }
        assert_eq!(person_key("测试１").as_deref(), Some("测试1"));
        assert_eq!(person_key("John O'Brien"), person_key("obrien john"));
        assert_eq!(person_key("Mary-Jane Smith"), person_key("smith mary jane"));
        assert_eq!(person_key("艾力·买买提"), person_key("艾力买买提"));
    }

    #[test]
    fn different_people_keep_different_keys() {
        let pairs = [
            ("张伟", "张卫东"),
            ("张伟", "王伟"),
            ("李娜", "李明"),
            ("John Smith", "Jon Smith"),
            ("Wei Zhang", "Zhang Wen"),
            ("张伟", "章玮"),
            ("张伟", "Zhang Wei"),
            ("测试1", "测试2"),
            ("测试1", "测试"),
            ("Test 1", "Test 2"),
        ];
        for (a, b) in pairs {
            assert_ne!(person_key(a), person_key(b), "{a} vs {b}");
        }
    }

    #[test]
    fn a_name_without_letters_has_no_key() {
        for name in ["", "  ", "123", "-·-", "？"] {
            assert_eq!(person_key(name), None, "{name:?}");
        }
    }

    fn keys(phone: &str, email: &str, person: &str, company: &str) -> Keys {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Keys {
            phone: some(phone),
            email: some(email),
            external_id: None,
            person: some(person),
            company: some(company),
        }
    }

    #[test]
    fn a_phone_an_email_or_a_person_at_a_company_is_strong_a_company_alone_is_weak() {
        let lead = keys("+8613800138000", "zw@hy.cn", "wei zhang", "恒远");
        let cases = [
            (keys("+8613800138000", "", "", ""), vec![Signal::Phone]),
            (keys("", "zw@hy.cn", "na li", ""), vec![Signal::Email]),
            (
                keys("", "", "wei zhang", "恒远"),
                vec![Signal::PersonAndCompany],
            ),
            (keys("", "", "na li", "恒远"), vec![Signal::Company]),
            (
                keys("+8613800138000", "zw@hy.cn", "wei zhang", "恒远"),
                vec![Signal::Phone, Signal::Email, Signal::PersonAndCompany],
            ),
            (keys("", "", "wei zhang", ""), vec![]),
            (keys("", "", "wei zhang", "华信"), vec![]),
        ];
        for (other, expected) in cases {
            let found = signals(&lead, &other);
            assert_eq!(found, expected, "{other:?}");
            assert_eq!(
                is_strong(&found),
                expected.iter().any(|s| *s != Signal::Company)
            );
        }
        assert!(
            signals(&Keys::default(), &Keys::default()).is_empty(),
            "missing keys never match"
        );
        assert_eq!(certainty(&[Signal::Phone]), Some(Certainty::Certain));
        assert_eq!(
            certainty(&[Signal::PersonAndCompany]),
            Some(Certainty::Probable)
        );
        assert_eq!(certainty(&[Signal::Company]), None);
        let imported = Keys {
            external_id: Some("00Q5e000001".into()),
            ..Keys::default()
        };
        assert_eq!(signals(&imported, &imported.clone()), [Signal::ExternalId]);
        assert!(weight(&[Signal::Phone, Signal::Email]) > weight(&[Signal::Phone]));
        assert!(weight(&[Signal::Email]) > weight(&[Signal::PersonAndCompany]));
        assert!(weight(&[Signal::PersonAndCompany]) > weight(&[Signal::Company]));
    }

    #[test]
    fn policies_parse_and_fall_back_to_the_policy_for_any_source() {
        assert_eq!(Policy::parse("dedup", "block").unwrap(), Policy::Block);
        let err = Policy::parse("dedup", "skip").unwrap_err();
        assert_eq!(err.field, "dedup");
        assert!(err.message.contains("block, warn or merge"), "{err}");
        let mut policies = default_policies();
        assert_eq!(policy_for(&policies, "web_form"), Policy::Merge);
        assert_eq!(policy_for(&policies, "api"), Policy::Warn);
        policies.insert(ANY_SOURCE.into(), Policy::Block);
        assert_eq!(policy_for(&policies, "trade_show_2026"), Policy::Block);
        assert_eq!(policy_for(&BTreeMap::new(), "api"), Policy::Warn);
    }

    #[test]
    fn records_sharing_keys_through_others_form_one_group() {
        let sets = vec![
            vec![1, 2],
            vec![2, 3],
            vec![7, 5],
            vec![9],
            vec![],
            vec![3, 1],
            vec![8, 10, 11],
            vec![11, 12],
        ];
        assert_eq!(
            connected(&sets),
            vec![vec![1, 2, 3], vec![5, 7], vec![8, 10, 11, 12]]
        );
        assert!(connected(&[]).is_empty());
        // A long chain joins however the sets are ordered.
        let chain: Vec<Vec<i64>> = (0..100).rev().map(|i| vec![i + 1, i]).collect();
        assert_eq!(connected(&chain), vec![(0..=100).collect::<Vec<i64>>()]);
    }
}
