//! IKEv2 codec against published messages (fixtures in `tests/fixtures/messages`, see the README
//! there), plus the codec's properties and proposal selection on real offers.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use ipsec_ike::error::{InvalidMessage, PeerIncompatible};
use ipsec_ike::message::*;
use ipsec_ike::proposal::{self, Strictness};
use ipsec_ike::testing::codec as strategies;
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/messages/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const FIXTURES: [&str; 7] = [
    "rusticata-ike-sa-init-req.bin",
    "rusticata-ike-sa-init-resp.bin",
    "aosp-ike-sa-init-resp.bin",
    "aosp-3des-hmacsha1-message.bin",
    "aosp-3des-hmacsha1-fragment-5-of-5.bin",
    "aosp-skf-aescbc-hmacsha256-fragment-2-of-2-parse-only.bin",
    "rfc7634-appendix-B-ikev2.bin",
];

fn spi(hex_str: &str) -> IkeSpi {
    IkeSpi(hex::decode(hex_str).unwrap().try_into().unwrap())
}

#[test]
fn rusticata_ike_sa_init_request_field_by_field() {
    let bytes = fixture("rusticata-ike-sa-init-req.bin");
    let view = HeaderView::new_checked(&bytes).unwrap();
    assert_eq!(view.next_payload(), PayloadType::SA);
    assert_eq!(view.length(), 256);
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(
        m.header,
        Header {
            spi_i: spi("54c184961bc3fd77"),
            spi_r: IkeSpi::ZERO,
            version: Version::V2_0,
            exchange_type: ExchangeType::IKE_SA_INIT,
            flags: Flags(Flags::INITIATOR),
            message_id: MessageId(0),
        }
    );
    let [Payload::Sa(sa), Payload::Ke(ke), Payload::Nonce(ni)] = m.payloads.as_slice() else {
        panic!("unexpected payloads {:?}", m.payloads)
    };
    let [p] = sa.proposals.as_slice() else {
        panic!("{sa:?}")
    };
    assert_eq!((p.number, p.protocol, p.spi.len()), (1, ProtocolId::IKE, 0));
    assert_eq!(
        p.transforms,
        vec![
            Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
            Transform::encr(EncrId::ENCR_3DES, None),
            Transform::prf(PrfId::PRF_HMAC_SHA1),
            Transform::integ(IntegId::AUTH_HMAC_SHA1_96),
            Transform::ke(DhGroup::MODP_1024),
        ]
    );
    assert_eq!(ke.group, DhGroup::MODP_1024);
    assert_eq!(ke.data.len(), 128);
    assert_eq!(&ke.data[..4], &[0xc7, 0x2c, 0x1c, 0xfd]);
    assert_eq!(ni.data.len(), 32);
    assert_eq!(&ni.data[..], &bytes[256 - 32..]);
    assert_eq!(m.to_vec().unwrap(), bytes);
    assert_eq!(SkFrame::locate(&bytes), Ok(None));
}

#[test]
fn rusticata_ike_sa_init_response_field_by_field() {
    let bytes = fixture("rusticata-ike-sa-init-resp.bin");
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(m.header.spi_i, spi("54c184961bc3fd77"));
    assert_eq!(m.header.spi_r, spi("6386aa2273ed3972"));
    assert_eq!(m.header.exchange_type, ExchangeType::IKE_SA_INIT);
    assert!(m.header.flags.response() && !m.header.flags.initiator());
    assert_eq!(m.header.message_id, MessageId(0));
    let types: Vec<_> = m.payloads.iter().map(Payload::payload_type).collect();
    assert_eq!(
        types,
        [
            PayloadType::SA,
            PayloadType::KE,
            PayloadType::NONCE,
            PayloadType::CERTREQ,
            PayloadType::NOTIFY
        ]
    );
    let Payload::Sa(sa) = &m.payloads[0] else {
        unreachable!()
    };
    let p = &sa.proposals[0];
    assert_eq!(p.encr(), Some((EncrId::ENCR_AES_CBC, Some(128))));
    assert_eq!(p.prf(), Some(PrfId::PRF_HMAC_SHA1));
    assert_eq!(p.integ(), Some(IntegId::AUTH_HMAC_SHA1_96));
    assert_eq!(p.dh_group(), Some(DhGroup::MODP_1024));
    let Payload::CertReq(req) = &m.payloads[3] else {
        unreachable!()
    };
    assert_eq!(req.encoding, CertEncoding::X509_SIGNATURE);
    assert_eq!(req.ca_hashes().unwrap().count(), 1);
    let n = m.notify(NotifyType::HTTP_CERT_LOOKUP_SUPPORTED).unwrap();
    assert_eq!((n.protocol, n.spi.len(), n.data.len()), (ProtocolId::NONE, 0, 0));
    assert_eq!(m.to_vec().unwrap(), bytes);
}

