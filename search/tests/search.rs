//! The search index against an in-memory SQLite with a small, realistic catalogue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rusqlite::Connection;
use search::{Doc, Hit, MatchKind, SearchError, Synonyms};

const DIV: &str = "410403000000-000";

fn doc(basic: &str, name: &str, dept: &str, theme: &str, text: &str, kw: &[&str], pop: u64) -> Doc {
    Doc {
        code: format!("{basic}-{DIV}-11410403MB0000000X-1-00"),
        name: name.to_owned(),
        department: dept.to_owned(),
        theme: theme.to_owned(),
        text: text.to_owned(),
        keywords: kw.iter().map(|k| (*k).to_owned()).collect(),
        popularity: pop,
    }
}

const POLICE: &str = "平顶山市公安局卫东分局";
const CIVIL: &str = "卫东区民政局";
const HRSS: &str = "卫东区人力资源和社会保障局";
const MARKET: &str = "卫东区市场监督管理局";

fn catalogue() -> Vec<Doc> {
    vec![
        doc(
            "20010100001001",
            "居民身份证换领",
            POLICE,
            "身份证件",
            "居民身份证有效期满、证件严重损坏不能辨认或者登记项目变更的，应当申请换领。材料：原居民身份证、居民户口簿。",
            &["换身份证"],
            900,
        ),
        doc(
            "20010100002001",
            "临时居民身份证申领",
            POLICE,
            "身份证件",
            "正在申领、换领居民身份证期间急需使用的，可以申请临时居民身份证，有效期三个月。",
            &["临时身份证"],
            120,
        ),
        doc(
            "20010200001001",
            "户口迁移（迁入）",
            POLICE,
            "户籍办理",
            "符合落户条件的，凭准予迁入证明办理户口迁入。材料：居民户口簿、居民身份证、房屋所有权证明。",
            &["落户"],
            300,
        ),
        doc(
            "20010200002001",
            "户口迁移（迁出）",
            POLICE,
            "户籍办理",
            "迁往本市以外的，凭迁入地准迁证明办理迁出，领取户口迁移证。",
            &[],
            300,
        ),
        doc(
            "20010300001001",
            "出生登记",
            POLICE,
            "户籍办理",
            "婴儿出生后一个月以内，由监护人持出生医学证明、父母居民户口簿申报出生登记。",
            &["上户口", "报户口"],
            450,
        ),
        doc(
            "20020100001001",
            "最低生活保障申请",
            CIVIL,
            "社会救助",
            "共同生活的家庭成员人均收入低于当地城乡最低生活保障标准，且家庭财产状况符合规定的，可以申请。",
            &[],
            260,
        ),
        doc(
            "20020100002001",
            "低保边缘家庭认定",
            CIVIL,
            "社会救助",
            "家庭人均收入高于当地最低生活保障标准，但低于标准1.5倍，且财产状况符合规定的家庭。",
            &["低边"],
            40,
        ),
        doc(
            "20020200001001",
            "临时救助",
            CIVIL,
            "社会救助",
            "因火灾、交通事故等意外事件或家庭成员突发重大疾病，导致基本生活暂时出现严重困难的家庭或个人。",
            &["救急难"],
            80,
        ),
        doc(
            "20020300001001",
            "特困人员救助供养",
            CIVIL,
            "社会救助",
            "无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人以及未成年人。已纳入低保的，可转为特困供养。申请临时救助的家庭可同时申请。",
            &["五保"],
            500,
        ),
        doc(
            "20020400001001",
            "结婚登记",
            CIVIL,
            "婚姻登记",
            "内地居民结婚，男女双方应当共同到一方当事人常住户口所在地的婚姻登记机关办理结婚登记。",
            &["领结婚证"],
            700,
        ),
        doc(
            "20030100001001",
            "城乡居民基本医疗保险参保登记",
            HRSS,
            "社会保障",
            "未参加职工基本医疗保险的城乡居民，以家庭为单位按年度缴费参保。",
            &["居民医保"],
            650,
        ),
        doc(
            "20030200001001",
            "长期护理保险失能评估申请",
            HRSS,
            "社会保障",
            "参保人员因年老、疾病、伤残导致长期失能，经评估达到重度失能标准的，可享受长期护理保险待遇。",
            &["长护险"],
            30,
        ),
        doc(
            "20040100001001",
            "个体工商户设立登记",
            MARKET,
            "市场主体",
            "有经营能力的公民从事工商业经营，依法登记为个体工商户。经营者本人身份证明、经营场所证明。",
            &["办营业执照"],
            820,
        ),
        doc(
            "20040200001001",
            "食品经营许可",
            MARKET,
            "市场主体",
            "从事食品销售和餐饮服务活动，应当依法取得食品经营许可。材料：食品安全管理制度、从业人员健康证明。",
            &[],
            410,
        ),
        doc(
            "20050100001001",
            "无犯罪记录证明",
            POLICE,
            "证明开具",
            "本人申请须提交居民身份证。委托他人代办的，提交委托书及双方身份证，如申请人张伟委托其配偶代办。",
            &["良民证"],
            350,
        ),
        doc(
            "20060100001001",
            "公共租赁住房申请",
            "卫东区住房和城乡建设局",
            "住房保障",
            "本区户籍的城镇中等偏下收入住房困难家庭，可申请公共租赁住房。",
            &["公租房"],
            200,
        ),
    ]
}

