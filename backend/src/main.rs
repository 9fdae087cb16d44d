//! `backend serve`: the platform server; `backend backup`, `backend audit
//! verify` and helpers for operators.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use backend::{AppState, Config, SystemClock};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "backend",
    version,
    about = "卫东区政务服务平台后端 (kiosk API, portal, clerk pages)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the portal and the clerk pages.
    Serve {
        /// TOML configuration file.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Address to listen on (overrides the file and BACKEND_LISTEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// SQLite database file (overrides the file and BACKEND_DB).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Do not seed a new database with demo data.
        #[arg(long)]
        no_seed: bool,
    },
    /// Print the OpenAPI document of /api/v1.
    Openapi,
    /// Print the current TOTP code of the demo staff accounts (demo only:
    /// every demo staff member shares one secret).
    DemoCode,
    /// Copy the database consistently (also while the server runs) into
    /// DIR/backend-YYYYMMDDTHHMMSSZ.db and keep the N newest backups there.
    /// Prints one JSON line; exit 0 ok, 1 backup failed, 2 bad arguments or
    /// unreadable database.
    Backup {
        /// TOML configuration file (for the database path).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// SQLite database file (overrides the file and BACKEND_DB).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Backup directory (must exist).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// How many complete backups to keep, this one included.
        #[arg(long, value_name = "N", default_value_t = backend::backup::DEFAULT_KEEP,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        keep: usize,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the hash chain of the audit log; exit 0 when it is whole, 1 at
    /// the first edited, inserted or deleted row.
    Verify {
        /// TOML configuration file (for the database path).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// SQLite database file (overrides the file and BACKEND_DB).
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
    },
}

/// Verifies the audit chain of the database and prints the verdict.
fn audit_verify(config: &Config) -> anyhow::Result<ExitCode> {
    if !config.db.exists() {
        anyhow::bail!("no database at {}", config.db.display());
    }
    let store = backend::Store::open_blocking(&config.db, chrono::Utc::now())?;
    let verdict = store.read_blocking(|tx| tx.verify_audit())?;
    let mut out = std::io::stdout().lock();
    match verdict {
        backend::store::AuditVerdict::Intact { count, head } => {
            writeln!(
                out,
                "审计日志完整 / audit log intact: {count} records, head {head}"
            )?;
            Ok(ExitCode::SUCCESS)
        }
        backend::store::AuditVerdict::Broken { at_id, reason } => {
            writeln!(
                out,
                "审计日志已被篡改 / audit log BROKEN at record {at_id}: {reason}"
            )?;
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `backend backup`: one backup, one JSON line on stdout.
fn backup(config: Option<PathBuf>, db: Option<PathBuf>, to: &Path, keep: usize) -> ExitCode {
    let config = match load_config(config, None, db, true) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("backend backup: 配置错误 / bad configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    let report = backend::backup::backup(&config.db, to, keep, chrono::Utc::now())
        .map_err(|e| (e.exit_code(), e.to_string()))
        .and_then(|r| serde_json::to_string(&r).map_err(|e| (1, e.to_string())));
    match report {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            eprintln!("backend backup: {message}");
            ExitCode::from(code)
        }
    }
}

fn load_config(
    file: Option<PathBuf>,
    listen: Option<SocketAddr>,
    db: Option<PathBuf>,
    no_seed: bool,
) -> anyhow::Result<Config> {
    let mut config = match file {
        Some(path) => Config::from_file(&path)?,
        None => Config::default(),
    };
    config.apply_env(|name| std::env::var(name).ok())?;
    if let Some(listen) = listen {
        config.listen = listen;
    }
    if let Some(db) = db {
        config.db = db;
    }
    if no_seed {
        config.seed = false;
    }
    config.validate()?;
    Ok(config)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let state = AppState::open(config, Arc::new(SystemClock)).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "backend listening on http://{addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, "listening");
    backend::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("backend: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in the journal.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Serve {
            config,
            listen,
            db,
            no_seed,
        } => {
            serve(load_config(config, listen, db, no_seed)?).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            print!("{}", backend::http::openapi::document_pretty()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::DemoCode => {
            let secret =
                auth::totp::Secret::from_base32(backend::service::people_seed::DEMO_TOTP_SECRET)?;
            let now = chrono::Utc::now().timestamp();
            let left = 30 - now.rem_euclid(30);
            println!(
                "{}  (演示员工动态口令 demo staff code; {left} s left)",
                auth::totp::code_at(&secret, now)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup {
            config,
            db,
            to,
            keep,
        } => Ok(backup(config, db, &to, keep)),
        Command::Audit {
            command: AuditCommand::Verify { config, db },
        } => audit_verify(&load_config(config, None, db, true)?),
    }
}
