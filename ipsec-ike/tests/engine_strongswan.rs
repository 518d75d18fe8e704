//! The engine fed the captured strongSwan 5.9.8 messages (`tests/fixtures/strongswan`, see the
//! README there) at the matching point of the exchange.
//!
//! What can be replayed, and what cannot:
//! - **IKE_SA_INIT requests** (every case, and the rejected Curve25519 attempt of the INVALID_KE
//!   case): replayed in full into a responder configured like charon's peer B. Our response must
//!   echo SPIi, pick a proposal from charon's offer with exactly the algorithms charon's responder
//!   chose (`keys.json`), carry a KE of that group, a nonce and the NAT detection notifies, and a
//!   retransmission gets the same bytes back. The rejected attempt gets INVALID_KE_PAYLOAD naming
//!   group 19, as charon did, and leaves no state.
//! - **IKE_SA_INIT responses** (charon as responder): replayed into our *initiator*, with the
//!   header's SPIi rewritten to the one our initiator chose (charon's response names charon's
//!   initiator's SPI). Our initiator accepts charon's selection and KE and goes on to IKE_AUTH;
//!   charon's INVALID_KE_PAYLOAD makes it retry with ECP-256. (The NAT detection hashes cover the
//!   original SPIs, so our initiator sees a "NAT", as charon's faked NAT detection did anyway.)
//! - **Everything encrypted** (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL) can *not* be replayed
//!   into a live exchange: it is protected with keys derived from charon's DH private value,
//!   which `keys.json` does not contain (only the shared secrets `g_ir`), and our endpoint draws
//!   its own. So these messages are fed where they must be refused: to a fresh endpoint (unknown
//!   SPI), to our half-open responder under charon's SPIs (unknown SPI) and with the header
//!   rewritten to our SPIs (integrity check failure) — each dropped with an error, nothing sent,
//!   no event, the responder's state and timers unchanged, its IKE_SA_INIT answer still cached.
//!   The decrypted contents of those messages are covered by `codec_strongswan.rs` and
//!   `crypto_strongswan.rs`.
#![cfg(feature = "rustcrypto")]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipsec_core::Instant;
use ipsec_ike::cert::Certificate;
use ipsec_ike::config::{self, EndpointConfig, Identity, LocalAuth, PeerConfig, RemoteAuth};
use ipsec_ike::crypto::CryptoProvider;
use ipsec_ike::crypto::rustcrypto::RustCrypto;
use ipsec_ike::endpoint::IkeSaState;
use ipsec_ike::message::*;
use ipsec_ike::{DatagramError, Endpoint, PeerId};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde_json::Value;

const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2));
/// 2026-11-25T12:00Z: inside the fixture certificates' validity.
const UNIX_NOW: u64 = 1_795_608_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/strongswan")
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 7, "every capture case");
    dirs
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bin(dir: &Path, file: &Value) -> Vec<u8> {
    std::fs::read(dir.join(file.as_str().unwrap())).unwrap()
}

fn u16_of(v: &Value) -> Option<u16> {
    v.as_u64().map(|n| u16::try_from(n).unwrap())
}

/// The transforms charon's responder selected for IKE SA 0, from `keys.json`.
fn selected_transforms(keys: &Value) -> Vec<Transform<'static>> {
    let p = &keys["ike_sas"][0]["proposal"];
    let mut t = vec![Transform::encr(
        EncrId(u16_of(&p["encr_id"]).unwrap()),
        u16_of(&p["key_bits"]),
    )];
    if let Some(i) = u16_of(&p["integ_id"]) {
        t.push(Transform::integ(IntegId(i)));
    }
    t.push(Transform::prf(PrfId(u16_of(&p["prf_id"]).unwrap())));
    t.push(Transform::ke(DhGroup(u16_of(&p["dh_id"]).unwrap())));
    t
}

