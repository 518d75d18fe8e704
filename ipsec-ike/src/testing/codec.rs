//! Codec test support: proptest strategies for messages and payloads, and the fuzz entry point
//! for message decoding.
//!
//! The strategies only generate values the encoder accepts and the decoder reproduces (nonces of
//! 16..=256 bytes, SPIs as long as their size field says, 15-bit attribute types, unknown
//! payloads without the critical bit, SK/SKF only where they may stand), so
//! `decode(encode(m)) == m` must hold for every generated message.
#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "test-only code over generated values with small, bounded sizes"
)]

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use alloc::vec;
use proptest::collection::vec as pvec;
use proptest::prelude::*;

use crate::message::{
    Attribute, AttributeType, Auth, AuthMethod, Cert, CertEncoding, CertReq, CfgAttribute, CfgAttributeType,
    CfgType, Cp, Delete, DhGroup, Eap, Encrypted, EncryptedFragment, ExchangeType, Flags, Header, Id, IdType,
    IkeSpi, Ke, Message, MessageId, Nonce, Notify, NotifyType, Payload, PayloadType, Proposal, ProtocolId,
    Sa, SkFrame, TrafficSelector, Transform, TransformType, Ts, TsRange, TsType, UnknownPayload, VendorId,
    Version, decode_inner,
};

/// Decodes `data` as an IKE message; on success re-encodes it and checks that the encoding decodes
/// to the same message. Also runs [`SkFrame::locate`] and [`decode_inner`] over the input.
///
/// Panics only on a codec bug: a decoded message that cannot be re-encoded, or whose encoding
/// decodes to something else.
#[allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a failure here is a bug for the fuzzer to report"
)]
pub fn fuzz_ike_message(data: &[u8]) {
    if let Ok(m) = Message::decode(data) {
        let bytes = m.to_vec().expect("a decoded message re-encodes");
        let again = Message::decode(&bytes).expect("a re-encoded message decodes");
        assert_eq!(again, m, "decode(encode(m)) != m");
        // Encoding is canonical: re-encoding the re-decoded message is stable.
        assert_eq!(again.to_vec().expect("re-encodes"), bytes);
        let frame = SkFrame::locate(data).expect("a decodable message has a locatable frame");
        let has_encrypted = m.payloads.last().is_some_and(Payload::is_encrypted);
        assert_eq!(frame.is_some(), has_encrypted);
    } else {
        let _ = SkFrame::locate(data);
    }
    if let Some((first, rest)) = data.split_first() {
        if let Ok(inner) = decode_inner(PayloadType(*first), rest) {
            for p in &inner {
                let mut out = Vec::new();
                p.emit_body(&mut out).expect("a decoded inner payload re-encodes");
                assert_eq!(out.len(), p.body_len());
            }
        }
    }
}

/// Owned byte strings up to `max` bytes.
pub fn bytes(max: usize) -> impl Strategy<Value = Cow<'static, [u8]>> {
    pvec(any::<u8>(), 0..=max).prop_map(Cow::Owned)
}

/// An IKE header with major version 2.
pub fn header() -> impl Strategy<Value = Header> {
    (
        any::<[u8; 8]>(),
        any::<[u8; 8]>(),
        0x20u8..=0x2f,
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
    )
        .prop_map(|(i, r, version, exchange, flags, id)| Header {
            spi_i: IkeSpi(i),
            spi_r: IkeSpi(r),
            version: Version(version),
            exchange_type: ExchangeType(exchange),
            flags: Flags(flags),
            message_id: MessageId(id),
        })
}

/// A transform attribute (15-bit type, TV or TLV).
pub fn attribute() -> impl Strategy<Value = Attribute<'static>> {
    prop_oneof![
        (0u16..=0x7fff, any::<u16>()).prop_map(|(t, value)| Attribute::Tv {
            attribute_type: AttributeType(t),
            value
        }),
        (0u16..=0x7fff, bytes(12)).prop_map(|(t, value)| Attribute::Tlv {
            attribute_type: AttributeType(t),
            value
        }),
    ]
}

/// A transform with any type, ID and up to two attributes.
pub fn transform() -> impl Strategy<Value = Transform<'static>> {
    (1u8..=14, any::<u16>(), pvec(attribute(), 0..=2)).prop_map(|(ty, id, attributes)| Transform {
        transform_type: TransformType(ty),
        transform_id: id,
        attributes,
    })
}

/// A proposal with an SPI of 0, 4 or 8 bytes and up to six transforms.
pub fn proposal() -> impl Strategy<Value = Proposal<'static>> {
    (
        any::<u8>(),
        0u8..=6,
        prop_oneof![Just(0usize), Just(4), Just(8)],
        pvec(transform(), 0..=6),
    )
        .prop_flat_map(|(number, protocol, spi_len, transforms)| {
            pvec(any::<u8>(), spi_len).prop_map(move |spi| Proposal {
                number,
                protocol: ProtocolId(protocol),
                spi: Cow::Owned(spi),
                transforms: transforms.clone(),
            })
        })
}

