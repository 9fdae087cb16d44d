//! Runs one blocking device on its own thread and hands out cheap async
//! handles.
//!
//! The actor owns the device. It opens it with the opener it was given,
//! and opens it again after the device went away (an error of kind
//! [`ErrorKind::Disconnected`] or [`ErrorKind::NotFound`], an offline
//! health report, or a panic inside the driver), so unplugging and
//! replugging needs no restart of the kiosk. While idle it polls the device
//! for person-caused events.
//!
//! A caller may rely on:
//! * every [`Handle::call`] resolves by its deadline plus a small grace
//!   period, with the device's result or an error — it never hangs, even
//!   if a driver does;
//! * a panic in a driver becomes [`ErrorKind::Disconnected`] for the
//!   caller and an offline health report; the device is opened afresh;
//! * [`Handle::events`] delivers [`DeviceEvent::Attached`] and
//!   [`DeviceEvent::Detached`] in the same stream as person-caused events;
//! * dropping the future of a call only stops waiting; the operation in
//!   progress completes on the device thread and its result is dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, oneshot, watch};

use crate::card::CardReader;
use crate::error::{DeviceError, ErrorKind};
use crate::health::{Health, HealthState};
use crate::idcard::{CardRead, IdCardReader};
use crate::receipt::{PrintOutcome, PrinterStatus, Receipt, ReceiptPrinter};
use crate::scanner::{BarcodeScanner, ScannedCode};
use crate::{Device, DeviceKind};

/// Something that happened at the device, mostly caused by a person.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceEvent {
    /// The device was opened (at start or after it came back).
    Attached,
    /// The device went away.
    Detached,
    /// A card was laid on the reader (ID card) or inserted (contact card).
    CardLaid,
    /// The card was taken away.
    CardRemoved,
    /// A code was scanned.
    CodeScanned(ScannedCode),
    /// A finger was put on the sensor.
    FingerOn,
    /// The finger was lifted.
    FingerOff,
    /// Printer paper is near its end.
    PaperLow,
    /// Printer is out of paper.
    PaperOut,
    /// Paper was replenished.
    PaperOk,
    /// Printer cover opened.
    CoverOpened,
    /// Printer cover closed.
    CoverClosed,
}

type Job<D> = Box<dyn FnOnce(Option<&mut D>) -> Option<ErrorKind> + Send>;

/// Extra time a call waits beyond its deadline before giving up on a
/// driver that overran it.
const GRACE: Duration = Duration::from_millis(500);

/// How long the actor waits between attempts to open a missing device.
const REOPEN_EVERY: Duration = Duration::from_millis(1000);

struct Inner<D> {
    name: String,
    kind: DeviceKind,
    jobs: mpsc::Sender<Job<D>>,
    events: broadcast::Sender<DeviceEvent>,
    health: watch::Receiver<Health>,
}

/// A cheap, cloneable async handle to one device running on its actor.
pub struct Handle<D> {
    inner: Arc<Inner<D>>,
}

impl<D> Clone for Handle<D> {
    fn clone(&self) -> Self {
        Handle {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D> std::fmt::Debug for Handle<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("name", &self.inner.name)
            .field("kind", &self.inner.kind)
            .finish()
    }
}

/// Starts an actor thread for a device of `kind`, named `name` in logs and
/// health reports. `open` is called at start and again whenever the device
/// went away; it returns the opened driver or why it could not.
pub fn spawn<D, F>(name: &str, kind: DeviceKind, open: F) -> Result<Handle<D>, DeviceError>
where
    D: Device,
    F: FnMut() -> Result<D, DeviceError> + Send + 'static,
{
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job<D>>();
    let (events_tx, _) = broadcast::channel(64);
    let (health_tx, health_rx) = watch::channel(Health::offline(ErrorKind::NotFound));
    let events = events_tx.clone();
    std::thread::Builder::new()
        .name(format!("dev-{name}"))
        .spawn(move || run(open, jobs_rx, events, health_tx))
        .map_err(|e| {
            DeviceError::new(ErrorKind::Busy, "cannot start device thread").with_source(e)
        })?;
    Ok(Handle {
        inner: Arc::new(Inner {
            name: name.to_string(),
            kind,
            jobs: jobs_tx,
            events: events_tx,
            health: health_rx,
        }),
    })
}

fn gone(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Disconnected | ErrorKind::NotFound | ErrorKind::PermissionDenied
    )
}

