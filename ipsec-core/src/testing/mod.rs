//! Test support shared by this crate's tests, the integration tests in `tests/`, the fuzz targets
//! and the benchmarks: SA fixtures, packet builders, proptest strategies and fuzz entry points.
//! Built only for tests or with the `testing` feature (it uses std).

// Test support: a panic here is a failed test or a found bug, which is what it is for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    missing_docs
)]

pub mod fuzz;
pub mod packets;
pub mod sa;
pub mod spd;