/// A traffic selector: IPv4, IPv6 or an opaque other type.
pub fn traffic_selector() -> impl Strategy<Value = TrafficSelector<'static>> {
    prop_oneof![
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            any::<[u8; 4]>()
        )
            .prop_map(|(p, a, b, s, e)| {
                TrafficSelector::Ipv4(TsRange {
                    ip_protocol: p,
                    start_port: a,
                    end_port: b,
                    start: Ipv4Addr::from(s),
                    end: Ipv4Addr::from(e),
                })
            }),
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>()
        )
            .prop_map(|(p, a, b, s, e)| {
                TrafficSelector::Ipv6(TsRange {
                    ip_protocol: p,
                    start_port: a,
                    end_port: b,
                    start: Ipv6Addr::from(s),
                    end: Ipv6Addr::from(e),
                })
            }),
        (
            any::<u8>().prop_filter("not a range type", |t| *t != 7 && *t != 8),
            any::<u8>(),
            bytes(24)
        )
            .prop_map(|(t, second_octet, data)| TrafficSelector::Other {
                ts_type: TsType(t),
                second_octet,
                data
            }),
    ]
}

/// A Delete payload whose SPIs all have the stated size.
pub fn delete() -> impl Strategy<Value = Delete<'static>> {
    (any::<u8>(), 0u8..=8, 0usize..=4).prop_flat_map(|(protocol, spi_size, n)| {
        pvec(pvec(any::<u8>(), usize::from(spi_size)).prop_map(Cow::Owned), n).prop_map(move |spis| Delete {
            protocol: ProtocolId(protocol),
            spi_size,
            spis,
        })
    })
}

/// Payload types the codec does not implement (kept as [`UnknownPayload`]).
pub fn unknown_type() -> impl Strategy<Value = PayloadType> {
    any::<u8>()
        .prop_filter("not implemented", |t| !matches!(*t, 0 | 33..=48 | 53))
        .prop_map(PayloadType)
}

/// Any payload that may appear inside an SK payload (everything but SK and SKF).
pub fn inner_payload() -> impl Strategy<Value = Payload<'static>> {
    prop_oneof![
        pvec(proposal(), 1..=3).prop_map(|proposals| Payload::Sa(Sa { proposals })),
        (any::<u16>(), bytes(64)).prop_map(|(g, data)| Payload::Ke(Ke {
            group: DhGroup(g),
            data
        })),
        (any::<u8>(), bytes(40)).prop_map(|(t, data)| Payload::IdI(Id {
            id_type: IdType(t),
            data
        })),
        (any::<u8>(), bytes(40)).prop_map(|(t, data)| Payload::IdR(Id {
            id_type: IdType(t),
            data
        })),
        (any::<u8>(), bytes(80)).prop_map(|(e, data)| Payload::Cert(Cert {
            encoding: CertEncoding(e),
            data
        })),
        (any::<u8>(), bytes(60)).prop_map(|(e, authorities)| Payload::CertReq(CertReq {
            encoding: CertEncoding(e),
            authorities
        })),
        (any::<u8>(), bytes(64)).prop_map(|(m, data)| Payload::Auth(Auth {
            method: AuthMethod(m),
            data
        })),
        pvec(any::<u8>(), 16..=256).prop_map(|n| Payload::Nonce(Nonce { data: Cow::Owned(n) })),
        (any::<u8>(), bytes(8), any::<u16>(), bytes(32)).prop_map(|(p, spi, t, data)| Payload::Notify(
            Notify {
                protocol: ProtocolId(p),
                spi,
                notify_type: NotifyType(t),
                data
            }
        )),
        delete().prop_map(Payload::Delete),
        bytes(32).prop_map(|data| Payload::VendorId(VendorId { data })),
        pvec(traffic_selector(), 0..=3).prop_map(|selectors| Payload::TsI(Ts { selectors })),
        pvec(traffic_selector(), 0..=3).prop_map(|selectors| Payload::TsR(Ts { selectors })),
        (any::<u8>(), pvec((0u16..=0x7fff, bytes(16)), 0..=4)).prop_map(|(t, attrs)| Payload::Cp(Cp {
            cfg_type: CfgType(t),
            attributes: attrs
                .into_iter()
                .map(|(a, value)| CfgAttribute {
                    attribute_type: CfgAttributeType(a),
                    value
                })
                .collect(),
        })),
        bytes(48).prop_map(|message| Payload::Eap(Eap { message })),
        (unknown_type(), bytes(32)).prop_map(|(payload_type, body)| Payload::Unknown(UnknownPayload {
            payload_type,
            critical: false,
            body
        })),
    ]
}

/// An SK payload with an opaque body.
pub fn encrypted() -> impl Strategy<Value = Payload<'static>> {
    (any::<u8>(), bytes(96)).prop_map(|(t, body)| {
        Payload::Encrypted(Encrypted {
            first_inner: PayloadType(t),
            body,
        })
    })
}

/// An SKF payload with a valid fragment position.
pub fn encrypted_fragment() -> impl Strategy<Value = Payload<'static>> {
    (1u16..=u16::MAX, any::<u8>(), bytes(96)).prop_flat_map(|(total, first, body)| {
        (1u16..=total).prop_map(move |number| {
            Payload::EncryptedFragment(EncryptedFragment {
                number,
                total,
                first_inner: PayloadType(first),
                body: body.clone(),
            })
        })
    })
}

/// A whole message: unencrypted payloads optionally ended by an SK payload, or a lone SKF.
pub fn message() -> impl Strategy<Value = Message<'static>> {
    let chain = (pvec(inner_payload(), 0..=6), proptest::option::of(encrypted())).prop_map(|(mut p, sk)| {
        p.extend(sk);
        p
    });
    let fragment = encrypted_fragment().prop_map(|f| alloc::vec![f]);
    (header(), prop_oneof![4 => chain, 1 => fragment])
        .prop_map(|(header, payloads)| Message { header, payloads })
}

/// The plaintext payload chain of an SK payload: inner payloads only.
pub fn inner_chain() -> impl Strategy<Value = Vec<Payload<'static>>> {
    pvec(inner_payload(), 0..=6)
}
