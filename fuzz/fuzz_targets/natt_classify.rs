//! Fuzz target: `ipsec_core::testing::fuzz::natt_classify`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_core::testing::fuzz::natt_classify(data));
