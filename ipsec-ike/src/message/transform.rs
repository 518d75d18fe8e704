//! Transform substructures, their attributes and the transform ID registries
//! (RFC 7296 §3.3.2, §3.3.5; RFC 9370 for the additional key exchanges).
//!
//! ```text
//! Last Substruc (1: 0 last, 3 more) | RESERVED (1) | Transform Length (2)
//! Transform Type (1) | RESERVED (1) | Transform ID (2) | Transform Attributes (variable)
//! ```

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::reader::Reader;
use super::{cow_owned, put_u16_len};
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Transform type (RFC 7296 §3.3.2, IANA "Transform Type Values").
    pub struct TransformType(u8);
    /// Encryption algorithm (ENCR).
    ENCR = 1,
    /// Pseudorandom function (PRF), IKE SAs only.
    PRF = 2,
    /// Integrity algorithm (INTEG).
    INTEG = 3,
    /// Key exchange method (KE, formerly D-H group).
    KE = 4,
    /// Extended sequence numbers (ESN; "Sequence Numbers" in the current registry).
    ESN = 5,
    /// Additional key exchange 1 (RFC 9370).
    ADDKE1 = 6,
    /// Additional key exchange 2 (RFC 9370).
    ADDKE2 = 7,
    /// Additional key exchange 3 (RFC 9370).
    ADDKE3 = 8,
    /// Additional key exchange 4 (RFC 9370).
    ADDKE4 = 9,
    /// Additional key exchange 5 (RFC 9370).
    ADDKE5 = 10,
    /// Additional key exchange 6 (RFC 9370).
    ADDKE6 = 11,
    /// Additional key exchange 7 (RFC 9370).
    ADDKE7 = 12,
    /// Key wrap algorithm (RFC 9838, G-IKEv2).
    KWA = 13,
    /// Group controller authentication method (RFC 9838, G-IKEv2).
    GCAUTH = 14,
}

impl TransformType {
    /// Whether transform ID 0 means "none" for this type (INTEG, KE, ESN and ADDKE*), so that an
    /// absent type and the value 0 are equivalent when matching proposals.
    #[must_use]
    pub const fn zero_is_none(self) -> bool {
        matches!(self.0, 3..=12)
    }
}

code_point! {
    /// Encryption transform ID, transform type 1 (IANA "Transform Type 1").
    pub struct EncrId(u16);
    /// RFC 1827.
    ENCR_DES_IV64 = 1,
    /// RFC 2405.
    ENCR_DES = 2,
    /// RFC 2451.
    ENCR_3DES = 3,
    /// RFC 2451.
    ENCR_RC5 = 4,
    /// RFC 2451.
    ENCR_IDEA = 5,
    /// RFC 2451.
    ENCR_CAST = 6,
    /// RFC 2451.
    ENCR_BLOWFISH = 7,
    /// RFC 2451.
    ENCR_3IDEA = 8,
    /// RFC 1827.
    ENCR_DES_IV32 = 9,
    /// RFC 2410 (ESP only).
    ENCR_NULL = 11,
    /// RFC 3602; needs a Key Length attribute.
    ENCR_AES_CBC = 12,
    /// RFC 3686.
    ENCR_AES_CTR = 13,
    /// RFC 4309, RFC 5282.
    ENCR_AES_CCM_8 = 14,
    /// RFC 4309, RFC 5282.
    ENCR_AES_CCM_12 = 15,
    /// RFC 4309, RFC 5282.
    ENCR_AES_CCM_16 = 16,
    /// RFC 4106, RFC 5282.
    ENCR_AES_GCM_8 = 18,
    /// RFC 4106, RFC 5282.
    ENCR_AES_GCM_12 = 19,
    /// RFC 4106, RFC 5282.
    ENCR_AES_GCM_16 = 20,
    /// RFC 4543 (ESP only).
    ENCR_NULL_AUTH_AES_GMAC = 21,
    /// RFC 5529.
    ENCR_CAMELLIA_CBC = 23,
    /// RFC 5529.
    ENCR_CAMELLIA_CTR = 24,
    /// RFC 5529.
    ENCR_CAMELLIA_CCM_8 = 25,
    /// RFC 5529.
    ENCR_CAMELLIA_CCM_12 = 26,
    /// RFC 5529.
    ENCR_CAMELLIA_CCM_16 = 27,
    /// RFC 7634.
    ENCR_CHACHA20_POLY1305 = 28,
    /// RFC 8750.
    ENCR_AES_CCM_8_IIV = 29,
    /// RFC 8750.
    ENCR_AES_GCM_16_IIV = 30,
    /// RFC 8750.
    ENCR_CHACHA20_POLY1305_IIV = 31,
    /// RFC 9227.
    ENCR_KUZNYECHIK_MGM_KTREE = 32,
    /// RFC 9227.
    ENCR_MAGMA_MGM_KTREE = 33,
    /// RFC 9227.
    ENCR_KUZNYECHIK_MGM_MAC_KTREE = 34,
    /// RFC 9227.
    ENCR_MAGMA_MGM_MAC_KTREE = 35,
}