/// Our configuration for one side of a case: charon's addresses, IDs, PSK or certificates,
/// one IKE proposal (`number`, `transforms`).
fn peer(dir: &Path, keys: &Value, side: &str, number: u8, transforms: Vec<Transform<'static>>) -> PeerConfig {
    let other = if side == "A" { "B" } else { "A" };
    let (local, remote) = if side == "A" { (A, B) } else { (B, A) };
    let psk = keys["auth"]["psk"]
        .as_str()
        .unwrap_or("unused")
        .as_bytes()
        .to_vec();
    let mut p = PeerConfig::psk(side, Some(local), Some(remote), &psk);
    p.local_id = Some(Identity::Fqdn(keys["peers"][side]["id"].as_str().unwrap().into()));
    p.remote_id = Some(Identity::Fqdn(
        keys["peers"][other]["id"].as_str().unwrap().into(),
    ));
    if !keys["peers"][side]["cert"].is_null() {
        let provider = RustCrypto::new();
        let key = provider
            .signing_key(&bin(dir, &keys["peers"][side]["private_key_pkcs8"]))
            .unwrap();
        p.local_auth = LocalAuth::Certificate {
            chain: vec![Certificate::from_der(&bin(dir, &keys["peers"][side]["cert"])).unwrap()],
            key: Arc::from(key),
        };
        p.remote_auth = RemoteAuth::Certificate {
            trust_anchors: vec![
                Certificate::from_der(&std::fs::read(dir.join("certs/ca.der")).unwrap()).unwrap(),
            ],
        };
    }
    p.ike_proposals = vec![config::proposal(number, ProtocolId::IKE, transforms)];
    p.children = vec![ipsec_ike::ChildConfig::tunnel("lan", Vec::new(), Vec::new())];
    p
}

fn endpoint(peer: PeerConfig, seed: u64) -> Endpoint {
    let mut c = EndpointConfig::new(Arc::new(RustCrypto::new()));
    c.peers.push(peer);
    Endpoint::new(
        Arc::new(c),
        ChaCha20Rng::seed_from_u64(seed),
        Instant::ZERO,
        UNIX_NOW,
    )
    .unwrap()
}

/// The responder B, configured to choose what charon chose.
fn responder(dir: &Path, keys: &Value) -> Endpoint {
    endpoint(peer(dir, keys, "B", 1, selected_transforms(keys)), 2)
}

fn from_a() -> (SocketAddr, SocketAddr) {
    (SocketAddr::new(A, 500), SocketAddr::new(B, 500))
}

/// Everything observable about an endpoint's state, for before/after comparisons.
fn snapshot(e: &Endpoint) -> Vec<String> {
    let mut s = vec![format!("{:?}", e.poll_timeout())];
    for sa in e.ike_sas() {
        s.push(format!("{sa:?} {:?} {:?}", e.ike_sa_state(sa), e.child_sas(sa)));
    }
    s
}

fn no_output(e: &mut Endpoint) {
    assert_eq!(e.poll_transmit(), None);
    assert!(e.poll_event().is_none());
}

