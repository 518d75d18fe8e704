//! Processes the harness started, and only those: stopped by PID after checking what runs there.

use std::fmt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::LabError;

/// Programs that may sit at a tracked PID before it `exec`s the real one: we start everything as
/// `ip netns exec <ns> [sh -c "... exec"] <program>`.
const LAUNCHERS: &[&str] = &["/ip", "/sh", "/dash", "/bash"];

/// A child process the harness started. Dropping it stops it.
pub struct Tracked {
    label: String,
    child: Child,
    exe: &'static str,
    signal: Signal,
    status: Option<ExitStatus>,
}

impl Tracked {
    /// Tracks `child`, which is expected to run a program whose path ends with `exe` (e.g.
    /// `"/charon"`), and stops it with `signal` (then SIGKILL after 5 s).
    pub fn new(label: impl Into<String>, child: Child, exe: &'static str, signal: Signal) -> Self {
        Self {
            label: label.into(),
            child,
            exe,
            signal,
            status: None,
        }
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// True while it runs (it is reaped as soon as it is seen to have exited).
    pub fn is_running(&mut self) -> bool {
        if self.status.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(s)) => {
                self.status = Some(s);
                false
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// The program at its PID now (`/proc/PID/exe`), if it still runs.
    pub fn exe(&self) -> Option<String> {
        std::fs::read_link(format!("/proc/{}/exe", self.pid()))
            .ok()
            .map(|p| p.display().to_string())
    }

    /// Stops it with `signal` instead of its usual one (e.g. SIGKILL to simulate a crash).
    pub fn stop_with(&mut self, signal: Signal) -> Result<ExitStatus, LabError> {
        self.signal = signal;
        self.stop()
    }

    /// Stops it: checks `/proc/PID/exe`, sends the stop signal, waits up to 5 s, then SIGKILL.
    /// Idempotent. The child is never reaped before this, so its PID cannot have been reused.
    pub fn stop(&mut self) -> Result<ExitStatus, LabError> {
        if let Some(s) = self.status {
            return Ok(s);
        }
        if self.is_running() {
            let exe = self.exe().unwrap_or_default();
            let ours = exe.ends_with(self.exe) || LAUNCHERS.iter().any(|l| exe.ends_with(l));
            if !ours {
                return Err(LabError::new(format!(
                    "{} (pid {}): /proc/PID/exe is {exe:?}, not {}; not signalling it",
                    self.label,
                    self.pid(),
                    self.exe
                )));
            }
            let pid =
                Pid::from_raw(i32::try_from(self.pid()).map_err(|_| LabError::new("pid out of range"))?);
            let _ = kill(pid, self.signal);
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.is_running() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.is_running() {
                eprintln!(
                    "[lab] {} (pid {}) ignored {:?}, sending SIGKILL",
                    self.label,
                    self.pid(),
                    self.signal
                );
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        let status = self
            .child
            .wait()
            .map_err(|e| LabError::new(format!("wait for {}: {e}", self.label)))?;
        self.status = Some(status);
        Ok(status)
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pid {})", self.label, self.pid())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("[lab] {e}");
        }
    }
}
