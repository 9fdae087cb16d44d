//! Decoding preview frames on a background thread, newest frame first.
//!
//! A camera delivers 30 frames a second; a frame with a hard code can
//! take longer than 33 ms to decode. Queueing every frame would let the
//! decoder fall further and further behind what the resident is holding
//! up. [`LatestFrameDecoder`] keeps one slot: [`LatestFrameDecoder::submit`]
//! puts the frame there (replacing, and counting as dropped, a frame the
//! thread has not started on) and returns at once; the thread always
//! takes the newest frame.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use hal::camera::Frame;

use super::{Decoded, Formats, QrError, decode_luma_with, frame_luma};

/// What the thread made of one frame.
#[derive(Debug)]
pub struct DecodeResult {
    /// The number [`LatestFrameDecoder::submit`] returned for the frame.
    pub frame_seq: u64,
    /// The codes found (empty: none, or a bad frame).
    pub decoded: Vec<Decoded>,
    /// Why the frame could not be looked at, if so.
    pub error: Option<QrError>,
    /// Time spent on the frame (luma conversion and decoding), ms.
    pub ms: f64,
}

/// Counters since the decoder was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecoderStats {
    /// Frames given to `submit`.
    pub submitted: u64,
    /// Frames the thread finished.
    pub decoded: u64,
    /// Frames replaced by a newer one before the thread started on them.
    pub dropped: u64,
}

#[derive(Default)]
struct Slot {
    pending: Option<(u64, Frame)>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    slot: Mutex<Slot>,
    wake: Condvar,
    submitted: AtomicU64,
    decoded: AtomicU64,
    dropped: AtomicU64,
}

/// A background decoder that always works on the newest frame.
pub struct LatestFrameDecoder {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LatestFrameDecoder {
    /// Starts the thread (all symbologies); results arrive on the receiver.
    pub fn new() -> std::io::Result<(Self, Receiver<DecodeResult>)> {
        Self::with_formats(Formats::ALL)
    }

    /// Starts the thread looking for `formats` only.
    pub fn with_formats(formats: Formats) -> std::io::Result<(Self, Receiver<DecodeResult>)> {
        let (tx, rx): (Sender<DecodeResult>, _) = channel();
        let this = Self::with_callback(formats, move |r| {
            // A receiver that hung up just stops listening.
            let _ = tx.send(r);
        })?;
        Ok((this, rx))
    }

    /// Starts the thread; `on_result` runs on it after every frame.
    pub fn with_callback(
        formats: Formats,
        mut on_result: impl FnMut(DecodeResult) + Send + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("qr-decoder".into())
            .spawn(move || {
                while let Some((seq, frame)) = next_frame(&worker) {
                    let started = Instant::now();
                    let (decoded, error) = match frame_luma(&frame) {
                        Ok(l) => (decode_luma_with(&l.data, l.width, l.height, formats), None),
                        Err(e) => (Vec::new(), Some(e)),
                    };
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    worker.decoded.fetch_add(1, Ordering::Relaxed);
                    on_result(DecodeResult {
                        frame_seq: seq,
                        decoded,
                        error,
                        ms,
                    });
                }
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Hands a frame to the thread and returns its sequence number (from
    /// 1) at once. A frame still waiting is replaced and counted dropped.
    pub fn submit(&self, frame: Frame) -> u64 {
        let seq = self.shared.submitted.fetch_add(1, Ordering::Relaxed) + 1;
        let mut slot = self
            .shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.pending.replace((seq, frame)).is_some() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        drop(slot);
        self.shared.wake.notify_one();
        seq
    }

    /// The counters so far.
    pub fn stats(&self) -> DecoderStats {
        DecoderStats {
            submitted: self.shared.submitted.load(Ordering::Relaxed),
            decoded: self.shared.decoded.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Waits for a frame; `None` once the decoder is dropped.
fn next_frame(shared: &Shared) -> Option<(u64, Frame)> {
    let mut slot = shared.slot.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if slot.closed {
            return None;
        }
        if let Some(job) = slot.pending.take() {
            return Some(job);
        }
        slot = shared
            .wake
            .wait(slot)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

impl Drop for LatestFrameDecoder {
    /// Stops the thread after the frame it is on; a waiting frame is left.
    fn drop(&mut self) {
        self.shared
            .slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
