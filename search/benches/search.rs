//! Search latency over a ~2000-matter catalogue in a temporary file database.
//!
//! Runs 1000 mixed queries (1-, 2-, 3+-character Chinese, initials, full pinyin) through
//! `search::search` and, for comparison, the same 3+-character queries as a bare FTS5 `MATCH`.
//! Prints p50/p99/max in microseconds. Run with `cargo bench -p search`.

use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use search::{Doc, Synonyms};

/// (name, department, theme, keywords, condition, material) of one real-looking district matter.
type Base = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// Matters a district service centre handles.
const BASES: &[Base] = &[
    (
        "居民身份证换领",
        "公安分局",
        "身份证件",
        &["换身份证"],
        "有效期满或证件损坏",
        "原居民身份证",
    ),
    (
        "居民身份证挂失",
        "公安分局",
        "身份证件",
        &["身份证丢了"],
        "居民身份证丢失",
        "居民户口簿",
    ),
    (
        "临时居民身份证申领",
        "公安分局",
        "身份证件",
        &["临时身份证"],
        "申领期间急需使用",
        "户口簿",
    ),
    (
        "户口迁移（迁入）",
        "公安分局",
        "户籍办理",
        &["落户"],
        "符合落户条件",
        "准予迁入证明",
    ),
    (
        "户口迁移（迁出）",
        "公安分局",
        "户籍办理",
        &[],
        "迁往外地",
        "准迁证",
    ),
    (
        "出生登记",
        "公安分局",
        "户籍办理",
        &["上户口"],
        "婴儿出生一个月内",
        "出生医学证明",
    ),
    (
        "居住证办理",
        "公安分局",
        "户籍办理",
        &["暂住证"],
        "离开常住户口所在地居住半年以上",
        "居住证明",
    ),
    (
        "无犯罪记录证明",
        "公安分局",
        "证明开具",
        &["良民证"],
        "本人申请",
        "居民身份证",
    ),
    (
        "最低生活保障申请",
        "民政局",
        "社会救助",
        &[],
        "家庭人均收入低于保障标准",
        "收入证明",
    ),
    (
        "低保边缘家庭认定",
        "民政局",
        "社会救助",
        &["低边"],
        "收入略高于低保标准",
        "家庭财产申报表",
    ),
    (
        "特困人员救助供养",
        "民政局",
        "社会救助",
        &["五保"],
        "无劳动能力无生活来源",
        "特困人员申请书",
    ),
    (
        "临时救助",
        "民政局",
        "社会救助",
        &["救急难"],
        "突发事件导致生活困难",
        "事件说明",
    ),
    (
        "高龄津贴申领",
        "民政局",
        "养老服务",
        &["高龄补贴"],
        "年满八十周岁",
        "居民身份证",
    ),
    (
        "结婚登记",
        "民政局",
        "婚姻登记",
        &["领证"],
        "男女双方自愿",
        "居民户口簿",
    ),
    (
        "离婚登记",
        "民政局",
        "婚姻登记",
        &[],
        "双方自愿离婚",
        "结婚证",
    ),
    (
        "残疾人证申领",
        "残联",
        "残疾人服务",
        &["残疾证"],
        "经评定符合残疾标准",
        "残疾评定表",
    ),
    (
        "城乡居民基本医疗保险参保登记",
        "医疗保障局",
        "社会保障",
        &["居民医保"],
        "未参加职工医保",
        "户口簿",
    ),
    (
        "城乡居民基本养老保险参保登记",
        "人社局",
        "社会保障",
        &["新农保"],
        "年满十六周岁",
        "居民身份证",
    ),
    (
        "灵活就业人员社会保险登记",
        "人社局",
        "社会保障",
        &["个体社保"],
        "无雇工的个体工商户",
        "就业证明",
    ),
    (
        "就业失业登记",
        "人社局",
        "就业创业",
        &["失业证"],
        "有劳动能力和就业要求",
        "就业创业证",
    ),
    (
        "失业保险金申领",
        "人社局",
        "就业创业",
        &["失业金"],
        "非因本人意愿中断就业",
        "解除劳动合同证明",
    ),
    (
        "生育津贴申领",
        "医疗保障局",
        "社会保障",
        &["生育保险"],
        "参加生育保险的职工",
        "出生医学证明",
    ),
    (
        "个体工商户设立登记",
        "市场监督管理局",
        "市场主体",
        &["开店"],
        "有经营能力",
        "经营场所证明",
    ),
    (
        "有限责任公司设立登记",
        "市场监督管理局",
        "市场主体",
        &["开公司"],
        "股东符合法定人数",
        "公司章程",
    ),
    (
        "食品经营许可",
        "市场监督管理局",
        "市场主体",
        &[],
        "从事食品销售和餐饮服务",
        "食品安全管理制度",
    ),
    (
        "公共场所卫生许可",
        "卫生健康委员会",
        "卫生健康",
        &["卫生许可证"],
        "经营公共场所",
        "卫生检测报告",
    ),
    (
        "公共租赁住房申请",
        "住房和城乡建设局",
        "住房保障",
        &["公租房"],
        "住房困难家庭",
        "收入证明",
    ),
    (
        "住房公积金提取",
        "住房公积金管理中心",
        "住房保障",
        &["公积金"],
        "购房或租房",
        "购房合同",
    ),
    (
        "不动产登记",
        "自然资源局",
        "不动产",
        &["房产证"],
        "不动产首次登记或转移",
        "权属来源证明",
    ),
    (
        "义务教育新生入学",
        "教育局",
        "教育",
        &["上学"],
        "适龄儿童",
        "出生医学证明",
    ),
    (
        "退役军人优待证申领",
        "退役军人事务局",
        "退役军人",
        &["优待证"],
        "退役军人",
        "退役证件",
    ),
    (
        "退役士兵自主就业一次性经济补助",
        "退役军人事务局",
        "退役军人",
        &["退伍费"],
        "自主就业退役士兵",
        "退出现役证",
    ),
    (
        "机动车驾驶证换证",
        "公安分局",
        "交通出行",
        &["驾照"],
        "驾驶证有效期满",
        "体检证明",
    ),
    (
        "老年人优待证办理",
        "民政局",
        "养老服务",
        &["老年证"],
        "年满六十周岁",
        "照片",
    ),
    (
        "医疗救助申请",
        "医疗保障局",
        "社会救助",
        &[],
        "低保对象医疗费用负担过重",
        "医疗费用票据",
    ),
    (
        "城镇职工基本养老保险关系转移",
        "人社局",
        "社会保障",
        &["社保转移"],
        "跨地区就业",
        "参保缴费凭证",
    ),
    (
        "建设工程规划许可",
        "自然资源局",
        "工程建设",
        &[],
        "建设项目符合规划",
        "建设工程设计方案",
    ),
    (
        "排水许可",
        "城市管理局",
        "工程建设",
        &[],
        "向城镇排水设施排放污水",
        "排水设施图",
    ),
    (
        "燃气经营许可",
        "城市管理局",
        "市场主体",
        &[],
        "从事燃气经营",
        "安全评价报告",
    ),
    (
        "护照首次申领",
        "公安分局",
        "出入境",
        &["出国"],
        "中国公民出国",
        "居民身份证",
    ),
];

