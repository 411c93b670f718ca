//! Demo data in realistic Chinese (`xiansuo demo --leads N`): an org tree from 总部 down to sales
//! teams, a manager for every branch and team, thirty reps, and any number of leads with their
//! follow-ups, so that a new installation looks like a living system and benchmarks have a base
//! of the right size and shape to run against.
//!
//! Rows go in through multi-row INSERTs in large transactions, not through the record engine,
//! because a million leads must load in well under two minutes. For the same reason demo leads
//! and activities get no history rows: nobody ever changed them, so their audit trail simply
//! starts at their first real change.
//!
//! Generation is seeded: the same database state always gives the same data. A run on a
//! database that already has leads adds to them (with a different seed, so phones do not all
//! repeat) and reuses the demo teams and users it finds by name and username.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use xiansuo_app::admin::users::hash_password;
use xiansuo_app::records::search;
use xiansuo_core::clock::to_millis;
use xiansuo_core::dedup::company_key;
use xiansuo_core::role::{Role, TeamKind};
use xiansuo_store::{Db, Param, Row, Tx};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo12345";

/// How many rows one call to [`generate`] added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoSummary {
    pub teams: u64,
    pub users: u64,
    pub leads: u64,
    pub activities: u64,
    /// One per converted demo lead: open in a stage, won or lost.
    pub opportunities: u64,
    /// Old new leads nobody took, waiting in the public pool.
    pub pooled: u64,
}

const SEED: u64 = 0x7869_616e_7375_6f00;
/// Below both SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement.
const MAX_PARAMS: usize = 30_000;
/// Large enough that commits cost nothing, small enough that progress moves and memory stays low.
const LEADS_PER_COMMIT: u64 = 50_000;
const DAY_MS: i64 = 86_400_000;
const YEAR_MS: i64 = 365 * DAY_MS;

/// A branch: (city, pinyin for its managers' usernames, number of sales teams).
type Branch = (&'static str, &'static str, usize);

/// Regions and their branches.
const ORG: &[(&str, &[Branch])] = &[
    (
        "华东大区",
        &[
            ("上海", "shanghai", 2),
            ("杭州", "hangzhou", 1),
            ("南京", "nanjing", 1),
        ],
    ),
    (
        "华北大区",
        &[("北京", "beijing", 2), ("天津", "tianjin", 1)],
    ),
    (
        "华南大区",
        &[("广州", "guangzhou", 1), ("深圳", "shenzhen", 2)],
    ),
    (
        "西南大区",
        &[("成都", "chengdu", 1), ("重庆", "chongqing", 1)],
    ),
];
const TEAM_NUMERALS: &[&str] = &["一", "二", "三"];
const REPS: usize = 30;