impl EncrId {
    /// Whether this is a combined-mode (AEAD) cipher, proposed without an INTEG transform
    /// (RFC 7296 §3.3.3, RFC 5282 §8).
    #[must_use]
    pub const fn is_aead(self) -> bool {
        matches!(self.0, 14..=16 | 18..=20 | 25..=35)
    }
}

code_point! {
    /// Pseudorandom function transform ID, transform type 2 (IANA "Transform Type 2").
    pub struct PrfId(u16);
    /// RFC 2104.
    PRF_HMAC_MD5 = 1,
    /// RFC 2104.
    PRF_HMAC_SHA1 = 2,
    /// RFC 2104.
    PRF_HMAC_TIGER = 3,
    /// RFC 4434.
    PRF_AES128_XCBC = 4,
    /// RFC 4868.
    PRF_HMAC_SHA2_256 = 5,
    /// RFC 4868.
    PRF_HMAC_SHA2_384 = 6,
    /// RFC 4868.
    PRF_HMAC_SHA2_512 = 7,
    /// RFC 4615.
    PRF_AES128_CMAC = 8,
    /// RFC 9385.
    PRF_HMAC_STREEBOG_512 = 9,
}

code_point! {
    /// Integrity transform ID, transform type 3 (IANA "Transform Type 3").
    pub struct IntegId(u16);
    /// No integrity algorithm (with AEAD ciphers).
    NONE = 0,
    /// RFC 2403.
    AUTH_HMAC_MD5_96 = 1,
    /// RFC 2404.
    AUTH_HMAC_SHA1_96 = 2,
    /// RFC 4595.
    AUTH_DES_MAC = 3,
    /// RFC 1826.
    AUTH_KPDK_MD5 = 4,
    /// RFC 3566.
    AUTH_AES_XCBC_96 = 5,
    /// RFC 4595.
    AUTH_HMAC_MD5_128 = 6,
    /// RFC 4595.
    AUTH_HMAC_SHA1_160 = 7,
    /// RFC 4494.
    AUTH_AES_CMAC_96 = 8,
    /// RFC 4543.
    AUTH_AES_128_GMAC = 9,
    /// RFC 4543.
    AUTH_AES_192_GMAC = 10,
    /// RFC 4543.
    AUTH_AES_256_GMAC = 11,
    /// RFC 4868.
    AUTH_HMAC_SHA2_256_128 = 12,
    /// RFC 4868.
    AUTH_HMAC_SHA2_384_192 = 13,
    /// RFC 4868.
    AUTH_HMAC_SHA2_512_256 = 14,
}

