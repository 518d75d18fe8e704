//! Waiting for several file descriptors at once (`poll(2)`), for a single-threaded driver.
//!
//! The driver sleeps until a UDP socket or the TUN device is readable, the shutdown signal
//! fires, or the earliest protocol deadline arrives — whichever comes first.

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Waits until at least one of `fds` is readable or `timeout` passes (`None`: no limit).
///
/// On return `ready[i]` tells whether `fds[i]` is readable (or has an error or hang-up pending,
/// which the next read reports). Returns how many are ready; 0 after a timeout or when a signal
/// interrupted the wait (check your shutdown flag, then wait again).
///
/// Timeouts are rounded up to whole milliseconds, so a deadline is never reached early, and
/// capped at about 24 days per call.
///
/// # Errors
/// `InvalidInput` if `ready` is shorter than `fds`; any other `poll(2)` failure.
pub fn wait_readable(
    fds: &[BorrowedFd<'_>],
    ready: &mut [bool],
    timeout: Option<Duration>,
) -> io::Result<usize> {
    let ready = ready
        .get_mut(..fds.len())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "ready[] shorter than fds[]"))?;
    ready.fill(false);
    let mut pollfds: Vec<PollFd<'_>> = fds.iter().map(|fd| PollFd::new(*fd, PollFlags::POLLIN)).collect();
    let timeout = match timeout {
        None => PollTimeout::NONE,
        Some(d) => {
            // Round up: waking 0.4 ms early would make the driver spin until the deadline.
            let ms = d.as_micros().div_ceil(1000);
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    };
    match poll(&mut pollfds, timeout) {
        Ok(_) => {}
        Err(Errno::EINTR) => return Ok(0),
        Err(e) => return Err(io::Error::from(e)),
    }
    let mut count = 0usize;
    for (slot, pfd) in ready.iter_mut().zip(&pollfds) {
        let revents = pfd.revents().unwrap_or(PollFlags::empty());
        *slot = revents.intersects(PollFlags::POLLIN | PollFlags::POLLERR | PollFlags::POLLHUP);
        if *slot {
            count = count.saturating_add(1);
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsFd;
    use std::time::Instant;

    #[test]
    fn times_out_when_nothing_arrives() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut ready = [true];
        let t0 = Instant::now();
        let n = wait_readable(&[a.as_fd()], &mut ready, Some(Duration::from_millis(30))).unwrap();
        assert_eq!(n, 0);
        assert_eq!(ready, [false]);
        assert!(t0.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn reports_which_descriptor_is_readable() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.send_to(b"x", b.local_addr().unwrap()).unwrap();
        let mut ready = [false; 2];
        let n = wait_readable(&[a.as_fd(), b.as_fd()], &mut ready, Some(Duration::from_secs(5))).unwrap();
        assert_eq!(n, 1);
        assert_eq!(ready, [false, true]);
    }

    #[test]
    fn rejects_a_short_ready_slice() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = wait_readable(&[a.as_fd()], &mut [], Some(Duration::ZERO)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
