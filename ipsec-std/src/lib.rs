//! std adapters for the ipsec crates.
//!
//! Status: under construction. This crate will hold the system clock, OS entropy, UDP and TUN adapters
//! and the driver loop that wires `ipsec-ike` and `ipsec-core` together.