const STREETS: &[&str] = &[
    "东安路街道",
    "五一路街道",
    "建设路街道",
    "东工人镇街道",
    "光华路街道",
    "优越路街道",
    "鸿鹰街道",
    "东环路街道",
    "蒲城街道",
    "申楼街道",
];

const PEOPLE: &[&str] = &[
    "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强",
];

const ONE: &[&str] = &["户", "证", "保", "婚", "税", "房"];
const TWO: &[&str] = &[
    "低保", "户口", "社保", "医保", "结婚", "张伟", "公积", "残疾",
];
const THREE: &[&str] = &[
    "身份证",
    "营业执照",
    "最低生活保障",
    "公共租赁住房",
    "食品经营许可",
    "居住证",
    "退役军人",
    "不动产登记",
];
const INITIALS: &[&str] = &["hkqy", "db", "jhdj", "sfz", "gzf", "cxjm", "tyjr"];
const PINYIN: &[&str] = &[
    "hukou",
    "dibao",
    "jiehun",
    "shenfenzheng",
    "yiliao",
    "gongzufang",
    "tuiyi",
];

fn catalogue() -> Vec<Doc> {
    let mut docs = Vec::new();
    for (b, (name, dept, theme, keywords, condition, material)) in BASES.iter().enumerate() {
        for (s, street) in STREETS.iter().enumerate() {
            for batch in 1..=5 {
                let n = docs.len();
                let person = PEOPLE.get(n % PEOPLE.len()).copied().unwrap_or("张伟");
                docs.push(Doc {
                    code: format!("{:014}-410403{:03}{:03}-000-11410403MB{:07}X-1-{batch:02}", 20_010_000_001_001_u64 + b as u64 * 1000, s, batch, n),
                    name: if batch == 1 { format!("{name}（{street}）") } else { format!("{name}（{street}第{batch}窗口）") },
                    department: format!("卫东区{dept}"),
                    theme: (*theme).to_owned(),
                    text: format!(
                        "受理条件：{condition}。申请材料：居民身份证原件、{material}、近期免冠照片一张。\
                         办理流程：申请人提交材料，窗口受理，审核通过后出具结果。办理地点：卫东区政务服务中心{street}分中心{batch}号窗口，\
                         工作日上午九点至下午五点。法定时限二十个工作日，承诺时限{batch}个工作日，不收费。\
                         常见问题：委托他人代办的需提交委托书，例如申请人{person}委托亲属代办；材料不齐的一次性告知补正。"
                    ),
                    keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
                    popularity: ((n * 7919) % 1000) as u64,
                });
            }
        }
    }
    docs
}

