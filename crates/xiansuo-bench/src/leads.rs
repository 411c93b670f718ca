//! The bench leads: realistic Chinese leads made from a number, the same for a number on every
//! run, which `ingest` posts, `csv` writes and the probe stores.

use serde_json::{json, Value};

/// Bench phones use prefixes the demo data does not, and 3 × 10⁸ numbers in all.
pub const PHONE_PREFIXES: [&str; 3] = ["166", "173", "177"];
pub const PHONE_SPACE: u64 = 300_000_000;

/// splitmix64: spreads consecutive `n` over the whole range, so the parts of a bench lead vary
/// independently of each other.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The `n`-th bench lead. Phone and email derive from `n`, so leads of one run never collide,
/// and runs start at a random `n`, so they rarely collide with earlier runs. Names and companies
/// repeat as they do in life: about 50,000 names (30 surnames, given names of one or two
/// characters) and 48,000 companies, so the same name at the same company (a likely duplicate,
/// skipped or flagged by dedup) comes about once in 1,000 leads.
pub fn lead_body(n: u64) -> Value {
    const SURNAMES: [&str; 30] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
        "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    ];
    const GIVEN: [&str; 40] = [
        "伟", "芳", "秀", "英", "敏", "晓", "明", "强", "海", "燕", "磊", "静", "丽", "军", "勇",
        "杰", "娟", "涛", "超", "霞", "平", "刚", "桂", "兰", "华", "建", "国", "红", "玉", "文",
        "斌", "宇", "浩", "婷", "鑫", "欣", "颖", "琳", "志", "峰",
    ];
    const CITIES: [&str; 6] = ["上海", "北京", "深圳", "杭州", "成都", "广州"];
    const BRAND: [&str; 40] = [
        "恒", "远", "华", "信", "博", "通", "天", "成", "鼎", "盛", "瑞", "丰", "启", "明", "金",
        "石", "宏", "图", "海", "纳", "东", "方", "星", "辰", "蓝", "创", "智", "联", "中", "科",
        "新", "源", "泰", "和", "嘉", "润", "安", "达", "佳", "德",
    ];
    const TRADES: [&str; 5] = ["信息科技", "网络技术", "贸易", "制造", "物流"];
    const TITLES: [&str; 5] = ["总经理", "采购经理", "IT总监", "销售总监", "市场经理"];
    let n = n % PHONE_SPACE;
    let digits = n % 100_000_000;
    let nth = |len: usize, salt: u64| (mix(n ^ (salt << 40)) % len as u64) as usize;
    let given = if nth(3, 2) == 0 {
        GIVEN[nth(40, 3)].to_owned()
    } else {
        format!("{}{}", GIVEN[nth(40, 3)], GIVEN[nth(40, 4)])
    };
    json!({
        "name": format!("{}{given}", SURNAMES[nth(30, 1)]),
        "company": format!(
            "{}{}{}{}有限公司",
            CITIES[nth(6, 5)],
            BRAND[nth(40, 6)],
            BRAND[nth(40, 7)],
            TRADES[nth(5, 8)]
        ),
        "title": TITLES[nth(5, 9)],
        "phone": format!(
            "{} {:04} {:04}",
            PHONE_PREFIXES[(n / 100_000_000) as usize],
            digits / 10_000,
            digits % 10_000
        ),
        "email": format!("bench{n}@example.com"),
        "source": "api",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_leads_have_distinct_chinese_mobiles_and_emails() {
        let start = PHONE_SPACE - 500;
        let bodies: Vec<Value> = (start..start + 1_000).map(lead_body).collect();
        let phones: std::collections::HashSet<_> =
            bodies.iter().map(|b| b["phone"].to_string()).collect();
        let emails: std::collections::HashSet<_> =
            bodies.iter().map(|b| b["email"].to_string()).collect();
        assert_eq!((phones.len(), emails.len()), (1_000, 1_000));
        for body in &bodies {
            let digits: String = body["phone"]
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert_eq!(digits.len(), 11, "{body}");
            assert!(PHONE_PREFIXES.contains(&&digits[..3]), "{body}");
            assert_eq!(body["source"], "api");
        }
    }
}