fn index() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    search::create_schema(&conn).unwrap();
    for d in catalogue() {
        search::upsert(&conn, &d).unwrap();
    }
    conn
}

/// Looks up the code of the catalogue doc with this name.
fn code_of(name: &str) -> String {
    catalogue()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap()
        .code
}

fn name_of(code: &str) -> String {
    catalogue()
        .into_iter()
        .find(|d| d.code == code)
        .map(|d| d.name)
        .unwrap_or_default()
}

fn find(conn: &Connection, q: &str) -> (Vec<Hit>, u64) {
    search::search(conn, &Synonyms::shipped(), q, 100, 0).unwrap()
}

fn names(hits: &[Hit]) -> Vec<String> {
    hits.iter().map(|h| name_of(&h.code)).collect()
}

fn kind_of(hits: &[Hit], name: &str) -> Option<MatchKind> {
    let code = code_of(name);
    hits.iter().find(|h| h.code == code).map(|h| h.matched)
}

#[test]
fn two_character_query_finds_name_synonym_and_text_hits_in_that_order() {
    let conn = index();
    let (hits, total) = find(&conn, "低保");
    let got = names(&hits);
    assert_eq!(total as usize, hits.len());
    assert_eq!(
        got.first().map(String::as_str),
        Some("低保边缘家庭认定"),
        "{got:?}"
    );
    assert_eq!(kind_of(&hits, "低保边缘家庭认定"), Some(MatchKind::Name));
    // Keywords empty: found through the 低保/最低生活保障 synonym group.
    assert_eq!(kind_of(&hits, "最低生活保障申请"), Some(MatchKind::Keyword));
    assert_eq!(kind_of(&hits, "特困人员救助供养"), Some(MatchKind::Text));
    let pos = |n: &str| got.iter().position(|g| g == n).unwrap();
    assert!(pos("最低生活保障申请") < pos("特困人员救助供养"), "{got:?}");
}

#[test]
fn one_character_query_works_although_trigrams_cannot_match_it() {
    let conn = index();
    let (hits, total) = find(&conn, "户");
    let got = names(&hits);
    assert!(total >= 5, "{got:?}");
    // Names starting with 户 come before names merely containing it, and before text hits.
    assert!(
        got.iter().take(2).all(|n| n.starts_with("户口迁移")),
        "{got:?}"
    );
    assert_eq!(kind_of(&hits, "个体工商户设立登记"), Some(MatchKind::Name));
    assert_eq!(kind_of(&hits, "出生登记"), Some(MatchKind::Keyword));
}

#[test]
fn two_character_text_only_word_is_found_in_the_guide_text() {
    let conn = index();
    let (hits, total) = find(&conn, "张伟");
    assert_eq!(total, 1);
    assert_eq!(names(&hits), vec!["无犯罪记录证明"]);
    assert_eq!(hits.first().map(|h| h.matched), Some(MatchKind::Text));
}

#[test]
fn initials_find_both_household_moves() {
    let conn = index();
    for q in ["hkqy", "HKQY", "hkqyqr"] {
        let (hits, _) = find(&conn, q);
        let got = names(&hits);
        assert!(got.contains(&"户口迁移（迁入）".to_owned()), "{q}: {got:?}");
        assert_eq!(
            kind_of(&hits, "户口迁移（迁入）"),
            Some(MatchKind::Initials),
            "{q}"
        );
    }
    let (hits, total) = find(&conn, "hkqy");
    assert_eq!(total, 2, "{:?}", names(&hits));
    let (hits, _) = find(&conn, "hkqyqc");
    assert_eq!(names(&hits), vec!["户口迁移（迁出）"]);
}

