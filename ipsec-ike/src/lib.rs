//! Sans-IO IKEv2 (RFC 7296).
//!
//! This crate holds the IKEv2 message codec ([`message`]), proposal selection ([`proposal`]), the
//! cryptographic suite ([`crypto`], [`keys`], [`cert`]) and, later, the IKE/CHILD SA state machines. It
//! never performs IO, reads a clock or draws OS entropy: the caller passes time and randomness in.
#![no_std]
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

extern crate alloc;

pub mod cert;
pub mod config;
pub mod crypto;
pub mod endpoint;
pub mod error;
pub mod event;
pub mod keys;
pub mod message;
pub mod proposal;
mod sa;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod transmit;

pub use config::{ChildConfig, ChildConfigId, EndpointConfig, PeerConfig, PeerId};
pub use endpoint::{ApiMisuse, ConnectError, DatagramError, Endpoint, TimerReason};
pub use event::{ChildSaId, ChildSaInstall, CloseReason, DeleteReason, Event, IkeSaId, IkeSaKeyLog, Warning};
pub use transmit::{Encapsulation, Transmit};