/// (province, city, city as it appears in company names, index of its region in [`ORG`]).
type City = (&'static str, &'static str, &'static str, usize);

/// Cities, weighted by how many leads they bring.
const CITIES: &[(City, u32)] = &[
    (("上海市", "上海市", "上海", 0), 10),
    (("浙江省", "杭州市", "杭州", 0), 6),
    (("浙江省", "宁波市", "宁波", 0), 3),
    (("江苏省", "南京市", "南京", 0), 4),
    (("江苏省", "苏州市", "苏州", 0), 5),
    (("安徽省", "合肥市", "合肥", 0), 2),
    (("山东省", "青岛市", "青岛", 0), 2),
    (("福建省", "厦门市", "厦门", 0), 2),
    (("北京市", "北京市", "北京", 1), 10),
    (("天津市", "天津市", "天津", 1), 3),
    (("河北省", "石家庄市", "石家庄", 1), 2),
    (("山西省", "太原市", "太原", 1), 1),
    (("广东省", "广州市", "广州", 2), 6),
    (("广东省", "深圳市", "深圳", 2), 8),
    (("广东省", "东莞市", "东莞", 2), 3),
    (("广西壮族自治区", "南宁市", "南宁", 2), 1),
    (("海南省", "海口市", "海口", 2), 1),
    (("四川省", "成都市", "成都", 3), 5),
    (("重庆市", "重庆市", "重庆", 3), 4),
    (("云南省", "昆明市", "昆明", 3), 2),
    (("贵州省", "贵阳市", "贵阳", 3), 1),
];

/// Surnames with their pinyin, weighted by how common they are (per mille, roughly).
const SURNAMES: &[((&str, &str), u32)] = &[
    (("王", "wang"), 71),
    (("李", "li"), 70),
    (("张", "zhang"), 67),
    (("刘", "liu"), 54),
    (("陈", "chen"), 45),
    (("杨", "yang"), 31),
    (("黄", "huang"), 22),
    (("赵", "zhao"), 20),
    (("吴", "wu"), 19),
    (("周", "zhou"), 19),
    (("徐", "xu"), 13),
    (("孙", "sun"), 13),
    (("马", "ma"), 11),
    (("朱", "zhu"), 11),
    (("胡", "hu"), 10),
    (("郭", "guo"), 10),
    (("何", "he"), 9),
    (("高", "gao"), 9),
    (("林", "lin"), 9),
    (("罗", "luo"), 8),
    (("郑", "zheng"), 8),
    (("梁", "liang"), 7),
    (("谢", "xie"), 6),
    (("宋", "song"), 5),
    (("唐", "tang"), 5),
    (("许", "xu"), 5),
    (("韩", "han"), 5),
    (("冯", "feng"), 4),
    (("邓", "deng"), 4),
    (("曹", "cao"), 4),
    (("彭", "peng"), 4),
    (("曾", "zeng"), 4),
    (("肖", "xiao"), 4),
    (("田", "tian"), 3),
    (("董", "dong"), 3),
    (("袁", "yuan"), 3),
    (("潘", "pan"), 3),
    (("于", "yu"), 3),
    (("蒋", "jiang"), 3),
    (("蔡", "cai"), 3),
    (("余", "yu"), 3),
    (("杜", "du"), 3),
    (("叶", "ye"), 3),
    (("程", "cheng"), 3),
    (("苏", "su"), 3),
    (("魏", "wei"), 3),
    (("吕", "lv"), 3),
    (("丁", "ding"), 3),
    (("任", "ren"), 3),
    (("沈", "shen"), 3),
    (("欧阳", "ouyang"), 1),
];

/// Given names with their pinyin. Single characters carry about half the weight, as in real
/// life, which makes two-character full names like 张伟 common.
const GIVEN_NAMES: &[((&str, &str), u32)] = &[
    (("伟", "wei"), 12),
    (("芳", "fang"), 8),
    (("娜", "na"), 6),
    (("敏", "min"), 6),
    (("静", "jing"), 6),
    (("丽", "li"), 5),
    (("强", "qiang"), 5),
    (("磊", "lei"), 5),
    (("军", "jun"), 5),
    (("洋", "yang"), 4),
    (("勇", "yong"), 4),
    (("艳", "yan"), 4),
    (("杰", "jie"), 4),
    (("娟", "juan"), 3),
    (("涛", "tao"), 3),
    (("明", "ming"), 3),
    (("超", "chao"), 3),
    (("霞", "xia"), 3),
    (("平", "ping"), 3),
    (("刚", "gang"), 3),
    (("华", "hua"), 3),
    (("鹏", "peng"), 2),
    (("辉", "hui"), 2),
    (("玲", "ling"), 2),
    (("婷", "ting"), 2),
    (("飞", "fei"), 2),
    (("斌", "bin"), 2),
    (("宇", "yu"), 2),
    (("浩", "hao"), 2),
    (("凯", "kai"), 2),
    (("健", "jian"), 2),
    (("颖", "ying"), 2),
    (("秀英", "xiuying"), 5),
    (("桂英", "guiying"), 3),
    (("建华", "jianhua"), 3),
    (("建国", "jianguo"), 3),
    (("志强", "zhiqiang"), 3),
    (("海燕", "haiyan"), 3),
    (("晓明", "xiaoming"), 3),
    (("丽娟", "lijuan"), 3),
    (("文杰", "wenjie"), 3),
    (("子涵", "zihan"), 3),
    (("浩然", "haoran"), 3),
    (("欣怡", "xinyi"), 3),
    (("雨欣", "yuxin"), 2),
    (("俊杰", "junjie"), 3),
    (("思远", "siyuan"), 2),
    (("佳怡", "jiayi"), 2),
    (("志明", "zhiming"), 2),
    (("秀兰", "xiulan"), 2),
    (("玉兰", "yulan"), 2),
    (("春梅", "chunmei"), 2),
    (("国强", "guoqiang"), 2),
    (("晓燕", "xiaoyan"), 2),
    (("红梅", "hongmei"), 2),
    (("振华", "zhenhua"), 2),
    (("一鸣", "yiming"), 2),
    (("梓轩", "zixuan"), 2),
    (("宇航", "yuhang"), 2),
    (("嘉欣", "jiaxin"), 2),
];

/// Trade-name words (字号) with pinyin, for company names and their mail domains.
const TRADE_NAMES: &[(&str, &str)] = &[
    ("恒远", "hengyuan"),
    ("华信", "huaxin"),
    ("博通", "botong"),
    ("天成", "tiancheng"),
    ("鼎盛", "dingsheng"),
    ("金桥", "jinqiao"),
    ("瑞丰", "ruifeng"),
    ("宏达", "hongda"),
    ("启明", "qiming"),
    ("中科", "zhongke"),
    ("新元", "xinyuan"),
    ("泰和", "taihe"),
    ("永康", "yongkang"),
    ("远航", "yuanhang"),
    ("卓越", "zhuoyue"),
    ("汇智", "huizhi"),
    ("盛世", "shengshi"),
    ("安信", "anxin"),
    ("同创", "tongchuang"),
    ("嘉禾", "jiahe"),
    ("正邦", "zhengbang"),
    ("联创", "lianchuang"),
    ("众诚", "zhongcheng"),
    ("睿智", "ruizhi"),
    ("明辉", "minghui"),
    ("天宇", "tianyu"),
    ("海纳", "haina"),
    ("云帆", "yunfan"),
    ("锦程", "jincheng"),
    ("德润", "derun"),
    ("信达", "xinda"),
    ("恒通", "hengtong"),
    ("华宇", "huayu"),
    ("金源", "jinyuan"),
    ("万通", "wantong"),
    ("志成", "zhicheng"),
    ("百川", "baichuan"),
    ("九州", "jiuzhou"),
    ("星辰", "xingchen"),
    ("鸿运", "hongyun"),
    ("长兴", "changxing"),
    ("通达", "tongda"),
    ("康达", "kangda"),
    ("凯旋", "kaixuan"),
    ("兴业", "xingye"),
    ("合力", "heli"),
    ("光明", "guangming"),
    ("创新", "chuangxin"),
];

/// The business word of a company name and the industry it places the company in.
const BUSINESSES: &[(&str, &str)] = &[
    ("信息科技", "互联网"),
    ("网络科技", "互联网"),
    ("软件", "互联网"),
    ("电子科技", "制造业"),
    ("机械制造", "制造业"),
    ("精密机械", "制造业"),
    ("新材料", "制造业"),
    ("汽车零部件", "制造业"),
    ("医疗器械", "医疗"),
    ("生物科技", "医疗"),
    ("医药", "医疗"),
    ("教育科技", "教育"),
    ("职业培训", "教育"),
    ("贸易", "零售"),
    ("商贸", "零售"),
    ("电子商务", "零售"),
    ("投资管理", "金融"),
    ("融资租赁", "金融"),
    ("供应链管理", "物流"),
    ("物流", "物流"),
    ("建设工程", "建筑"),
    ("置业", "房地产"),
    ("新能源", "能源"),
    ("环保科技", "能源"),
    ("食品", "食品饮料"),
    ("餐饮管理", "餐饮"),
    ("文化传媒", "文化传媒"),
    ("管理咨询", "专业服务"),
];

const LEGAL_SUFFIXES: &[(&str, u32)] = &[
    ("有限公司", 70),
    ("股份有限公司", 15),
    ("有限责任公司", 10),
    ("集团有限公司", 5),
];

const TITLES: &[(Option<&str>, u32)] = &[
    (None, 10),
    (Some("总经理"), 10),
    (Some("副总经理"), 5),
    (Some("董事长"), 3),
    (Some("采购经理"), 12),
    (Some("采购主管"), 6),
    (Some("IT总监"), 8),
    (Some("信息部经理"), 6),
    (Some("销售总监"), 6),
    (Some("市场经理"), 8),
    (Some("财务总监"), 4),
    (Some("行政主管"), 4),
    (Some("运营总监"), 4),
    (Some("项目经理"), 6),
    (Some("技术负责人"), 4),
    (Some("工程师"), 4),
];

const SOURCES: &[(&str, u32)] = &[
    ("web_form", 25),
    ("ad", 15),
    ("event", 12),
    ("referral", 10),
    ("social", 8),
    ("email", 5),
    ("import", 15),
    ("api", 5),
    ("manual", 4),
    ("other", 1),
];

const STATUSES: &[(&str, u32)] = &[
    ("new", 40),
    ("working", 30),
    ("nurturing", 10),
    ("qualified", 8),
    ("disqualified", 7),
    ("converted", 5),
];

const GRADES: &[(&str, u32)] = &[("A", 8), ("B", 17), ("C", 25), ("D", 30), ("E", 20)];

const TAGS: &[&str] = &[
    "展会2026",
    "重点客户",
    "老客户推荐",
    "官网咨询",
    "价格敏感",
    "决策人",
    "需要演示",
    "双十一活动",
    "政府项目",
    "海外业务",
];

const DESCRIPTIONS: &[&str] = &[
    "通过官网咨询产品报价",
    "在展会上交换了名片，对方对私有化部署感兴趣",
    "老客户介绍，正在选型 CRM 系统",
    "下载了产品白皮书",
    "来电咨询价格和实施周期",
    "希望下个季度上线，预算已批",
];

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "180", "181", "182", "183", "184", "185", "186", "187",
    "188", "189", "191", "193", "195", "198", "199",
];