#[test]
fn full_pinyin_prefix_and_substring_match() {
    let conn = index();
    let (hits, _) = find(&conn, "hukou");
    let got = names(&hits);
    assert!(
        got.iter().take(2).all(|n| n.starts_with("户口迁移")),
        "{got:?}"
    );
    assert_eq!(kind_of(&hits, "户口迁移（迁出）"), Some(MatchKind::Pinyin));
    // Through the keyword 上户口 (shanghukou).
    assert_eq!(kind_of(&hits, "出生登记"), Some(MatchKind::Pinyin));
    // Substring of the name's pinyin, and a syllable cut short while typing.
    assert!(names(&find(&conn, "qianchu").0).contains(&"户口迁移（迁出）".to_owned()));
    assert!(names(&find(&conn, "jiehundeng").0).contains(&"结婚登记".to_owned()));
    // A single letter only counts at the start of a name or keyword (经 in 食品经营许可 does not).
    let got = names(&find(&conn, "j").0);
    assert!(got.contains(&"结婚登记".to_owned()) && got.contains(&"居民身份证换领".to_owned()));
    assert!(!got.contains(&"食品经营许可".to_owned()), "{got:?}");
}

#[test]
fn polyphonic_characters_match_under_every_reading() {
    let conn = index();
    for q in ["changqihuli", "cqhl", "zhangqi"] {
        let got = names(&find(&conn, q).0);
        assert!(
            got.contains(&"长期护理保险失能评估申请".to_owned()),
            "{q}: {got:?}"
        );
    }
}

#[test]
fn db_and_dibao_find_low_income_matters_through_name_or_keyword_pinyin() {
    let conn = search_with_keyword_doc();
    for q in ["db", "dibao", "DiBao"] {
        let (hits, _) = find(&conn, q);
        let got: Vec<String> = hits.iter().map(|h| name_of_any(&conn, &h.code)).collect();
        assert!(got.contains(&"低保边缘家庭认定".to_owned()), "{q}: {got:?}");
        // This one has 低保 only as a keyword.
        assert!(
            got.contains(&"城市低收入家庭认定".to_owned()),
            "{q}: {got:?}"
        );
    }
    let (hits, _) = find(&conn, "db");
    assert_eq!(
        hits.first().map(|h| name_of_any(&conn, &h.code)).as_deref(),
        Some("低保边缘家庭认定")
    );
}

fn search_with_keyword_doc() -> Connection {
    let conn = index();
    let mut d = doc(
        "20020100003001",
        "城市低收入家庭认定",
        CIVIL,
        "社会救助",
        "共同生活的家庭成员人均收入低于当地低收入标准的城市家庭。",
        &["低保"],
        10,
    );
    d.code = "LOWINCOME".to_owned();
    search::upsert(&conn, &d).unwrap();
    conn
}

