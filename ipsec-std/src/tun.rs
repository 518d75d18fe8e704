//! The TUN device: plaintext IP packets between the host's network stack and the tunnel.
//!
//! Packets the host routes into the device (see [`crate::route`]) are read here, looked up in
//! the SPD and protected; decrypted inbound packets are written here and delivered by the host.
//! The device is a layer-3 TUN without packet-information header (`IFF_TUN | IFF_NO_PI`), so
//! every read returns one bare IPv4 or IPv6 packet. It is created through the `tun-rs` crate
//! (ioctls on `/dev/net/tun`, no `unsafe` here) and is not persistent: the kernel deletes it,
//! with every route through it, when the descriptor closes — when [`TunDevice`] drops, and even
//! if the process is killed.
//!
//! Creating a device needs root or `CAP_NET_ADMIN`.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, BorrowedFd};

use tun_rs::{DeviceBuilder, SyncDevice};

use crate::route::Route;
use crate::subnet::Subnet;

/// Default MTU of the device: strongSwan's userspace ESP uses the same 1400 bytes, which leaves
/// room for ESP-in-UDP with AES-CBC + HMAC-SHA2-256 (up to 85 bytes over IPv4) and AES-GCM
/// within a 1500-byte path, with margin for IPv6 outer headers (RFC 4303 §2, RFC 3948 §2.1).
pub const DEFAULT_TUN_MTU: u16 = 1400;

/// How to create the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunConfig {
    /// Interface name (at most 15 bytes); `None` lets the kernel pick (`tun0`, `tun1`, ...).
    pub name: Option<String>,
    /// MTU of the device: inner packets are at most this long.
    pub mtu: u16,
    /// An IPv4 address and prefix for the device (optional: routes with `src` do not need one).
    pub ipv4: Option<(Ipv4Addr, u8)>,
    /// IPv6 addresses and prefixes.
    pub ipv6: Vec<(Ipv6Addr, u8)>,
}

impl Default for TunConfig {
    fn default() -> Self {
        Self {
            name: None,
            mtu: DEFAULT_TUN_MTU,
            ipv4: None,
            ipv6: Vec::new(),
        }
    }
}

/// Creating or configuring the device failed.
#[derive(Debug)]
pub struct TunError {
    /// The step that failed.
    pub step: &'static str,
    /// The OS error.
    pub source: io::Error,
}

impl fmt::Display for TunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TUN device: {} failed: {}", self.step, self.source)?;
        if self.source.kind() == io::ErrorKind::PermissionDenied {
            write!(f, " (needs root or CAP_NET_ADMIN)")?;
        }
        Ok(())
    }
}

impl std::error::Error for TunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// An open, configured, non-blocking TUN device. Dropping it deletes the interface.
pub struct TunDevice {
    dev: SyncDevice,
    name: String,
}

impl TunDevice {
    /// Creates the device, sets its addresses and MTU, brings it up.
    ///
    /// # Errors
    /// [`TunError`] naming the step (`create`, `set non-blocking`, `read name`).
    pub fn create(config: &TunConfig) -> Result<Self, TunError> {
        let mut b = DeviceBuilder::new()
            .mtu(config.mtu)
            .packet_information(false)
            .enable(true);
        if let Some(name) = &config.name {
            b = b.name(name.clone());
        }
        if let Some((addr, prefix)) = config.ipv4 {
            b = b.ipv4(addr, prefix, None);
        }
        for &(addr, prefix) in &config.ipv6 {
            b = b.ipv6(addr, prefix);
        }
        let dev = b.build_sync().map_err(|source| TunError {
            step: "create",
            source,
        })?;
        dev.set_nonblocking(true).map_err(|source| TunError {
            step: "set non-blocking",
            source,
        })?;
        let name = dev.name().map_err(|source| TunError {
            step: "read name",
            source,
        })?;
        tracing::info!(device = %name, mtu = config.mtu, "TUN device created");
        Ok(Self { dev, name })
    }

    /// The interface name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The interface index.
    ///
    /// # Errors
    /// The ioctl failed.
    pub fn index(&self) -> io::Result<u32> {
        self.dev.if_index()
    }

    /// The current MTU.
    ///
    /// # Errors
    /// The ioctl failed.
    pub fn mtu(&self) -> io::Result<u16> {
        self.dev.mtu()
    }

    /// Reads one packet into `buf` if one is waiting (`Ok(None)` otherwise). Use a buffer of at
    /// least the MTU; a longer packet is cut to the buffer by the kernel.
    ///
    /// # Errors
    /// Any read error other than "would block".
    pub fn read(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.dev.recv(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes one IP packet to the host.
    ///
    /// # Errors
    /// The write failed (a full queue shows as `WouldBlock`: the packet is dropped) or was short.
    pub fn write(&self, packet: &[u8]) -> io::Result<()> {
        let n = self.dev.send(packet)?;
        if n == packet.len() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short write to the TUN device",
            ))
        }
    }

    /// A route to `destination` through this device.
    #[must_use]
    pub fn route(&self, destination: Subnet) -> Route {
        Route::new(destination, self.name.clone())
    }
}

impl AsFd for TunDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.dev.as_fd()
    }
}

impl fmt::Debug for TunDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TunDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Drop for TunDevice {
    fn drop(&mut self) {
        // The kernel removes the interface when the descriptor closes (just after this).
        tracing::info!(device = %self.name, "TUN device closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_matches_strongswan_mtu() {
        let c = TunConfig::default();
        assert_eq!(c.mtu, 1400);
        assert!(c.name.is_none() && c.ipv4.is_none() && c.ipv6.is_empty());
    }

    #[test]
    fn permission_errors_say_what_is_needed() {
        let e = TunError {
            step: "create",
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert!(e.to_string().contains("CAP_NET_ADMIN"), "{e}");
    }
}