fn queries() -> Vec<&'static str> {
    let lists = [ONE, TWO, THREE, INITIALS, PINYIN];
    (0..1000)
        .filter_map(|i| {
            let list = lists.get(i % lists.len())?;
            list.get((i / lists.len()) % list.len()).copied()
        })
        .collect()
}

fn percentiles(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| {
        let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples.get(i).map_or(0, Duration::as_micros)
    };
    println!(
        "{name:<34} n={:<5} p50={:>6} µs  p99={:>6} µs  max={:>6} µs",
        samples.len(),
        at(0.50),
        at(0.99),
        samples.last().map_or(0, Duration::as_micros)
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let path: PathBuf =
        std::env::temp_dir().join(format!("search-bench-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let result = run(&path);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    result
}

fn run(path: &std::path::Path) -> Result<(), Box<dyn Error>> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
    search::create_schema(&conn)?;
    let docs = catalogue();
    let started = Instant::now();
    conn.execute_batch("BEGIN")?;
    for doc in &docs {
        search::upsert(&conn, doc)?;
    }
    conn.execute_batch("COMMIT")?;
    println!(
        "indexed {} matters in {} ms",
        docs.len(),
        started.elapsed().as_millis()
    );

    let syn = Synonyms::shipped();
    let queries = queries();
    // Warm the page cache and the prepared-statement cache.
    for q in queries.iter().take(50) {
        black_box(search::search(&conn, &syn, q, 20, 0)?);
    }

    let mut all = Vec::new();
    let mut by_kind: [(&str, Vec<Duration>); 5] = [
        ("search(): 1 char", Vec::new()),
        ("search(): 2 chars", Vec::new()),
        ("search(): 3+ chars", Vec::new()),
        ("search(): initials", Vec::new()),
        ("search(): full pinyin", Vec::new()),
    ];
    let mut totals = 0u64;
    for (i, q) in queries.iter().enumerate() {
        let t = Instant::now();
        let (hits, total) = search::search(&conn, &syn, q, 20, 0)?;
        let elapsed = t.elapsed();
        black_box(hits);
        totals += total;
        all.push(elapsed);
        if let Some((_, v)) = by_kind.get_mut(i % 5) {
            v.push(elapsed);
        }
    }

    let mut stmt = conn.prepare("SELECT rowid FROM search_fts WHERE search_fts MATCH ?1")?;
    let mut bare = Vec::new();
    for (i, q) in queries.iter().enumerate().filter(|(i, _)| i % 5 == 2) {
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        let t = Instant::now();
        let rows: Vec<i64> = stmt
            .query_map([phrase], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        bare.push(t.elapsed());
        black_box((i, rows));
    }

    println!(
        "{} queries, {} matches in all (before paging)",
        queries.len(),
        totals
    );
    percentiles("search(): all 1000 mixed", all);
    for (name, samples) in by_kind {
        percentiles(name, samples);
    }
    percentiles("bare FTS5 MATCH (3+ chars)", bare);
    Ok(())
}
