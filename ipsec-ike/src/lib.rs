//! Sans-IO IKEv2 (RFC 7296).
//!
//! Under construction: the message codec, the cryptographic suite and the IKE/CHILD SA state machines
//! land here next. It never performs IO, reads a clock or draws OS entropy.
#![no_std]
#![forbid(unsafe_code)]
