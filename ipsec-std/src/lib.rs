//! std adapters for the ipsec crates (placeholder docs, rewritten below).
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
pub mod random;
pub mod route;
pub mod shutdown;
pub mod subnet;
pub mod tun;
pub mod udp;
pub mod wait;
