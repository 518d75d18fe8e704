//! The Security Association payload and its proposals (RFC 7296 §3.3, §3.3.1).
//!
//! ```text
//! SA payload body: Proposal substructure, Proposal substructure, ...
//! Proposal: Last Substruc (1: 0 last, 2 more) | RESERVED (1) | Proposal Length (2)
//!           Proposal Num (1) | Protocol ID (1) | SPI Size (1) | Num Transforms (1)
//!           SPI (SPI Size) | Transforms (Num Transforms)
//! ```

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::header::IkeSpi;
use super::reader::Reader;
use super::transform::{DhGroup, EncrId, EsnId, IntegId, PrfId, Transform, TransformType};
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Security protocol identifier (RFC 7296 §3.3.1, IANA "IKEv2 Security Protocol Identifiers").
    pub struct ProtocolId(u8);
    /// No protocol: a Notify about the IKE SA or without SPI (RFC 7296 §3.10).
    NONE = 0,
    /// IKE.
    IKE = 1,
    /// AH (RFC 4302).
    AH = 2,
    /// ESP (RFC 4303).
    ESP = 3,
    /// RFC 4595.
    FC_ESP_HEADER = 4,
    /// RFC 4595.
    FC_CT_AUTHENTICATION = 5,
    /// RFC 9838 (G-IKEv2).
    GIKE_UPDATE = 6,
}

/// One proposal (RFC 7296 §3.3.1): a protocol, an SPI and the transforms acceptable with it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Proposal<'a> {
    /// Proposal number: 1, 2, ... in an offer; the accepted one's number in a reply.
    pub number: u8,
    /// The protocol the proposal is for.
    pub protocol: ProtocolId,
    /// The sender's SPI: empty in IKE_SA_INIT, 8 bytes for an IKE rekey, 4 for ESP/AH.
    pub spi: Cow<'a, [u8]>,
    /// Transforms, in the sender's preference order.
    pub transforms: Vec<Transform<'a>>,
}

/// Fixed part of a proposal substructure.
const PROPOSAL_HEADER_LEN: usize = 8;

impl<'a> Proposal<'a> {
    /// The transforms of one type, in order.
    pub fn transforms_of(&self, ty: TransformType) -> impl Iterator<Item = &Transform<'a>> {
        self.transforms.iter().filter(move |t| t.transform_type == ty)
    }

    /// The first encryption transform and its key length.
    #[must_use]
    pub fn encr(&self) -> Option<(EncrId, Option<u16>)> {
        self.transforms
            .iter()
            .find_map(|t| t.encr_id().map(|id| (id, t.key_length())))
    }

    /// The first PRF transform.
    #[must_use]
    pub fn prf(&self) -> Option<PrfId> {
        self.transforms.iter().find_map(Transform::prf_id)
    }

    /// The first integrity transform.
    #[must_use]
    pub fn integ(&self) -> Option<IntegId> {
        self.transforms.iter().find_map(Transform::integ_id)
    }

    /// The first key exchange method (transform type 4).
    #[must_use]
    pub fn dh_group(&self) -> Option<DhGroup> {
        self.transforms_of(TransformType::KE)
            .next()
            .map(|t| DhGroup(t.transform_id))
    }

    /// The first ESN transform.
    #[must_use]
    pub fn esn(&self) -> Option<EsnId> {
        self.transforms.iter().find_map(Transform::esn_id)
    }

    /// The SPI as an ESP/AH SPI, if it is 4 bytes long.
    #[must_use]
    pub fn spi_u32(&self) -> Option<u32> {
        let b: [u8; 4] = self.spi.as_ref().try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }

    /// The SPI as an IKE SPI, if it is 8 bytes long (IKE SA rekey, RFC 7296 §1.3.2).
    #[must_use]
    pub fn spi_ike(&self) -> Option<IkeSpi> {
        Some(IkeSpi(self.spi.as_ref().try_into().ok()?))
    }

    /// Reads one proposal substructure; returns it and whether its Last Substruc said "last".
    ///
    /// # Errors
    /// [`InvalidMessage`] for truncation, a length that overruns the SA payload or is not filled
    /// exactly by SPI and transforms, or a Last Substruc other than 0 or 2.
    pub fn decode(r: &mut Reader<'a>) -> Result<(Self, bool), InvalidMessage> {
        let [more, _reserved, l0, l1] = *r.take_array::<4>("proposal header")?;
        let last = match more {
            0 => true,
            2 => false,
            _ => {
                return Err(InvalidMessage::Malformed {
                    what: "proposal Last Substruc",
                });
            }
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let body_len =
            len.checked_sub(4)
                .filter(|_| len >= PROPOSAL_HEADER_LEN)
                .ok_or(InvalidMessage::BadLength {
                    what: "proposal length",
                })?;
        let mut body = r.sub(body_len, "proposal length")?;
        let [number, protocol, spi_size, count] = *body.take_array::<4>("proposal header")?;
        let spi = body.take(usize::from(spi_size), "proposal SPI")?;
        let mut transforms = Vec::with_capacity(usize::from(count).min(body.remaining() / 8));
        for i in 0..count {
            transforms.push(Transform::decode(&mut body, i.checked_add(1) == Some(count))?);
        }
        body.finish("proposal (bytes after the last transform)")?;
        let proposal = Self {
            number,
            protocol: ProtocolId(protocol),
            spi: Cow::Borrowed(spi),
            transforms,
        };
        Ok((proposal, last))
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.transforms
            .iter()
            .fold(PROPOSAL_HEADER_LEN.saturating_add(self.spi.len()), |n, t| {
                n.saturating_add(t.buffer_len())
            })
    }

    /// Appends the proposal substructure; `last` selects the Last Substruc value.
    ///
    /// # Errors
    /// [`EncodeError`] if the SPI is longer than 255 bytes, there are more than 255 transforms, or
    /// the proposal is longer than 65535 bytes.
    pub fn emit(&self, out: &mut Vec<u8>, last: bool) -> Result<(), EncodeError> {
        let len = u16::try_from(self.buffer_len()).map_err(|_| EncodeError::TooLong { what: "proposal" })?;
        let spi_size =
            u8::try_from(self.spi.len()).map_err(|_| EncodeError::TooLong { what: "proposal SPI" })?;
        let count = u8::try_from(self.transforms.len()).map_err(|_| EncodeError::TooLong {
            what: "proposal transform count",
        })?;
        out.extend_from_slice(&[if last { 0 } else { 2 }, 0]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[self.number, self.protocol.0, spi_size, count]);
        out.extend_from_slice(&self.spi);
        let mut left = self.transforms.len();
        for t in &self.transforms {
            left = left.saturating_sub(1);
            t.emit(out, left == 0)?;
        }
        Ok(())
    }

    /// Copies borrowed bytes so the proposal outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Proposal<'static> {
        Proposal {
            number: self.number,
            protocol: self.protocol,
            spi: cow_owned(self.spi),
            transforms: self.transforms.into_iter().map(Transform::into_owned).collect(),
        }
    }

    /// A copy that borrows from `self`.
    #[must_use]
    pub fn borrowed(&self) -> Proposal<'_> {
        Proposal {
            number: self.number,
            protocol: self.protocol,
            spi: Cow::Borrowed(self.spi.as_ref()),
            transforms: self.transforms.clone(),
        }
    }
}

