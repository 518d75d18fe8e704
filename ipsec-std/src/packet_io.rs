//! Where the driver's cleartext packets come from and go to: a TUN device, or memory.
//!
//! A [`Driver`](crate::driver::Driver) normally reads the packets it protects from a TUN device
//! and writes the packets it decrypts back to it ([`PacketIoKind::Tun`], needs root). With
//! [`PacketIoKind::Memory`] it uses a [`MemoryPackets`] queue pair instead: the caller pushes
//! inner IP packets that should enter the tunnel and pops the ones that came out of it. No device
//! and no route is created, so a program without privileges (a demo, a test, an application
//! with its own user-space network stack) can run the whole driver over real UDP sockets.

use std::collections::VecDeque;

use crate::tun::DEFAULT_TUN_MTU;

/// Which packet I/O a driver uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketIoKind {
    /// A TUN device created from [`DriverOptions::tun`](crate::driver::DriverOptions::tun), with
    /// routes for the remote subnets (root or `CAP_NET_ADMIN`).
    #[default]
    Tun,
    /// In-memory queues ([`MemoryPackets`]), no device and no routes; the MTU of the inner
    /// packets is [`TunConfig::mtu`](crate::tun::TunConfig::mtu) all the same.
    Memory,
}

/// The in-memory packet I/O of a driver (see the [module docs](self)).
#[derive(Debug)]
pub struct MemoryPackets {
    to_tunnel: VecDeque<Vec<u8>>,
    from_tunnel: VecDeque<Vec<u8>>,
    mtu: u16,
}

impl Default for MemoryPackets {
    fn default() -> Self {
        Self::new(DEFAULT_TUN_MTU)
    }
}

impl MemoryPackets {
    /// Empty queues for inner packets of at most `mtu` bytes.
    #[must_use]
    pub fn new(mtu: u16) -> Self {
        Self {
            to_tunnel: VecDeque::new(),
            from_tunnel: VecDeque::new(),
            mtu,
        }
    }

    /// Queues an inner IPv4 or IPv6 packet for the tunnel, as if the host had routed it into
    /// the TUN device; the driver takes it on its next step (SPD lookup, ESP, UDP).
    pub fn push_outbound(&mut self, packet: Vec<u8>) {
        self.to_tunnel.push_back(packet);
    }

    /// The oldest packet that came out of the tunnel (decrypted, selectors checked), if any.
    pub fn pop_delivered(&mut self) -> Option<Vec<u8>> {
        self.from_tunnel.pop_front()
    }

    /// Packets queued for the tunnel and not yet taken by the driver.
    #[must_use]
    pub fn pending_outbound(&self) -> usize {
        self.to_tunnel.len()
    }

    /// The MTU the inner packets are held to (for MSS clamping).
    #[must_use]
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// The driver's side: the next packet for the tunnel.
    pub(crate) fn take_outbound(&mut self) -> Option<Vec<u8>> {
        self.to_tunnel.pop_front()
    }

    /// The driver's side: a packet that came out of the tunnel.
    pub(crate) fn deliver(&mut self, packet: &[u8]) {
        self.from_tunnel.push_back(packet.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_keep_order_and_count() {
        let mut m = MemoryPackets::new(1280);
        assert_eq!(m.mtu(), 1280);
        m.push_outbound(vec![1]);
        m.push_outbound(vec![2]);
        assert_eq!(m.pending_outbound(), 2);
        assert_eq!(m.take_outbound(), Some(vec![1]));
        assert_eq!(m.pending_outbound(), 1);
        m.deliver(&[9, 9]);
        assert_eq!(m.pop_delivered(), Some(vec![9, 9]));
        assert_eq!(m.pop_delivered(), None);
    }
}
