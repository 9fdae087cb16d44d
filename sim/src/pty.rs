//! Pseudo-terminals for simulated serial devices.
//!
//! A [`Pty`] is one master/slave pair in raw mode. The simulator talks on
//! the master; a driver opens the slave path (`/dev/pts/N`) as if it were
//! `/dev/ttyUSB0`. The simulator also keeps **its own descriptor of the
//! slave** open for the life of the pair (devices.md 1.8b): without it the
//! master reads EIO, and the pair is torn down, whenever the driver closes
//! the slave to reopen it. The simulator never reads from that descriptor,
//! so every byte written on the master reaches the driver.
//!
//! A [`LinkedPty`] adds a stable path: a symlink `DIR/NAME` that points at
//! the current `/dev/pts/N`. Unplugging closes the pair and removes the
//! symlink (the driver's open descriptor sees hang-up/EIO; opening the path
//! gives ENOENT, like a USB adapter that is gone); replugging opens a new
//! pair and points the symlink at it, so a driver configured with the
//! symlink reopens without any change of configuration.
//!
//! Built on `serialport::TTYPort::pair` (posix_openpt, grantpt, unlockpt,
//! cfmakeraw on the slave), so this module needs no `unsafe`.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serialport::{SerialPort, TTYPort};

/// One raw pseudo-terminal pair.
pub struct Pty {
    master: TTYPort,
    /// Held open, never read (see the module documentation).
    _slave: TTYPort,
    slave_path: PathBuf,
}

impl Pty {
    /// Opens a new pair with the slave in raw mode.
    pub fn open() -> io::Result<Pty> {
        let (master, slave) = TTYPort::pair().map_err(io::Error::from)?;
        let slave_path = slave
            .name()
            .map(PathBuf::from)
            .ok_or_else(|| io::Error::other("pseudo-terminal slave without a name"))?;
        Ok(Pty {
            master,
            _slave: slave,
            slave_path,
        })
    }

    /// The slave path, `/dev/pts/N`.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// Reads what the driver wrote, waiting at most `timeout`; `Ok(0)` when
    /// nothing came.
    pub fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.master.set_timeout(timeout).map_err(io::Error::from)?;
        match self.master.read(buf) {
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes all of `bytes` towards the driver, giving up after `timeout`
    /// (a driver that stopped reading must not wedge the simulator).
    pub fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut rest = bytes;
        while !rest.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "driver side not reading",
                ));
            }
            self.master.set_timeout(left).map_err(io::Error::from)?;
            match self.master.write(rest) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "pseudo-terminal refused bytes",
                    ));
                }
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A pseudo-terminal reachable under a stable symlink, with unplug and
/// replug.
pub struct LinkedPty {
    link: PathBuf,
    pty: Option<Pty>,
}

fn point_link(link: &Path, target: &Path) -> io::Result<()> {
    // Create beside and rename over, so the link is never missing or
    // half-written while it moves to the new pair.
    let tmp = link.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

impl LinkedPty {
    /// Opens a pair and makes `link_dir/name` point at its slave.
    /// `link_dir` is created when missing.
    pub fn open(link_dir: &Path, name: &str) -> io::Result<LinkedPty> {
        std::fs::create_dir_all(link_dir)?;
        let mut me = LinkedPty {
            link: link_dir.join(name),
            pty: None,
        };
        me.replug()?;
        Ok(me)
    }

    /// The stable path (the symlink).
    pub fn link_path(&self) -> &Path {
        &self.link
    }

    /// The current slave path, `None` while unplugged.
    pub fn slave_path(&self) -> Option<&Path> {
        self.pty.as_ref().map(Pty::slave_path)
    }

    /// Whether the pair is closed.
    pub fn is_unplugged(&self) -> bool {
        self.pty.is_none()
    }

    /// The open pair, `None` while unplugged.
    pub fn pty(&mut self) -> Option<&mut Pty> {
        self.pty.as_mut()
    }

    /// Closes the pair (the driver sees hang-up) and removes the symlink.
    pub fn unplug(&mut self) {
        self.pty = None;
        let _ = std::fs::remove_file(&self.link);
    }

    /// Opens a new pair (closing any old one) and points the symlink at it.
    pub fn replug(&mut self) -> io::Result<()> {
        self.pty = None;
        let pty = Pty::open()?;
        point_link(&self.link, pty.slave_path())?;
        self.pty = Some(pty);
        Ok(())
    }
}

impl Drop for LinkedPty {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.link);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pty-test-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn open_slave(path: &Path) -> TTYPort {
        serialport::new(path.to_string_lossy(), 115_200)
            .timeout(Duration::from_secs(2))
            .open_native()
            .unwrap()
    }

    #[test]
    fn all_byte_values_pass_both_ways_and_reopen_works() {
        let d = dir("bytes");
        let mut lp = LinkedPty::open(&d, "dev").unwrap();
        assert_eq!(
            std::fs::read_link(lp.link_path()).unwrap(),
            lp.slave_path().unwrap()
        );
        let all: Vec<u8> = (0..=255).collect();
        for _round in 0..2 {
            let mut slave = open_slave(lp.link_path());
            slave.write_all(&all).unwrap();
            let mut got = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(2);
            let mut buf = [0u8; 512];
            while got.len() < all.len() && Instant::now() < deadline {
                let n = lp
                    .pty()
                    .unwrap()
                    .read(&mut buf, Duration::from_millis(50))
                    .unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, all);
            lp.pty()
                .unwrap()
                .write_all(&all, Duration::from_secs(1))
                .unwrap();
            let mut back = vec![0u8; 256];
            slave.read_exact(&mut back).unwrap();
            assert_eq!(back, all);
            let _ = slave.set_exclusive(false);
            drop(slave);
            // The simulator's own slave descriptor keeps the master usable
            // after the driver closed its side.
            assert_eq!(
                lp.pty()
                    .unwrap()
                    .read(&mut buf, Duration::from_millis(20))
                    .unwrap(),
                0
            );
        }
    }

    #[test]
    fn unplug_hangs_up_and_replug_moves_the_link() {
        let d = dir("plug");
        let mut lp = LinkedPty::open(&d, "dev").unwrap();
        let mut slave = open_slave(lp.link_path());
        lp.unplug();
        assert!(lp.is_unplugged());
        assert!(!lp.link_path().exists());
        let mut buf = [0u8; 8];
        let err = slave.read(&mut buf).unwrap_err();
        assert_ne!(
            err.kind(),
            io::ErrorKind::TimedOut,
            "a hang-up, not a timeout: {err}"
        );
        let err = serialport::new(lp.link_path().to_string_lossy(), 115_200)
            .open_native()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            serialport::ErrorKind::Io(io::ErrorKind::NotFound)
        );
        lp.replug().unwrap();
        let mut slave = open_slave(lp.link_path());
        slave.write_all(b"hi").unwrap();
        let n = lp
            .pty()
            .unwrap()
            .read(&mut buf, Duration::from_secs(1))
            .unwrap();
        assert_eq!(&buf[..n], b"hi");
    }
}
