//! Fuzz target: `ipsec_core::testing::fuzz::ah_unprotect`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_core::testing::fuzz::ah_unprotect(data));