code_point! {
    /// Key exchange method (D-H group) transform ID, transform types 4 and 6..=12
    /// (IANA "Transform Type 4"; the names follow strongSwan's keywords).
    pub struct DhGroup(u16);
    /// No key exchange (CREATE_CHILD_SA without PFS).
    NONE = 0,
    /// RFC 2409 §6.1 (768-bit MODP).
    MODP_768 = 1,
    /// RFC 2409 §6.2 (1024-bit MODP), weak.
    MODP_1024 = 2,
    /// RFC 3526 §2 (1536-bit MODP).
    MODP_1536 = 5,
    /// RFC 3526 §3 (2048-bit MODP).
    MODP_2048 = 14,
    /// RFC 3526 §4 (3072-bit MODP).
    MODP_3072 = 15,
    /// RFC 3526 §5 (4096-bit MODP).
    MODP_4096 = 16,
    /// RFC 3526 §6 (6144-bit MODP).
    MODP_6144 = 17,
    /// RFC 3526 §7 (8192-bit MODP).
    MODP_8192 = 18,
    /// RFC 5903 (256-bit random ECP, NIST P-256).
    ECP_256 = 19,
    /// RFC 5903 (384-bit random ECP, NIST P-384).
    ECP_384 = 20,
    /// RFC 5903 (521-bit random ECP, NIST P-521).
    ECP_521 = 21,
    /// RFC 5114 (1024-bit MODP with 160-bit prime order subgroup).
    MODP_1024_160 = 22,
    /// RFC 5114 (2048-bit MODP with 224-bit prime order subgroup).
    MODP_2048_224 = 23,
    /// RFC 5114 (2048-bit MODP with 256-bit prime order subgroup).
    MODP_2048_256 = 24,
    /// RFC 5114 (192-bit random ECP).
    ECP_192 = 25,
    /// RFC 5114 (224-bit random ECP).
    ECP_224 = 26,
    /// RFC 6954 (brainpoolP224r1).
    ECP_224_BP = 27,
    /// RFC 6954 (brainpoolP256r1).
    ECP_256_BP = 28,
    /// RFC 6954 (brainpoolP384r1).
    ECP_384_BP = 29,
    /// RFC 6954 (brainpoolP512r1).
    ECP_512_BP = 30,
    /// RFC 8031 (Curve25519).
    CURVE25519 = 31,
    /// RFC 8031 (Curve448).
    CURVE448 = 32,
    /// RFC 9385 (GOST3410_2012_256).
    GOST3410_2012_256 = 33,
    /// RFC 9385 (GOST3410_2012_512).
    GOST3410_2012_512 = 34,
    /// draft-ietf-ipsecme-ikev2-mlkem (ML-KEM-512).
    ML_KEM_512 = 35,
    /// draft-ietf-ipsecme-ikev2-mlkem (ML-KEM-768).
    ML_KEM_768 = 36,
    /// draft-ietf-ipsecme-ikev2-mlkem (ML-KEM-1024).
    ML_KEM_1024 = 37,
}

code_point! {
    /// Extended sequence numbers transform ID, transform type 5 (IANA "Transform Type 5").
    pub struct EsnId(u16);
    /// 32-bit sequence numbers (no ESN).
    NO_ESN = 0,
    /// 64-bit extended sequence numbers (RFC 4303 §2.2.1).
    ESN = 1,
    /// 32-bit unspecified numbers (RFC 9827, no replay protection).
    UNSPECIFIED_32 = 2,
}

code_point! {
    /// Transform attribute type, 15 bits (RFC 7296 §3.3.5, IANA "IKEv2 Transform Attribute Types").
    pub struct AttributeType(u16);
    /// Key length in bits, TV format (RFC 7296 §3.3.5).
    KEY_LENGTH = 14,
    /// Signature algorithm identifier (RFC 9838, G-IKEv2).
    SIGNATURE_ALGORITHM_IDENTIFIER = 18,
}

/// A transform attribute (RFC 7296 §3.3.5): short TV form (AF = 1) or TLV form (AF = 0).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Attribute<'a> {
    /// Type/value with a 2-byte value (Key Length uses this form).
    Tv {
        /// Attribute type (15 bits).
        attribute_type: AttributeType,
        /// Value.
        value: u16,
    },
    /// Type/length/value.
    Tlv {
        /// Attribute type (15 bits).
        attribute_type: AttributeType,
        /// Value bytes.
        value: Cow<'a, [u8]>,
    },
}

impl<'a> Attribute<'a> {
    /// The attribute type.
    #[must_use]
    pub fn attribute_type(&self) -> AttributeType {
        match self {
            Self::Tv { attribute_type, .. } | Self::Tlv { attribute_type, .. } => *attribute_type,
        }
    }

