//! The store on real SQLite files: durability across reopen, what is
//! wiped when, receipts, the cache, corrupt files, retention.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use chrono::Utc;
use common::*;
use outbox::{Delivered, Item, Label, Outbox, OutboxError, State};

fn case_reply(n: &str) -> Delivered {
    Delivered::Case {
        reply: proto::CaseCreated {
            case_number: n.into(),
            status: proto::CaseStatus::Submitted,
            submitted_at: "2026-11-28T10:00:00+08:00".into(),
            deadline: "2026-12-05".into(),
            track_code: "TRK123".into(),
        },
        replayed: false,
    }
}

#[test]
fn enqueued_items_are_there_after_reopen_with_keys_and_labels() {
    let dir = temp_dir("reopen");
    let db = dir.join("outbox.db");
    let id1 = id_number(1);
    let id2 = id_number(2);
    let (first, label1) = item("张伟", &id1, 50_000);
    let (mut second, label2) = item("李秀英", &id2, 0);
    if let Item::Submission(s) = &mut second {
        s.idempotency_key = "kiosk-7-000042".into();
    }
    let (q1, q2) = {
        let ob = Outbox::open(&db).unwrap();
        let q1 = ob.enqueue(first.clone(), label1.clone()).unwrap();
        let q2 = ob.enqueue(second.clone(), label2).unwrap();
        (q1, q2)
    };
    assert!(q2.seq > q1.seq);
    let key = uuid::Uuid::parse_str(&q1.idempotency_key).unwrap();
    assert_eq!(key.get_version_num(), 7, "an empty key becomes a UUIDv7");
    assert_eq!(
        q2.idempotency_key, "kiosk-7-000042",
        "the caller's key is kept"
    );

    let ob = Outbox::open(&db).unwrap();
    assert!(ob.quarantined().is_none());
    let pending = ob.pending().unwrap();
    assert_eq!(
        pending.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [q1.seq, q2.seq]
    );
    let e = &pending[0];
    assert_eq!(e.state, State::Pending);
    assert_eq!(e.label, label1);
    assert_eq!(
        e.label.applicant,
        format!("张* / 410403********{}", &id1[14..])
    );
    assert_eq!(e.idempotency_key, q1.idempotency_key);
    assert_eq!(e.attempts, 0);
    assert!(e.has_body);
    let Item::Submission(mut expected) = first else {
        unreachable!()
    };
    expected.idempotency_key = q1.idempotency_key.clone();
    assert_eq!(ob.item(q1.seq).unwrap(), Some(Item::Submission(expected)));
    assert_eq!(ob.counts().unwrap().pending, 2);
    assert_eq!(ob.status().borrow().pending, 2);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["outbox.db", "outbox.db-wal", "outbox.db-shm"] {
            let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f} is readable by others: {mode:o}");
        }
    }
}

#[test]
fn a_label_with_a_full_id_number_or_a_repeated_key_is_refused() {
    let dir = temp_dir("refuse");
    let ob = Outbox::open(dir.join("outbox.db")).unwrap();
    let id = id_number(3);
    let (it, _) = item("张伟", &id, 0);
    let leaky = Label {
        matter: MATTER_NAME.into(),
        applicant: format!("张伟 {id}"),
    };
    assert!(matches!(
        ob.enqueue(it.clone(), leaky),
        Err(OutboxError::NotMasked)
    ));
    let (mut keyed, label) = item("张伟", &id, 0);
    if let Item::Submission(s) = &mut keyed {
        s.idempotency_key = "same-key".into();
    }
    ob.enqueue(keyed.clone(), label.clone()).unwrap();
    assert!(matches!(
        ob.enqueue(keyed, label),
        Err(OutboxError::DuplicateKey)
    ));
    assert_eq!(ob.counts().unwrap().pending, 1);
}