const MAIL_DOMAINS: &[&str] = &["163.com", "126.com", "sina.com", "foxmail.com", "139.com"];

const ACTIVITY_TYPES: &[(&str, u32)] = &[
    ("call", 40),
    ("wechat", 25),
    ("email", 10),
    ("meeting", 8),
    ("visit", 7),
    ("note", 10),
];

/// What a follow-up achieved, with what a rep would write about it.
const FOLLOW_UPS: &[((&str, &str), u32)] = &[
    (("no_need", "客户表示目前没有采购计划"), 3),
    (("no_need", "对方已有合作供应商，暂不考虑"), 2),
    (
        (
            "already_bought",
            "客户上个月已采购同类产品，明年续约时再跟进",
        ),
        2,
    ),
    (("future_need", "客户预计下半年有预算，先保持联系"), 4),
    (("future_need", "发送了产品资料，客户说年底前会评估"), 3),
    (("visit_requested", "客户希望安排上门演示，已约下周三"), 3),
    (("visit_requested", "对方要求技术人员上门交流方案"), 2),
    (("call_back", "客户在出差，约定下周一再联系"), 4),
    (("call_back", "沟通了报价，客户需要内部讨论后回复"), 4),
    (("unreachable", "电话无人接听"), 3),
    (("unreachable", "号码停机，尝试通过微信联系"), 1),
];

const NOTES: &[&str] = &[
    "对方是采购负责人，决策链较长，需要总经理拍板",
    "客户关注数据安全，需要提供等保材料",
    "竞品也在接触，价格是关键",
    "已加微信，客户回复比较及时",
];

const LEAD_COLUMNS: &[&str] = &[
    "name",
    "company",
    "company_key",
    "title",
    "phone",
    "phone_normalized",
    "email",
    "email_normalized",
    "source",
    "status",
    "owner_id",
    "score",
    "grade",
    "industry",
    "province",
    "city",
    "company_size",
    "description",
    "tags",
    "created_by",
    "created_at",
    "updated_at",
];

const ACTIVITY_PARAMS: usize = 9;

/// Picks an item with a probability proportional to its weight.
fn pick<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut at = rng.gen_range(0..total);
    for (item, weight) in items {
        if at < *weight {
            return item;
        }
        at -= weight;
    }
    &items[items.len() - 1].0
}

fn one_of<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// A Chinese personal name, with the pinyin of its surname and given name for email addresses.
fn person(rng: &mut StdRng) -> (String, &'static str, &'static str) {
    let (surname, surname_py) = *pick(rng, SURNAMES);
    let (given, given_py) = *pick(rng, GIVEN_NAMES);
    (format!("{surname}{given}"), surname_py, given_py)
}

/// A Chinese mobile number the way people type it, and the same number in E.164.
fn mobile(rng: &mut StdRng) -> (String, String) {
    let digits = format!(
        "{}{:08}",
        one_of(rng, MOBILE_PREFIXES),
        rng.gen_range(0..100_000_000u32)
    );
    let (a, b, c) = (&digits[..3], &digits[3..7], &digits[7..]);
    let entered = match rng.gen_range(0..20) {
        0..=7 => digits.clone(),
        8..=11 => format!("{a} {b} {c}"),
        12..=14 => format!("{a}-{b}-{c}"),
        15 | 16 => format!("+86 {a} {b} {c}"),
        17 => format!("+86 {a}-{b}-{c}"),
        18 => format!("+86{digits}"),
        _ => format!("86 {digits}"),
    };
    (entered, format!("+86{digits}"))
}

