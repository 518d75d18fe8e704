//! Fuzz target: `ipsec_ike::testing::crypto::fuzz_certificate`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_ike::testing::crypto::fuzz_certificate(data));