fn name_of_any(conn: &Connection, code: &str) -> String {
    conn.query_row("SELECT name FROM search_doc WHERE code = ?1", [code], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn three_character_query_uses_full_text_and_synonyms() {
    let conn = index();
    let (hits, _) = find(&conn, "身份证");
    let got = names(&hits);
    let mut first_two = got.get(..2).map(<[String]>::to_vec).unwrap_or_default();
    first_two.sort();
    assert_eq!(
        first_two,
        vec!["临时居民身份证申领", "居民身份证换领"],
        "{got:?}"
    );
    assert_eq!(kind_of(&hits, "居民身份证换领"), Some(MatchKind::Name));
    assert_eq!(kind_of(&hits, "无犯罪记录证明"), Some(MatchKind::Text));
}

#[test]
fn synonym_groups_reach_matters_that_never_use_the_words() {
    let conn = index();
    let (hits, _) = find(&conn, "开饭店");
    assert_eq!(
        names(&hits).first().map(String::as_str),
        Some("食品经营许可")
    );
    assert_eq!(kind_of(&hits, "食品经营许可"), Some(MatchKind::Keyword));

    let (hits, total) = search::search(&conn, &Synonyms::default(), "开饭店", 10, 0).unwrap();
    assert_eq!((hits.len(), total), (0, 0), "no synonyms, no hit");

    let own = Synonyms::parse("# 自定义\n老来难,高龄,特困");
    let (hits, _) = search::search(&conn, &own, "老来难", 10, 0).unwrap();
    assert_eq!(names(&hits), vec!["特困人员救助供养"]);
}

#[test]
fn exact_name_beats_a_more_popular_text_only_hit() {
    let conn = index();
    // 特困人员救助供养 mentions 临时救助 in its text and is far more popular.
    let (hits, total) = find(&conn, "临时救助");
    assert_eq!(total, 2);
    assert_eq!(names(&hits), vec!["临时救助", "特困人员救助供养"]);
    let scores: Vec<f64> = hits.iter().map(|h| h.score).collect();
    assert!(scores.first() > scores.get(1), "{scores:?}");
    assert_eq!(hits.first().map(|h| h.matched), Some(MatchKind::Name));
}

#[test]
fn popularity_then_code_orders_equal_matches() {
    let conn = index();
    let order = |conn: &Connection| names(&find(conn, "hkqy").0);
    // Same class, same name length, same popularity: code decides (迁入 < 迁出 by code).
    assert_eq!(order(&conn), vec!["户口迁移（迁入）", "户口迁移（迁出）"]);
    search::set_popularity(&conn, &code_of("户口迁移（迁出）"), 5000).unwrap();
    assert_eq!(order(&conn), vec!["户口迁移（迁出）", "户口迁移（迁入）"]);
    let err = search::set_popularity(&conn, "NO-SUCH-CODE", 1).unwrap_err();
    assert!(matches!(err, SearchError::NotFound(_)));
}

#[test]
fn pages_are_disjoint_and_total_counts_every_match() {
    let conn = index();
    let (all, total) = find(&conn, "登记");
    assert!(total >= 5, "{total}");
    assert_eq!(all.len() as u64, total);
    let syn = Synonyms::shipped();
    let (p1, t1) = search::search(&conn, &syn, "登记", 2, 0).unwrap();
    let (p2, t2) = search::search(&conn, &syn, "登记", 2, 2).unwrap();
    assert_eq!((t1, t2), (total, total));
    assert_eq!([p1, p2].concat(), all.get(..4).unwrap().to_vec());
    let (past_end, t3) = search::search(&conn, &syn, "登记", 10, 1000).unwrap();
    assert!(past_end.is_empty());
    assert_eq!(t3, total);
}

#[test]
fn mixed_queries_require_every_term() {
    let conn = index();
    assert_eq!(names(&find(&conn, "户口 迁出").0), vec!["户口迁移（迁出）"]);
    let (hits, _) = find(&conn, "hukou  出生");
    assert_eq!(names(&hits), vec!["出生登记"]);
    assert_eq!(
        hits.first().map(|h| h.matched),
        Some(MatchKind::Pinyin),
        "weakest term decides"
    );
    assert_eq!(find(&conn, "户口 张伟").1, 0);
    let (hits, _) = find(&conn, "证明 张伟");
    assert_eq!(names(&hits), vec!["无犯罪记录证明"]);
    assert_eq!(
        hits.first().map(|h| h.matched),
        Some(MatchKind::Text),
        "weakest term decides"
    );
}

#[test]
fn digits_match_matter_codes() {
    let conn = index();
    let (hits, total) = find(&conn, "20040200001001");
    assert_eq!(total, 1);
    assert_eq!(names(&hits), vec!["食品经营许可"]);
    assert_eq!(hits.first().map(|h| h.matched), Some(MatchKind::Keyword));
    let full = code_of("结婚登记");
    let (hits, _) = find(&conn, &full);
    assert_eq!(names(&hits), vec!["结婚登记"]);
    assert!(
        hits.first().unwrap().score >= 5.0,
        "an exact code is the best match"
    );
}

#[test]
fn upsert_reindexes_a_changed_matter_and_remove_drops_it() {
    let conn = index();
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let before = count("search_doc");
    let mut changed = catalogue()
        .into_iter()
        .find(|d| d.name == "临时救助")
        .unwrap();
    changed.name = "急难型临时救助".to_owned();
    changed.keywords = vec!["救急".to_owned()];
    changed.text = "突发事件导致生活困难的家庭".to_owned();
    search::upsert(&conn, &changed).unwrap();
    assert_eq!(count("search_doc"), before);
    assert_eq!(count("search_fts"), before);

    let (hits, total) = find(&conn, "急难型");
    assert_eq!(total, 1);
    assert_eq!(
        hits.first().map(|h| h.code.clone()),
        Some(changed.code.clone())
    );
    let no_synonyms = Synonyms::default();
    let old_keyword = search::search(&conn, &no_synonyms, "救急难", 10, 0).unwrap();
    assert_eq!(old_keyword.1, 0, "the old keyword is gone");
    assert_eq!(find(&conn, "jnxlsjz").1, 1, "initials of the new name");

    search::remove(&conn, &changed.code).unwrap();
    search::remove(&conn, &changed.code).unwrap();
    assert_eq!(count("search_doc"), before - 1);
    assert_eq!(count("search_fts"), before - 1);
    assert_eq!(find(&conn, "急难型").1, 0);
    assert_eq!(
        find(&conn, "临时救助").1,
        1,
        "only the text mention is left"
    );
}

#[test]
fn create_schema_is_idempotent_and_keeps_the_index() {
    let conn = index();
    search::create_schema(&conn).unwrap();
    assert_eq!(find(&conn, "结婚登记").1, 1);
}

#[test]
fn empty_and_overlong_queries_are_refused_with_readable_messages() {
    let conn = index();
    let syn = Synonyms::shipped();
    for q in ["", "   ", "\u{3000}\t\n"] {
        let err = search::search(&conn, &syn, q, 10, 0).unwrap_err();
        assert!(matches!(err, SearchError::EmptyQuery), "{q:?}");
        assert_eq!(err.zh(), "请输入搜索内容");
        assert!(err.to_string().contains("请输入搜索内容"));
    }
    let long = "户口迁移".repeat(17);
    let err = search::search(&conn, &syn, &long, 10, 0).unwrap_err();
    assert!(matches!(err, SearchError::QueryTooLong));
    assert!(err.en().contains("64"));
}

#[test]
fn fts_syntax_and_like_wildcards_are_searched_literally() {
    let conn = index();
    let syn = Synonyms::shipped();
    let awkward = [
        "\"",
        "\"\"",
        "AND (",
        "OR",
        "NOT",
        "*",
        "户口*",
        "NEAR(",
        "NEAR(户口 迁移, 2)",
        "^",
        "^户口",
        "-",
        "-户口",
        ":",
        "name:户口",
        "{name}:户口",
        "(",
        ")",
        "\"低保",
        "低保\"",
        "'",
        "''",
        "%",
        "_",
        "\\",
        "%%%",
        "a_b",
        "'; DROP TABLE search_doc; --",
        "\0",
        "户\0口",
        "e\u{301}\u{301}\u{301}",
        "\u{301}",
        "户\u{301}",
        "😀",
        "😀😀😀",
        "👨‍👩‍👧",
        "\u{200b}",
        "\u{feff}低保",
        "ｈｋｑｙ",
        "İ",
        "ß",
        "\u{7f}",
        "户口迁移（迁入）",
    ];
    for q in awkward {
        let result = search::search(&conn, &syn, q, 10, 0);
        assert!(
            matches!(result, Ok(_) | Err(SearchError::EmptyQuery)),
            "{q:?}: {result:?}"
        );
    }
    // Wildcards are not wildcards: no matter contains these characters.
    for q in ["%", "_", "*", "\"", "%%%"] {
        assert_eq!(find(&conn, q).1, 0, "{q:?}");
    }
    assert_eq!(find(&conn, "1.5").1, 1, "a dot is literal too");
    assert_eq!(
        search::search(&conn, &syn, "户口迁移（迁入）", 10, 0)
            .unwrap()
            .0
            .first()
            .map(|h| h.score >= 5.0),
        Some(true)
    );
}

#[test]
fn generated_awkward_queries_never_fail_or_panic() {
    let conn = index();
    let syn = Synonyms::shipped();
    let alphabet: Vec<char> =
        "户口迁移低保证hkqydb\"'()*^-:+NEAR AND OR NOT{}[]%_\\\0\u{301}😀\u{3000}　，。1 "
            .chars()
            .collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..600 {
        let len = (next() % 12) as usize;
        let q: String = (0..len)
            .map(|_| {
                alphabet
                    .get((next() % alphabet.len() as u64) as usize)
                    .copied()
                    .unwrap_or('a')
            })
            .collect();
        let result = search::search(&conn, &syn, &q, 5, 0);
        assert!(
            matches!(result, Ok(_) | Err(SearchError::EmptyQuery)),
            "{q:?}: {result:?}"
        );
    }
}