fn run<D: Device, F: FnMut() -> Result<D, DeviceError>>(
    mut open: F,
    jobs: mpsc::Receiver<Job<D>>,
    events: broadcast::Sender<DeviceEvent>,
    health: watch::Sender<Health>,
) {
    let mut device: Option<D> = None;
    let mut last_open_attempt: Option<Instant> = None;
    let mut offline_health = Health::offline(ErrorKind::NotFound);
    loop {
        // (Re)open when missing, at most every REOPEN_EVERY.
        if device.is_none() && last_open_attempt.is_none_or(|t| t.elapsed() >= REOPEN_EVERY) {
            last_open_attempt = Some(Instant::now());
            match catch_unwind(AssertUnwindSafe(&mut open)) {
                Ok(Ok(d)) => {
                    health.send_replace(d.health());
                    device = Some(d);
                    let _ = events.send(DeviceEvent::Attached);
                }
                Ok(Err(e)) => {
                    let mut h = Health::offline(e.kind());
                    h.counters = offline_health.counters.clone();
                    offline_health = h;
                    health.send_if_modified(|cur| {
                        let changed = *cur != offline_health;
                        if changed {
                            *cur = offline_health.clone();
                        }
                        changed
                    });
                }
                Err(_) => {
                    health.send_replace(Health::offline(ErrorKind::DeviceFault));
                }
            }
        }

        let wait = match &device {
            Some(d) => d.poll_interval(),
            None => REOPEN_EVERY
                .saturating_sub(last_open_attempt.map_or(Duration::ZERO, |t| t.elapsed())),
        };
        let mut lost = false;
        match jobs.recv_timeout(wait.max(Duration::from_millis(10))) {
            Ok(job) => {
                let was_open = device.is_some();
                let outcome = catch_unwind(AssertUnwindSafe(|| job(device.as_mut())));
                match outcome {
                    Ok(Some(kind)) if gone(kind) => lost = was_open,
                    Ok(_) => {}
                    Err(_) => lost = was_open,
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if let Some(d) = device.as_mut() {
                    let deadline =
                        Instant::now() + d.poll_interval().max(Duration::from_millis(200));
                    match catch_unwind(AssertUnwindSafe(|| d.poll(deadline))) {
                        Ok(evs) => {
                            for ev in evs {
                                let _ = events.send(ev);
                            }
                        }
                        Err(_) => lost = true,
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if let Some(d) = device.as_ref() {
            let h = d.health();
            if h.state == HealthState::Offline {
                lost = true;
            }
            if !lost {
                health.send_if_modified(|cur| {
                    let changed = *cur != h;
                    if changed {
                        *cur = h;
                    }
                    changed
                });
            }
        }
        if lost {
            let counters = device
                .as_ref()
                .map(|d| d.health().counters)
                .unwrap_or_default();
            device = None;
            let mut h = Health::offline(ErrorKind::Disconnected);
            h.counters = counters;
            offline_health = h.clone();
            health.send_replace(h);
            let _ = events.send(DeviceEvent::Detached);
            last_open_attempt = Some(Instant::now());
        }
    }
}

impl<D: Device> Handle<D> {
    /// The name from configuration.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The device class.
    pub fn kind(&self) -> DeviceKind {
        self.inner.kind
    }

    /// Subscribes to the event stream (events from now on).
    pub fn events(&self) -> broadcast::Receiver<DeviceEvent> {
        self.inner.events.subscribe()
    }

    /// The latest health, updated by the actor.
    pub fn health(&self) -> Health {
        self.inner.health.borrow().clone()
    }

    /// A watch on the health, for the heartbeat and the UI.
    pub fn watch_health(&self) -> watch::Receiver<Health> {
        self.inner.health.clone()
    }

    /// Runs `f` on the device thread with a deadline `timeout` from now.
    ///
    /// Returns [`ErrorKind::Disconnected`] at once when the device is not
    /// open, and [`ErrorKind::Timeout`] when the driver overran the
    /// deadline by more than a short grace period.
    pub async fn call<R, F>(&self, timeout: Duration, f: F) -> Result<R, DeviceError>
    where
        R: Send + 'static,
        F: FnOnce(&mut D, Instant) -> Result<R, DeviceError> + Send + 'static,
    {
        let deadline = Instant::now() + timeout;
        let (tx, rx) = oneshot::channel();
        let job: Job<D> = Box::new(move |d: Option<&mut D>| {
            let result = match d {
                Some(d) => f(d, deadline),
                None => Err(DeviceError::disconnected("device is not connected")),
            };
            let kind = result.as_ref().err().map(DeviceError::kind);
            let _ = tx.send(result);
            kind
        });
        self.inner
            .jobs
            .send(job)
            .map_err(|_| DeviceError::disconnected("device thread has stopped"))?;
        match tokio::time::timeout(timeout + GRACE, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(DeviceError::disconnected(
                "device driver failed and is being restarted",
            )),
            Err(_) => Err(DeviceError::timeout(
                "device did not answer by its deadline",
            )),
        }
    }

    /// Runs the device's self-test.
    pub async fn self_test(&self, timeout: Duration) -> Result<Health, DeviceError> {
        self.call(timeout, |d, deadline| d.self_test(deadline))
            .await
    }
}

/// Handle to an ID card reader.
pub type IdCardHandle = Handle<Box<dyn IdCardReader>>;
/// Handle to a receipt printer.
pub type ReceiptPrinterHandle = Handle<Box<dyn ReceiptPrinter>>;
/// Handle to a code scanner.
pub type BarcodeScannerHandle = Handle<Box<dyn BarcodeScanner>>;
/// Handle to a card reader.
pub type CardReaderHandle = Handle<Box<dyn CardReader>>;

impl Handle<Box<dyn IdCardReader>> {
    /// Reads the card in the field (find, select, read).
    pub async fn read(
        &self,
        with_fingerprint: bool,
        timeout: Duration,
    ) -> Result<CardRead, DeviceError> {
        self.call(timeout, move |d, deadline| {
            d.read(with_fingerprint, deadline)
        })
        .await
    }
}

impl Handle<Box<dyn ReceiptPrinter>> {
    /// Prints a receipt.
    pub async fn print(
        &self,
        receipt: Receipt,
        timeout: Duration,
    ) -> Result<PrintOutcome, DeviceError> {
        self.call(timeout, move |d, deadline| d.print(&receipt, deadline))
            .await
    }

    /// Asks the printer's status.
    pub async fn status(&self, timeout: Duration) -> Result<PrinterStatus, DeviceError> {
        self.call(timeout, |d, deadline| d.status(deadline)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A scripted device: counts calls, can be told to vanish or panic.
    struct Fake {
        opened: u32,
        polls: u32,
    }

    impl Device for Fake {
        fn kind(&self) -> DeviceKind {
            DeviceKind::BarcodeScanner
        }
        fn health(&self) -> Health {
            Health::ok()
        }
        fn poll(&mut self, _deadline: Instant) -> Vec<DeviceEvent> {
            self.polls += 1;
            if self.polls == 2 {
                vec![DeviceEvent::CodeScanned(ScannedCode {
                    data: b"A1".to_vec(),
                    text: Some("A1".into()),
                    symbology: None,
                })]
            } else {
                Vec::new()
            }
        }
        fn poll_interval(&self) -> Duration {
            Duration::from_millis(20)
        }
        fn self_test(&mut self, _deadline: Instant) -> Result<Health, DeviceError> {
            Ok(Health::ok())
        }
    }

    async fn next_event(rx: &mut broadcast::Receiver<DeviceEvent>) -> DeviceEvent {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_events_and_reopen_after_loss() {
        let opens = Arc::new(AtomicU32::new(0));
        let o = Arc::clone(&opens);
        let h = spawn("fake", DeviceKind::BarcodeScanner, move || {
            let n = o.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Fake {
                opened: n,
                polls: 0,
            })
        })
        .unwrap();
        let mut ev = h.events();
        // The first open may race the subscription; wait for the scan.
        loop {
            if let DeviceEvent::CodeScanned(c) = next_event(&mut ev).await {
                assert_eq!(c.data, b"A1");
                break;
            }
        }
        assert_eq!(
            h.call(Duration::from_secs(1), |d, _| Ok(d.opened))
                .await
                .unwrap(),
            1
        );

        // The driver reports the device gone: the actor reopens it.
        let err = h
            .call(Duration::from_secs(1), |_, _| -> Result<(), _> {
                Err(DeviceError::disconnected("pulled"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Disconnected);
        loop {
            if next_event(&mut ev).await == DeviceEvent::Attached {
                break;
            }
        }
        assert_eq!(
            h.call(Duration::from_secs(1), |d, _| Ok(d.opened))
                .await
                .unwrap(),
            2
        );

        // A panicking driver does not take the actor down.
        let err = h
            .call(Duration::from_secs(1), |_, _| -> Result<(), DeviceError> {
                panic!("driver bug")
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Disconnected);
        loop {
            if next_event(&mut ev).await == DeviceEvent::Attached {
                break;
            }
        }
        assert_eq!(
            h.call(Duration::from_secs(1), |d, _| Ok(d.opened))
                .await
                .unwrap(),
            3
        );
        assert_eq!(h.health().state, HealthState::Ok);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stuck_driver_times_out_and_a_missing_device_is_offline() {
        let h = spawn("stuck", DeviceKind::ReceiptPrinter, || {
            Ok(Fake {
                opened: 1,
                polls: 0,
            })
        })
        .unwrap();
        let err = h
            .call(Duration::from_millis(50), |_, _| {
                std::thread::sleep(Duration::from_millis(800));
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);

        let missing: Handle<Fake> = spawn("missing", DeviceKind::IdCardReader, || {
            Err(DeviceError::new(ErrorKind::NotFound, "no port"))
        })
        .unwrap();
        let err = missing
            .call(Duration::from_secs(1), |_, _| Ok(()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Disconnected);
        assert_eq!(missing.health().state, HealthState::Offline);
        assert_eq!(missing.health().fault_code.as_deref(), Some("NOT_FOUND"));
    }
}