#[test]
fn delivery_deletes_the_personal_body_from_the_file() {
    let dir = temp_dir("wipe");
    let db = dir.join("outbox.db");
    let ob = Outbox::open(&db).unwrap();
    let id = id_number(4);
    let (it, label) = item("王建国", &id, 300_000);
    let q = ob.enqueue(it, label).unwrap();
    ob.checkpoint().unwrap();
    assert!(
        store_contains(&db, &id),
        "the body is on disk before delivery"
    );
    assert!(store_contains(&db, "建设路东段88号"));

    ob.mark_delivered(q.seq, &case_reply("41040320261128000007"))
        .unwrap();
    ob.checkpoint().unwrap();
    assert!(
        !store_contains(&db, &id),
        "the ID number is still in the file"
    );
    assert!(
        !store_contains(&db, "建设路东段88号"),
        "the address is still in the file"
    );
    assert!(
        !store_contains(&db, "13903750000"),
        "the phone is still in the file"
    );

    let e = ob.get(q.seq).unwrap().unwrap();
    assert_eq!(e.state, State::Delivered);
    assert!(!e.has_body);
    let reply = e.reply.unwrap();
    assert_eq!(reply.case_number, "41040320261128000007");
    assert_eq!(reply.track_code.as_deref(), Some("TRK123"));
    assert_eq!(reply.deadline.as_deref(), Some("2026-12-05"));
    assert_eq!(e.idempotency_key, q.idempotency_key);
    assert_eq!(e.label.matter, MATTER_NAME);
    assert_eq!(ob.item(q.seq).unwrap(), None);
    assert!(ob.pending().unwrap().is_empty());
    assert_eq!(ob.counts().unwrap().delivered, 1);
    // Delivered twice (a late duplicate reply): nothing changes.
    ob.mark_delivered(q.seq, &case_reply("41040320261128000999"))
        .unwrap();
    assert_eq!(
        ob.get(q.seq).unwrap().unwrap().reply.unwrap().case_number,
        "41040320261128000007"
    );
}

#[test]
fn receipts_are_kept_masked_for_reprint() {
    let dir = temp_dir("receipt");
    let ob = Outbox::open(dir.join("outbox.db")).unwrap();
    let id = id_number(5);
    let (it, label) = item("张伟", &id, 0);
    let q = ob.enqueue(it, label.clone()).unwrap();
    let leaky = serde_json::json!({"applicant": id.clone()});
    assert!(matches!(
        ob.set_receipt(q.seq, &leaky),
        Err(OutboxError::NotMasked)
    ));
    let receipt = serde_json::json!({
        "matter": MATTER_NAME,
        "applicant": label.applicant,
        "key": q.idempotency_key,
        "queued_at": q.queued_at.to_rfc3339(),
    });
    ob.set_receipt(q.seq, &receipt).unwrap();
    let unprinted = ob.unprinted().unwrap();
    assert_eq!(unprinted.len(), 1);
    assert_eq!(unprinted[0].receipt.as_ref(), Some(&receipt));
    assert_eq!(ob.counts().unwrap().unprinted, 1);

    ob.mark_printed(q.seq).unwrap();
    assert!(ob.unprinted().unwrap().is_empty());
    ob.mark_printed(q.seq).unwrap();
    let e = ob.get(q.seq).unwrap().unwrap();
    assert_eq!(e.prints, 2, "the second print is a reprint (补打)");
    assert!(e.printed_at.is_some());
    assert!(matches!(
        ob.mark_printed(9999),
        Err(OutboxError::NotFound(9999))
    ));
}

#[test]
fn the_cache_keeps_values_with_their_age_and_etag() {
    let dir = temp_dir("cache");
    let db = dir.join("outbox.db");
    {
        let ob = Outbox::open(&db).unwrap();
        assert!(ob.cache_get("catalogue").unwrap().is_none());
        ob.cache_put_json(
            "catalogue",
            &serde_json::json!({"items": [1, 2]}),
            Some("\"v1\""),
        )
        .unwrap();
        ob.cache_put("notices", "停电通知".as_bytes(), None)
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(30));
    let ob = Outbox::open(&db).unwrap();
    let c = ob.cache_get("catalogue").unwrap().unwrap();
    assert_eq!(c.etag.as_deref(), Some("\"v1\""));
    assert_eq!(c.json::<serde_json::Value>().unwrap()["items"][1], 2);
    assert!(c.age >= Duration::from_millis(30), "{:?}", c.age);
    assert!(c.fetched_at <= Utc::now());
    assert_eq!(
        ob.cache_get("notices").unwrap().unwrap().value,
        "停电通知".as_bytes()
    );
    assert!(ob.cache_touch("catalogue").unwrap());
    assert!(ob.cache_get("catalogue").unwrap().unwrap().age < c.age);
    assert!(!ob.cache_touch("missing").unwrap());
    ob.cache_put("catalogue", b"[]", Some("\"v2\"")).unwrap();
    let c = ob.cache_get("catalogue").unwrap().unwrap();
    assert_eq!(
        (c.value.as_slice(), c.etag.as_deref()),
        (&b"[]"[..], Some("\"v2\""))
    );
}

