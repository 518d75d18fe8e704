//! Checks and size arithmetic on SA parameters.

// Arithmetic here is on lengths and offsets bounded by a slice length (< isize::MAX) plus small
// constants or 8-bit header fields scaled by at most 8; every subtraction follows the comparison that
// makes it non-negative. Checked arithmetic would add error paths that cannot be taken.
#![allow(clippy::arithmetic_side_effects)]

use super::Overhead;
use crate::error::InstallError;
use crate::mode;
use crate::sa::{Direction, Mode, SaParams, SecurityProtocol, TfcPadding};
use crate::transform::{CryptoError, EspAlgorithm};
use crate::wire::{IpProtocol, UDP_HEADER_LEN};
use crate::{ah, esp};

/// The IP protocol of the SA's IPsec header.
pub(super) fn ipsec_protocol(p: SecurityProtocol) -> IpProtocol {
    match p {
        SecurityProtocol::Esp(_) => IpProtocol::ESP,
        SecurityProtocol::Ah(_) => IpProtocol::AH,
    }
}

pub(super) fn validate(p: &SaParams) -> Result<(), InstallError> {
    let bad = InstallError::InvalidParams;
    if p.spi.0 < 256 {
        return Err(bad("SPI values 0..=255 are reserved (RFC 4303 §2.1)"));
    }
    if let Mode::Tunnel { local, remote } = p.mode {
        if local.is_ipv4() != remote.is_ipv4() {
            return Err(bad("tunnel endpoints of different address families"));
        }
    }
    match p.protocol {
        SecurityProtocol::Ah(_) => {
            if p.encap.is_some() {
                return Err(bad("AH cannot be UDP-encapsulated"));
            }
            if p.tfc != TfcPadding::None {
                return Err(bad("TFC padding needs ESP"));
            }
        }
        SecurityProtocol::Esp(alg) => {
            if p.esn && matches!(alg, EspAlgorithm::AesGmac(_)) {
                return Err(InstallError::Crypto(CryptoError::Unsupported));
            }
            if p.tfc != TfcPadding::None && p.mode == Mode::Transport {
                return Err(bad("TFC padding needs tunnel mode"));
            }
        }
    }
    if p.direction == Direction::Inbound && p.selectors.is_empty() {
        return Err(bad("an inbound SA needs at least one traffic selector"));
    }
    Ok(())
}

pub(super) fn overhead(p: &SaParams) -> Overhead {
    let outer = match p.mode {
        Mode::Tunnel { local, .. } => mode::outer_len(local),
        Mode::Transport => 0,
    };
    match p.protocol {
        SecurityProtocol::Esp(alg) => {
            let udp = if p.encap.is_some() { UDP_HEADER_LEN } else { 0 };
            let tfc = match p.tfc {
                TfcPadding::PadTo(n) => usize::from(n),
                TfcPadding::None => 0,
            };
            Overhead {
                headroom: outer + udp + esp::header_len(alg),
                tailroom: tfc + alg.block_len() - 1 + 2 + alg.icv_len(),
            }
        }
        SecurityProtocol::Ah(alg) => {
            let v6 = match p.mode {
                Mode::Tunnel { local, .. } => local.is_ipv6(),
                Mode::Transport => true,
            };
            Overhead {
                headroom: outer + ah::header_len(alg, v6),
                tailroom: 0,
            }
        }
    }
}

pub(super) fn added_bytes(p: &SaParams, inner_len: usize) -> usize {
    match (p.protocol, p.mode) {
        (SecurityProtocol::Esp(alg), mode) => {
            let udp = if p.encap.is_some() { UDP_HEADER_LEN } else { 0 };
            let (outer, payload) = match mode {
                Mode::Tunnel { local, .. } => {
                    let padded = match p.tfc {
                        TfcPadding::PadTo(n) => inner_len.max(usize::from(n)),
                        TfcPadding::None => inner_len,
                    };
                    (mode::outer_len(local), padded)
                }
                // Transport: the payload length depends on the packet's headers; count the
                // largest padding so the figure is an upper bound.
                Mode::Transport => {
                    return udp + esp::header_len(alg) + alg.block_len() - 1 + 2 + alg.icv_len();
                }
            };
            let grown = payload - inner_len.min(payload);
            outer + udp + esp::header_len(alg) + grown + esp::trailer_len(alg, payload)
        }
        (SecurityProtocol::Ah(alg), Mode::Tunnel { local, .. }) => {
            mode::outer_len(local) + ah::header_len(alg, local.is_ipv6())
        }
        (SecurityProtocol::Ah(alg), Mode::Transport) => ah::header_len(alg, true),
    }
}