/// A company name such as 上海恒远信息科技有限公司 (or 恒远信息科技（上海）有限公司), its
/// industry, and the pinyin of its trade name.
fn company(rng: &mut StdRng, city: &str) -> (String, &'static str, &'static str) {
    let (trade, trade_py) = *one_of(rng, TRADE_NAMES);
    let (business, industry) = *one_of(rng, BUSINESSES);
    let suffix = pick(rng, LEGAL_SUFFIXES);
    let name = if rng.gen_ratio(1, 6) {
        format!("{trade}{business}（{city}）{suffix}")
    } else {
        format!("{city}{trade}{business}{suffix}")
    };
    (name, industry, trade_py)
}

/// An email address with a pinyin local part: private mail, QQ mail or the company's domain.
fn email_address(rng: &mut StdRng, surname: &str, given: &str, company: Option<&str>) -> String {
    match (rng.gen_range(0..10), company) {
        (0..=3, Some(trade)) => format!("{given}.{surname}@{trade}.com.cn"),
        (0..=5, _) => format!(
            "{surname}{given}{}@{}",
            rng.gen_range(1..2000),
            one_of(rng, MAIL_DOMAINS)
        ),
        (6 | 7, _) => format!("{}@qq.com", rng.gen_range(10_000_000..3_000_000_000u64)),
        _ => format!("{surname}_{given}@{}", one_of(rng, MAIL_DOMAINS)),
    }
}

/// One lead, ready to be bound in [`LEAD_COLUMNS`] order.
struct DemoLead {
    name: String,
    company: Option<String>,
    title: Option<&'static str>,
    phone: String,
    phone_normalized: String,
    email: Option<String>,
    source: &'static str,
    status: &'static str,
    owner_id: i64,
    score: i64,
    grade: &'static str,
    industry: Option<&'static str>,
    province: &'static str,
    city: &'static str,
    company_size: Option<i64>,
    description: Option<&'static str>,
    tags: String,
    created_at: i64,
    updated_at: i64,
}

impl DemoLead {
    fn push_params(self, out: &mut Vec<Param>) {
        let email_normalized = self.email.as_deref().map(str::to_lowercase);
        let company_key = self.company.as_deref().and_then(company_key);
        out.extend([
            Param::from(self.name),
            Param::from(self.company),
            Param::from(company_key),
            Param::from(self.title),
            Param::from(self.phone),
            Param::from(self.phone_normalized),
            Param::from(self.email),
            Param::from(email_normalized),
            Param::from(self.source),
            Param::from(self.status),
            Param::Int(self.owner_id),
            Param::Int(self.score),
            Param::from(self.grade),
            Param::from(self.industry),
            Param::from(self.province),
            Param::from(self.city),
            Param::from(self.company_size),
            Param::from(self.description),
            Param::from(self.tags),
            Param::Int(self.owner_id),
            Param::Int(self.created_at),
            Param::Int(self.updated_at),
        ]);
    }
}

/// A lead created at `created_at`, owned by a rep of its city's region.
fn lead(rng: &mut StdRng, reps_by_region: &[Vec<i64>], created_at: i64, now_ms: i64) -> DemoLead {
    let (name, surname_py, given_py) = person(rng);
    let &(province, city, city_short, region) = pick(rng, CITIES);
    // About one lead in ten is a private person (B2C), without company, title or industry.
    let business = rng.gen_ratio(9, 10).then(|| company(rng, city_short)).map(
        |(company, industry, trade_py)| {
            let size = match rng.gen_range(0..10) {
                0..=3 => rng.gen_range(5..50),
                4..=6 => rng.gen_range(50..200),
                7 | 8 => rng.gen_range(200..1000),
                _ => rng.gen_range(1000..20_000),
            };
            (company, industry, trade_py, size, *pick(rng, TITLES))
        },
    );
    let (phone, phone_normalized) = mobile(rng);
    let email = rng
        .gen_ratio(3, 5)
        .then(|| email_address(rng, surname_py, given_py, business.as_ref().map(|b| b.2)));
    let source = *pick(rng, SOURCES);
    let status = *pick(rng, STATUSES);
    let grade = match status {
        "disqualified" => "E",
        "converted" => ["A", "B"][rng.gen_range(0..2)],
        _ => *pick(rng, GRADES),
    };
    let score = match grade {
        "A" => rng.gen_range(80..=100),
        "B" => rng.gen_range(60..=85),
        "C" => rng.gen_range(40..=70),
        "D" => rng.gen_range(20..=50),
        _ => rng.gen_range(0..=25),
    };
    let mut tags: Vec<&str> = Vec::new();
    let tag_count: usize = *pick(rng, &[(0, 50), (1, 35), (2, 15)]);
    for _ in 0..tag_count {
        let tag = *one_of(rng, TAGS);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let reps = &reps_by_region[region];
    let updated_at = created_at + rng.gen_range(0..=(now_ms - created_at).min(30 * DAY_MS));
    let (company, industry, company_size, title) = match business {
        Some((company, industry, _, size, title)) => {
            (Some(company), Some(industry), Some(size), title)
        }
        None => (None, None, None, None),
    };
    DemoLead {
        name,
        company,
        title,
        phone,
        phone_normalized,
        email,
        source,
        status,
        owner_id: *one_of(rng, reps),
        score,
        grade,
        industry,
        province,
        city,
        company_size,
        description: rng.gen_ratio(3, 10).then(|| *one_of(rng, DESCRIPTIONS)),
        tags: serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into()),
        created_at,
        updated_at,
    }
}

