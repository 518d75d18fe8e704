//! std adapters for the ipsec crates: the I/O, clock and entropy around the Sans-IO `ipsec-core`
//! (ESP data plane, SAD, SPD) and `ipsec-ike` (IKEv2 engine), and the event loop that runs them.
//!
//! # Calling contract
//! - [`config`] loads a [`config::Config`] from our TOML format or strongSwan's `ipsec.conf` +
//!   `ipsec.secrets` (errors name file, line and key); [`config::engine::engine_config`] maps it
//!   onto the engine's plain-data configuration.
//! - [`driver::Driver::new`] opens the UDP sockets ([`udp`], ports 500/4500), the TUN device
//!   ([`tun`]) and builds the engine with OS entropy ([`random`]) and the monotonic clock
//!   ([`clock`]); [`driver::Driver::run`] loops until [`shutdown::ShutdownSignal`] fires
//!   (SIGTERM/SIGINT), then closes every IKE SA. Routes into the TUN device ([`route`]) are
//!   undone by the [`cleanup::Cleanup`] guard on every exit path.
//! - Optional: a [`control::ControlSocket`] (`up`, `down`, `status`, `list-sas`, `reload`) served
//!   from the same loop, and a [`keylog::KeyLog`] of ESP and IKE SA keys in Wireshark's table formats.
//!
//! - [`driver::DriverOptions::packet_io`] = [`packet_io::PacketIoKind::Memory`] replaces the
//!   TUN device with in-memory queues (no device, no routes, no root with unprivileged ports).
//!
//! Everything that needs privileges (ports below 1024, TUN, routes) needs root or
//! `CAP_NET_ADMIN` + `CAP_NET_BIND_SERVICE`. The `ipsec-peer` binary in `examples/` is the
//! command-line front end; `tests/interop_strongswan.rs` runs it against strongSwan.
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::unwrap_in_result
)]

pub mod cleanup;
pub mod clock;
pub mod config;
pub mod control;
pub mod driver;
pub mod keylog;
pub mod mss;
pub mod packet_io;
pub mod random;
pub mod route;
pub mod shutdown;
pub mod subnet;
pub mod tun;
pub mod udp;
pub mod wait;
