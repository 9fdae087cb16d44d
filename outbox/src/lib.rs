//! The kiosk's durable outbox (offline queue).
//!
//! A resident's application (form and scanned materials) or correction is
//! committed to a local SQLite file **before** the kiosk says "submitted"
//! and prints the receipt; a background loop then delivers it to the
//! backend, through outages, `kill -9` and reboots, exactly once.
//!
//! ```no_run
//! # async fn demo(sub: proto::CaseSubmission) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use outbox::{Backoff, HttpCourier, Item, Label, Outbox};
//!
//! let outbox = Arc::new(Outbox::open("/var/lib/kiosk/outbox.db")?);
//! let courier = HttpCourier::new("http://backend:8080", || Some("token".to_owned()))?;
//! tokio::spawn(Arc::clone(&outbox).run(courier, Backoff::default()));
//!
//! // In the journey (blocking: call it from spawn_blocking in async code).
//! let label = Label::masked("无犯罪记录证明", &sub.applicant.name, &sub.applicant.id_number);
//! let queued = outbox.enqueue(Item::Submission(sub), label)?;
//! // Durable now: print the receipt, keep its masked facts for reprint.
//! outbox.set_receipt(queued.seq, &serde_json::json!({"key": queued.idempotency_key}))?;
//! outbox.mark_printed(queued.seq)?;
//! # Ok(()) }
//! ```
//!
//! # Durability guarantees
//!
//! * The store runs in WAL mode with `synchronous=FULL`:
//!   [`Outbox::enqueue`] returns only after its transaction is fsynced, so
//!   an item whose receipt was printed survives a crash or power loss
//!   (given a disk that honours fsync).
//! * Every change is one transaction: after a crash an item is either
//!   fully there (body, label, key) or not at all; nothing half-written is
//!   ever visible. Schema migrations are numbered and each is atomic.
//! * `PRAGMA integrity_check` runs at every open. A corrupt file (or one
//!   that is not a database) is moved aside as `<path>.corrupt-<time>`,
//!   an error is logged, and a fresh, empty store is opened so the kiosk
//!   keeps serving; [`Outbox::quarantined`] names the moved file, which
//!   maintenance must inspect (it may hold undelivered items) and delete.
//! * Exactly once: every item carries an idempotency key (UUIDv7,
//!   assigned at enqueue when the caller gave none). The backend creates
//!   the case the first time (201) and answers every replay with the same
//!   reply (200), so a delivery whose reply was lost, or a delivery
//!   recorded just before a crash, is repeated harmlessly.
//! * Files are mode 0600; `secure_delete=ON` overwrites deleted content
//!   with zeros.
//!
//! # States and what is wiped when
//!
//! ```text
//! enqueue ──▶ pending ──(2xx)──▶ delivered ──(retention, default 7 d)──▶ purged
//!               │  ▲                 body deleted in the same transaction
//!  retryable ───┘  │ requeue
//!               └──(other 4xx)──▶ rejected ──discard──▶ discarded ──(7 d)──▶ purged
//!                                  body kept        body deleted
//!                                  └──(rejected_retention, default 30 d)──▶ purged with body
//! ```
//!
//! * **pending**: key, masked [`Label`], body (one JSON row in a table of
//!   its own, materials included),
//!   attempts, last error, next attempt time.
//! * **delivered**: the body (all personal data) is deleted in the same
//!   transaction that records the reply (case number, track code,
//!   deadline, delivery time). Key, label, reply and receipt facts remain
//!   for receipt reprint and the maintenance history until
//!   [`Config::delivered_retention`]. When the queue drains the loop
//!   checkpoints and truncates the WAL, so the old pages do not linger
//!   there either.
//! * **rejected** (a permanent 4xx other than auth): the body stays, so
//!   maintenance can see what was refused and why (code and message);
//!   [`Outbox::discard`] wipes it, [`Outbox::requeue`] retries it; it is
//!   purged, body and all, after [`Config::rejected_retention`].
//! * Receipts ([`Outbox::set_receipt`], [`Outbox::mark_printed`],
//!   [`Outbox::unprinted`]) hold masked facts only; a receipt or label
//!   containing a full ID number of the item is refused.
//! * The cache ([`Outbox::cache_put`], [`Outbox::cache_get`]) holds public
//!   data for offline display (catalogue, notices) with its age.
//!
//! Summaries ([`Entry`], [`Counts`], [`Status`]) and log lines carry no
//! personal data: only keys, masked labels, case numbers and error codes.
//!
//! # Delivery
//!
//! [`Outbox::run`] takes any [`Courier`]; [`HttpCourier`] is the backend's
//! kiosk API. See [`Outbox::run`] for the order and the backoff.
//!
//! Not covered here: loss of data the disk acknowledged but did not write
//! (lying disks, a dropped page cache), which the LazyFS and power-cut
//! tests of R1 address.

mod courier;
mod error;
mod item;
mod runner;
mod schema;
mod store;

pub use courier::{Courier, Delivered, DeliveryError, HttpCourier, TokenSource};
pub use error::{OutboxError, Result};
pub use item::{Item, ItemKind, Label, mask_id, mask_name};
pub use runner::{Backoff, Status};
pub use schema::SCHEMA_VERSION;
pub use store::{
    BODY_UNREADABLE, Cached, Config, Counts, Entry, Outbox, Purged, Queued, Rejection, Reply, State,
};
