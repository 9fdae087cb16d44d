//! Helpers for the workspace tests: where the workspace and its built
//! binaries are, and child processes whose output can be awaited.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// A built binary of the workspace (`cargo xtask test` builds them all
/// before running tests).
pub fn binary(name: &str) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let path = target.join("debug").join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is not built; run `cargo xtask test` (it builds every binary first)",
            path.display()
        ))
    }
}

/// A child process whose stdout lines can be awaited; killed on drop.
pub struct Proc {
    pub name: String,
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    /// Starts `cmd` with stdout captured.
    pub fn start(name: &str, cmd: &mut Command) -> Result<Proc, String> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Ok(Proc {
            name: name.to_string(),
            child,
            lines: rx,
            seen: Vec::new(),
        })
    }

    /// Waits until `pick` accepts a stdout line, with a deadline.
    pub fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(v) = pick(&line) {
                        return Ok(v);
                    }
                }
                Err(_) => {
                    return Err(format!(
                        "{}: no expected line within {timeout:?}; saw {:?}",
                        self.name, self.seen
                    ));
                }
            }
        }
    }

    /// Process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; returns
    /// whether it exited by itself.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python interpreter with the independent peers installed
/// (pyfingerprint, python-escpos): `KIOSK_TEST_PYTHON` as set by
/// `cargo xtask test`, else the venv it makes under the target directory.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("KIOSK_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("pyenv").join("bin").join("python")
}

/// The real backend binary on a free port with a fresh, seeded database in
/// its own temporary folder (removed on drop, after the process).
pub struct Backend {
    /// The process (its stdout lines are readable through `wait_for`).
    pub proc: Proc,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    /// The folder holding the database.
    pub dir: PathBuf,
}

impl Backend {
    /// Starts `backend serve` with `args` added (e.g. `["--config", …]`)
    /// and waits until it listens.
    ///
    /// # Errors
    /// When the binary is missing or does not start within 30 s.
    pub fn start(tag: &str, args: &[&std::ffi::OsStr]) -> Result<Backend, String> {
        let dir = std::env::temp_dir().join(format!("backend-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut proc = Proc::start(
            "backend",
            Command::new(binary("backend")?)
                .args(["serve", "--listen", "127.0.0.1:0", "--db"])
                .arg(dir.join("backend.db"))
                .args(args)
                .env("RUST_LOG", "warn"),
        )?;
        let base = proc.wait_for(Duration::from_secs(30), |l| {
            l.split_once("listening on ")
                .map(|(_, u)| u.trim().trim_end_matches('/').to_string())
        })?;
        Ok(Backend { proc, base, dir })
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.proc.terminate(Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
