//! Fuzz target: `ipsec_core::testing::fuzz::ipsec_headers`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_core::testing::fuzz::ipsec_headers(data));