/// Feeds the request, checks the response against the offer and charon's choice, returns it.
fn check_init_response(e: &mut Endpoint, request: &[u8], keys: &Value, certs: bool) -> Vec<u8> {
    let (remote, local) = from_a();
    e.handle_datagram(Instant::ZERO, remote, local, &mut request.to_vec())
        .unwrap();
    let t = e.poll_transmit().expect("an IKE_SA_INIT response");
    assert_eq!(e.poll_transmit(), None);
    assert_eq!((t.remote, t.local.port()), (remote, 500));
    let req = Message::decode(request).unwrap();
    let resp = Message::decode(t.ike_message()).unwrap();
    let h = resp.header;
    assert_eq!(h.spi_i, req.header.spi_i);
    assert!(!h.spi_r.is_zero());
    assert_eq!(h.exchange_type, ExchangeType::IKE_SA_INIT);
    assert!(h.flags.response() && !h.flags.initiator());
    assert_eq!(h.message_id, MessageId(0));

    let offer = req.payloads.iter().find_map(|p| match p {
        Payload::Sa(sa) => Some(sa),
        _ => None,
    });
    let chosen: Vec<&Sa<'_>> = resp
        .payloads
        .iter()
        .filter_map(|p| match p {
            Payload::Sa(sa) => Some(sa),
            _ => None,
        })
        .collect();
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0].proposals.len(), 1, "exactly one proposal selected");
    let ours = &chosen[0].proposals[0];
    let offered = offer
        .unwrap()
        .proposals
        .iter()
        .find(|p| p.number == ours.number)
        .expect("the selected proposal number is one of the offer's");
    for t in &ours.transforms {
        assert!(offered.transforms.contains(t), "{t:?} was not offered");
    }
    let mut got = ours.transforms.clone();
    let mut want = selected_transforms(keys);
    got.sort_by_key(|t| format!("{t:?}"));
    want.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(got, want, "the algorithms charon's responder chose");

    let group = ours.dh_group().unwrap();
    let ke = resp
        .payloads
        .iter()
        .find_map(|p| match p {
            Payload::Ke(k) => Some(k),
            _ => None,
        })
        .unwrap();
    let req_ke = req
        .payloads
        .iter()
        .find_map(|p| match p {
            Payload::Ke(k) => Some(k),
            _ => None,
        })
        .unwrap();
    assert_eq!((ke.group, req_ke.group), (group, group));
    assert_eq!(ke.data.len(), req_ke.data.len());
    assert_ne!(ke.data, req_ke.data);
    let nonce = resp
        .payloads
        .iter()
        .find_map(|p| match p {
            Payload::Nonce(n) => Some(n),
            _ => None,
        })
        .unwrap();
    assert!(nonce.data.len() >= 16);
    for n in [
        NotifyType::NAT_DETECTION_SOURCE_IP,
        NotifyType::NAT_DETECTION_DESTINATION_IP,
        NotifyType::IKEV2_FRAGMENTATION_SUPPORTED,
    ] {
        assert!(req.notify(n).is_some(), "charon sent {n:?}");
        assert!(resp.notify(n).is_some(), "we answer {n:?}");
    }
    let certreq = resp.payloads.iter().any(|p| matches!(p, Payload::CertReq(_)));
    assert_eq!(certreq, certs, "CERTREQ only with certificate authentication");
    assert!(e.poll_event().is_none());
    t.ike_message().to_vec()
}

/// The IKE_SA_INIT request that created IKE SA 0.
fn init_request(dir: &Path, keys: &Value) -> Vec<u8> {
    bin(dir, &keys["ike_sas"][0]["created_by_messages"]["request"][0])
}

#[test]
fn captured_ike_sa_init_requests_get_a_matching_response() {
    for dir in cases() {
        let keys = json(&dir.join("keys.json"));
        let certs = !keys["peers"]["B"]["cert"].is_null();
        let mut b = responder(&dir, &keys);
        let request = init_request(&dir, &keys);
        let response = check_init_response(&mut b, &request, &keys, certs);
        assert_eq!(b.ike_sa_count(), 1, "{dir:?}");
        let sa = b.ike_sas().next().unwrap();
        assert_eq!(b.ike_sa_state(sa), Some(IkeSaState::HalfOpen));
        // A retransmission of the request gets the same bytes (RFC 7296 §2.1), no new SA.
        let before = snapshot(&b);
        let (remote, local) = from_a();
        b.handle_datagram(Instant::ZERO, remote, local, &mut request.clone())
            .unwrap();
        assert_eq!(b.poll_transmit().unwrap().ike_message(), &response[..]);
        assert_eq!(snapshot(&b), before);
        no_output(&mut b);
    }
}

#[test]
fn captured_curve25519_offer_gets_invalid_ke_payload_like_charon_sent() {
    let dir = root().join("psk-aes256gcm16-invalid-ke-ecp256");
    let keys = json(&dir.join("keys.json"));
    let failed = &keys["ike_sas"][0]["failed_ike_sa_init"][0];
    let mut b = responder(&dir, &keys);
    let (remote, local) = from_a();
    b.handle_datagram(
        Instant::ZERO,
        remote,
        local,
        &mut bin(&dir, &failed["request"][0]),
    )
    .unwrap();
    let t = b.poll_transmit().unwrap();
    let ours = Message::decode(t.ike_message()).unwrap();
    let charons_bytes = bin(&dir, &failed["response"][0]);
    let charons = Message::decode(&charons_bytes).unwrap();
    let want = charons.notify(NotifyType::INVALID_KE_PAYLOAD).unwrap();
    let got = ours.notify(NotifyType::INVALID_KE_PAYLOAD).unwrap();
    assert_eq!(got.data, want.data);
    assert_eq!(&got.data[..], &19u16.to_be_bytes());
    assert!(ours.header.spi_r.is_zero() && ours.header.flags.response());
    assert_eq!(b.ike_sa_count(), 0, "INVALID_KE_PAYLOAD is stateless");
    no_output(&mut b);
    // The retry is answered normally.
    check_init_response(&mut b, &init_request(&dir, &keys), &keys, false);
    assert_eq!(b.ike_sa_count(), 1);
}