#[test]
fn a_file_that_is_not_a_database_is_moved_aside_and_a_fresh_store_opened() {
    let dir = temp_dir("notadb");
    let db = dir.join("outbox.db");
    std::fs::write(&db, vec![0x5a_u8; 8192]).unwrap();
    let ob = Outbox::open(&db).unwrap();
    let aside = ob.quarantined().unwrap().to_path_buf();
    assert!(aside.exists());
    assert_eq!(std::fs::read(&aside).unwrap(), vec![0x5a_u8; 8192]);
    assert_eq!(ob.counts().unwrap(), outbox::Counts::default());
    let (it, label) = item("张伟", &id_number(6), 0);
    ob.enqueue(it, label).unwrap();
    assert!(ob.integrity_check().unwrap().is_empty());
}

#[test]
fn a_damaged_page_is_caught_at_open_and_the_file_moved_aside() {
    let dir = temp_dir("damaged");
    let db = dir.join("outbox.db");
    {
        let ob = Outbox::open(&db).unwrap();
        for n in 0..20 {
            let (it, label) = item("张伟", &id_number(100 + n), 2_000);
            ob.enqueue(it, label).unwrap();
        }
        ob.checkpoint().unwrap();
    }
    // Scribble over page 2 (the outbox table's root).
    let mut bytes = std::fs::read(&db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    for b in &mut bytes[page..page * 2] {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();

    let ob = Outbox::open(&db).unwrap();
    assert!(
        ob.quarantined().is_some(),
        "the damaged store was not noticed"
    );
    assert!(ob.pending().unwrap().is_empty());
    assert!(ob.integrity_check().unwrap().is_empty());
}

#[test]
fn retention_purges_delivered_and_rejected_entries_but_never_pending_ones() {
    let dir = temp_dir("purge");
    let ob = Outbox::open(dir.join("outbox.db")).unwrap();
    let (a, la) = item("张伟", &id_number(7), 0);
    let (b, lb) = item("李秀英", &id_number(8), 0);
    let delivered = ob.enqueue(a, la).unwrap();
    let pending = ob.enqueue(b, lb).unwrap();
    ob.mark_delivered(delivered.seq, &case_reply("41040320261128000001"))
        .unwrap();

    let now = Utc::now();
    let p = ob.purge_at(now + chrono::Duration::days(6)).unwrap();
    assert_eq!(p.delivered, 0, "kept for 7 days for receipt reprint");
    assert!(ob.get(delivered.seq).unwrap().is_some());
    let p = ob.purge_at(now + chrono::Duration::days(8)).unwrap();
    assert_eq!(p.delivered, 1);
    assert!(ob.get(delivered.seq).unwrap().is_none());
    let p = ob.purge_at(now + chrono::Duration::days(400)).unwrap();
    assert_eq!(p, outbox::Purged::default());
    assert_eq!(ob.get(pending.seq).unwrap().unwrap().state, State::Pending);
}

#[test]
fn retention_periods_come_from_the_config() {
    let dir = temp_dir("purgecfg");
    let config = outbox::Config {
        delivered_retention: Duration::from_secs(3600),
        ..outbox::Config::default()
    };
    let ob = Outbox::open_with(dir.join("outbox.db"), config).unwrap();
    let (a, la) = item("张伟", &id_number(9), 0);
    let q = ob.enqueue(a, la).unwrap();
    ob.mark_delivered(q.seq, &case_reply("41040320261128000002"))
        .unwrap();
    let now = Utc::now();
    assert_eq!(
        ob.purge_at(now + chrono::Duration::minutes(59))
            .unwrap()
            .delivered,
        0
    );
    assert_eq!(
        ob.purge_at(now + chrono::Duration::minutes(61))
            .unwrap()
            .delivered,
        1
    );
}