    /// Reads one attribute from `r`.
    ///
    /// # Errors
    /// [`InvalidMessage`] if the attribute is cut short or its length overruns the transform.
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, InvalidMessage> {
        let raw = r.u16("transform attribute")?;
        let attribute_type = AttributeType(raw & 0x7fff);
        let second = r.u16("transform attribute")?;
        if raw & 0x8000 != 0 {
            Ok(Self::Tv {
                attribute_type,
                value: second,
            })
        } else {
            let value = r
                .sub(usize::from(second), "transform attribute length")?
                .take_rest();
            Ok(Self::Tlv {
                attribute_type,
                value: Cow::Borrowed(value),
            })
        }
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Tv { .. } => 4,
            Self::Tlv { value, .. } => value.len().saturating_add(4),
        }
    }

    /// Appends the encoded attribute to `out`.
    ///
    /// # Errors
    /// [`EncodeError`] if the type does not fit 15 bits or a TLV value is longer than 65535 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let ty = self.attribute_type().0;
        if ty > 0x7fff {
            return Err(EncodeError::Inconsistent {
                what: "attribute type above 15 bits",
            });
        }
        match self {
            Self::Tv { value, .. } => {
                out.extend_from_slice(&(ty | 0x8000).to_be_bytes());
                out.extend_from_slice(&value.to_be_bytes());
            }
            Self::Tlv { value, .. } => {
                out.extend_from_slice(&ty.to_be_bytes());
                put_u16_len(out, value.len(), "transform attribute")?;
                out.extend_from_slice(value);
            }
        }
        Ok(())
    }

    /// Copies borrowed bytes so the attribute outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Attribute<'static> {
        match self {
            Self::Tv {
                attribute_type,
                value,
            } => Attribute::Tv {
                attribute_type,
                value,
            },
            Self::Tlv {
                attribute_type,
                value,
            } => Attribute::Tlv {
                attribute_type,
                value: cow_owned(value),
            },
        }
    }
}

/// One transform of a proposal (RFC 7296 §3.3.2): type, ID and attributes.
///
/// The ID is kept as the raw `u16`; the typed accessors ([`encr`](Self::encr), [`prf`](Self::prf),
/// ...) interpret it according to the type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transform<'a> {
    /// Transform type.
    pub transform_type: TransformType,
    /// Transform ID, in the registry of `transform_type`.
    pub transform_id: u16,
    /// Attributes, in wire order.
    pub attributes: Vec<Attribute<'a>>,
}

/// Fixed part of a transform substructure.
const TRANSFORM_HEADER_LEN: usize = 8;

impl<'a> Transform<'a> {
    /// An encryption transform, with a Key Length attribute when `key_bits` is given.
    #[must_use]
    pub fn encr(id: EncrId, key_bits: Option<u16>) -> Self {
        let attributes = key_bits
            .map(|bits| Attribute::Tv {
                attribute_type: AttributeType::KEY_LENGTH,
                value: bits,
            })
            .into_iter()
            .collect();
        Self {
            transform_type: TransformType::ENCR,
            transform_id: id.0,
            attributes,
        }
    }

    /// A PRF transform.
    #[must_use]
    pub fn prf(id: PrfId) -> Self {
        Self::plain(TransformType::PRF, id.0)
    }

    /// An integrity transform.
    #[must_use]
    pub fn integ(id: IntegId) -> Self {
        Self::plain(TransformType::INTEG, id.0)
    }

    /// A key exchange method transform.
    #[must_use]
    pub fn ke(group: DhGroup) -> Self {
        Self::plain(TransformType::KE, group.0)
    }

    /// An ESN transform.
    #[must_use]
    pub fn esn(id: EsnId) -> Self {
        Self::plain(TransformType::ESN, id.0)
    }

    /// A transform without attributes.
    #[must_use]
    pub fn plain(transform_type: TransformType, transform_id: u16) -> Self {
        Self {
            transform_type,
            transform_id,
            attributes: Vec::new(),
        }
    }

