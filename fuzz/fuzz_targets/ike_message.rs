//! Fuzz target: `ipsec_ike::testing::codec::fuzz_ike_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ipsec_ike::testing::codec::fuzz_ike_message(data));
