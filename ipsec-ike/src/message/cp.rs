//! The Configuration payload (RFC 7296 §3.15, §3.15.1).
//!
//! ```text
//! CFG Type (1) | RESERVED (3) | Configuration Attributes
//! Attribute: R (1 bit) | Attribute Type (15 bits) | Length (2) | Value (Length)
//! ```

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::reader::Reader;
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Configuration payload type (RFC 7296 §3.15, IANA "IKEv2 Configuration Payload CFG Types").
    pub struct CfgType(u8);
    /// Request.
    CFG_REQUEST = 1,
    /// Reply.
    CFG_REPLY = 2,
    /// Set.
    CFG_SET = 3,
    /// Acknowledgement.
    CFG_ACK = 4,
}

code_point! {
    /// Configuration attribute type, 15 bits (RFC 7296 §3.15.1, IANA "IKEv2 Configuration
    /// Payload Attribute Types").
    pub struct CfgAttributeType(u16);
    /// RFC 7296.
    INTERNAL_IP4_ADDRESS = 1,
    /// RFC 7296.
    INTERNAL_IP4_NETMASK = 2,
    /// RFC 7296.
    INTERNAL_IP4_DNS = 3,
    /// RFC 7296.
    INTERNAL_IP4_NBNS = 4,
    /// RFC 7296.
    INTERNAL_IP4_DHCP = 6,
    /// RFC 7296.
    APPLICATION_VERSION = 7,
    /// RFC 7296.
    INTERNAL_IP6_ADDRESS = 8,
    /// RFC 7296.
    INTERNAL_IP6_DNS = 10,
    /// RFC 7296.
    INTERNAL_IP6_DHCP = 12,
    /// RFC 7296.
    INTERNAL_IP4_SUBNET = 13,
    /// RFC 7296.
    SUPPORTED_ATTRIBUTES = 14,
    /// RFC 7296.
    INTERNAL_IP6_SUBNET = 15,
    /// RFC 5026.
    MIP6_HOME_PREFIX = 16,
    /// RFC 5739.
    INTERNAL_IP6_LINK = 17,
    /// RFC 5739.
    INTERNAL_IP6_PREFIX = 18,
    /// 3GPP TS 24.302.
    HOME_AGENT_ADDRESS = 19,
    /// RFC 7651.
    P_CSCF_IP4_ADDRESS = 20,
    /// RFC 7651.
    P_CSCF_IP6_ADDRESS = 21,
    /// 3GPP TS 24.302.
    FTT_KAT = 22,
    /// 3GPP TS 24.302.
    EXTERNAL_SOURCE_IP4_NAT_INFO = 23,
    /// 3GPP TS 24.302.
    TIMEOUT_PERIOD_FOR_LIVENESS_CHECK = 24,
    /// RFC 8598.
    INTERNAL_DNS_DOMAIN = 25,
    /// RFC 8598.
    INTERNAL_DNSSEC_TA = 26,
    /// RFC 9464.
    ENCDNS_IP4 = 27,
    /// RFC 9464.
    ENCDNS_IP6 = 28,
    /// RFC 9464.
    ENCDNS_DIGEST_INFO = 29,
}

/// One configuration attribute (RFC 7296 §3.15.1); an empty value asks for one in a request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CfgAttribute<'a> {
    /// Attribute type (15 bits; the reserved top bit is ignored on receipt and sent as zero).
    pub attribute_type: CfgAttributeType,
    /// Value bytes.
    pub value: Cow<'a, [u8]>,
}

/// CP payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cp<'a> {
    /// Request, reply, set or ack.
    pub cfg_type: CfgType,
    /// Attributes, in order.
    pub attributes: Vec<CfgAttribute<'a>>,
}