#[test]
fn aosp_ike_sa_init_response_round_trips() {
    let bytes = fixture("aosp-ike-sa-init-resp.bin");
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(m.header.exchange_type, ExchangeType::IKE_SA_INIT);
    assert!(m.header.flags.response());
    assert!(matches!(m.payloads.first(), Some(Payload::Sa(_))));
    assert!(m.payloads.iter().any(|p| matches!(p, Payload::Ke(_))));
    assert!(m.payloads.iter().any(|p| matches!(p, Payload::Nonce(_))));
    assert_eq!(m.to_vec().unwrap(), bytes);
}

#[test]
fn aosp_sk_message_framing_and_plaintext() {
    let bytes = fixture("aosp-3des-hmacsha1-message.bin");
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(m.header.exchange_type, ExchangeType::IKE_AUTH);
    assert!(m.header.flags.response());
    assert_eq!(m.header.message_id, MessageId(2));
    let frame = SkFrame::locate(&bytes).unwrap().unwrap();
    assert_eq!(
        frame,
        SkFrame {
            sk_offset: 28,
            sk_header_len: 4,
            first_inner: PayloadType::EAP,
            fragment: None
        }
    );
    let [Payload::Encrypted(sk)] = m.payloads.as_slice() else {
        panic!("{m:?}")
    };
    // SK payload length covers everything to the end: IV (8, 3DES) | ciphertext | ICV (12).
    assert_eq!(
        u16::from_be_bytes([bytes[30], bytes[31]]) as usize,
        bytes.len() - 28
    );
    assert_eq!(sk.body.len(), bytes.len() - frame.body_offset());
    let ciphertext_len = sk.body.len() - 8 - 12;
    assert_eq!(ciphertext_len % 8, 0, "3DES block multiple");
    assert_eq!(associated_data(&bytes, &frame).unwrap(), &bytes[..32]);
    // The published plaintext (padding removed) decodes as the inner chain.
    let plain = fixture("aosp-3des-hmacsha1-message.plain.bin");
    assert!(plain.len() < ciphertext_len);
    let inner = decode_inner(frame.first_inner, &plain).unwrap();
    let [Payload::Eap(eap)] = inner.as_slice() else {
        panic!("{inner:?}")
    };
    assert_eq!(eap.code(), Some(1));
    assert!(eap.message.ends_with(b"strongSwan"));
    assert_eq!(m.to_vec().unwrap(), bytes);
}