/// Follow-ups for a lead just inserted (id, owner_id, created_at, status), pushed as
/// parameters; gives how many. New leads are rarely followed up yet, others often, which makes
/// about one lead in five have activities.
fn activities(rng: &mut StdRng, lead: &Row, now_ms: i64, out: &mut Vec<Param>) -> u64 {
    let percent = if lead.text("status") == "new" { 2 } else { 32 };
    if !rng.gen_ratio(percent, 100) {
        return 0;
    }
    let (id, owner, created_at) = (lead.int("id"), lead.int("owner_id"), lead.int("created_at"));
    let window = (now_ms - created_at).clamp(1, 90 * DAY_MS);
    let mut times: Vec<i64> = (0..rng.gen_range(1..=3))
        .map(|_| created_at + rng.gen_range(0..window))
        .collect();
    times.sort_unstable();
    for &at in &times {
        let kind = *pick(rng, ACTIVITY_TYPES);
        let (outcome, content) = if kind == "note" {
            (None, *one_of(rng, NOTES))
        } else {
            let &(outcome, content) = pick(rng, FOLLOW_UPS);
            (Some(outcome), content)
        };
        let next_follow_up_at = matches!(
            outcome,
            Some("call_back" | "future_need" | "visit_requested")
        )
        .then(|| at + rng.gen_range(1..=14) * DAY_MS);
        out.extend([
            Param::Int(id),
            Param::from(kind),
            Param::from(outcome),
            Param::from(content),
            Param::from(next_follow_up_at),
            Param::Int(owner),
            Param::Int(owner),
            Param::Int(at),
            Param::Int(at),
        ]);
    }
    times.len() as u64
}

/// Inserts rows `per_row` parameters wide, as many per statement as the parameter limits
/// allow, and gives the rows of the `returning` clause.
async fn insert_many(
    tx: &mut Tx,
    head: &str,
    row: &str,
    per_row: usize,
    params: &[Param],
    returning: &str,
) -> anyhow::Result<Vec<Row>> {
    let mut out = Vec::new();
    for chunk in params.chunks(MAX_PARAMS / per_row * per_row) {
        let rows = vec![row; chunk.len() / per_row].join(", ");
        out.extend(
            tx.fetch_all(&format!("{head}{rows}{returning}"), chunk)
                .await?,
        );
    }
    Ok(out)
}

/// Writes the org tree and its users, reusing those that exist; hashes the shared password
/// only if some user is missing, because argon2 is slow on purpose.
struct OrgWriter<'a> {
    tx: Tx,
    now_ms: i64,
    rng: StdRng,
    password_hash: Option<String>,
    summary: &'a mut DemoSummary,
}

impl OrgWriter<'_> {
    async fn team(
        &mut self,
        name: &str,
        kind: TeamKind,
        parent: Option<i64>,
    ) -> anyhow::Result<i64> {
        let found = self
            .tx
            .fetch_optional("SELECT id FROM teams WHERE name = ?", &[Param::from(name)])
            .await?;
        if let Some(row) = found {
            return Ok(row.int("id"));
        }
        self.summary.teams += 1;
        self.tx
            .insert_returning_id(
                "INSERT INTO teams (name, kind, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                &[
                    Param::from(name),
                    Param::from(kind.code()),
                    Param::from(parent),
                    Param::Int(self.now_ms),
                    Param::Int(self.now_ms),
                ],
            )
            .await
    }

    async fn user(&mut self, username: &str, role: Role, team: i64) -> anyhow::Result<i64> {
        // Drawn before the lookup so that names do not shift with which users already exist.
        let (display_name, _, _) = person(&mut self.rng);
        let found = self
            .tx
            .fetch_optional(
                "SELECT id FROM users WHERE username = ?",
                &[Param::from(username)],
            )
            .await?;
        if let Some(row) = found {
            return Ok(row.int("id"));
        }
        let hash = match &self.password_hash {
            Some(hash) => hash.clone(),
            None => self
                .password_hash
                .insert(hash_password(DEMO_PASSWORD)?)
                .clone(),
        };
        self.summary.users += 1;
        self.tx
            .insert_returning_id(
                "INSERT INTO users (username, display_name, password_hash, role, team_id, locale, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'zh', 1, ?, ?)",
                &[
                    Param::from(username),
                    Param::from(display_name),
                    Param::from(hash),
                    Param::from(role.code()),
                    Param::Int(team),
                    Param::Int(self.now_ms),
                    Param::Int(self.now_ms),
                ],
            )
            .await
    }
}

/// Ensures the demo org tree and users exist; gives the reps' ids by region.
async fn org(db: &Db, now_ms: i64, summary: &mut DemoSummary) -> anyhow::Result<Vec<Vec<i64>>> {
    let mut w = OrgWriter {
        tx: db.begin().await?,
        now_ms,
        rng: StdRng::seed_from_u64(SEED),
        password_hash: None,
        summary,
    };
    let hq = w.team("总部", TeamKind::Headquarters, None).await?;
    let mut sales_teams = Vec::new();
    for (region_index, (region, branches)) in ORG.iter().enumerate() {
        let region_id = w.team(region, TeamKind::Region, Some(hq)).await?;
        for &(city, pinyin, teams) in *branches {
            let branch = w
                .team(&format!("{city}分公司"), TeamKind::Branch, Some(region_id))
                .await?;
            w.user(&format!("mgr_{pinyin}"), Role::Manager, branch)
                .await?;
            for (n, numeral) in TEAM_NUMERALS.iter().take(teams).enumerate() {
                let team = w
                    .team(&format!("{city}{numeral}组"), TeamKind::Team, Some(branch))
                    .await?;
                w.user(&format!("mgr_{pinyin}{}", n + 1), Role::Manager, team)
                    .await?;
                sales_teams.push((team, region_index));
            }
        }
    }
    let mut reps = vec![Vec::new(); ORG.len()];
    for i in 0..REPS {
        let (team, region) = sales_teams[i % sales_teams.len()];
        reps[region].push(w.user(&format!("rep{:02}", i + 1), Role::Rep, team).await?);
    }
    w.tx.commit().await?;
    Ok(reps)
}