    /// The value of the Key Length attribute, if present.
    #[must_use]
    pub fn key_length(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Tv {
                attribute_type: AttributeType::KEY_LENGTH,
                value,
            } => Some(*value),
            _ => None,
        })
    }

    /// The encryption algorithm, if this is an ENCR transform.
    #[must_use]
    pub fn encr_id(&self) -> Option<EncrId> {
        (self.transform_type == TransformType::ENCR).then_some(EncrId(self.transform_id))
    }

    /// The PRF, if this is a PRF transform.
    #[must_use]
    pub fn prf_id(&self) -> Option<PrfId> {
        (self.transform_type == TransformType::PRF).then_some(PrfId(self.transform_id))
    }

    /// The integrity algorithm, if this is an INTEG transform.
    #[must_use]
    pub fn integ_id(&self) -> Option<IntegId> {
        (self.transform_type == TransformType::INTEG).then_some(IntegId(self.transform_id))
    }

    /// The key exchange method, if this is a KE or ADDKE* transform.
    #[must_use]
    pub fn dh_group(&self) -> Option<DhGroup> {
        matches!(self.transform_type.0, 4 | 6..=12).then_some(DhGroup(self.transform_id))
    }

    /// The ESN choice, if this is an ESN transform.
    #[must_use]
    pub fn esn_id(&self) -> Option<EsnId> {
        (self.transform_type == TransformType::ESN).then_some(EsnId(self.transform_id))
    }

    /// Reads one transform substructure; `last` says whether the proposal's transform count ends
    /// with it, which its Last Substruc field must agree with.
    ///
    /// # Errors
    /// [`InvalidMessage`] for a truncated transform, a length below 8 or beyond the proposal, a
    /// wrong Last Substruc value, or attributes that do not fill the transform exactly.
    pub fn decode(r: &mut Reader<'a>, last: bool) -> Result<Self, InvalidMessage> {
        let [more, _reserved, l0, l1] = *r.take_array::<4>("transform header")?;
        if more != if last { 0 } else { 3 } {
            return Err(InvalidMessage::Malformed {
                what: "transform Last Substruc",
            });
        }
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let body_len =
            len.checked_sub(4)
                .filter(|_| len >= TRANSFORM_HEADER_LEN)
                .ok_or(InvalidMessage::BadLength {
                    what: "transform length",
                })?;
        let mut body = r.sub(body_len, "transform length")?;
        let transform_type = TransformType(body.u8("transform type")?);
        let _reserved = body.u8("transform type")?;
        let transform_id = body.u16("transform ID")?;
        let mut attributes = Vec::new();
        while !body.is_empty() {
            attributes.push(Attribute::decode(&mut body)?);
        }
        Ok(Self {
            transform_type,
            transform_id,
            attributes,
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.attributes
            .iter()
            .fold(TRANSFORM_HEADER_LEN, |n, a| n.saturating_add(a.buffer_len()))
    }

    /// Appends the transform substructure; `last` selects the Last Substruc value.
    ///
    /// # Errors
    /// [`EncodeError`] if the transform is longer than 65535 bytes or an attribute cannot be encoded.
    pub fn emit(&self, out: &mut Vec<u8>, last: bool) -> Result<(), EncodeError> {
        let len = u16::try_from(self.buffer_len()).map_err(|_| EncodeError::TooLong { what: "transform" })?;
        out.push(if last { 0 } else { 3 });
        out.push(0);
        out.extend_from_slice(&len.to_be_bytes());
        out.push(self.transform_type.0);
        out.push(0);
        out.extend_from_slice(&self.transform_id.to_be_bytes());
        for a in &self.attributes {
            a.emit(out)?;
        }
        Ok(())
    }

    /// Copies borrowed bytes so the transform outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Transform<'static> {
        Transform {
            transform_type: self.transform_type,
            transform_id: self.transform_id,
            attributes: self.attributes.into_iter().map(Attribute::into_owned).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ENCR_AES_CBC with Key Length 128, from the rusticata IKE_SA_INIT request.
    const AES_CBC_128: [u8; 12] = [
        0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80, 0x0e, 0x00, 0x80,
    ];

    #[test]
    fn parses_real_transform_and_emits_identically() {
        let mut r = Reader::new(&AES_CBC_128);
        let t = Transform::decode(&mut r, false).unwrap();
        assert!(r.is_empty());
        assert_eq!(t.transform_type, TransformType::ENCR);
        assert_eq!(t.encr_id(), Some(EncrId::ENCR_AES_CBC));
        assert_eq!(t.key_length(), Some(128));
        assert_eq!(t.prf_id(), None);
        assert_eq!(t, Transform::encr(EncrId::ENCR_AES_CBC, Some(128)));
        let mut out = Vec::new();
        t.emit(&mut out, false).unwrap();
        assert_eq!(out, AES_CBC_128);
        assert_eq!(t.buffer_len(), out.len());
    }

    #[test]
    fn rejects_every_truncation() {
        for n in 0..AES_CBC_128.len() {
            let mut r = Reader::new(&AES_CBC_128[..n]);
            let e = Transform::decode(&mut r, false).unwrap_err();
            let expect = if n < 4 {
                InvalidMessage::Truncated {
                    what: "transform header",
                }
            } else {
                InvalidMessage::BadLength {
                    what: "transform length",
                }
            };
            assert_eq!(e, expect, "length {n}");
        }
    }

    #[test]
    fn rejects_bad_lengths_and_last_substruc() {
        let mut short = AES_CBC_128;
        short[3] = 7;
        assert_eq!(
            Transform::decode(&mut Reader::new(&short), false),
            Err(InvalidMessage::BadLength {
                what: "transform length"
            })
        );
        assert_eq!(
            Transform::decode(&mut Reader::new(&AES_CBC_128), true),
            Err(InvalidMessage::Malformed {
                what: "transform Last Substruc"
            })
        );
        // A TLV attribute claiming more than the transform holds.
        let tlv = [0, 0, 0, 0x0c, 1, 0, 0, 12, 0x00, 0x0e, 0x00, 0x05];
        assert_eq!(
            Transform::decode(&mut Reader::new(&tlv), true),
            Err(InvalidMessage::BadLength {
                what: "transform attribute length"
            })
        );
        // A lone byte after the transform ID is a truncated attribute.
        let odd = [0, 0, 0, 0x09, 1, 0, 0, 12, 0x80];
        assert_eq!(
            Transform::decode(&mut Reader::new(&odd), true),
            Err(InvalidMessage::Truncated {
                what: "transform attribute"
            })
        );
    }

    #[test]
    fn tlv_attributes_round_trip() {
        let t = Transform {
            transform_type: TransformType(200),
            transform_id: 0xbeef,
            attributes: alloc::vec![
                Attribute::Tlv {
                    attribute_type: AttributeType(0x1234),
                    value: Cow::Borrowed(&[1, 2, 3])
                },
                Attribute::Tv {
                    attribute_type: AttributeType::KEY_LENGTH,
                    value: 256
                },
            ],
        };
        let mut out = Vec::new();
        t.emit(&mut out, true).unwrap();
        assert_eq!(out.len(), t.buffer_len());
        let back = Transform::decode(&mut Reader::new(&out), true).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.key_length(), Some(256));
        assert_eq!(back.into_owned(), t);
    }

    #[test]
    fn registry_helpers() {
        assert!(EncrId::ENCR_AES_GCM_16.is_aead());
        assert!(EncrId::ENCR_CHACHA20_POLY1305.is_aead());
        assert!(!EncrId::ENCR_AES_CBC.is_aead());
        assert!(TransformType::ESN.zero_is_none() && TransformType::KE.zero_is_none());
        assert!(!TransformType::ENCR.zero_is_none() && !TransformType::PRF.zero_is_none());
        assert_eq!(
            Transform::ke(DhGroup::CURVE25519).dh_group(),
            Some(DhGroup::CURVE25519)
        );
        assert_eq!(
            Transform::plain(TransformType::ADDKE1, 36).dh_group(),
            Some(DhGroup::ML_KEM_768)
        );
        assert_eq!(Transform::esn(EsnId::ESN).esn_id(), Some(EsnId::ESN));
        assert_eq!(alloc::format!("{:?}", DhGroup(1000)), "DhGroup(1000)");
        assert_eq!(
            alloc::format!("{:?}", IntegId::AUTH_HMAC_SHA2_256_128),
            "AUTH_HMAC_SHA2_256_128"
        );
    }

    #[test]
    fn oversized_attribute_type_is_refused() {
        let a = Attribute::Tv {
            attribute_type: AttributeType(0x8000),
            value: 1,
        };
        assert!(a.emit(&mut Vec::new()).is_err());
    }
}