#[test]
fn aosp_skf_fragment_5_of_5() {
    let bytes = fixture("aosp-3des-hmacsha1-fragment-5-of-5.bin");
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(m.header.message_id, MessageId(1));
    let frame = SkFrame::locate(&bytes).unwrap().unwrap();
    assert_eq!(frame.sk_offset, 28);
    assert_eq!(frame.sk_header_len, SKF_HEADER_LEN);
    assert_eq!(frame.first_inner, PayloadType::NONE);
    assert_eq!(frame.fragment, Some(FragmentInfo { number: 5, total: 5 }));
    let [Payload::EncryptedFragment(f)] = m.payloads.as_slice() else {
        panic!("{m:?}")
    };
    assert_eq!((f.number, f.total), (5, 5));
    // IV (8) right after the SKF header, as the vector states; ICV (12) at the very end.
    assert_eq!(&bytes[36..44], &hex::decode("fd7c7931705af184").unwrap()[..]);
    assert_eq!(&f.body[..8], &bytes[36..44]);
    assert_eq!((f.body.len() - 8 - 12) % 8, 0);
    // The plaintext share ends a chain: it starts inside a payload whose successor is CP, so the
    // chain from the CP header on decodes: CP, SA (ESP), TSi, TSr.
    let plain = fixture("aosp-3des-hmacsha1-fragment-5-of-5.plain.bin");
    let inner = decode_inner(PayloadType::CP, &plain[5..]).unwrap();
    let types: Vec<_> = inner.iter().map(Payload::payload_type).collect();
    assert_eq!(
        types,
        [
            PayloadType::CP,
            PayloadType::SA,
            PayloadType::TSI,
            PayloadType::TSR
        ]
    );
    let Payload::Cp(cp) = &inner[0] else {
        unreachable!()
    };
    assert_eq!(cp.cfg_type, CfgType::CFG_REPLY);
    assert_eq!(&cp.attributes[0].value[..], &[10, 10, 10, 1]);
    let Payload::Sa(sa) = &inner[1] else {
        unreachable!()
    };
    let p = &sa.proposals[0];
    assert_eq!(
        (p.number, p.protocol, p.spi_u32()),
        (2, ProtocolId::ESP, Some(0xcc86_090a))
    );
    assert_eq!(p.encr(), Some((EncrId::ENCR_AES_CBC, Some(256))));
    assert_eq!(p.integ(), Some(IntegId::AUTH_HMAC_SHA1_96));
    assert_eq!(p.esn(), Some(EsnId::NO_ESN));
    let Payload::TsR(tsr) = &inner[3] else {
        unreachable!()
    };
    let [TrafficSelector::Ipv4(r)] = tsr.selectors.as_slice() else {
        panic!("{tsr:?}")
    };
    assert_eq!((r.start, r.end), (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST));
    // Re-encoding the inner chain gives the same bytes.
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, &m.header).encrypted();
    b.extend(&inner).unwrap();
    let built = b.finish().unwrap();
    assert_eq!(&out[built.body_offset()..], &plain[5..]);
    assert_eq!(m.to_vec().unwrap(), bytes);
}

#[test]
fn aosp_skf_fragment_2_of_2_parse_only() {
    let bytes = fixture("aosp-skf-aescbc-hmacsha256-fragment-2-of-2-parse-only.bin");
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(
        HeaderView::new_checked(&bytes).unwrap().next_payload(),
        PayloadType::SKF
    );
    let frame = SkFrame::locate(&bytes).unwrap().unwrap();
    assert_eq!(frame.fragment, Some(FragmentInfo { number: 2, total: 2 }));
    let [Payload::EncryptedFragment(f)] = m.payloads.as_slice() else {
        panic!("{m:?}")
    };
    // AES-CBC: 16-byte IV; HMAC-SHA2-256-128: 16-byte ICV, the last bytes of the message.
    assert_eq!(
        &bytes[bytes.len() - 16..],
        &hex::decode("7abfa047dc88e4bfdc5a492847d36d8b").unwrap()[..]
    );
    assert_eq!((f.body.len() - 16 - 16) % 16, 0);
    assert_eq!(m.to_vec().unwrap(), bytes);
}

