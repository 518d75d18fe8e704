//! A `no_std`, allocation-free IPsec data plane: ESP (RFC 4303) and AH (RFC 4302) processing, the
//! Security Association Database and the Security Policy Database (RFC 4301).
//!
//! # The data-path contract
//! - **Sans-IO.** Nothing here reads a clock, touches a socket, draws entropy per packet or logs.
//!   Time comes in as [`Instant`] on every call; randomness only when an SA is installed.
//! - **In place.** [`Sad::protect`] takes the inner packet at `buf[start..start + len]` with
//!   [`sad::Overhead::headroom`] free bytes before it and `tailroom` after, and builds the protected
//!   packet around it; [`Sad::unprotect`] decrypts in place and returns the range of the packet to
//!   deliver. Nothing allocates (a test with a counting allocator checks it).
//! - **Order** (RFC 4303 §3.4): SPI lookup, replay check (read-only), ICV verification, padding and
//!   next-header checks, the SA's selectors — and only then the replay window, counters and
//!   lifetimes change. Every failure is a typed error ([`ProtectError`], [`UnprotectError`]) and
//!   leaves the SA as it was; a failed `protect` uses no sequence number.
//! - **Events.** Lifetime limits (bytes, packets, time, sequence space) surface through
//!   [`Sad::poll_event`]; sleep until [`Sad::poll_timeout`] and call [`Sad::handle_timeout`].
//! - **Policy** lives in [`spd::Spd`]: the outbound decision per packet (PROTECT with an SA, or an
//!   acquire for IKE, BYPASS, DISCARD) and the inbound check of plaintext traffic.
//! - **Crypto** comes from a [`transform::TransformProvider`]; [`transform::RustCrypto`] is the
//!   default (feature `rustcrypto`).
//!
//! # Example
//! ```
//! use ipsec_core::lifetime::Lifetime;
//! use ipsec_core::replay::replay_words;
//! use ipsec_core::sa::{Direction, Mode, SaParams, SecurityProtocol, Spi, TfcPadding, TunnelOptions};
//! use ipsec_core::selector::{SelectorSet, TrafficSelector};
//! use ipsec_core::transform::{AesKeyLen, EspAlgorithm, KeyMaterial, RustCrypto};
//! use ipsec_core::{Instant, Sad, Unprotected};
//! # use rand_core::{TryCryptoRng, TryRng};
//! # struct Rng(u8);
//! # impl TryRng for Rng {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { d.fill(self.0); Ok(()) }
//! # }
//! # impl TryCryptoRng for Rng {}
//!
//! // One direction of a tunnel-mode ESP SA with AES-256-GCM; both ends use the same parameters
//! // apart from the direction and the tunnel endpoints.
//! let params = |direction, local: &str, remote: &str| SaParams {
//!     spi: Spi(0x1000_0001),
//!     direction,
//!     protocol: SecurityProtocol::Esp(EspAlgorithm::AesGcm16(AesKeyLen::Aes256)),
//!     mode: Mode::Tunnel { local: local.parse().unwrap(), remote: remote.parse().unwrap() },
//!     esn: false,
//!     replay_window: 64,
//!     lifetime: Lifetime::default(),
//!     encap: None,
//!     selectors: SelectorSet::from_slice(&[TrafficSelector::any_v4()]).unwrap(),
//!     tunnel: TunnelOptions::default(),
//!     tfc: TfcPadding::None,
//! };
//! let keys = KeyMaterial::new(&[0x42; 36]).unwrap(); // 32-byte key + 4-byte salt, from IKE
//! let mut a: Sad<RustCrypto, 4, { replay_words(64) }> = Sad::new(RustCrypto);
//! let mut b: Sad<RustCrypto, 4, { replay_words(64) }> = Sad::new(RustCrypto);
//! let out = a.install(Instant::ZERO, &params(Direction::Outbound, "192.0.2.1", "192.0.2.2"), &keys, &mut Rng(1))?;
//! b.install(Instant::ZERO, &params(Direction::Inbound, "192.0.2.2", "192.0.2.1"), &keys, &mut Rng(2))?;
//!
//! // An inner IPv4 packet (20-byte header, no payload) placed after the SA's headroom.
//! let inner = [0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
//! let room = a.overhead(out).unwrap();
//! let mut buf = [0u8; 256];
//! buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
//! let sent = a.protect(Instant::ZERO, out, &mut buf, room.headroom, inner.len())?;
//!
//! // The receiver finds the SA by SPI, checks, decrypts, and hands back the inner packet.
//! let (start, len) = (sent.packet.start, sent.packet.len());
//! let Unprotected::Packet { packet, seq, .. } = b.unprotect(Instant::ZERO, &mut buf, start, len)? else {
//!     unreachable!()
//! };
//! assert_eq!((&buf[packet], seq), (&inner[..], 1));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
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

#[cfg(any(test, feature = "testing"))]
extern crate std;

mod ah;
pub mod error;
mod esp;
pub mod lifetime;
mod mode;
pub mod mss;
pub mod replay;
pub mod sa;
pub mod sad;
pub mod selector;
pub mod spd;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;
pub mod transform;
pub mod wire;

pub use error::{InstallError, ProtectError, UnprotectError};
pub use sa::{SaId, SaParams, Spi};
pub use sad::{Protected, Sad, SadEvent, Unprotected};
pub use time::Instant;
