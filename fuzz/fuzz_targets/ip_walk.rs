//! Fuzz target: `ipsec_core::testing::fuzz::ip_walk`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_core::testing::fuzz::ip_walk(data));
