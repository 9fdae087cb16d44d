//! A private CUPS for tests: its own cupsd (run as root) with its own
//! ServerRoot, spool, cache and logs under a temporary directory, listening
//! only on 127.0.0.1:<free port> without authentication, and a queue
//! `kioskpdf` on the cups-pdf backend writing PDFs into that directory.
//!
//! The system cupsd (port 631, /etc/cups) is never touched. The one file
//! outside the temporary directory is cups-pdf's per-queue configuration,
//! `/etc/cups/cups-pdf-kioskpdf_<port>.conf` (cups-pdf reads its
//! configuration only from /etc/cups, choosing the file by the name in the
//! device URI `cups-pdf:/kioskpdf_<port>`); it is removed on drop.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const QUEUE: &str = "kioskpdf";
const PPD: &str = "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd";
const BACKEND: &str = "/usr/lib/cups/backend/cups-pdf";

pub struct Cups {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub port: u16,
    child: Child,
    queue_conf: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn mkdir(p: &Path, mode: u32) {
    std::fs::create_dir_all(p).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Why a private CUPS cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    // cupsd must start as root so that cups-pdf (mode 0700) runs as root.
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("cupsd must run as root for the cups-pdf backend".into());
    }
    for need in ["/usr/sbin/cupsd", "/usr/sbin/lpadmin", BACKEND, PPD] {
        if !Path::new(need).exists() {
            return Some(format!(
                "{need} is missing (Debian packages cups, printer-driver-cups-pdf)"
            ));
        }
    }
    None
}

impl Cups {
    /// Starts cupsd and adds the `kioskpdf` queue. Panics with the reason
    /// (and cupsd's error log) when CUPS does not come up.
    pub fn start(tag: &str) -> Cups {
        let dir = std::env::temp_dir().join(format!("kiosk-cups-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        mkdir(&dir, 0o755);
        let conf = dir.join("conf");
        let out = dir.join("out");
        for (d, mode) in [
            (conf.clone(), 0o755),
            (conf.join("ppd"), 0o755),
            (conf.join("ssl"), 0o700),
            (dir.join("spool"), 0o710),
            (dir.join("spool/tmp"), 0o1777),
            (dir.join("cache"), 0o770),
            (dir.join("state"), 0o755),
            (dir.join("log"), 0o755),
            (dir.join("pdfspool"), 0o1777),
            (out.clone(), 0o777),
        ] {
            mkdir(&d, mode);
        }
        let port = free_port();
        let d = dir.display();
        std::fs::write(
            conf.join("cupsd.conf"),
            format!(
                "Listen 127.0.0.1:{port}\n\
                 LogLevel info\n\
                 Browsing No\n\
                 DefaultAuthType None\n\
                 WebInterface No\n\
                 DefaultEncryption Never\n\
                 <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
            ),
        )
        .unwrap();
        std::fs::write(
            conf.join("cups-files.conf"),
            format!(
                "ServerRoot {d}/conf\n\
                 RequestRoot {d}/spool\n\
                 TempDir {d}/spool/tmp\n\
                 CacheDir {d}/cache\n\
                 StateDir {d}/state\n\
                 ServerBin /usr/lib/cups\n\
                 DataDir /usr/share/cups\n\
                 ErrorLog {d}/log/error_log\n\
                 AccessLog {d}/log/access_log\n\
                 PageLog {d}/log/page_log\n\
                 SystemGroup root\n"
            ),
        )
        .unwrap();
        // The backend must be root-only (0700) so cupsd runs it as root.
        let mode = std::fs::metadata(BACKEND).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o700,
            "{BACKEND} must have mode 0700 (cups-pdf runs as root)"
        );
        let name = format!("{QUEUE}_{port}");
        let queue_conf = PathBuf::from(format!("/etc/cups/cups-pdf-{name}.conf"));
        std::fs::write(
            &queue_conf,
            format!(
                "Out {d}/out\n\
                 AnonDirName {d}/out\n\
                 Spool {d}/pdfspool\n\
                 Log {d}/log\n\
                 AnonUser nobody\n\
                 AnonUMask 0000\n"
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/cupsd")
            .arg("-f")
            .arg("-c")
            .arg(conf.join("cupsd.conf"))
            .arg("-s")
            .arg(conf.join("cups-files.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut cups = Cups {
            dir,
            out,
            port,
            child,
            queue_conf,
        };
        cups.wait_listening(Duration::from_secs(15));
        let admin = Command::new("/usr/sbin/lpadmin")
            .args(["-h", &format!("127.0.0.1:{port}"), "-p", QUEUE, "-E"])
            .args(["-v", &format!("cups-pdf:/{name}"), "-P", PPD])
            .output()
            .unwrap();
        assert!(
            admin.status.success(),
            "lpadmin failed: {}\n{}",
            String::from_utf8_lossy(&admin.stderr),
            cups.error_log()
        );
        cups
    }

    fn wait_listening(&mut self, timeout: Duration) {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(e) = self.child.stderr.as_mut() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("cupsd exited with {status}: {err}\n{}", self.error_log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "cupsd did not listen on 127.0.0.1:{} within {timeout:?}\n{}",
            self.port,
            self.error_log()
        );
    }

    /// The queue's IPP URI.
    pub fn uri(&self) -> String {
        format!("ipp://127.0.0.1:{}/printers/{QUEUE}", self.port)
    }

    /// cupsd's and cups-pdf's logs, for failure messages.
    pub fn error_log(&self) -> String {
        let mut s = String::new();
        for entry in std::fs::read_dir(self.dir.join("log"))
            .into_iter()
            .flatten()
            .flatten()
        {
            s.push_str(&format!("--- {}\n", entry.path().display()));
            s.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
        s
    }

    /// Waits for a PDF in the output directory.
    pub fn wait_for_pdf(&self, timeout: Duration) -> Option<PathBuf> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            let found = std::fs::read_dir(&self.out)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.extension().is_some_and(|x| x == "pdf")
                        && std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false)
                });
            if found.is_some() {
                return found;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Cups {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.queue_conf);
        if std::env::var_os("KEEP_CUPS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
