//! The codec against real strongSwan 5.9.8 exchanges (`tests/fixtures/strongswan`, see the README
//! there): every captured message decodes as the capture's manifest describes it, re-encodes byte
//! for byte, frames its SK/SKF payload where the crypto code expects it, and, once opened with the
//! logged keys, its inner payload chain decodes (fragments reassembled) and re-encodes exactly.
//! The SA payloads of each exchange also exercise proposal selection against strongSwan's choices.
#![cfg(feature = "rustcrypto")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipsec_ike::crypto::CryptoProvider;
use ipsec_ike::crypto::rustcrypto::RustCrypto;
use ipsec_ike::crypto::sk::SkKey;
use ipsec_ike::error::PeerIncompatible;
use ipsec_ike::message::*;
use ipsec_ike::proposal::{self, Strictness};
use serde_json::Value;

static PROVIDER: RustCrypto = RustCrypto::new();

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/strongswan")
}

/// Every capture directory (one per case).
fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex_field(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// The manifest's notation for a payload: `SA KE No IDi IDr CERT CERTREQ AUTH N(NAME) D V TSi
/// TSr CP SK SKF`.
fn name(p: &Payload<'_>) -> String {
    match p {
        Payload::Sa(_) => "SA".into(),
        Payload::Ke(_) => "KE".into(),
        Payload::IdI(_) => "IDi".into(),
        Payload::IdR(_) => "IDr".into(),
        Payload::Cert(_) => "CERT".into(),
        Payload::CertReq(_) => "CERTREQ".into(),
        Payload::Auth(_) => "AUTH".into(),
        Payload::Nonce(_) => "No".into(),
        Payload::Notify(n) => format!("N({:?})", n.notify_type),
        Payload::Delete(_) => "D".into(),
        Payload::VendorId(_) => "V".into(),
        Payload::TsI(_) => "TSi".into(),
        Payload::TsR(_) => "TSr".into(),
        Payload::Encrypted(_) => "SK".into(),
        Payload::Cp(_) => "CP".into(),
        Payload::Eap(_) => "EAP".into(),
        Payload::EncryptedFragment(_) => "SKF".into(),
        other => format!("{:?}", other.payload_type()),
    }
}

fn names(ps: &[Payload<'_>]) -> Vec<String> {
    ps.iter().map(name).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The SK key strongSwan used for a message of IKE SA `sa` sent in `direction`.
fn sk_key(keys: &Value, sa: usize, direction: &str) -> SkKey {
    let sa = &keys["ike_sas"][sa];
    let p = &sa["proposal"];
    let encr_id = EncrId(u16::try_from(p["encr_id"].as_u64().unwrap()).unwrap());
    let bits = p["key_bits"].as_u64().map(|b| u16::try_from(b).unwrap());
    let encr = PROVIDER.encr(encr_id, bits).unwrap();
    let integ = p["integ_id"]
        .as_u64()
        .map(|i| PROVIDER.integ(IntegId(u16::try_from(i).unwrap())).unwrap());
    let (e, a) = if direction == "i->r" {
        ("sk_ei", "sk_ai")
    } else {
        ("sk_er", "sk_ar")
    };
    let sk_a = if sa[a].is_null() {
        Vec::new()
    } else {
        hex_field(&sa[a])
    };
    SkKey::new(encr, integ, &hex_field(&sa[e]), &sk_a).unwrap()
}

#[test]
fn captures_are_present() {
    // Seven cases were captured; each holds at least the 16 messages of the sequence.
    let cases = cases();
    assert!(cases.len() >= 7, "{cases:?}");
    for case in &cases {
        let manifest = json(&case.join("manifest.json"));
        assert!(manifest["messages"].as_array().unwrap().len() >= 16, "{case:?}");
    }
}

#[test]
fn every_captured_message_decodes_frames_and_re_encodes_exactly() {
    let mut checked = 0;
    let mut inner_checked = 0;
    for case in cases() {
        let manifest = json(&case.join("manifest.json"));
        let keys = json(&case.join("keys.json"));
        let mut reassembly: BTreeMap<(String, u64, String), Reassembly> = BTreeMap::new();
        for entry in manifest["messages"].as_array().unwrap() {
            let file = entry["file"].as_str().unwrap();
            let ctx = format!("{}/{file}", case.file_name().unwrap().to_string_lossy());
            let mut bytes = std::fs::read(case.join(file)).unwrap();
            let m = Message::decode(&bytes).unwrap_or_else(|e| panic!("{ctx}: {e}"));

            // Header against the manifest.
            let header = m.header;
            let h = &header;
            assert_eq!(h.spi_i.0.to_vec(), hex_field(&entry["spi_i"]), "{ctx}");
            assert_eq!(h.spi_r.0.to_vec(), hex_field(&entry["spi_r"]), "{ctx}");
            assert_eq!(h.exchange_type.name(), entry["exchange"].as_str(), "{ctx}");
            assert_eq!(
                u64::from(h.message_id.0),
                entry["message_id"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_eq!(
                format!("{:#04x}", h.flags.0),
                entry["flags"].as_str().unwrap(),
                "{ctx}"
            );
            assert_eq!(h.flags.response(), entry["type"] == "response", "{ctx}");
            assert_eq!(h.version, Version::V2_0, "{ctx}");
            assert_eq!(bytes.len() as u64, entry["length"].as_u64().unwrap(), "{ctx}");
            assert_eq!(names(&m.payloads), strings(&entry["outer_payloads"]), "{ctx}");

            // Byte-identical re-encoding.
            assert_eq!(m.to_vec().unwrap(), bytes, "{ctx}: re-encoding differs");

            // SK/SKF framing.
            let frame = SkFrame::locate(&bytes).unwrap();
            let fragment = entry["fragment"].as_array().map(|f| FragmentInfo {
                number: u16::try_from(f[0].as_u64().unwrap()).unwrap(),
                total: u16::try_from(f[1].as_u64().unwrap()).unwrap(),
            });
            checked += 1;
            let Some(frame) = frame else {
                assert!(!m.payloads.iter().any(Payload::is_encrypted), "{ctx}");
                assert_eq!(names(&m.payloads), strings(&entry["payloads"]), "{ctx}");
                continue;
            };
            assert_eq!(
                frame.sk_offset, HEADER_LEN,
                "{ctx}: strongSwan sends SK/SKF alone"
            );
            assert_eq!(frame.fragment, fragment, "{ctx}");
            assert_eq!(
                frame.sk_header_len,
                if fragment.is_some() { SKF_HEADER_LEN } else { 4 },
                "{ctx}"
            );

            // Open with the logged keys, then decode the plaintext.
            let sa = usize::try_from(entry["ike_sa"].as_u64().unwrap()).unwrap();
            let key = sk_key(&keys, sa, entry["direction"].as_str().unwrap());
            let range = key
                .open(&mut bytes, frame.sk_offset, frame.sk_header_len)
                .unwrap_or_else(|e| panic!("{ctx}: open: {e:?}"));
            let plaintext = bytes[range].to_vec();
            let (first, chain) = if frame.fragment.is_some() {
                let k = (
                    entry["exchange"].as_str().unwrap().to_owned(),
                    entry["message_id"].as_u64().unwrap(),
                    entry["type"].as_str().unwrap().to_owned(),
                );
                let r = reassembly.entry(k).or_insert_with(|| Reassembly::new(32));
                match r.insert(&frame, &plaintext).unwrap() {
                    ReassemblyStatus::Complete {
                        first_inner,
                        plaintext,
                    } => (first_inner, plaintext),
                    ReassemblyStatus::Incomplete => continue,
                    other => panic!("{ctx}: {other:?}"),
                }
            } else {
                (frame.first_inner, plaintext)
            };
            let inner = decode_inner(first, &chain).unwrap_or_else(|e| panic!("{ctx}: inner: {e}"));
            assert_eq!(names(&inner), strings(&entry["payloads"]), "{ctx}");
            // The plaintext chain re-encodes byte for byte through the SK builder.
            let mut rebuilt = Vec::new();
            let mut b = MessageBuilder::new(&mut rebuilt, &header).encrypted();
            b.extend(&inner).unwrap();
            let built = b.finish().unwrap();
            assert_eq!(built.first_inner, first, "{ctx}");
            assert_eq!(
                &rebuilt[built.body_offset()..],
                &chain[..],
                "{ctx}: inner re-encoding differs"
            );
            inner_checked += 1;
        }
        assert!(
            reassembly.values().all(|r| r.buffered_bytes() == 0),
            "{case:?}: incomplete fragment set"
        );
    }
    assert!(checked >= 7 * 16, "{checked} messages");
    assert!(inner_checked >= 7 * 12, "{inner_checked} decrypted messages");
}

/// The decrypted inner payloads of one unfragmented protected message.
fn open_inner(case: &Path, keys: &Value, entry: &Value) -> Vec<Payload<'static>> {
    let mut bytes = std::fs::read(case.join(entry["file"].as_str().unwrap())).unwrap();
    let frame = SkFrame::locate(&bytes).unwrap().unwrap();
    let sa = usize::try_from(entry["ike_sa"].as_u64().unwrap()).unwrap();
    let range = sk_key(keys, sa, entry["direction"].as_str().unwrap())
        .open(&mut bytes, frame.sk_offset, frame.sk_header_len)
        .unwrap();
    decode_inner(frame.first_inner, &bytes[range])
        .unwrap()
        .into_iter()
        .map(Payload::into_owned)
        .collect()
}

fn sa_of(payloads: &[Payload<'_>]) -> Option<Sa<'static>> {
    payloads.iter().find_map(|p| match p {
        Payload::Sa(sa) => Some(sa.clone().into_owned()),
        _ => None,
    })
}

fn ke_group(payloads: &[Payload<'_>]) -> Option<DhGroup> {
    payloads.iter().find_map(|p| match p {
        Payload::Ke(k) => Some(k.group),
        _ => None,
    })
}

#[test]
fn strongswan_choices_pass_our_proposal_checks() {
    let mut pairs = 0;
    for case in cases() {
        let manifest = json(&case.join("manifest.json"));
        let keys = json(&case.join("keys.json"));
        let messages = manifest["messages"].as_array().unwrap();
        for (req, resp) in messages.iter().zip(messages.iter().skip(1)) {
            let exchange = req["exchange"].as_str().unwrap();
            let same_exchange = req["type"] == "request"
                && resp["type"] == "response"
                && resp["message_id"] == req["message_id"]
                && resp["exchange"] == req["exchange"]
                && req["fragment"].is_null();
            if !same_exchange || !matches!(exchange, "IKE_SA_INIT" | "CREATE_CHILD_SA") {
                continue;
            }
            let (req_p, resp_p) = if exchange == "IKE_SA_INIT" {
                let r = std::fs::read(case.join(req["file"].as_str().unwrap())).unwrap();
                let s = std::fs::read(case.join(resp["file"].as_str().unwrap())).unwrap();
                (
                    Message::decode(&r).unwrap().into_owned().payloads,
                    Message::decode(&s).unwrap().into_owned().payloads,
                )
            } else {
                (open_inner(&case, &keys, req), open_inner(&case, &keys, resp))
            };
            let offer = sa_of(&req_p).unwrap();
            let Some(answer) = sa_of(&resp_p) else {
                // A rejected attempt: strongSwan answered INVALID_KE_PAYLOAD naming the group it
                // wants. Our selection, configured with the group it then accepted, agrees.
                let n = resp_p
                    .iter()
                    .find_map(|p| match p {
                        Payload::Notify(n) if n.notify_type == NotifyType::INVALID_KE_PAYLOAD => {
                            Some(n.clone())
                        }
                        _ => None,
                    })
                    .unwrap();
                let wanted = n.requested_group().unwrap();
                let mut ours = offer.proposals.clone();
                for p in &mut ours {
                    p.transforms
                        .retain(|t| t.transform_type != TransformType::KE || t.dh_group() == Some(wanted));
                }
                assert_eq!(
                    proposal::select(&ours, &offer.proposals, ke_group(&req_p), Strictness::Strict),
                    Err(PeerIncompatible::InvalidKePayload { group: wanted }),
                    "{case:?} {}",
                    req["file"]
                );
                pairs += 1;
                continue;
            };
            // The initiator-side check accepts strongSwan's answer ...
            let accepted = proposal::check_reply(&offer.proposals, &answer)
                .unwrap_or_else(|e| panic!("{case:?} {}: {e}", resp["file"]));
            // ... and a responder configured with exactly that answer selects the same, with
            // the peer's number and SPI.
            let mut ours = accepted.clone();
            ours.number = 1;
            ours.spi = std::borrow::Cow::Borrowed(&[]);
            let selected = proposal::select(&[ours], &offer.proposals, ke_group(&req_p), Strictness::Strict)
                .unwrap_or_else(|e| panic!("{case:?} {}: {e}", req["file"]));
            let offered = offer
                .proposals
                .iter()
                .find(|p| p.number == accepted.number)
                .unwrap();
            assert_eq!(selected.number, accepted.number);
            assert_eq!(selected.spi, offered.spi);
            let sorted = |p: &Proposal<'_>| {
                let mut v: Vec<_> = p
                    .transforms
                    .iter()
                    .map(|t| (t.transform_type, t.transform_id, t.key_length()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(sorted(&selected), sorted(&accepted), "{case:?} {}", req["file"]);
            pairs += 1;
        }
    }
    // Per case: IKE_SA_INIT, CHILD rekey, IKE rekey; plus the two rejected attempts.
    assert!(pairs >= 7 * 3 + 2, "{pairs} exchanges");
}
