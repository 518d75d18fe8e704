//! Fuzz target: `ipsec_ike::testing::engine::fuzz_endpoint`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_ike::testing::engine::fuzz_endpoint(data));