impl<'a> Cp<'a> {
    /// Decodes a CP payload body.
    ///
    /// # Errors
    /// [`InvalidMessage`] if the fixed part or an attribute header is cut short, or an attribute
    /// length overruns the payload.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let [cfg_type, _, _, _] = *r.take_array::<4>("CP payload")?;
        let mut attributes = Vec::new();
        while !r.is_empty() {
            let raw = r.u16("CP attribute")?;
            let len = r.u16("CP attribute")?;
            let value = r.sub(usize::from(len), "CP attribute length")?.take_rest();
            attributes.push(CfgAttribute {
                attribute_type: CfgAttributeType(raw & 0x7fff),
                value: Cow::Borrowed(value),
            });
        }
        Ok(Self {
            cfg_type: CfgType(cfg_type),
            attributes,
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.attributes
            .iter()
            .fold(4usize, |n, a| n.saturating_add(a.value.len()).saturating_add(4))
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// [`EncodeError`] if an attribute type does not fit 15 bits or a value exceeds 65535 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&[self.cfg_type.0, 0, 0, 0]);
        for a in &self.attributes {
            if a.attribute_type.0 > 0x7fff {
                return Err(EncodeError::Inconsistent {
                    what: "CP attribute type above 15 bits",
                });
            }
            let len =
                u16::try_from(a.value.len()).map_err(|_| EncodeError::TooLong { what: "CP attribute" })?;
            out.extend_from_slice(&a.attribute_type.0.to_be_bytes());
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&a.value);
        }
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Cp<'static> {
        Cp {
            cfg_type: self.cfg_type,
            attributes: self
                .attributes
                .into_iter()
                .map(|a| CfgAttribute {
                    attribute_type: a.attribute_type,
                    value: cow_owned(a.value),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // CP body from the AOSP fragment 5/5 vector: CFG_REPLY with INTERNAL_IP4_ADDRESS 10.10.10.1
    // and two INTERNAL_IP4_DNS servers.
    const REPLY: [u8; 28] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x0a, 0x0a, 0x0a, 0x01, 0x00, 0x03, 0x00, 0x04, 0x08,
        0x08, 0x08, 0x08, 0x00, 0x03, 0x00, 0x04, 0x08, 0x08, 0x04, 0x04,
    ];

    #[test]
    fn parses_a_real_cp_and_emits_identically() {
        let cp = Cp::decode(&REPLY).unwrap();
        assert_eq!(cp.cfg_type, CfgType::CFG_REPLY);
        let types: Vec<_> = cp.attributes.iter().map(|a| a.attribute_type).collect();
        assert_eq!(
            types,
            [
                CfgAttributeType::INTERNAL_IP4_ADDRESS,
                CfgAttributeType::INTERNAL_IP4_DNS,
                CfgAttributeType::INTERNAL_IP4_DNS
            ]
        );
        assert_eq!(&*cp.attributes[2].value, &[8, 8, 4, 4]);
        let mut out = Vec::new();
        cp.emit(&mut out).unwrap();
        assert_eq!(out, REPLY);
        assert_eq!(cp.buffer_len(), REPLY.len());
        assert_eq!(cp.clone().into_owned(), cp);
    }

    #[test]
    fn rejects_every_truncation() {
        for n in 0..REPLY.len() {
            let Err(e) = Cp::decode(&REPLY[..n]) else {
                // Cutting exactly between attributes leaves a valid, shorter payload.
                assert!(matches!(n, 4 | 12 | 20), "length {n}");
                continue;
            };
            let expect = match (n, (n.saturating_sub(4)) % 8) {
                (0..4, _) => InvalidMessage::Truncated { what: "CP payload" },
                (_, 0..4) => InvalidMessage::Truncated { what: "CP attribute" },
                _ => InvalidMessage::BadLength {
                    what: "CP attribute length",
                },
            };
            assert_eq!(e, expect, "length {n}");
        }
    }

    #[test]
    fn request_with_empty_values_round_trips() {
        let cp = Cp {
            cfg_type: CfgType::CFG_REQUEST,
            attributes: alloc::vec![
                CfgAttribute {
                    attribute_type: CfgAttributeType::INTERNAL_IP4_ADDRESS,
                    value: Cow::Borrowed(&[])
                },
                CfgAttribute {
                    attribute_type: CfgAttributeType::INTERNAL_IP6_DNS,
                    value: Cow::Borrowed(&[])
                },
            ],
        };
        let mut out = Vec::new();
        cp.emit(&mut out).unwrap();
        assert_eq!(out, [1, 0, 0, 0, 0, 1, 0, 0, 0, 10, 0, 0]);
        assert_eq!(Cp::decode(&out).unwrap(), cp);
        let bad = Cp {
            cfg_type: CfgType::CFG_SET,
            attributes: alloc::vec![CfgAttribute {
                attribute_type: CfgAttributeType(0x8001),
                value: Cow::Borrowed(&[])
            }],
        };
        assert!(bad.emit(&mut Vec::new()).is_err());
    }
}