#[test]
fn rfc7634_appendix_b_framing_and_sealing_contract() {
    let bytes = fixture("rfc7634-appendix-B-ikev2.bin");
    let m = Message::decode(&bytes).unwrap();
    assert_eq!(
        m.header,
        Header {
            spi_i: spi("c0c1c2c3c4c5c6c7"),
            spi_r: spi("d0d1d2d3d4d5d6d7"),
            version: Version::V2_0,
            exchange_type: ExchangeType::INFORMATIONAL,
            flags: Flags(0),
            message_id: MessageId(9),
        }
    );
    let frame = SkFrame::locate(&bytes).unwrap().unwrap();
    assert_eq!(
        frame,
        SkFrame {
            sk_offset: 28,
            sk_header_len: 4,
            first_inner: PayloadType::NOTIFY,
            fragment: None
        }
    );
    // IV 8 | ciphertext 13 | ICV 16.
    let [Payload::Encrypted(sk)] = m.payloads.as_slice() else {
        panic!("{m:?}")
    };
    assert_eq!(sk.body.len(), 8 + 13 + 16);
    assert_eq!(&sk.body[..8], &hex::decode("1011121314151617").unwrap()[..]);
    assert_eq!(m.to_vec().unwrap(), bytes);

    // The published plaintext ends with Pad Length 0; `open` returns the range before it.
    let plain = fixture("rfc7634-appendix-B-ikev2.plain.bin");
    let (pad_len, payloads) = plain.split_last().unwrap();
    assert_eq!(*pad_len, 0);
    let inner = decode_inner(frame.first_inner, payloads).unwrap();
    let [Payload::Notify(n)] = inner.as_slice() else {
        panic!("{inner:?}")
    };
    assert_eq!(n.notify_type, NotifyType::SET_WINDOW_SIZE);

    // Building the same message gives, before sealing, header + SK header + those plaintext
    // payloads; a stand-in `seal` doing only the framing work of the contract (insert the IV,
    // append Pad Length, substitute the published ciphertext, append the ICV, patch both
    // lengths) reproduces the published message byte for byte.
    let mut msg = Vec::new();
    let mut b = MessageBuilder::new(&mut msg, &m.header).encrypted();
    b.extend(&inner).unwrap();
    let built = b.finish().unwrap();
    assert_eq!(built, frame);
    assert_eq!(&msg[built.body_offset()..], payloads);
    framing_only_seal(
        &mut msg,
        built.sk_offset,
        built.sk_header_len,
        &sk.body[..8],
        &sk.body[8..21],
        &sk.body[21..],
    );
    assert_eq!(msg, bytes);
}

/// Performs the byte moves `seal(msg, sk_offset, sk_header_len)` is specified to do, with the
/// cipher replaced by the published ciphertext.
fn framing_only_seal(
    msg: &mut Vec<u8>,
    sk_offset: usize,
    sk_header_len: usize,
    iv: &[u8],
    ct: &[u8],
    icv: &[u8],
) {
    let body = sk_offset + sk_header_len;
    let mut plaintext = msg.split_off(body);
    plaintext.push(0); // Pad Length (no padding needed for a stream cipher)
    assert_eq!(plaintext.len(), ct.len());
    msg.extend_from_slice(iv);
    msg.extend_from_slice(ct);
    msg.extend_from_slice(icv);
    let sk_len = u16::try_from(msg.len() - sk_offset).unwrap();
    msg[sk_offset + 2..sk_offset + 4].copy_from_slice(&sk_len.to_be_bytes());
    let total = u32::try_from(msg.len()).unwrap();
    msg[24..28].copy_from_slice(&total.to_be_bytes());
}