/// The SA payload (RFC 7296 §3.3): one or more proposals.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sa<'a> {
    /// Proposals, in the sender's preference order (exactly one in a reply).
    pub proposals: Vec<Proposal<'a>>,
}

impl<'a> Sa<'a> {
    /// Decodes an SA payload body.
    ///
    /// # Errors
    /// [`InvalidMessage`] if the body holds no proposal, a proposal is malformed, or the Last
    /// Substruc fields disagree with where the body ends.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let mut proposals = Vec::new();
        loop {
            let (p, last) = Proposal::decode(&mut r)?;
            proposals.push(p);
            match (last, r.is_empty()) {
                (true, true) => return Ok(Self { proposals }),
                (true, false) => {
                    return Err(InvalidMessage::TrailingBytes {
                        what: "SA (after the last proposal)",
                    });
                }
                (false, true) => {
                    return Err(InvalidMessage::Malformed {
                        what: "proposal Last Substruc",
                    });
                }
                (false, false) => {}
            }
        }
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.proposals
            .iter()
            .fold(0usize, |n, p| n.saturating_add(p.buffer_len()))
    }

    /// Appends the SA payload body.
    ///
    /// # Errors
    /// [`EncodeError`] if there is no proposal or one cannot be encoded.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.proposals.is_empty() {
            return Err(EncodeError::Inconsistent {
                what: "SA payload without proposals",
            });
        }
        let mut left = self.proposals.len();
        for p in &self.proposals {
            left = left.saturating_sub(1);
            p.emit(out, left == 0)?;
        }
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Sa<'static> {
        Sa {
            proposals: self.proposals.into_iter().map(Proposal::into_owned).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::transform::Attribute;

    // The SA payload body of the rusticata IKE_SA_INIT response: one IKE proposal,
    // AES-CBC-128, PRF-HMAC-SHA1, HMAC-SHA1-96, MODP-1024.
    const RESP_SA_BODY: [u8; 44] = [
        0x00, 0x00, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x04, 0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80,
        0x0e, 0x00, 0x80, 0x03, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x02, 0x03, 0x00, 0x00, 0x08, 0x03, 0x00,
        0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x02,
    ];

    #[test]
    fn parses_real_sa_and_emits_identically() {
        let sa = Sa::decode(&RESP_SA_BODY).unwrap();
        assert_eq!(sa.proposals.len(), 1);
        let p = &sa.proposals[0];
        assert_eq!((p.number, p.protocol), (1, ProtocolId::IKE));
        assert!(p.spi.is_empty());
        assert_eq!(p.encr(), Some((EncrId::ENCR_AES_CBC, Some(128))));
        assert_eq!(p.prf(), Some(PrfId::PRF_HMAC_SHA1));
        assert_eq!(p.integ(), Some(IntegId::AUTH_HMAC_SHA1_96));
        assert_eq!(p.dh_group(), Some(DhGroup::MODP_1024));
        assert_eq!(p.esn(), None);
        assert_eq!(p.spi_u32(), None);
        let mut out = Vec::new();
        sa.emit(&mut out).unwrap();
        assert_eq!(out, RESP_SA_BODY);
        assert_eq!(sa.buffer_len(), out.len());
        assert_eq!(sa.clone().into_owned(), sa);
        assert_eq!(p.borrowed(), *p);
    }

    #[test]
    fn rejects_every_truncation() {
        for n in 0..RESP_SA_BODY.len() {
            let e = Sa::decode(&RESP_SA_BODY[..n]).unwrap_err();
            let expect = if n < 4 {
                InvalidMessage::Truncated {
                    what: "proposal header",
                }
            } else {
                InvalidMessage::BadLength {
                    what: "proposal length",
                }
            };
            assert_eq!(e, expect, "length {n}");
        }
    }

    #[test]
    fn rejects_inconsistent_counts_and_markers() {
        // One transform too many announced: the last transform's marker is then wrong.
        let mut b = RESP_SA_BODY;
        b[7] = 5;
        assert_eq!(
            Sa::decode(&b),
            Err(InvalidMessage::Malformed {
                what: "transform Last Substruc"
            })
        );
        // One too few: bytes are left inside the proposal.
        let mut b = RESP_SA_BODY;
        b[7] = 3;
        assert_eq!(
            Sa::decode(&b),
            Err(InvalidMessage::Malformed {
                what: "transform Last Substruc"
            })
        );
        // "More proposals follow", but none does.
        let mut b = RESP_SA_BODY;
        b[0] = 2;
        assert_eq!(
            Sa::decode(&b),
            Err(InvalidMessage::Malformed {
                what: "proposal Last Substruc"
            })
        );
        let mut b = RESP_SA_BODY;
        b[0] = 1;
        assert_eq!(
            Sa::decode(&b),
            Err(InvalidMessage::Malformed {
                what: "proposal Last Substruc"
            })
        );
        // Proposal length below its fixed part.
        let mut b = RESP_SA_BODY;
        b[3] = 7;
        assert_eq!(
            Sa::decode(&b),
            Err(InvalidMessage::BadLength {
                what: "proposal length"
            })
        );
        // SPI size beyond the proposal.
        let mut b = RESP_SA_BODY;
        b[6] = 200;
        assert_eq!(
            Sa::decode(&b),
            Err(InvalidMessage::Truncated { what: "proposal SPI" })
        );
        // Bytes after the last proposal.
        let mut v = RESP_SA_BODY.to_vec();
        v.push(0);
        assert_eq!(
            Sa::decode(&v),
            Err(InvalidMessage::TrailingBytes {
                what: "SA (after the last proposal)"
            })
        );
        assert_eq!(
            Sa::decode(&[]),
            Err(InvalidMessage::Truncated {
                what: "proposal header"
            })
        );
    }

    #[test]
    fn esp_proposal_with_spi_round_trips() {
        let sa = Sa {
            proposals: alloc::vec![
                Proposal {
                    number: 1,
                    protocol: ProtocolId::ESP,
                    spi: Cow::Borrowed(&[0xc0, 0x01, 0x02, 0x03]),
                    transforms: alloc::vec![
                        Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                        Transform::esn(EsnId::ESN),
                        Transform::esn(EsnId::NO_ESN),
                    ],
                },
                Proposal {
                    number: 2,
                    protocol: ProtocolId::ESP,
                    spi: Cow::Borrowed(&[0xc0, 0x01, 0x02, 0x03]),
                    transforms: alloc::vec![Transform {
                        transform_type: TransformType::ENCR,
                        transform_id: 12,
                        attributes: alloc::vec![Attribute::Tv {
                            attribute_type: crate::message::transform::AttributeType::KEY_LENGTH,
                            value: 128
                        }],
                    }],
                },
            ],
        };
        let mut out = Vec::new();
        sa.emit(&mut out).unwrap();
        assert_eq!(out.len(), sa.buffer_len());
        let back = Sa::decode(&out).unwrap();
        assert_eq!(back, sa);
        assert_eq!(back.proposals[0].spi_u32(), Some(0xc001_0203));
        assert_eq!(back.proposals[0].esn(), Some(EsnId::ESN));
        assert!(
            Sa {
                proposals: Vec::new()
            }
            .emit(&mut Vec::new())
            .is_err()
        );
    }
}
