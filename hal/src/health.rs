//! The one health report every device gives.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::error::ErrorKind;

/// Overall state, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthState {
    /// Working.
    Ok,
    /// Working, but needs attention soon (paper low, retries).
    Degraded,
    /// Present but cannot do its job (paper out, SAM failure, cover open).
    Fault,
    /// Not reachable (unplugged, port gone, never opened).
    Offline,
}

impl HealthState {
    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::Degraded => "degraded",
            HealthState::Fault => "fault",
            HealthState::Offline => "offline",
        }
    }
}

/// What a device reports about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub state: HealthState,
    /// Stable fault code (an [`ErrorKind::code`] or a device-specific one).
    pub fault_code: Option<String>,
    /// Text for maintenance staff and residents, Chinese.
    pub text_zh: String,
    /// The same in English.
    pub text_en: String,
    /// Counters such as `reads`, `read_errors`, `prints`, `paper_low`.
    pub counters: BTreeMap<String, u64>,
    /// When the last self-test ran, if ever.
    pub last_self_test: Option<SystemTime>,
}

impl Health {
    /// A healthy report.
    pub fn ok() -> Self {
        Health {
            state: HealthState::Ok,
            fault_code: None,
            text_zh: "正常".into(),
            text_en: "OK".into(),
            counters: BTreeMap::new(),
            last_self_test: None,
        }
    }

    /// Offline, not yet opened or gone.
    pub fn offline(kind: ErrorKind) -> Self {
        Health {
            state: HealthState::Offline,
            fault_code: Some(kind.code().into()),
            text_zh: kind.message_zh().into(),
            text_en: kind.message_en().into(),
            counters: BTreeMap::new(),
            last_self_test: None,
        }
    }

    /// A report in `state` caused by `kind`.
    pub fn from_kind(state: HealthState, kind: ErrorKind) -> Self {
        Health {
            state,
            fault_code: Some(kind.code().into()),
            text_zh: kind.message_zh().into(),
            text_en: kind.message_en().into(),
            counters: BTreeMap::new(),
            last_self_test: None,
        }
    }

    /// Replaces the state and texts, keeping counters and self-test time.
    pub fn set(&mut self, state: HealthState, fault_code: Option<&str>, zh: &str, en: &str) {
        self.state = state;
        self.fault_code = fault_code.map(str::to_string);
        self.text_zh = zh.to_string();
        self.text_en = en.to_string();
    }

    /// Adds one to a counter.
    pub fn bump(&mut self, counter: &str) {
        *self.counters.entry(counter.to_string()).or_insert(0) += 1;
    }

    /// Whether a journey can use the device now.
    pub fn usable(&self) -> bool {
        matches!(self.state, HealthState::Ok | HealthState::Degraded)
    }
}

impl Default for Health {
    fn default() -> Self {
        Health::offline(ErrorKind::NotFound)
    }
}
