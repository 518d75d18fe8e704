//! Proposal selection (RFC 7296 §2.7, §3.3, §3.3.6).
//!
//! # Responder: [`select`]
//! Our configured proposals are tried **in our order**; for each, the peer's proposals in theirs;
//! the first pair that matches wins (strongSwan's default `prefer_configured_proposals`). Within a
//! matching pair, each transform type takes our most preferred transform the peer also offered.
//! Two proposals match when they are for the same protocol and, for every transform type either
//! of them lists:
//! - both list it: some transform is in both (same ID, same Key Length, no attribute we do not
//!   understand, RFC 7296 §3.3.6);
//! - only the peer lists it: acceptable only for types where ID 0 means "none" (INTEG, KE, ESN,
//!   ADDKE*) and the peer offers 0, which is then selected, because the reply must carry one
//!   transform of each type the peer included (RFC 7296 §3.3);
//! - only we list it: acceptable only if we list the "none" value 0 too, and nothing is selected;
//! - INTEG is skipped when the selected cipher is AEAD and we list no INTEG (RFC 5282 §8), as
//!   strongSwan does with proposals mixing AEAD and classic ciphers; if the peer lists INTEG
//!   "none" beside its AEAD cipher, "none" is selected (one transform per type it included).
//!
//! **Key exchange.** With `peer_ke` (the group of the request's KE payload), a pair whose KE
//! choice can be that group selects it, even if we list another group first: the peer already
//! computed that public value, and any group in both lists is one our configuration accepts. If
//! pairs match but none can use the peer's group, the answer is INVALID_KE_PAYLOAD naming the
//! group the first matching pair selected: our preferred group among those the peer offered
//! (RFC 7296 §1.3). Without a KE payload (CREATE_CHILD_SA without PFS) a pair must be able to
//! select no group. A pair selecting no group while the peer sent a KE payload is accepted; the
//! payload is then unused.
//!
//! **Strictness** ([`Strictness`]): strongSwan's `!` suffix (`esp=aes256gcm16-modp3072!`) makes
//! the configured proposals the only acceptable ones; without it strongSwan also accepts its
//! compiled-in defaults. We implement [`Strictness::Strict`] as exactly that, and
//! [`Strictness::AcceptDefaults`] as: our proposals first, then [`default_proposals`] for the same
//! protocol: our defaults (not strongSwan's), made only of algorithms this stack implements and
//! does not consider weak (no MODP-1024, no SHA-1, no 3DES). [`Strictness::Strict`] is the
//! `Default`.
//!
//! # Initiator: [`check_reply`]
//! The responder's SA payload must hold exactly one proposal, numbered like one we offered, for
//! the same protocol and SPI size, with at most one transform per type, each of them offered in
//! that proposal with the same attributes, and every type we offered present, except types whose
//! "none" value we offered (and INTEG beside an AEAD cipher).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::error::{PeerIncompatible, PeerMisbehaved};
use crate::message::{
    AttributeType, DhGroup, EncrId, EsnId, IntegId, PrfId, Proposal, ProtocolId, Sa, Transform, TransformType,
};

/// Whether the built-in defaults are acceptable beside our proposals (strongSwan's `!`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Strictness {
    /// Only our proposals (strongSwan `proposal!`).
    #[default]
    Strict,
    /// Our proposals, then [`default_proposals`] for the same protocols.
    AcceptDefaults,
}

