//! Certification path validation to configured trust anchors (RFC 5280 §6, the parts IKE needs;
//! RFC 4945 §5.1.3 for the profile).
//!
//! The search is bounded for hostile input: at most [`MAX_INTERMEDIATES`] intermediates are
//! accepted, a certificate appears at most once in a path, paths are at most [`MAX_CHAIN_DEPTH`]
//! intermediates long, and at most [`MAX_SIGNATURE_CHECKS`] signatures are verified per call
//! (a peer could otherwise send many cross-signed certificates with one subject and make the
//! search exponential).

use core::cell::Cell;

use super::{CertError, Certificate};
use crate::crypto::SignatureVerifier;

/// Maximum number of certificates between the end-entity certificate and the trust anchor.
pub const MAX_CHAIN_DEPTH: usize = 8;
/// Maximum number of intermediate certificates accepted from a peer.
pub const MAX_INTERMEDIATES: usize = 16;
/// Maximum number of signature verifications one [`validate_chain`] call performs.
pub const MAX_SIGNATURE_CHECKS: u32 = 32;

/// Validates `end_entity` at `unix_now` (seconds) through `intermediates` (in any order, as
/// received in CERT payloads) to one of `anchors`.
///
/// Checks on every certificate of the path: validity at `unix_now`, no unknown critical
/// extension, a supported signature algorithm verified with the issuer's key. On issuers
/// (intermediates and the anchor): basicConstraints cA = TRUE, pathLenConstraint, keyUsage
/// keyCertSign if keyUsage is present. On the end entity: keyUsage digitalSignature or
/// nonRepudiation if keyUsage is present (RFC 4945 §5.1.3.2). The anchor is matched by subject
/// and must verify the signature below it; it is configuration, so its own signature is not
/// checked, but its validity and constraints are.
///
/// # Errors
/// The [`CertError`] of the end-entity certificate if it fails on its own;
/// [`CertError::ChainTooLong`] for more than [`MAX_INTERMEDIATES`] intermediates or when the
/// search exceeds its bounds; otherwise the most relevant error met while searching for a path
/// ([`CertError::UnknownIssuer`] if no issuer was found at all).
pub fn validate_chain(
    verifier: &dyn SignatureVerifier,
    end_entity: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    unix_now: u64,
) -> Result<(), CertError> {
    end_entity.check_validity(unix_now)?;
    if end_entity.unknown_critical {
        return Err(CertError::UnknownCriticalExtension);
    }
    if let Some(ku) = end_entity.key_usage {
        if !ku.digital_signature && !ku.non_repudiation {
            return Err(CertError::KeyUsage);
        }
    }
    if intermediates.len() > MAX_INTERMEDIATES {
        return Err(CertError::ChainTooLong);
    }
    let search = Search {
        verifier,
        intermediates,
        anchors,
        unix_now,
        budget: Cell::new(MAX_SIGNATURE_CHECKS),
    };
    search.issuer_path(end_entity, 0, 0)
}

struct Search<'a> {
    verifier: &'a dyn SignatureVerifier,
    intermediates: &'a [Certificate],
    anchors: &'a [Certificate],
    unix_now: u64,
    /// Signature verifications left.
    budget: Cell<u32>,
}

impl Search<'_> {
    /// Finds a path from `cert` (already checked on its own) upwards. `below` is the number of
    /// intermediate CA certificates between `cert`'s issuer and the end entity; `used` has bit
    /// `i` set for every intermediate `i` already on the path.
    fn issuer_path(&self, cert: &Certificate, below: usize, used: u32) -> Result<(), CertError> {
        let mut error = CertError::UnknownIssuer;
        for anchor in self.anchors.iter().filter(|a| a.subject == cert.issuer) {
            match self.check_issuer(cert, anchor, below) {
                Ok(()) => return Ok(()),
                Err(e) => error = e,
            }
        }
        if below >= MAX_CHAIN_DEPTH {
            return Err(if error == CertError::UnknownIssuer {
                CertError::ChainTooLong
            } else {
                error
            });
        }
        for (index, issuer) in self.intermediates.iter().enumerate() {
            let bit = u32::try_from(index)
                .ok()
                .and_then(|i| 1u32.checked_shl(i))
                .unwrap_or(0);
            if issuer.subject != cert.issuer || bit == 0 || used & bit != 0 {
                continue;
            }
            let result = self
                .check_issuer(cert, issuer, below)
                .and_then(|()| self.issuer_path(issuer, below.saturating_add(1), used | bit));
            match result {
                Ok(()) => return Ok(()),
                Err(CertError::ChainTooLong) if self.budget.get() == 0 => {
                    return Err(CertError::ChainTooLong);
                }
                // Keep the first specific reason; a deeper "unknown issuer" says less.
                Err(e) if error == CertError::UnknownIssuer => error = e,
                Err(_) => {}
            }
        }
        Err(error)
    }

    /// Checks that `issuer` may have issued `cert` and did.
    fn check_issuer(&self, cert: &Certificate, issuer: &Certificate, below: usize) -> Result<(), CertError> {
        issuer.check_validity(self.unix_now)?;
        if issuer.unknown_critical {
            return Err(CertError::UnknownCriticalExtension);
        }
        match issuer.basic_constraints {
            Some((true, path_len)) => {
                if path_len.is_some_and(|max| below > usize::from(max)) {
                    return Err(CertError::PathLenExceeded);
                }
            }
            _ => return Err(CertError::NotCa),
        }
        if issuer.key_usage.is_some_and(|ku| !ku.key_cert_sign) {
            return Err(CertError::KeyUsage);
        }
        let left = self.budget.get().checked_sub(1).ok_or(CertError::ChainTooLong)?;
        self.budget.set(left);
        cert.verify_signed_by(self.verifier, issuer)
    }
}