#[test]
fn fixture_list_matches_the_directory() {
    let dir = format!("{}/tests/fixtures/messages", env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".bin") && !n.ends_with(".plain.bin"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(listed, on_disk);
}

#[test]
fn every_fixture_survives_every_truncation_and_byte_mutation() {
    for name in FIXTURES {
        let bytes = fixture(name);
        for n in 0..bytes.len() {
            assert!(Message::decode(&bytes[..n]).is_err(), "{name} cut at {n}");
            strategies::fuzz_ike_message(&bytes[..n]);
        }
        let mut m = bytes.clone();
        for i in 0..m.len() {
            let orig = m[i];
            for v in [
                0x00,
                0xff,
                orig ^ 0x80,
                orig ^ 0x01,
                orig.wrapping_add(1),
                orig.wrapping_sub(1),
            ] {
                m[i] = v;
                strategies::fuzz_ike_message(&m);
            }
            m[i] = orig;
        }
    }
}

#[test]
fn header_length_must_equal_the_datagram() {
    let bytes = fixture("rfc7634-appendix-B-ikev2.bin");
    let mut padded = bytes.clone();
    padded.push(0);
    assert_eq!(
        Message::decode(&padded),
        Err(InvalidMessage::BadLength {
            what: "IKE header length"
        })
    );
    let mut shorter = bytes.clone();
    shorter[27] -= 1;
    assert_eq!(
        Message::decode(&shorter),
        Err(InvalidMessage::BadLength {
            what: "IKE header length"
        })
    );
    // SK payload length one short: its body ends before the datagram does.
    let mut sk_short = bytes.clone();
    sk_short[31] -= 1;
    assert_eq!(
        Message::decode(&sk_short),
        Err(InvalidMessage::TrailingBytes {
            what: "message (after the encrypted payload)"
        })
    );
    let mut sk_long = bytes;
    sk_long[31] += 1;
    assert_eq!(
        Message::decode(&sk_long),
        Err(InvalidMessage::BadLength {
            what: "payload length"
        })
    );
}

#[test]
fn unknown_payloads_in_a_real_message() {
    // Insert an unknown payload (type 250) between KE and Ni of the rusticata request.
    let bytes = fixture("rusticata-ike-sa-init-req.bin");
    let mut m = Message::decode(&bytes).unwrap().into_owned();
    let unknown = UnknownPayload {
        payload_type: PayloadType(250),
        critical: false,
        body: Cow::Borrowed(&[1, 2, 3]),
    };
    m.payloads.insert(2, Payload::Unknown(unknown.clone()));
    let encoded = m.to_vec().unwrap();
    assert_eq!(encoded.len(), bytes.len() + 7);
    assert_eq!(Message::decode(&encoded).unwrap(), m);
    // The same with the critical bit: refused, naming the type, which maps to
    // UNSUPPORTED_CRITICAL_PAYLOAD carrying it.
    m.payloads[2] = Payload::Unknown(UnknownPayload {
        critical: true,
        ..unknown
    });
    let encoded = m.to_vec().unwrap();
    let err = Message::decode(&encoded).unwrap_err();
    assert_eq!(
        err,
        InvalidMessage::UnsupportedCriticalPayload {
            payload_type: PayloadType(250)
        }
    );
    let notify = ipsec_ike::error::IkeError::from(err).notify().unwrap();
    assert_eq!(notify.notify_type, NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD);
    assert_eq!(notify.data(), &[250]);
}

#[test]
fn proposal_selection_on_the_rusticata_offer() {
    let req = fixture("rusticata-ike-sa-init-req.bin");
    let resp = fixture("rusticata-ike-sa-init-resp.bin");
    let req = Message::decode(&req).unwrap();
    let resp = Message::decode(&resp).unwrap();
    let Payload::Sa(offer) = &req.payloads[0] else {
        unreachable!()
    };
    let Payload::Sa(answer) = &resp.payloads[0] else {
        unreachable!()
    };
    // The responder's answer is a valid subset of the offer.
    let accepted = proposal::check_reply(&offer.proposals, answer).unwrap();
    assert_eq!(accepted.encr(), Some((EncrId::ENCR_AES_CBC, Some(128))));
    // A responder configured `aes128-sha1-modp1024!` selects the same transforms.
    let ours = [Proposal {
        number: 1,
        protocol: ProtocolId::IKE,
        spi: Cow::Borrowed(&[]),
        transforms: vec![
            Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
            Transform::integ(IntegId::AUTH_HMAC_SHA1_96),
            Transform::prf(PrfId::PRF_HMAC_SHA1),
            Transform::ke(DhGroup::MODP_1024),
        ],
    }];
    let sel = proposal::select(
        &ours,
        &offer.proposals,
        Some(DhGroup::MODP_1024),
        Strictness::Strict,
    )
    .unwrap();
    let sorted = |p: &Proposal<'_>| {
        let mut v: Vec<_> = p
            .transforms
            .iter()
            .map(|t| (t.transform_type, t.transform_id, t.key_length()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&sel), sorted(&answer.proposals[0]));
    assert_eq!(sel.number, 1);
    proposal::check_reply(&offer.proposals, &Sa { proposals: vec![sel] }).unwrap();
    // Configured for AES-256 only: nothing matches, strict or with our (strong) defaults.
    let mut aes256 = ours.clone();
    aes256[0].transforms[0] = Transform::encr(EncrId::ENCR_AES_CBC, Some(256));
    for s in [Strictness::Strict, Strictness::AcceptDefaults] {
        assert_eq!(
            proposal::select(&aes256, &offer.proposals, Some(DhGroup::MODP_1024), s),
            Err(PeerIncompatible::NoProposalChosen)
        );
    }
    // Configured for ECP-256 first and MODP-1024 second: the peer's KE (MODP-1024) is used.
    let mut two_groups = ours.clone();
    two_groups[0]
        .transforms
        .insert(3, Transform::ke(DhGroup::ECP_256));
    let sel = proposal::select(
        &two_groups,
        &offer.proposals,
        Some(DhGroup::MODP_1024),
        Strictness::Strict,
    )
    .unwrap();
    assert_eq!(sel.dh_group(), Some(DhGroup::MODP_1024));
    // Had the peer sent an ECP-384 KE payload, we would ask for MODP-1024 (ours among its offer).
    assert_eq!(
        proposal::select(
            &two_groups,
            &offer.proposals,
            Some(DhGroup::ECP_384),
            Strictness::Strict
        ),
        Err(PeerIncompatible::InvalidKePayload {
            group: DhGroup::MODP_1024
        })
    );
}

#[test]
fn fragments_of_a_built_message_reassemble_to_its_inner_chain() {
    let bytes = fixture("aosp-3des-hmacsha1-fragment-5-of-5.bin");
    let header = Message::decode(&bytes).unwrap().header;
    let plain = fixture("aosp-3des-hmacsha1-fragment-5-of-5.plain.bin");
    let chain = &plain[5..];
    let frags = fragment_message(&header, PayloadType::CP, chain, 30).unwrap();
    assert_eq!(frags.len(), chain.len().div_ceil(30));
    let mut r = Reassembly::new(64);
    let mut done = None;
    for f in frags.iter().rev() {
        let m = Message::decode(&f.bytes).unwrap();
        assert_eq!(m.header, header);
        assert_eq!(SkFrame::locate(&f.bytes).unwrap(), Some(f.frame));
        if let ReassemblyStatus::Complete {
            first_inner,
            plaintext,
        } = r.insert(&f.frame, &f.bytes[f.frame.body_offset()..]).unwrap()
        {
            done = Some((first_inner, plaintext));
        }
    }
    let (first, whole) = done.unwrap();
    assert_eq!(whole, chain);
    assert_eq!(decode_inner(first, &whole).unwrap().len(), 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_of_encode_is_identity(m in strategies::message()) {
        let bytes = m.to_vec().unwrap();
        prop_assert_eq!(Message::decode(&bytes).unwrap(), m.clone());
        // And the frame of a generated protected message is where the builder put it.
        let frame = SkFrame::locate(&bytes).unwrap();
        prop_assert_eq!(frame.is_some(), m.payloads.last().is_some_and(Payload::is_encrypted));
    }

    #[test]
    fn inner_chains_round_trip_through_the_sk_builder(header in strategies::header(), inner in strategies::inner_chain()) {
        let mut msg = Vec::new();
        let mut b = MessageBuilder::new(&mut msg, &header).encrypted();
        b.extend(&inner).unwrap();
        let frame = b.finish().unwrap();
        prop_assert_eq!(SkFrame::locate(&msg).unwrap(), Some(frame));
        prop_assert_eq!(decode_inner(frame.first_inner, &msg[frame.body_offset()..]).unwrap(), inner);
    }

    #[test]
    fn payload_buffer_len_matches_emit(p in strategies::inner_payload()) {
        let mut out = Vec::new();
        p.emit_body(&mut out).unwrap();
        prop_assert_eq!(out.len(), p.body_len());
    }

    #[test]
    fn decoding_arbitrary_bytes_returns(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        strategies::fuzz_ike_message(&data);
    }

    #[test]
    fn decoding_mutated_valid_messages_returns(
        m in strategies::message(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = m.to_vec().unwrap();
        for (i, v) in flips {
            let i = i.index(bytes.len());
            bytes[i] = v;
        }
        strategies::fuzz_ike_message(&bytes);
    }
}
