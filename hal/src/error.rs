//! One error type for every device, with a kind that callers match on.

use std::fmt;

/// What went wrong, as a caller needs to tell it apart.
///
/// Class-specific kinds (`NoCard`, `PaperOut`, …) sit beside the general
/// ones so a journey can offer the right way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The device went away (unplugged, port closed, connection reset).
    Disconnected,
    /// No device at the configured selector.
    NotFound,
    /// The device exists but this process may not open it (udev/groups).
    PermissionDenied,
    /// Another process or operation holds the device.
    Busy,
    /// No complete answer before the deadline.
    Timeout,
    /// The device answered something that breaks the protocol.
    Protocol,
    /// The caller cancelled the operation.
    Cancelled,
    /// The device does not offer this operation.
    Unsupported,
    /// The configuration (selector, options) is invalid.
    Config,
    /// ID card or contact card: no card in the field or slot.
    NoCard,
    /// The card could not be read completely (pulled mid-read, bad contact).
    CardRead,
    /// The reader's secure module failed (SAM self-test, authentication).
    SecureModule,
    /// Printer: out of paper.
    PaperOut,
    /// Printer: cover open.
    CoverOpen,
    /// Printer: cutter jammed or failed.
    CutterError,
    /// Printer or device reports itself offline or in an error state.
    DeviceFault,
}

impl ErrorKind {
    /// Stable machine code, used in logs, health reports and the backend.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Disconnected => "DISCONNECTED",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::PermissionDenied => "PERMISSION_DENIED",
            ErrorKind::Busy => "BUSY",
            ErrorKind::Timeout => "TIMEOUT",
            ErrorKind::Protocol => "PROTOCOL",
            ErrorKind::Cancelled => "CANCELLED",
            ErrorKind::Unsupported => "UNSUPPORTED",
            ErrorKind::Config => "CONFIG",
            ErrorKind::NoCard => "NO_CARD",
            ErrorKind::CardRead => "CARD_READ",
            ErrorKind::SecureModule => "SECURE_MODULE",
            ErrorKind::PaperOut => "PAPER_OUT",
            ErrorKind::CoverOpen => "COVER_OPEN",
            ErrorKind::CutterError => "CUTTER_ERROR",
            ErrorKind::DeviceFault => "DEVICE_FAULT",
        }
    }

    /// What a resident or maintainer reads, in Chinese.
    pub fn message_zh(self) -> &'static str {
        match self {
            ErrorKind::Disconnected => "设备已断开连接",
            ErrorKind::NotFound => "未找到设备",
            ErrorKind::PermissionDenied => "无权访问设备",
            ErrorKind::Busy => "设备忙，请稍候",
            ErrorKind::Timeout => "设备响应超时",
            ErrorKind::Protocol => "设备通信错误",
            ErrorKind::Cancelled => "操作已取消",
            ErrorKind::Unsupported => "设备不支持此操作",
            ErrorKind::Config => "设备配置错误",
            ErrorKind::NoCard => "未检测到卡片",
            ErrorKind::CardRead => "读卡失败，请重新放置卡片",
            ErrorKind::SecureModule => "安全模块故障",
            ErrorKind::PaperOut => "打印机缺纸",
            ErrorKind::CoverOpen => "打印机盖未关闭",
            ErrorKind::CutterError => "打印机切刀故障",
            ErrorKind::DeviceFault => "设备故障",
        }
    }

    /// The same in English.
    pub fn message_en(self) -> &'static str {
        match self {
            ErrorKind::Disconnected => "device disconnected",
            ErrorKind::NotFound => "device not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Busy => "device busy",
            ErrorKind::Timeout => "device timed out",
            ErrorKind::Protocol => "device protocol error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Unsupported => "operation not supported",
            ErrorKind::Config => "device configuration error",
            ErrorKind::NoCard => "no card",
            ErrorKind::CardRead => "card read failed, please place the card again",
            ErrorKind::SecureModule => "secure module fault",
            ErrorKind::PaperOut => "printer out of paper",
            ErrorKind::CoverOpen => "printer cover open",
            ErrorKind::CutterError => "printer cutter error",
            ErrorKind::DeviceFault => "device fault",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message_en())
    }
}

/// A device error: a kind, a detail for logs (never personal data), and
/// the driver's source error when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct DeviceError {
    kind: ErrorKind,
    detail: String,
    /// Device-specific status code when the device gave one (for example
    /// the GA 467 SW3 byte, `0x41`).
    device_code: Option<u32>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl DeviceError {
    /// A new error of `kind` with a detail for logs.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        DeviceError {
            kind,
            detail: detail.into(),
            device_code: None,
            source: None,
        }
    }

    /// Attaches the driver's source error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Attaches the device's own status code.
    pub fn with_device_code(mut self, code: u32) -> Self {
        self.device_code = Some(code);
        self
    }

    /// The kind callers match on.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Detail for logs.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The device's own status code, if it gave one.
    pub fn device_code(&self) -> Option<u32> {
        self.device_code
    }

    /// Shorthand for a timeout.
    pub fn timeout(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, detail)
    }

    /// Shorthand for a protocol error.
    pub fn protocol(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, detail)
    }

    /// Shorthand for a vanished device.
    pub fn disconnected(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Disconnected, detail)
    }

    /// Maps an I/O error to the closest kind, keeping it as the source.
    pub fn from_io(err: std::io::Error, what: &str) -> Self {
        use std::io::ErrorKind as K;
        let kind = match err.kind() {
            K::TimedOut | K::WouldBlock => ErrorKind::Timeout,
            K::NotFound => ErrorKind::NotFound,
            K::PermissionDenied => ErrorKind::PermissionDenied,
            K::AddrInUse => ErrorKind::Busy,
            K::InvalidInput => ErrorKind::Config,
            K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::NotConnected
            | K::UnexpectedEof => ErrorKind::Disconnected,
            _ => {
                // EIO on a tty means the other end hung up.
                if err.raw_os_error() == Some(5) {
                    ErrorKind::Disconnected
                } else {
                    ErrorKind::Protocol
                }
            }
        };
        DeviceError::new(kind, what.to_string()).with_source(err)
    }

    /// One line for a person: Chinese, then English.
    pub fn user_message(&self) -> String {
        format!("{}（{}）", self.kind.message_zh(), self.kind.message_en())
    }
}
