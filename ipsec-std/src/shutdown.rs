//! SIGTERM / SIGINT turned into something a single-threaded driver can wait on.
//!
//! [`ShutdownSignal::install`] registers handlers (through `signal-hook`, so no `unsafe` here)
//! that set a flag and write a byte into a socket pair. The driver adds
//! [`ShutdownSignal::fd`] to the descriptors it waits on, sees it readable, returns, and every
//! guard ([`crate::cleanup::Cleanup`], the TUN device, the sockets) is dropped in order:
//! routes removed, device gone. A second signal while shutting down takes the default action
//! (the process ends at once), so a hung cleanup can still be interrupted.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::SigId;
use signal_hook::consts::signal::{SIGINT, SIGTERM};

/// The signals that ask the peer to stop: SIGTERM (keepalived, systemd, `kill`) and SIGINT.
pub const SHUTDOWN_SIGNALS: [i32; 2] = [SIGTERM, SIGINT];

/// A shutdown request, from a signal or from [`ShutdownSignal::trigger`].
#[derive(Debug)]
pub struct ShutdownSignal {
    flag: Arc<AtomicBool>,
    reader: UnixStream,
    writer: UnixStream,
    ids: Vec<SigId>,
}

impl ShutdownSignal {
    /// Installs the handlers for [`SHUTDOWN_SIGNALS`].
    ///
    /// The handlers stay until this value is dropped. Signal dispositions are per process:
    /// create one per process.
    ///
    /// # Errors
    /// Creating the socket pair or registering a handler failed.
    pub fn install() -> io::Result<Self> {
        let mut this = Self::without_signals()?;
        for sig in SHUTDOWN_SIGNALS {
            // Order matters: the conditional default runs first and only acts when the flag
            // was set by an earlier signal.
            this.ids.push(signal_hook::flag::register_conditional_default(
                sig,
                Arc::clone(&this.flag),
            )?);
            this.ids
                .push(signal_hook::flag::register(sig, Arc::clone(&this.flag))?);
            this.ids.push(signal_hook::low_level::pipe::register(
                sig,
                this.writer.try_clone()?,
            )?);
        }
        Ok(this)
    }

    /// A shutdown request that only [`Self::trigger`] sets (for tests and embedders that handle
    /// signals themselves).
    ///
    /// # Errors
    /// Creating the socket pair failed.
    pub fn without_signals() -> io::Result<Self> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(Self {
            flag: Arc::new(AtomicBool::new(false)),
            reader,
            writer,
            ids: Vec::new(),
        })
    }

    /// True once a shutdown was requested.
    #[must_use]
    pub fn is_requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Requests shutdown as a signal would (e.g. from a control-socket `stop`).
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        // A full socket buffer already wakes the reader; nothing is lost by ignoring that.
        let _ = (&self.writer).write(&[1]);
    }

    /// Readable once a shutdown was requested: wait on it beside the sockets and the TUN device.
    #[must_use]
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }

    /// Empties the wake-up channel (after it was readable); returns [`Self::is_requested`].
    pub fn drain(&self) -> bool {
        let mut buf = [0u8; 64];
        while matches!((&self.reader).read(&mut buf), Ok(n) if n > 0) {}
        self.is_requested()
    }
}

impl Drop for ShutdownSignal {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::wait_readable;
    use std::time::Duration;

    #[test]
    fn trigger_wakes_a_waiting_driver() {
        let s = ShutdownSignal::without_signals().unwrap();
        assert!(!s.is_requested());
        let mut ready = [false];
        assert_eq!(
            wait_readable(&[s.fd()], &mut ready, Some(Duration::from_millis(10))).unwrap(),
            0
        );
        s.trigger();
        assert_eq!(
            wait_readable(&[s.fd()], &mut ready, Some(Duration::from_secs(5))).unwrap(),
            1
        );
        assert!(s.drain());
        assert_eq!(
            wait_readable(&[s.fd()], &mut ready, Some(Duration::from_millis(10))).unwrap(),
            0
        );
    }

    // The only test in this crate that raises a real signal (SIGTERM to ourselves, once).
    #[test]
    fn sigterm_sets_the_flag_instead_of_killing_us() {
        let s = ShutdownSignal::install().unwrap();
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGTERM).unwrap();
        let mut ready = [false];
        assert_eq!(
            wait_readable(&[s.fd()], &mut ready, Some(Duration::from_secs(5))).unwrap(),
            1
        );
        assert!(s.drain());
    }
}