/// Chooses one of the peer's proposals as responder (RFC 7296 §2.7).
///
/// Returns the selected proposal with the **peer's** proposal number and SPI and exactly one
/// transform per selected type (in transform-type order), ready to be answered with our own SPI
/// in place of the peer's.
///
/// # Errors
/// [`PeerIncompatible::InvalidKePayload`] if a proposal matches but not with the peer's KE group
/// (or without KE when none was sent), [`PeerIncompatible::NoProposalChosen`] otherwise.
pub fn select(
    ours: &[Proposal<'_>],
    theirs: &[Proposal<'_>],
    peer_ke: Option<DhGroup>,
    strictness: Strictness,
) -> Result<Proposal<'static>, PeerIncompatible> {
    let defaults = match strictness {
        Strictness::Strict => Vec::new(),
        Strictness::AcceptDefaults => {
            let mut protocols: Vec<ProtocolId> = Vec::new();
            for p in ours.iter().chain(if ours.is_empty() { theirs } else { &[] }) {
                if !protocols.contains(&p.protocol) {
                    protocols.push(p.protocol);
                }
            }
            protocols.into_iter().flat_map(default_proposals).collect()
        }
    };
    let mut wanted_group = None;
    for o in ours.iter().chain(&defaults) {
        for t in theirs {
            let Some(m) = match_pair(o, t, peer_ke) else {
                continue;
            };
            if m.ke_ok {
                return Ok(m.proposal);
            }
            if wanted_group.is_none() {
                wanted_group = m.proposal.dh_group();
            }
        }
    }
    Err(match wanted_group {
        Some(group) => PeerIncompatible::InvalidKePayload { group },
        None => PeerIncompatible::NoProposalChosen,
    })
}

/// Checks, as initiator, the SA payload of a reply against what we offered (RFC 7296 §2.7,
/// §3.3.6) and returns the accepted proposal (the responder's SPI in it).
///
/// # Errors
/// [`PeerMisbehaved::ProposalNotOffered`] naming the first rule the reply breaks.
pub fn check_reply(offered: &[Proposal<'_>], reply: &Sa<'_>) -> Result<Proposal<'static>, PeerMisbehaved> {
    let bad = |what| PeerMisbehaved::ProposalNotOffered { what };
    let [chosen] = reply.proposals.as_slice() else {
        return Err(bad("not exactly one proposal"));
    };
    let ours = offered
        .iter()
        .find(|o| o.number == chosen.number)
        .ok_or(bad("proposal number not offered"))?;
    if ours.protocol != chosen.protocol {
        return Err(bad("protocol differs from the offer"));
    }
    if ours.spi.len() != chosen.spi.len() {
        return Err(bad("SPI size differs from the offer"));
    }
    for (i, t) in chosen.transforms.iter().enumerate() {
        let later = chosen.transforms.get(i.saturating_add(1)..).unwrap_or(&[]);
        if later.iter().any(|u| u.transform_type == t.transform_type) {
            return Err(bad("two transforms of one type"));
        }
        if !ours.transforms_of(t.transform_type).any(|o| same_transform(o, t)) {
            return Err(bad("transform not offered"));
        }
    }
    let aead = chosen.encr().is_some_and(|(id, _)| id.is_aead());
    for ty in types_of(ours) {
        if chosen.transforms_of(ty).next().is_some() {
            continue;
        }
        let none_offered = ty.zero_is_none() && ours.transforms_of(ty).any(|o| o.transform_id == 0);
        if !(none_offered || ty == TransformType::INTEG && aead) {
            return Err(bad("transform type missing"));
        }
    }
    Ok(chosen.clone().into_owned())
}

/// Our default proposals for `protocol` (used by [`Strictness::AcceptDefaults`]): algorithms this
/// stack implements and considers strong, AEAD first. Empty for protocols other than IKE and ESP.
///
/// - IKE: AES-GCM-16 (256, 128) or ChaCha20-Poly1305 with PRF HMAC-SHA2-256/384/512; then
///   AES-CBC (256, 128) with HMAC-SHA2-256-128/384-192/512-256 and the same PRFs; key exchange
///   Curve25519, ECP-256, ECP-384, MODP-3072, MODP-2048.
/// - ESP: AES-GCM-16 (256, 128) or ChaCha20-Poly1305; then AES-CBC (256, 128) with
///   HMAC-SHA2-256-128/384-192/512-256; no key exchange (no PFS); ESN or not, no ESN preferred.
#[must_use]
pub fn default_proposals(protocol: ProtocolId) -> Vec<Proposal<'static>> {
    let aead = [
        Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
        Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
        Transform::encr(EncrId::ENCR_CHACHA20_POLY1305, None),
    ];
    let cbc = [
        Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
        Transform::encr(EncrId::ENCR_AES_CBC, Some(128)),
    ];
    let integ = [
        IntegId::AUTH_HMAC_SHA2_256_128,
        IntegId::AUTH_HMAC_SHA2_384_192,
        IntegId::AUTH_HMAC_SHA2_512_256,
    ]
    .map(Transform::integ);
    let prf = [
        PrfId::PRF_HMAC_SHA2_256,
        PrfId::PRF_HMAC_SHA2_384,
        PrfId::PRF_HMAC_SHA2_512,
    ]
    .map(Transform::prf);
    let ke = [
        DhGroup::CURVE25519,
        DhGroup::ECP_256,
        DhGroup::ECP_384,
        DhGroup::MODP_3072,
        DhGroup::MODP_2048,
    ]
    .map(Transform::ke);
    let esn = [Transform::esn(EsnId::NO_ESN), Transform::esn(EsnId::ESN)];
    let proposal = |number: u8, protocol: ProtocolId, parts: &[&[Transform<'static>]]| Proposal {
        number,
        protocol,
        spi: Cow::Borrowed(&[]),
        transforms: parts.iter().flat_map(|p| p.iter().cloned()).collect(),
    };
    match protocol {
        ProtocolId::IKE => alloc::vec![
            proposal(1, protocol, &[&aead, &prf, &ke]),
            proposal(2, protocol, &[&cbc, &integ, &prf, &ke]),
        ],
        ProtocolId::ESP => {
            alloc::vec![
                proposal(1, protocol, &[&aead, &esn]),
                proposal(2, protocol, &[&cbc, &integ, &esn])
            ]
        }
        _ => Vec::new(),
    }
}

/// A matching pair: the selected proposal and whether its KE choice fits the peer's KE payload.
struct PairMatch {
    proposal: Proposal<'static>,
    ke_ok: bool,
}

fn match_pair(ours: &Proposal<'_>, theirs: &Proposal<'_>, peer_ke: Option<DhGroup>) -> Option<PairMatch> {
    if ours.protocol != theirs.protocol {
        return None;
    }
    let mut types = types_of(ours);
    for ty in types_of(theirs) {
        if !types.contains(&ty) {
            types.push(ty);
        }
    }
    types.sort_unstable();
    let mut selected: Vec<Transform<'static>> = Vec::with_capacity(types.len());
    let mut ke_ok = true;
    for ty in types {
        let ov: Vec<&Transform<'_>> = ours.transforms_of(ty).collect();
        let tv: Vec<&Transform<'_>> = theirs.transforms_of(ty).filter(|t| understood(t)).collect();
        let offers_none = |v: &[&Transform<'_>]| ty.zero_is_none() && v.iter().any(|t| t.transform_id == 0);
        let aead = selected.iter().any(|t| t.encr_id().is_some_and(EncrId::is_aead));
        if ty == TransformType::INTEG && ov.is_empty() && aead && !offers_none(&tv) {
            continue;
        }
        let choice = match (ov.is_empty(), theirs.transforms_of(ty).next().is_none()) {
            (true, true) => None,
            (true, false) => Some(offers_none(&tv).then(|| Transform::plain(ty, 0))?),
            (false, true) => {
                if !offers_none(&ov) {
                    return None;
                }
                None
            }
            (false, false) => {
                let common: Vec<&Transform<'_>> = ov
                    .iter()
                    .copied()
                    .filter(|o| tv.iter().any(|t| same_transform(o, t)))
                    .collect();
                let preferred = *common.first()?;
                if ty == TransformType::KE {
                    let (pick, ok) = pick_group(preferred, &common, peer_ke);
                    ke_ok = ok;
                    Some(pick.clone().into_owned())
                } else {
                    Some(preferred.clone().into_owned())
                }
            }
        };
        selected.extend(choice);
    }
    Some(PairMatch {
        proposal: Proposal {
            number: theirs.number,
            protocol: theirs.protocol,
            spi: Cow::Owned(theirs.spi.to_vec()),
            transforms: selected,
        },
        ke_ok,
    })
}

/// Picks the KE transform among the groups both sides list (`common`, in our order): the peer's
/// KE payload group if possible, else "none" if no KE payload was sent and "none" is common, else
/// our `preferred` one, which then does not fit the request. Returns the pick and whether it fits.
fn pick_group<'t, 'a>(
    preferred: &'t Transform<'a>,
    common: &[&'t Transform<'a>],
    peer_ke: Option<DhGroup>,
) -> (&'t Transform<'a>, bool) {
    let wanted = peer_ke.unwrap_or(DhGroup::NONE).0;
    match common.iter().find(|t| t.transform_id == wanted) {
        Some(t) => (t, true),
        // "None" fits any request; a real group other than the KE payload's does not.
        None => (preferred, preferred.transform_id == 0),
    }
}

/// Transform types present in a proposal, in order of first appearance.
fn types_of(p: &Proposal<'_>) -> Vec<TransformType> {
    let mut types = Vec::new();
    for t in &p.transforms {
        if !types.contains(&t.transform_type) {
            types.push(t.transform_type);
        }
    }
    types
}

/// Whether every attribute of `t` is one we understand (RFC 7296 §3.3.6: a transform with an
/// unknown attribute is rejected, not the whole proposal).
fn understood(t: &Transform<'_>) -> bool {
    t.attributes
        .iter()
        .all(|a| a.attribute_type() == AttributeType::KEY_LENGTH)
        && t.attributes.len() <= 1
}

/// Same transform: type, ID and Key Length equal, attributes understood.
fn same_transform(a: &Transform<'_>, b: &Transform<'_>) -> bool {
    a.transform_type == b.transform_type
        && a.transform_id == b.transform_id
        && a.key_length() == b.key_length()
        && understood(a)
        && understood(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Attribute;
    use alloc::vec;

    fn ike(number: u8, transforms: Vec<Transform<'static>>) -> Proposal<'static> {
        Proposal {
            number,
            protocol: ProtocolId::IKE,
            spi: Cow::Borrowed(&[]),
            transforms,
        }
    }

    fn esp(number: u8, spi: u32, transforms: Vec<Transform<'static>>) -> Proposal<'static> {
        Proposal {
            number,
            protocol: ProtocolId::ESP,
            spi: Cow::Owned(spi.to_be_bytes().to_vec()),
            transforms,
        }
    }

    /// strongSwan `aes256-sha256-modp1024!`.
    fn aes256_sha256_modp1024() -> Proposal<'static> {
        ike(
            1,
            vec![
                Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
                Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                Transform::ke(DhGroup::MODP_1024),
            ],
        )
    }

    fn gcm_x25519_ecp256() -> Proposal<'static> {
        ike(
            1,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                Transform::ke(DhGroup::CURVE25519),
                Transform::ke(DhGroup::ECP_256),
            ],
        )
    }

    #[test]
    fn selects_the_single_matching_proposal_with_peer_number() {
        let ours = [aes256_sha256_modp1024()];
        let mut theirs = vec![gcm_x25519_ecp256(), aes256_sha256_modp1024()];
        theirs[1].number = 2;
        let sel = select(&ours, &theirs, Some(DhGroup::MODP_1024), Strictness::Strict).unwrap();
        assert_eq!(sel.number, 2);
        let by_type = |p: &Proposal<'static>| {
            let mut t = p.transforms.clone();
            t.sort_by_key(|t| t.transform_type);
            t
        };
        assert_eq!(sel.transforms, by_type(&ours[0]));
        assert_eq!(sel.encr(), Some((EncrId::ENCR_AES_CBC, Some(256))));
    }

    #[test]
    fn our_preference_order_wins() {
        let ours = [gcm_x25519_ecp256(), aes256_sha256_modp1024()];
        let mut theirs = vec![aes256_sha256_modp1024(), gcm_x25519_ecp256()];
        theirs[1].number = 2;
        let sel = select(&ours, &theirs, Some(DhGroup::CURVE25519), Strictness::Strict).unwrap();
        assert_eq!(sel.number, 2);
        assert_eq!(sel.encr(), Some((EncrId::ENCR_AES_GCM_16, Some(256))));
        // Within a proposal, our transform order decides.
        let peer = ike(
            1,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::prf(PrfId::PRF_HMAC_SHA2_512),
                Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                Transform::ke(DhGroup::CURVE25519),
            ],
        );
        let mut mine = gcm_x25519_ecp256();
        mine.transforms
            .insert(1, Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)));
        mine.transforms
            .insert(3, Transform::prf(PrfId::PRF_HMAC_SHA2_512));
        let sel = select(&[mine], &[peer], Some(DhGroup::CURVE25519), Strictness::Strict).unwrap();
        assert_eq!(sel.encr(), Some((EncrId::ENCR_AES_GCM_16, Some(256))));
        assert_eq!(sel.prf(), Some(PrfId::PRF_HMAC_SHA2_256));
        assert_eq!(sel.transforms.len(), 3);
    }

    #[test]
    fn key_length_must_match() {
        let mut peer = aes256_sha256_modp1024();
        peer.transforms[0] = Transform::encr(EncrId::ENCR_AES_CBC, Some(128));
        assert_eq!(
            select(
                &[aes256_sha256_modp1024()],
                &[peer],
                Some(DhGroup::MODP_1024),
                Strictness::Strict
            ),
            Err(PeerIncompatible::NoProposalChosen)
        );
    }

    #[test]
    fn unknown_attributes_make_a_transform_unacceptable() {
        let mut peer = aes256_sha256_modp1024();
        peer.transforms[0].attributes.push(Attribute::Tv {
            attribute_type: AttributeType(99),
            value: 1,
        });
        assert_eq!(
            select(
                &[aes256_sha256_modp1024()],
                &[peer],
                Some(DhGroup::MODP_1024),
                Strictness::Strict
            ),
            Err(PeerIncompatible::NoProposalChosen)
        );
    }

    #[test]
    fn invalid_ke_names_our_preferred_group_among_the_peers() {
        let ours = [gcm_x25519_ecp256()];
        let mut peer = gcm_x25519_ecp256();
        peer.transforms.push(Transform::ke(DhGroup::MODP_2048));
        // The peer guessed MODP-2048, which we do not accept: our first common group is asked for.
        assert_eq!(
            select(
                &ours,
                core::slice::from_ref(&peer),
                Some(DhGroup::MODP_2048),
                Strictness::Strict
            ),
            Err(PeerIncompatible::InvalidKePayload {
                group: DhGroup::CURVE25519
            })
        );
        // The peer lists only ECP-256 of ours: that is the group to ask for.
        peer.transforms
            .retain(|t| t.dh_group() != Some(DhGroup::CURVE25519));
        assert_eq!(
            select(
                &ours,
                core::slice::from_ref(&peer),
                Some(DhGroup::MODP_2048),
                Strictness::Strict
            ),
            Err(PeerIncompatible::InvalidKePayload {
                group: DhGroup::ECP_256
            })
        );
        // A KE payload for a group both accept is taken even if we prefer another.
        let sel = select(
            &ours,
            &[gcm_x25519_ecp256()],
            Some(DhGroup::ECP_256),
            Strictness::Strict,
        )
        .unwrap();
        assert_eq!(sel.dh_group(), Some(DhGroup::ECP_256));
        // No overlap at all: NO_PROPOSAL_CHOSEN.
        let mut disjoint = gcm_x25519_ecp256();
        disjoint
            .transforms
            .retain(|t| t.transform_type != TransformType::KE);
        disjoint.transforms.push(Transform::ke(DhGroup::MODP_4096));
        assert_eq!(
            select(&ours, &[disjoint], Some(DhGroup::MODP_4096), Strictness::Strict),
            Err(PeerIncompatible::NoProposalChosen)
        );
    }

    #[test]
    fn strict_refuses_what_defaults_would_accept() {
        let ours = [aes256_sha256_modp1024()];
        let theirs = [gcm_x25519_ecp256()];
        assert_eq!(
            select(&ours, &theirs, Some(DhGroup::CURVE25519), Strictness::Strict),
            Err(PeerIncompatible::NoProposalChosen)
        );
        let sel = select(
            &ours,
            &theirs,
            Some(DhGroup::CURVE25519),
            Strictness::AcceptDefaults,
        )
        .unwrap();
        assert_eq!(sel.encr(), Some((EncrId::ENCR_AES_GCM_16, Some(256))));
        assert_eq!(sel.dh_group(), Some(DhGroup::CURVE25519));
        assert_eq!(Strictness::default(), Strictness::Strict);
        // Defaults never bring weak algorithms in.
        let weak = [ike(
            1,
            vec![
                Transform::encr(EncrId::ENCR_3DES, None),
                Transform::integ(IntegId::AUTH_HMAC_SHA1_96),
                Transform::prf(PrfId::PRF_HMAC_SHA1),
                Transform::ke(DhGroup::MODP_1024),
            ],
        )];
        assert_eq!(
            select(&ours, &weak, Some(DhGroup::MODP_1024), Strictness::AcceptDefaults),
            Err(PeerIncompatible::NoProposalChosen)
        );
        assert!(default_proposals(ProtocolId::AH).is_empty());
    }

    #[test]
    fn esp_esn_and_pfs_handling() {
        let ours = [esp(
            1,
            0x1111_1111,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
                Transform::esn(EsnId::ESN),
                Transform::esn(EsnId::NO_ESN),
            ],
        )];
        // Peer supports only no-ESN.
        let peer = esp(
            1,
            0xc0ff_ee01,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
                Transform::esn(EsnId::NO_ESN),
            ],
        );
        let sel = select(&ours, core::slice::from_ref(&peer), None, Strictness::Strict).unwrap();
        assert_eq!(sel.esn(), Some(EsnId::NO_ESN));
        assert_eq!(sel.spi_u32(), Some(0xc0ff_ee01));
        // Peer omits the ESN transform: acceptable because we list "no ESN".
        let mut bare = peer.clone();
        bare.transforms.truncate(1);
        let sel = select(&ours, core::slice::from_ref(&bare), None, Strictness::Strict).unwrap();
        assert_eq!(sel.esn(), None);
        // Without "no ESN" on our side, it is not.
        let mut esn_only = ours[0].clone();
        esn_only.transforms.retain(|t| t.esn_id() != Some(EsnId::NO_ESN));
        assert_eq!(
            select(&[esn_only], &[bare], None, Strictness::Strict),
            Err(PeerIncompatible::NoProposalChosen)
        );
        // The peer offers PFS optionally (NONE or ECP-256) without a KE payload: NONE is selected.
        let mut pfs_optional = peer.clone();
        pfs_optional.transforms.push(Transform::ke(DhGroup::NONE));
        pfs_optional.transforms.push(Transform::ke(DhGroup::ECP_256));
        let sel = select(&ours, &[pfs_optional], None, Strictness::Strict).unwrap();
        assert_eq!(sel.dh_group(), Some(DhGroup::NONE));
        // We require PFS with ECP-256, the peer sent no KE payload: INVALID_KE_PAYLOAD(ECP_256).
        let mut ours_pfs = ours[0].clone();
        ours_pfs.transforms.push(Transform::ke(DhGroup::ECP_256));
        let mut peer_pfs = peer.clone();
        peer_pfs.transforms.push(Transform::ke(DhGroup::ECP_256));
        assert_eq!(
            select(
                core::slice::from_ref(&ours_pfs),
                core::slice::from_ref(&peer_pfs),
                None,
                Strictness::Strict
            ),
            Err(PeerIncompatible::InvalidKePayload {
                group: DhGroup::ECP_256
            })
        );
        let sel = select(
            &[ours_pfs],
            &[peer_pfs],
            Some(DhGroup::ECP_256),
            Strictness::Strict,
        )
        .unwrap();
        assert_eq!(sel.dh_group(), Some(DhGroup::ECP_256));
        // PFS optional on both sides, a KE payload for a group only the peer accepts: "none" is
        // our first common choice and is selected (the KE payload goes unused), not
        // INVALID_KE_PAYLOAD naming "none".
        let mut ours_optional = ours[0].clone();
        ours_optional.transforms.push(Transform::ke(DhGroup::NONE));
        ours_optional.transforms.push(Transform::ke(DhGroup::ECP_256));
        let mut peer_optional = peer.clone();
        peer_optional.transforms.push(Transform::ke(DhGroup::NONE));
        peer_optional.transforms.push(Transform::ke(DhGroup::ECP_384));
        let sel = select(
            &[ours_optional.clone()],
            &[peer_optional.clone()],
            Some(DhGroup::ECP_384),
            Strictness::Strict,
        )
        .unwrap();
        assert_eq!(sel.dh_group(), Some(DhGroup::NONE));
        // We prefer ECP-256 over none, the peer offers both but sent ECP-384: ask for ECP-256.
        ours_optional.transforms.rotate_right(1);
        peer_optional.transforms.push(Transform::ke(DhGroup::ECP_256));
        assert_eq!(
            ours_optional.transforms.last(),
            Some(&Transform::ke(DhGroup::NONE))
        );
        assert_eq!(
            select(
                &[ours_optional],
                &[peer_optional],
                Some(DhGroup::ECP_384),
                Strictness::Strict
            ),
            Err(PeerIncompatible::InvalidKePayload {
                group: DhGroup::ECP_256
            })
        );
    }

    #[test]
    fn aead_with_integ_none_and_mixed_proposals() {
        let ours = [gcm_x25519_ecp256()];
        // Peer adds INTEG NONE to an AEAD proposal: the reply carries INTEG NONE.
        let mut peer = gcm_x25519_ecp256();
        peer.transforms.push(Transform::integ(IntegId::NONE));
        let sel = select(&ours, &[peer], Some(DhGroup::CURVE25519), Strictness::Strict).unwrap();
        assert_eq!(sel.integ(), Some(IntegId::NONE));
        // A mixed proposal (CBC and GCM, HMAC): GCM selected, INTEG dropped as strongSwan does.
        let mut mixed = gcm_x25519_ecp256();
        mixed
            .transforms
            .push(Transform::encr(EncrId::ENCR_AES_CBC, Some(256)));
        mixed
            .transforms
            .push(Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128));
        let sel = select(&ours, &[mixed], Some(DhGroup::CURVE25519), Strictness::Strict).unwrap();
        assert_eq!(sel.integ(), None);
        assert_eq!(sel.transforms.len(), 3);
    }

    #[test]
    fn protocol_must_match() {
        let ours = [esp(
            1,
            1,
            vec![Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128))],
        )];
        let mut theirs = ours[0].clone();
        theirs.protocol = ProtocolId::AH;
        assert_eq!(
            select(&ours, &[theirs], None, Strictness::Strict),
            Err(PeerIncompatible::NoProposalChosen)
        );
        assert_eq!(
            select(&ours, &[], None, Strictness::AcceptDefaults),
            Err(PeerIncompatible::NoProposalChosen)
        );
    }

    fn offer() -> Vec<Proposal<'static>> {
        let mut second = aes256_sha256_modp1024();
        second.number = 2;
        second.transforms.push(Transform::ke(DhGroup::MODP_2048));
        vec![gcm_x25519_ecp256(), second]
    }

    fn reply(p: Proposal<'static>) -> Sa<'static> {
        Sa { proposals: vec![p] }
    }

    #[test]
    fn reply_subset_is_accepted() {
        let chosen = ike(
            2,
            vec![
                Transform::encr(EncrId::ENCR_AES_CBC, Some(256)),
                Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                Transform::integ(IntegId::AUTH_HMAC_SHA2_256_128),
                Transform::ke(DhGroup::MODP_2048),
            ],
        );
        assert_eq!(check_reply(&offer(), &reply(chosen.clone())).unwrap(), chosen);
        // The output of `select` against the offer is always accepted back.
        let ours = [aes256_sha256_modp1024()];
        let sel = select(&ours, &offer(), Some(DhGroup::MODP_1024), Strictness::Strict).unwrap();
        assert_eq!(check_reply(&offer(), &reply(sel.clone())).unwrap(), sel);
    }

    #[test]
    fn reply_violations_are_refused() {
        let good = ike(
            1,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(256)),
                Transform::prf(PrfId::PRF_HMAC_SHA2_256),
                Transform::ke(DhGroup::ECP_256),
            ],
        );
        assert!(check_reply(&offer(), &reply(good.clone())).is_ok());
        let what = |sa: Sa<'static>| match check_reply(&offer(), &sa) {
            Err(PeerMisbehaved::ProposalNotOffered { what }) => what,
            Ok(p) => panic!("accepted {p:?}"),
        };
        assert_eq!(
            what(Sa {
                proposals: vec![good.clone(), good.clone()]
            }),
            "not exactly one proposal"
        );
        assert_eq!(what(Sa { proposals: vec![] }), "not exactly one proposal");
        let mut p = good.clone();
        p.number = 3;
        assert_eq!(what(reply(p)), "proposal number not offered");
        let mut p = good.clone();
        p.protocol = ProtocolId::ESP;
        assert_eq!(what(reply(p)), "protocol differs from the offer");
        let mut p = good.clone();
        p.spi = Cow::Owned(vec![0; 8]);
        assert_eq!(what(reply(p)), "SPI size differs from the offer");
        let mut p = good.clone();
        p.transforms.push(Transform::ke(DhGroup::CURVE25519));
        assert_eq!(what(reply(p)), "two transforms of one type");
        let mut p = good.clone();
        p.transforms[0] = Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128));
        assert_eq!(what(reply(p)), "transform not offered");
        let mut p = good.clone();
        p.transforms[2] = Transform::ke(DhGroup::MODP_2048); // offered in proposal 2 only
        assert_eq!(what(reply(p)), "transform not offered");
        let mut p = good;
        p.transforms.pop();
        assert_eq!(what(reply(p)), "transform type missing");
    }

    #[test]
    fn reply_may_omit_types_whose_none_we_offered() {
        let offered = [esp(
            1,
            7,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
                Transform::ke(DhGroup::NONE),
                Transform::ke(DhGroup::ECP_256),
                Transform::esn(EsnId::NO_ESN),
            ],
        )];
        let chosen = esp(
            1,
            9,
            vec![
                Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128)),
                Transform::esn(EsnId::NO_ESN),
            ],
        );
        let ok = check_reply(&offered, &reply(chosen)).unwrap();
        assert_eq!(ok.spi_u32(), Some(9));
        // ESN omitted: fine, we offered "no ESN"; but not if we offered ESN only.
        let no_esn = esp(1, 9, vec![Transform::encr(EncrId::ENCR_AES_GCM_16, Some(128))]);
        assert!(check_reply(&offered, &reply(no_esn.clone())).is_ok());
        let mut esn_only = offered[0].clone();
        esn_only.transforms[3] = Transform::esn(EsnId::ESN);
        assert!(check_reply(&[esn_only], &reply(no_esn)).is_err());
    }
}
