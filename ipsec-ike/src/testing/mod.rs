//! Test support shared with integration tests and fuzz targets: proptest strategies, fixtures and
//! fuzz entry points. Only built for tests or with the `testing` feature (needs std).

extern crate std;

pub mod codec;
pub mod crypto;
pub mod engine;