/// Every captured message except the IKE_SA_INIT requests.
fn later_messages(dir: &Path) -> Vec<(String, Vec<u8>, bool)> {
    let manifest = json(&dir.join("manifest.json"));
    manifest["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !(m["exchange"] == "IKE_SA_INIT" && m["type"] == "request"))
        .map(|m| {
            let name = m["file"].as_str().unwrap().to_owned();
            let bytes = bin(dir, &m["file"]);
            (name, bytes, m["from"] == "A")
        })
        .collect()
}

fn deliver(e: &mut Endpoint, msg: &[u8], from_a: bool, port: u16) -> Result<(), DatagramError> {
    let (src, dst) = if from_a { (A, B) } else { (B, A) };
    e.handle_datagram(
        Instant::ZERO,
        SocketAddr::new(src, port),
        SocketAddr::new(dst, port),
        &mut msg.to_vec(),
    )
}

#[test]
fn captured_messages_at_the_wrong_point_change_nothing() {
    for dir in cases() {
        let keys = json(&dir.join("keys.json"));
        // A fresh endpoint knows none of these SPIs.
        let mut fresh = responder(&dir, &keys);
        for (name, msg, from_a) in later_messages(&dir) {
            assert_eq!(
                deliver(&mut fresh, &msg, from_a, 4500),
                Err(DatagramError::UnknownSa),
                "{dir:?} {name}"
            );
            no_output(&mut fresh);
            assert_eq!(fresh.ike_sa_count(), 0);
        }
        assert_eq!(fresh.poll_timeout(), None);

        // A half-open responder: charon's SPIr is not ours.
        let mut b = responder(&dir, &keys);
        let request = init_request(&dir, &keys);
        let response = check_init_response(&mut b, &request, &keys, !keys["peers"]["B"]["cert"].is_null());
        let our_spi_r = Message::decode(&response).unwrap().header.spi_r;
        let before = snapshot(&b);
        for (name, msg, from_a) in later_messages(&dir) {
            assert_eq!(
                deliver(&mut b, &msg, from_a, 4500),
                Err(DatagramError::UnknownSa),
                "{dir:?} {name}"
            );
            no_output(&mut b);
            // Under our SPIs, charon's keys are not ours: integrity fails (or the message is
            // refused as a response to nothing); never accepted.
            let Ok(view) = Message::decode(&msg) else {
                continue;
            };
            if view.header.exchange_type == ExchangeType::IKE_SA_INIT {
                continue;
            }
            let mut rewritten = msg.clone();
            rewritten[..8].copy_from_slice(&Message::decode(&request).unwrap().header.spi_i.0);
            rewritten[8..16].copy_from_slice(&our_spi_r.0);
            let r = deliver(&mut b, &rewritten, from_a, 4500);
            assert!(r.is_err(), "{dir:?} {name}: {r:?}");
            if name.contains("ike_auth-req") && !name.contains("frag") {
                assert_eq!(r, Err(DatagramError::IntegrityCheckFailed), "{dir:?} {name}");
            }
            no_output(&mut b);
            assert_eq!(snapshot(&b), before, "{dir:?} {name}");
        }
        // The IKE_SA_INIT answer is still cached.
        let (remote, local) = from_a();
        b.handle_datagram(Instant::ZERO, remote, local, &mut request.clone())
            .unwrap();
        assert_eq!(b.poll_transmit().unwrap().ike_message(), &response[..]);
    }
}

/// Our initiator A for a case, offering exactly charon's first IKE_SA_INIT offer (so the SA
/// payload selected in the captured response is one of ours). The first offer, not the retry:
/// charon moves the requested group to the front when it retries after INVALID_KE_PAYLOAD.
fn initiator(dir: &Path, keys: &Value, seed: u64) -> Endpoint {
    let first = &keys["ike_sas"][0]["failed_ike_sa_init"][0]["request"][0];
    let bytes = if first.is_null() {
        init_request(dir, keys)
    } else {
        bin(dir, first)
    };
    let request = Message::decode(&bytes).unwrap();
    let offer = request
        .payloads
        .iter()
        .find_map(|p| match p {
            Payload::Sa(sa) => Some(sa.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(offer.proposals.len(), 1, "charon sends one IKE proposal here");
    let p = &offer.proposals[0];
    let transforms: Vec<Transform<'static>> = p
        .transforms
        .iter()
        .map(|t| match t.encr_id() {
            Some(id) => Transform::encr(id, t.key_length()),
            None => Transform::plain(t.transform_type, t.transform_id),
        })
        .collect();
    let mut peer = peer(dir, keys, "A", p.number, transforms);
    peer.children[0].local_ts = Vec::new();
    endpoint(peer, seed)
}

/// Sends our initiator's IKE_SA_INIT request; returns our SPIi.
fn start(a: &mut Endpoint) -> IkeSpi {
    a.connect(Instant::ZERO, PeerId(0)).unwrap();
    let t = a.poll_transmit().unwrap();
    assert_eq!(t.remote, SocketAddr::new(B, 500));
    Message::decode(t.ike_message()).unwrap().header.spi_i
}

#[test]
fn captured_ike_sa_init_responses_drive_our_initiator_to_ike_auth() {
    for dir in cases() {
        let keys = json(&dir.join("keys.json"));
        let mut a = initiator(&dir, &keys, 3);
        let mut spi_i = start(&mut a);
        for failed in keys["ike_sas"][0]["failed_ike_sa_init"].as_array().unwrap() {
            // charon's INVALID_KE_PAYLOAD (group 19): we retry with ECP-256.
            let mut resp = bin(&dir, &failed["response"][0]);
            resp[..8].copy_from_slice(&spi_i.0);
            deliver(&mut a, &resp, false, 500).unwrap();
            let t = a.poll_transmit().expect("a retried IKE_SA_INIT");
            let retry = Message::decode(t.ike_message()).unwrap();
            let ke = retry
                .payloads
                .iter()
                .find_map(|p| match p {
                    Payload::Ke(k) => Some(k.group),
                    _ => None,
                })
                .unwrap();
            assert_eq!(ke, DhGroup::ECP_256, "{dir:?}");
            spi_i = retry.header.spi_i;
        }
        let mut resp = bin(&dir, &keys["ike_sas"][0]["created_by_messages"]["response"][0]);
        let spi_r = Message::decode(&resp).unwrap().header.spi_r;
        resp[..8].copy_from_slice(&spi_i.0);
        deliver(&mut a, &resp, false, 500).unwrap();
        let t = a.poll_transmit().expect("an IKE_AUTH request");
        let m = Message::decode(t.ike_message()).unwrap();
        assert_eq!(
            (
                m.header.exchange_type,
                m.header.message_id,
                m.header.spi_i,
                m.header.spi_r
            ),
            (ExchangeType::IKE_AUTH, MessageId(1), spi_i, spi_r),
            "{dir:?}"
        );
        assert!(m.header.flags.initiator() && !m.header.flags.response());
        assert!(matches!(
            m.payloads.last(),
            Some(Payload::Encrypted(_) | Payload::EncryptedFragment(_))
        ));
        // The same response again is a response to nothing in flight now: dropped.
        let before = snapshot(&a);
        while a.poll_transmit().is_some() {}
        assert!(deliver(&mut a, &resp, false, 500).is_err(), "{dir:?}");
        no_output(&mut a);
        assert_eq!(snapshot(&a), before);
    }
}
