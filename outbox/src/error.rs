//! Errors of the outbox store.

/// A failed outbox operation. Messages are Chinese, then English: the
/// maintenance screen shows them to staff.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// SQLite failed (disk full, I/O error, locked beyond the busy timeout…).
    #[error("本机待发送队列存储出错（The kiosk's outbox store failed）: {0}")]
    Db(#[from] rusqlite::Error),
    /// A file operation on the store failed (permissions, moving a corrupt file aside).
    #[error("本机待发送队列文件操作失败（A file operation on the outbox store failed）: {0}")]
    Io(#[from] std::io::Error),
    /// An item or a receipt could not be written or read back as JSON.
    #[error("待发送数据无法读写（Outbox data could not be encoded or decoded）: {0}")]
    Json(#[from] serde_json::Error),
    /// The store was written by a newer version of this software.
    #[error(
        "本机待发送队列由更新版本的软件创建（版本 {found}，本软件支持到 {supported}）（The outbox store was created by newer software: schema {found}, this build knows up to {supported}）"
    )]
    SchemaTooNew {
        /// Schema version found in the file.
        found: i64,
        /// Highest schema version this build knows.
        supported: i64,
    },
    /// No entry with this sequence number (never existed, or purged).
    #[error("队列中没有第 {0} 项（No outbox entry {0}）")]
    NotFound(i64),
    /// The entry is not in a state that allows the operation.
    #[error(
        "第 {seq} 项当前状态为「{state}」，不能执行此操作（Entry {seq} is {state}; the operation does not apply）"
    )]
    WrongState {
        /// The entry.
        seq: i64,
        /// Its current state (machine code).
        state: &'static str,
    },
    /// The idempotency key given by the caller is already in the outbox.
    #[error(
        "该业务已在队列中，不会重复提交（This submission is already queued; it is not queued twice）"
    )]
    DuplicateKey,
    /// A label or receipt contains a full identity document number.
    #[error(
        "屏幕标签或回执含有完整证件号码，请先脱敏（A label or receipt contains a full ID number; mask it first）"
    )]
    NotMasked,
    /// A blocking task of the delivery loop could not finish.
    #[error("后台任务异常结束（A background task ended abnormally）: {0}")]
    Task(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = OutboxError> = std::result::Result<T, E>;