/// Adds the demo org tree and users (where missing) and `leads` leads with their follow-ups,
/// created over the year before `now`. Calls `progress` with the number of leads written so far
/// after each commit (every 50,000 leads). Demo records get no history rows.
pub async fn generate(
    db: &Db,
    leads: u64,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<DemoSummary> {
    let now_ms = to_millis(now);
    let mut summary = DemoSummary::default();
    let reps = org(db, now_ms, &mut summary).await?;
    let last_id = db
        .fetch_optional("SELECT COALESCE(MAX(id), 0) AS n FROM leads", &[])
        .await?
        .map_or(0, |r| r.int("n"));
    let mut rng = StdRng::seed_from_u64(SEED ^ last_id as u64);

    let lead_head = format!(
        "INSERT INTO leads ({}, custom) VALUES ",
        LEAD_COLUMNS.join(", ")
    );
    let lead_row = format!("({}, '{{}}')", vec!["?"; LEAD_COLUMNS.len()].join(", "));
    let activity_head = "INSERT INTO activities (record_type, record_id, type, outcome, content, next_follow_up_at, owner_id, created_by, created_at, updated_at) VALUES ";
    let activity_row = format!("('lead', {})", ["?"; ACTIVITY_PARAMS].join(", "));
    let year_ago = now_ms - YEAR_MS;
    let slot_ms = (YEAR_MS / leads.max(1) as i64).max(1);

    while summary.leads < leads {
        let batch = (leads - summary.leads).min(LEADS_PER_COMMIT);
        let mut params = Vec::with_capacity(batch as usize * LEAD_COLUMNS.len());
        for k in summary.leads..summary.leads + batch {
            // Creation times rise with the ids, as in a real system; that also makes the
            // created_at indexes grow at their ends, which keeps large loads fast.
            let slot_start =
                year_ago + (i128::from(k) * i128::from(YEAR_MS) / i128::from(leads)) as i64;
            let created_at = slot_start + rng.gen_range(0..slot_ms);
            lead(&mut rng, &reps, created_at, now_ms).push_params(&mut params);
        }
        let mut tx = db.begin().await?;
        let mut inserted = insert_many(
            &mut tx,
            &lead_head,
            &lead_row,
            LEAD_COLUMNS.len(),
            &params,
            " RETURNING id, owner_id, created_at, status, name, company, email_normalized, phone_normalized",
        )
        .await?;
        // RETURNING gives no order guarantee; sorting keeps the data repeatable.
        inserted.sort_by_key(|r| r.int("id"));
        index_for_search(&mut tx, &inserted).await?;
        let mut follow_ups = Vec::new();
        for row in &inserted {
            summary.activities += activities(&mut rng, row, now_ms, &mut follow_ups);
        }
        insert_many(
            &mut tx,
            activity_head,
            &activity_row,
            ACTIVITY_PARAMS,
            &follow_ups,
            "",
        )
        .await?;
        tx.commit().await?;
        summary.leads += batch;
        progress(summary.leads);
    }
    let mut tx = db.begin().await?;
    summary.opportunities = opportunities(&mut tx, &mut rng, last_id, now_ms).await?;
    summary.pooled = public_pool(&mut tx, &reps, last_id, now_ms).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Reasons a demo deal was lost.
const LOST_REASONS: &[&str] = &["价格太高", "选择了竞争对手", "预算取消", "需求变化"];

/// An opportunity for every converted lead after `after_id`, linked back to it: about 45% open
/// in one of the open stages, 35% won, 20% lost with a reason; amounts from ¥20,000 to
/// ¥2,000,000.
async fn opportunities(
    tx: &mut Tx,
    rng: &mut StdRng,
    after_id: i64,
    now_ms: i64,
) -> anyhow::Result<u64> {
    let stages = tx
        .fetch_all(
            "SELECT code, probability, kind FROM pipeline_stages WHERE active = 1 ORDER BY position",
            &[],
        )
        .await?;
    let of_kind =
        |kind: &str| -> Vec<&Row> { stages.iter().filter(|r| r.text("kind") == kind).collect() };
    let (open, won, lost) = (of_kind("open"), of_kind("won"), of_kind("lost"));
    let (Some(won), Some(lost)) = (won.first(), lost.first()) else {
        return Ok(0);
    };
    if open.is_empty() {
        return Ok(0);
    }
    let leads = tx
        .fetch_all(
            "SELECT id, owner_id, company, name, created_at FROM leads WHERE id > ? AND status = 'converted' ORDER BY id",
            &[Param::Int(after_id)],
        )
        .await?;
    const COLUMNS: usize = 13;
    let mut params = Vec::with_capacity(leads.len() * COLUMNS);
    for lead in &leads {
        let created = lead.int("created_at");
        let roll = rng.gen_range(0..100);
        let (stage, result) = match roll {
            0..=44 => (*one_of(rng, &open), "open"),
            45..=79 => (*won, "won"),
            _ => (*lost, "lost"),
        };
        let closed_at =
            (result != "open").then(|| (created + rng.gen_range(7..90) * DAY_MS).min(now_ms));
        let close_date = DateTime::from_timestamp_millis(created + rng.gen_range(30..120) * DAY_MS)
            .map(|d| d.format("%Y-%m-%d").to_string());
        let title = lead
            .opt_text("company")
            .unwrap_or_else(|| lead.text("name"));
        params.extend([
            Param::from(format!("{title} 采购项目")),
            Param::Int(lead.int("id")),
            Param::Int(rng.gen_range(20..2_000) * 1_000 * 100),
            Param::from(stage.text("code")),
            Param::Int(stage.int("probability")),
            Param::from(close_date),
            Param::from(lead.opt_int("owner_id")),
            Param::from(result),
            if result == "lost" {
                Param::from(*one_of(rng, LOST_REASONS))
            } else {
                Param::NullText
            },
            Param::from(closed_at),
            Param::from(lead.opt_int("owner_id")),
            Param::Int(created),
            Param::Int(closed_at.unwrap_or(created)),
        ]);
    }
    let created = insert_many(
        tx,
        "INSERT INTO opportunities (name, lead_id, amount_cents, stage, probability, \
         expected_close_date, owner_id, result, close_reason, closed_at, created_by, created_at, \
         updated_at) VALUES ",
        &format!("({})", vec!["?"; COLUMNS].join(", ")),
        COLUMNS,
        &params,
        " RETURNING id, lead_id",
    )
    .await?;
    // Each converted lead points at its opportunity, as a conversion leaves it.
    for chunk in created.chunks(500) {
        let mut params = Vec::with_capacity(chunk.len() * 3);
        for row in chunk {
            params.extend([Param::Int(row.int("lead_id")), Param::Int(row.int("id"))]);
        }
        params.extend(chunk.iter().map(|r| Param::Int(r.int("lead_id"))));
        tx.execute(
            &format!(
                "UPDATE leads SET converted_opportunity_id = CASE id {} END WHERE id IN ({})",
                vec!["WHEN ? THEN ?"; chunk.len()].join(" "),
                vec!["?"; chunk.len()].join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(created.len() as u64)
}

/// The demo's public pool (公海) with every demo rep as a member (created once), and the `new`
/// leads after `after_id` that nobody touched for 60 days returned to it, one in ten of them.
async fn public_pool(
    tx: &mut Tx,
    reps: &[Vec<i64>],
    after_id: i64,
    now_ms: i64,
) -> anyhow::Result<u64> {
    const NAME: &str = "全国公海";
    let pool = match tx
        .fetch_optional(
            "SELECT id FROM pools WHERE name = ? AND deleted_at IS NULL",
            &[Param::from(NAME)],
        )
        .await?
    {
        Some(row) => row.int("id"),
        None => {
            let id = tx
                .insert_returning_id(
                    "INSERT INTO pools (name, max_held, max_claims_per_day, cooldown_days, \
                     protection_days, protection_max_days, created_at, updated_at) \
                     VALUES (?, 200, 20, 7, 15, 60, ?, ?)",
                    &[Param::from(NAME), Param::Int(now_ms), Param::Int(now_ms)],
                )
                .await?;
            for rep in reps.iter().flatten() {
                tx.execute(
                    "INSERT INTO pool_members (pool_id, user_id) VALUES (?, ?)",
                    &[Param::Int(id), Param::Int(*rep)],
                )
                .await?;
            }
            id
        }
    };
    let pooled = tx
        .execute(
            "UPDATE leads SET owner_id = NULL, pool_id = ?, pooled_at = ?, assigned_at = NULL \
             WHERE id > ? AND status = 'new' AND created_at < ? AND id % 10 = 0 \
             AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.record_type = 'lead' AND a.record_id = leads.id)",
            &[
                Param::Int(pool),
                Param::Int(now_ms),
                Param::Int(after_id),
                Param::Int(now_ms - 60 * DAY_MS),
            ],
        )
        .await?;
    Ok(pooled)
}

/// Demo leads are searchable like any other: their grams go into the search index in the same
/// transaction, in chunks that stay under the bind-parameter limits.
async fn index_for_search(tx: &mut Tx, rows: &[Row]) -> anyhow::Result<()> {
    for chunk in rows.chunks(10_000) {
        let leads: Vec<search::Searchable> = chunk.iter().map(search::Searchable::of).collect();
        search::index(tx, &leads, false).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use xiansuo_app::admin::users::verify_password;
    use xiansuo_core::{Email, Phone};

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn mobiles_are_valid_chinese_numbers_in_every_typed_shape() {
        let mut rng = rng();
        let mut shapes = std::collections::HashSet::new();
        for _ in 0..5_000 {
            let (entered, e164) = mobile(&mut rng);
            let parsed = Phone::parse(&entered)
                .unwrap_or_else(|e| panic!("{entered} does not parse: {e:?}"));
            assert_eq!(parsed.e164(), e164, "{entered}");
            shapes.insert(entered.replace(|c: char| c.is_ascii_digit(), "9"));
        }
        assert!(shapes.contains("999 9999 9999"));
        assert!(shapes.contains("+99 999-9999-9999"));
        assert!(shapes.contains("99999999999"));
    }

    #[test]
    fn every_mobile_prefix_is_valid() {
        for prefix in MOBILE_PREFIXES {
            for rest in ["00138000", "12345678", "99999999"] {
                let number = format!("{prefix}{rest}");
                assert!(Phone::parse(&number).is_ok(), "{number}");
            }
        }
    }

    #[test]
    fn names_are_chinese_and_many_have_two_characters() {
        let mut rng = rng();
        let names: Vec<String> = (0..10_000).map(|_| person(&mut rng).0).collect();
        let two = names.iter().filter(|n| n.chars().count() == 2).count();
        assert!((3_000..7_000).contains(&two), "{two} two-character names");
        assert!(names.iter().any(|n| n.chars().count() == 3));
        assert!(names.iter().any(|n| n == "张伟"));
        assert!(names
            .iter()
            .all(|n| n.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))));
    }

    #[test]
    fn companies_read_like_registered_chinese_companies() {
        let mut rng = rng();
        for _ in 0..1_000 {
            let (name, industry, _) = company(&mut rng, "上海");
            assert!(name.contains("上海"), "{name}");
            assert!(name.ends_with("公司"), "{name}");
            assert!(!industry.is_empty());
        }
    }

    #[test]
    fn emails_are_valid_ascii_addresses() {
        let mut rng = rng();
        for _ in 0..1_000 {
            let (_, surname, given) = person(&mut rng);
            let address = email_address(&mut rng, surname, given, Some("hengyuan"));
            assert!(address.is_ascii(), "{address}");
            assert!(Email::parse(&address).is_ok(), "{address}");
        }
    }

    /// A SQLite file in the temp directory, removed with its WAL files when dropped.
    struct TempDb(PathBuf);

    impl TempDb {
        fn new(tag: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("xiansuo-demo-{tag}-{}.db", std::process::id()));
            let db = TempDb(path);
            db.remove();
            db
        }

        fn url(&self) -> String {
            format!("sqlite://{}", self.0.display())
        }

        fn remove(&self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            self.remove();
        }
    }

    async fn count(db: &Db, sql: &str) -> i64 {
        db.fetch_optional(sql, &[]).await.unwrap().unwrap().int("n")
    }

    #[tokio::test]
    async fn fills_a_database_and_adds_to_it_on_a_second_run() {
        let file = TempDb::new("fill");
        let db = Db::connect(&file.url()).await.unwrap();
        xiansuo_app::migrate(&db, 0).await.unwrap();
        let now: DateTime<Utc> = "2026-03-01T08:00:00Z".parse().unwrap();
        let now_ms = to_millis(now);

        let mut seen = Vec::new();
        let first = generate(&db, 2_000, now, |done| seen.push(done))
            .await
            .unwrap();
        assert_eq!(seen, [2_000]);
        assert_eq!((first.teams, first.users, first.leads), (26, 51, 2_000));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM leads").await, 2_000);
        let some = db
            .fetch_optional("SELECT id, name FROM leads WHERE id = 1234", &[])
            .await
            .unwrap()
            .unwrap();
        let (condition, _) = search::candidates(&db, &some.text("name"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            condition.contains("IN (SELECT")
                || condition.split(&['(', ',', ')'][..]).any(|id| id == "1234"),
            "demo leads are in the search index: {condition}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM leads WHERE company IS NOT NULL AND company_key IS NULL"
            )
            .await,
            0,
            "demo leads with a company have its key, so their duplicates are found"
        );
        let followed_up = count(
            &db,
            "SELECT COUNT(DISTINCT record_id) AS n FROM activities WHERE record_type = 'lead'",
        )
        .await;
        assert!(
            (300..=500).contains(&followed_up),
            "{followed_up} of 2,000 leads followed up: about one in five should be"
        );
        assert!((followed_up..=3 * followed_up).contains(&(first.activities as i64)));
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM activities WHERE record_type = 'lead' AND record_id IN (SELECT id FROM leads)").await,
            first.activities as i64
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM leads l JOIN users u ON u.id = l.owner_id WHERE u.role = 'rep' AND l.created_by = l.owner_id").await,
            2_000 - first.pooled as i64,
            "every lead outside the public pool is owned and created by a rep"
        );
        assert!(first.pooled > 0);
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM leads WHERE pool_id IS NOT NULL AND owner_id IS NULL AND status = 'new'").await,
            first.pooled as i64
        );
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM pool_members").await,
            REPS as i64,
            "every rep may claim from the pool"
        );
        let converted = count(
            &db,
            "SELECT COUNT(*) AS n FROM leads WHERE status = 'converted'",
        )
        .await;
        assert!(converted > 0);
        assert_eq!(first.opportunities as i64, converted);
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM leads l JOIN opportunities o ON o.id = l.converted_opportunity_id AND o.lead_id = l.id AND o.owner_id = l.owner_id").await,
            converted,
            "each converted lead points at its own deal, held by its owner"
        );
        for (result, condition) in [
            ("won", "stage = 'paid' AND closed_at IS NOT NULL"),
            ("lost", "stage = 'lost' AND close_reason IS NOT NULL"),
            (
                "open",
                "closed_at IS NULL AND probability BETWEEN 10 AND 90",
            ),
        ] {
            let n = count(&db, &format!("SELECT COUNT(*) AS n FROM opportunities WHERE result = '{result}' AND {condition}")).await;
            assert!(n > 0, "some demo deals are {result}");
        }
        let in_last_year = format!(
            "SELECT COUNT(*) AS n FROM leads WHERE created_at BETWEEN {} AND {now_ms} AND updated_at BETWEEN created_at AND {now_ms}",
            now_ms - YEAR_MS
        );
        assert_eq!(count(&db, &in_last_year).await, 2_000);
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM leads a JOIN leads b ON b.id = a.id + 1 WHERE b.created_at < a.created_at").await,
            0,
            "later ids were created later"
        );
        assert!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM leads WHERE length(name) = 2"
            )
            .await
                > 500
        );
        assert!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM leads WHERE status IN ('new', 'working')"
            )
            .await
                > 1_000
        );
        assert!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM leads WHERE phone_normalized LIKE '+861__________'"
            )
            .await
                == 2_000
        );
        let shanghai_team = db
            .fetch_optional(
                "SELECT t.kind, p.name AS parent FROM teams t JOIN teams p ON p.id = t.parent_id WHERE t.name = '上海一组'",
                &[],
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shanghai_team.text("kind"), "team");
        assert_eq!(shanghai_team.text("parent"), "上海分公司");
        let rep = db
            .fetch_optional(
                "SELECT password_hash FROM users WHERE username = 'rep01'",
                &[],
            )
            .await
            .unwrap()
            .unwrap();
        assert!(verify_password(DEMO_PASSWORD, &rep.text("password_hash")));

        let second = generate(&db, 1_000, now, |_| {}).await.unwrap();
        assert_eq!((second.teams, second.users, second.leads), (0, 0, 1_000));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM leads").await, 3_000);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users").await, 51);
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM pool_members").await,
            REPS as i64,
            "the pool is made once"
        );
        db.close().await;
    }

    /// Times a full load: `XIANSUO_DEMO_LEADS=1000000 cargo test --release -p xiansuo --bin xiansuo
    /// demo::tests::times_a_large_load -- --ignored --nocapture`, into a temporary SQLite file or
    /// the (empty) database named by `XIANSUO_DEMO_DATABASE_URL`.
    #[tokio::test]
    #[ignore = "a benchmark; run on demand in release mode"]
    async fn times_a_large_load() {
        let leads = std::env::var("XIANSUO_DEMO_LEADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let file = TempDb::new("timed");
        let url = std::env::var("XIANSUO_DEMO_DATABASE_URL").unwrap_or_else(|_| file.url());
        let db = Db::connect(&url).await.unwrap();
        xiansuo_app::migrate(&db, 0).await.unwrap();
        let started = std::time::Instant::now();
        let summary = generate(&db, leads, Utc::now(), |done| {
            eprintln!("{done} leads after {:.1?}", started.elapsed())
        })
        .await
        .unwrap();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{summary:?} in {secs:.1} s: {:.0} leads/s, {:.0} rows/s",
            summary.leads as f64 / secs,
            (summary.leads + summary.activities) as f64 / secs
        );
        assert_eq!(summary.leads, leads);
        db.close().await;
    }
}
