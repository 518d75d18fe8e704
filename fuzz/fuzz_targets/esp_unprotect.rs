//! Fuzz target: `ipsec_core::testing::fuzz::esp_unprotect`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_core::testing::fuzz::esp_unprotect(data));
