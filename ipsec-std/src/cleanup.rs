//! Undoing what the peer changed on the host: routes, devices, rules.
//!
//! Every change to the system (a route into the TUN device, ...) registers its undo action
//! with a [`Cleanup`] at the moment it succeeds. The guard runs the actions in reverse order
//! when it is dropped — on a normal return, on an error path and while a panic unwinds — or
//! earlier, one by one, with [`Cleanup::undo`] (a CHILD SA went away, its route goes too).
//!
//! Signals do not unwind: pair the guard with [`crate::shutdown::ShutdownSignal`], whose
//! descriptor the driver waits on; on SIGTERM/SIGINT the driver returns, and the guard's drop
//! does the work. A TUN device that is not persistent vanishes by itself when its descriptor
//! is closed, even on SIGKILL, and takes its routes with it; the guard covers the rest.

use std::fmt;
use std::io;

/// Identifies one registered undo action of a [`Cleanup`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CleanupId(u64);

type Action = Box<dyn FnOnce() -> io::Result<()> + Send>;

/// Undo actions, run in reverse registration order on drop. See the module docs.
#[derive(Default)]
pub struct Cleanup {
    next: u64,
    actions: Vec<(CleanupId, String, Action)>,
}

/// An undo action that failed (it has been removed all the same).
#[derive(Debug)]
pub struct CleanupFailure {
    /// What the action was undoing, as given to [`Cleanup::push`].
    pub what: String,
    /// Why it failed.
    pub error: io::Error,
}

impl fmt::Display for CleanupFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cleanup of {} failed: {}", self.what, self.error)
    }
}

impl std::error::Error for CleanupFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl Cleanup {
    /// An empty guard.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `undo`, described by `what` (for logs: "route 192.168.20.0/24 dev ipsec0").
    pub fn push(
        &mut self,
        what: impl Into<String>,
        undo: impl FnOnce() -> io::Result<()> + Send + 'static,
    ) -> CleanupId {
        let id = CleanupId(self.next);
        self.next = self.next.wrapping_add(1);
        self.actions.push((id, what.into(), Box::new(undo)));
        id
    }

    /// Runs the action `id` now and forgets it. Returns `None` if it was already run.
    ///
    /// # Errors
    /// The action's own error (it is forgotten all the same: a failed undo is not retried).
    pub fn undo(&mut self, id: CleanupId) -> Option<Result<(), CleanupFailure>> {
        let pos = self.actions.iter().position(|(i, _, _)| *i == id)?;
        let (_, what, action) = self.actions.remove(pos);
        Some(action().map_err(|error| CleanupFailure { what, error }))
    }

    /// Forgets the action `id` without running it (the thing is gone already, or is handed
    /// over to someone else). Returns false if it was not registered.
    pub fn forget(&mut self, id: CleanupId) -> bool {
        let before = self.actions.len();
        self.actions.retain(|(i, _, _)| *i != id);
        self.actions.len() != before
    }

    /// Number of pending actions.
    #[must_use]
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// True if nothing is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Descriptions of the pending actions, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|(_, what, _)| what.as_str())
    }

    /// Runs every pending action now, newest first, and returns the failures (each is also
    /// logged). The guard is empty afterwards.
    pub fn run_all(&mut self) -> Vec<CleanupFailure> {
        let mut failures = Vec::new();
        while let Some((_, what, action)) = self.actions.pop() {
            match action() {
                Ok(()) => tracing::debug!(what = %what, "cleaned up"),
                Err(error) => {
                    tracing::warn!(what = %what, %error, "cleanup failed");
                    failures.push(CleanupFailure { what, error });
                }
            }
        }
        failures
    }
}

impl fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.pending()).finish()
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Failures are logged inside; nothing more can be done about them here.
        let _failures = self.run_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn recorder() -> (Arc<Mutex<Vec<&'static str>>>, impl Fn(&'static str) -> Action) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&log);
        let make = move |name: &'static str| -> Action {
            let l = Arc::clone(&l);
            Box::new(move || {
                l.lock().unwrap().push(name);
                Ok(())
            })
        };
        (log, make)
    }

    #[test]
    fn drop_runs_actions_newest_first() {
        let (log, make) = recorder();
        {
            let mut c = Cleanup::new();
            c.push("a", make("a"));
            c.push("b", make("b"));
            c.push("c", make("c"));
            assert_eq!(c.pending().collect::<Vec<_>>(), ["a", "b", "c"]);
            assert_eq!(c.len(), 3);
        }
        assert_eq!(*log.lock().unwrap(), ["c", "b", "a"]);
    }

    #[test]
    fn undo_runs_one_once_and_forget_skips() {
        let (log, make) = recorder();
        let mut c = Cleanup::new();
        let a = c.push("a", make("a"));
        let b = c.push("b", make("b"));
        let d = c.push("d", make("d"));
        assert!(c.undo(b).unwrap().is_ok());
        assert!(c.undo(b).is_none());
        assert!(c.forget(d));
        assert!(!c.forget(d));
        drop(c);
        assert_eq!(*log.lock().unwrap(), ["b", "a"]);
        let _ = a;
    }

    #[test]
    fn failures_are_reported_and_do_not_stop_the_rest() {
        let (log, make) = recorder();
        let mut c = Cleanup::new();
        c.push("first", make("first"));
        c.push("broken", || Err(io::Error::other("no such route")));
        c.push("last", make("last"));
        let failures = c.run_all();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].what, "broken");
        assert!(failures[0].to_string().contains("no such route"));
        assert_eq!(*log.lock().unwrap(), ["last", "first"]);
        assert!(c.is_empty());
    }

    #[test]
    fn runs_while_a_panic_unwinds() {
        let (log, make) = recorder();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut c = Cleanup::new();
            c.push("route", make("route"));
            panic!("driver bug");
        }));
        assert!(result.is_err());
        assert_eq!(*log.lock().unwrap(), ["route"]);
    }
}
