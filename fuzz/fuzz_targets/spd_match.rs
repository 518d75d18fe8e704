//! Fuzz target: `ipsec_core::testing::spd::fuzz_spd`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_core::testing::spd::fuzz_spd(data));
