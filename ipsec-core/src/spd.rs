//! Security Policy Database (RFC 4301 §4.4.1): ordered policies deciding PROTECT, BYPASS or DISCARD.
//!
//! # Contract
//! - Policies are kept in order of their `priority` (lower first); policies of equal priority keep
//!   the order they were inserted in. A lookup returns the **first** policy that matches, as RFC 4301
//!   §4.4.1 requires of an ordered SPD. A lookup is a linear scan over at most `N` entries that only
//!   compares integers; nothing allocates and nothing is parsed again.
//! - Every policy is reached through a [`PolicyId`], generational like [`SaId`]: once a policy is
//!   removed its id is refused ([`SpdError::UnknownPolicy`]) and never reaches a policy that later
//!   takes its slot (until the slot's 16-bit generation wraps, after 65,536 reuses of that slot).
//! - **Outbound** ([`Spd::lookup_outbound`]): a PROTECT policy with an SA gives
//!   [`Decision::Protect`]; one without an SA yet gives [`Decision::Acquire`], whose `first` is true
//!   only once until an SA is attached ([`Spd::set_sa`]) or the acquire is cleared
//!   ([`Spd::clear_acquire`], e.g. after IKE failed), so the driver starts IKE once and drops (or
//!   queues) the packets that follow. No matching policy gives [`Decision::NoPolicy`], which the
//!   caller must treat as DISCARD (RFC 4301 §5: traffic no policy matches is discarded) but may count
//!   apart from explicit DISCARD policies.
//! - **Inbound plaintext** ([`Spd::check_inbound_plain`]): traffic that arrived without IPsec passes
//!   only under a BYPASS policy; under PROTECT it is [`PolicyViolation::UnprotectedTraffic`], under
//!   DISCARD [`PolicyViolation::Discarded`], and with no policy [`PolicyViolation::NoPolicy`]
//!   (RFC 4301 §5.2 step 3).
//! - Traffic that arrived protected is checked against the SA's own selectors by the SAD
//!   ([`crate::selector::SelectorSet::matches_any`]); a miss is [`PolicyViolation::OutsideSaSelectors`]
//!   (RFC 4301 §5.2 step 4).
//! - Every method that takes a caller's id or policy either succeeds or returns an error with the
//!   SPD unchanged.

use core::fmt;

use crate::sa::{Direction, SaId};
use crate::selector::{PacketSelector, SelectorError, TrafficSelector};

/// Which traffic a policy applies to (RFC 4301 §4.4.1: SPD-O and SPD-I entries for BYPASS/DISCARD,
/// SPD-S entries for PROTECT, which cover both directions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyDirection {
    /// Packets leaving the protected side ([`Spd::lookup_outbound`]).
    Outbound,
    /// Packets arriving towards the protected side ([`Spd::check_inbound_plain`]).
    Inbound,
    /// Both; the selector's local side is this node's side in either direction.
    Both,
}

impl PolicyDirection {
    /// True if a policy with this direction applies to packets travelling in `dir`.
    #[inline]
    #[must_use]
    pub const fn covers(self, dir: Direction) -> bool {
        matches!(
            (self, dir),
            (PolicyDirection::Both, _)
                | (PolicyDirection::Outbound, Direction::Outbound)
                | (PolicyDirection::Inbound, Direction::Inbound)
        )
    }
}

/// What to do with matching traffic (RFC 4301 §4.4.1 "processing info").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Protect it with IPsec. `sa` is the outbound SA once IKE installed it; `None` until then (the
    /// lookup then asks for one with [`Decision::Acquire`]).
    Protect {
        /// The outbound SA carrying this policy's traffic, once there is one.
        sa: Option<SaId>,
    },
    /// Let it pass without IPsec.
    Bypass,
    /// Drop it.
    Discard,
}

/// One SPD entry (RFC 4301 §4.4.1.2), reduced to one selector set and one action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    /// The traffic the policy covers.
    pub selector: TrafficSelector,
    /// Which way the traffic travels.
    pub direction: PolicyDirection,
    /// What to do with it.
    pub action: Action,
}

/// A handle to a policy in an [`Spd`].
///
/// Generational: once the policy is removed its id never reaches the policy that later takes its
/// slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyId {
    index: u16,
    generation: u16,
}

impl PolicyId {
    /// Builds an id from its parts; for tests and for users keeping ids in their own tables.
    #[must_use]
    pub const fn from_parts(index: u16, generation: u16) -> Self {
        PolicyId { index, generation }
    }
    /// Slot index in the SPD.
    #[must_use]
    pub const fn index(self) -> u16 {
        self.index
    }
    /// Generation of the slot when the policy was inserted.
    #[must_use]
    pub const fn generation(self) -> u16 {
        self.generation
    }
}

impl fmt::Display for PolicyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy {}.{}", self.index, self.generation)
    }
}

/// The outbound decision for one packet (RFC 4301 §5.1).
///
/// Deliberately not `#[non_exhaustive]`: a driver should match every decision explicitly, so a new
/// variant is a compile error rather than a silent fall-through.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Protect the packet with this SA.
    Protect {
        /// The policy that matched.
        policy: PolicyId,
        /// Its outbound SA.
        sa: SaId,
    },
    /// The policy says PROTECT but has no SA yet: the packet cannot be sent now (drop or queue it).
    Acquire {
        /// The policy that matched.
        policy: PolicyId,
        /// True only the first time since the policy last had an SA (or its acquire was cleared):
        /// the driver starts IKE (`Endpoint::connect`) when it is true and only then.
        first: bool,
    },
    /// Send the packet unprotected.
    Bypass,
    /// Drop the packet: a DISCARD policy matched.
    Discard,
    /// No policy matched. RFC 4301 §5 says such traffic is discarded; the caller must drop it, and
    /// may count it apart from [`Decision::Discard`].
    NoPolicy,
}

/// Why a packet was refused by policy (RFC 4301 §5.2).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyViolation {
    /// Plaintext traffic arrived unprotected although the matching policy says PROTECT.
    UnprotectedTraffic {
        /// The PROTECT policy it matched.
        policy: PolicyId,
    },
    /// A DISCARD policy matched.
    Discarded {
        /// The DISCARD policy it matched.
        policy: PolicyId,
    },
    /// No inbound policy matched (RFC 4301 §5: discard).
    NoPolicy,
    /// A packet decapsulated from an SA lies outside that SA's traffic selectors (RFC 4301 §5.2 step
    /// 4; IKEv2 may answer with INVALID_SELECTORS, RFC 7296 §3.10.1).
    OutsideSaSelectors,
}

impl fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyViolation::UnprotectedTraffic { policy } => {
                write!(f, "unprotected traffic matches PROTECT {policy}")
            }
            PolicyViolation::Discarded { policy } => write!(f, "traffic matches DISCARD {policy}"),
            PolicyViolation::NoPolicy => f.write_str("no policy matches"),
            PolicyViolation::OutsideSaSelectors => f.write_str("packet outside the SA's traffic selectors"),
        }
    }
}

impl core::error::Error for PolicyViolation {}

/// Why an SPD operation was refused; the SPD is unchanged.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpdError {
    /// The SPD already holds `N` policies.
    Full,
    /// The id names no policy: never issued, or its policy was removed.
    UnknownPolicy,
    /// An SA was attached to a policy whose action is not PROTECT.
    NotProtect,
    /// The policy's selector is invalid (mixed address families).
    InvalidSelector(SelectorError),
}

impl fmt::Display for SpdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpdError::Full => f.write_str("SPD full"),
            SpdError::UnknownPolicy => f.write_str("unknown or removed policy"),
            SpdError::NotProtect => f.write_str("policy action is not PROTECT"),
            SpdError::InvalidSelector(e) => write!(f, "invalid selector: {e}"),
        }
    }
}

impl core::error::Error for SpdError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            SpdError::InvalidSelector(e) => Some(e),
            _ => None,
        }
    }
}

/// An ordered Security Policy Database of at most `N` policies (`N <= 65536`), allocation-free.
///
/// See the [module docs](self) for the contract.
///
/// ```
/// use core::net::{IpAddr, Ipv4Addr};
/// use ipsec_core::selector::{AddrRange, PacketSelector, TrafficSelector};
/// use ipsec_core::spd::{Action, Decision, Policy, PolicyDirection, Spd};
///
/// let net = |a, b, c, d, len| AddrRange::from_prefix(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), len).unwrap();
/// let mut spd = Spd::<8>::new();
/// let tunnel = spd
///     .insert(10, Policy {
///         selector: TrafficSelector::new(net(10, 1, 0, 0, 16), net(10, 2, 0, 0, 16)),
///         direction: PolicyDirection::Both,
///         action: Action::Protect { sa: None },
///     })
///     .unwrap();
///
/// // An ICMP echo request from 10.1.0.5 to 10.2.0.9 (addresses at bytes 12..20).
/// let mut packet = [0u8; 28];
/// packet[..4].copy_from_slice(&[0x45, 0, 0, 28]);
/// packet[9] = 1;
/// packet[12..20].copy_from_slice(&[10, 1, 0, 5, 10, 2, 0, 9]);
/// packet[20] = 8;
/// let p = PacketSelector::outbound(&packet).unwrap();
/// assert_eq!(spd.lookup_outbound(&p), Decision::Acquire { policy: tunnel, first: true });
/// assert_eq!(spd.lookup_outbound(&p), Decision::Acquire { policy: tunnel, first: false });
/// ```
#[derive(Clone)]
pub struct Spd<const N: usize> {
    /// Live policies in lookup order, `entries[..len]`.
    entries: [Entry; N],
    len: usize,
    /// Per slot: the generation the next policy placed there gets (the current one while in use).
    generations: [u16; N],
    /// Per slot: whether a live policy holds it.
    used: [bool; N],
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    id: PolicyId,
    priority: u32,
    policy: Policy,
    /// An `Acquire { first: true }` was returned and no SA has been attached since.
    acquiring: bool,
}

impl Entry {
    const EMPTY: Entry = Entry {
        id: PolicyId::from_parts(0, 0),
        priority: 0,
        policy: Policy {
            selector: TrafficSelector::any_v4(),
            direction: PolicyDirection::Both,
            action: Action::Discard,
        },
        acquiring: false,
    };
}

impl<const N: usize> Spd<N> {
    /// Slot indexes are `u16`.
    const CAPACITY_FITS: () = assert!(N <= 1 << 16, "Spd capacity N must be at most 65536");

    /// An empty SPD.
    #[must_use]
    pub const fn new() -> Self {
        let () = Self::CAPACITY_FITS;
        Spd {
            entries: [Entry::EMPTY; N],
            len: 0,
            generations: [0; N],
            used: [false; N],
        }
    }

    /// Most policies this SPD holds.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Number of policies.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True if there is no policy.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts a policy after every policy of lower or equal `priority` and before those of higher.
    ///
    /// # Errors
    /// [`SpdError::Full`] if `N` policies are present; [`SpdError::InvalidSelector`] if the selector
    /// mixes address families. The SPD is then unchanged.
    pub fn insert(&mut self, priority: u32, policy: Policy) -> Result<PolicyId, SpdError> {
        policy.selector.validate().map_err(SpdError::InvalidSelector)?;
        if self.len >= N {
            return Err(SpdError::Full);
        }
        let slot = self.used.iter().position(|u| !u).ok_or(SpdError::Full)?;
        let index = u16::try_from(slot).map_err(|_| SpdError::Full)?;
        let generation = *self.generations.get(slot).ok_or(SpdError::Full)?;
        let id = PolicyId { index, generation };
        let pos = self
            .live()
            .iter()
            .position(|e| e.priority > priority)
            .unwrap_or(self.len);
        let end = self.len.saturating_add(1);
        let window = self.entries.get_mut(pos..end).ok_or(SpdError::Full)?;
        window.rotate_right(1);
        if let Some(first) = window.first_mut() {
            *first = Entry {
                id,
                priority,
                policy,
                acquiring: false,
            };
        }
        if let Some(u) = self.used.get_mut(slot) {
            *u = true;
        }
        self.len = end;
        Ok(id)
    }

    /// Removes a policy and returns it.
    ///
    /// # Errors
    /// [`SpdError::UnknownPolicy`] for a stale or foreign id.
    pub fn remove(&mut self, id: PolicyId) -> Result<Policy, SpdError> {
        let pos = self.position(id)?;
        let window = self
            .entries
            .get_mut(pos..self.len)
            .ok_or(SpdError::UnknownPolicy)?;
        let removed = window.first().map(|e| e.policy).ok_or(SpdError::UnknownPolicy)?;
        window.rotate_left(1);
        self.len = self.len.saturating_sub(1);
        let slot = usize::from(id.index);
        if let Some(u) = self.used.get_mut(slot) {
            *u = false;
        }
        if let Some(g) = self.generations.get_mut(slot) {
            *g = g.wrapping_add(1);
        }
        Ok(removed)
    }

    /// Removes every policy; ids issued before stay refused.
    pub fn clear(&mut self) {
        for slot in 0..N {
            if self.used.get(slot).copied().unwrap_or(false) {
                if let Some(g) = self.generations.get_mut(slot) {
                    *g = g.wrapping_add(1);
                }
            }
        }
        self.used = [false; N];
        self.len = 0;
    }

    /// The policy named by `id`, if it is still present.
    #[must_use]
    pub fn get(&self, id: PolicyId) -> Option<&Policy> {
        self.live().iter().find(|e| e.id == id).map(|e| &e.policy)
    }

    /// The priority `id` was inserted with, if it is still present.
    #[must_use]
    pub fn priority(&self, id: PolicyId) -> Option<u32> {
        self.live().iter().find(|e| e.id == id).map(|e| e.priority)
    }

    /// The policies in lookup order, with their ids and priorities.
    pub fn iter(&self) -> impl Iterator<Item = (PolicyId, u32, &Policy)> + '_ {
        self.live().iter().map(|e| (e.id, e.priority, &e.policy))
    }

    /// Attaches the outbound SA of a PROTECT policy (`Some`, once IKE installed it) or detaches it
    /// (`None`, once the SA is gone). Either way a pending acquire is cleared, so the next packet
    /// without an SA gives `Acquire { first: true }` again.
    ///
    /// # Errors
    /// [`SpdError::UnknownPolicy`] for a stale id, [`SpdError::NotProtect`] if the policy's action is
    /// BYPASS or DISCARD.
    pub fn set_sa(&mut self, id: PolicyId, sa: Option<SaId>) -> Result<(), SpdError> {
        let pos = self.position(id)?;
        let entry = self.entries.get_mut(pos).ok_or(SpdError::UnknownPolicy)?;
        match &mut entry.policy.action {
            Action::Protect { sa: current } => {
                *current = sa;
                entry.acquiring = false;
                Ok(())
            }
            Action::Bypass | Action::Discard => Err(SpdError::NotProtect),
        }
    }

    /// Detaches `sa` from every PROTECT policy that uses it (the SA was deleted or expired) and
    /// clears their pending acquires; returns how many policies changed.
    pub fn detach_sa(&mut self, sa: SaId) -> usize {
        let mut changed = 0usize;
        for e in self.live_mut() {
            if e.policy.action == (Action::Protect { sa: Some(sa) }) {
                e.policy.action = Action::Protect { sa: None };
                e.acquiring = false;
                changed = changed.saturating_add(1);
            }
        }
        changed
    }

    /// Forgets that an acquire was reported for `id`, so the next matching packet gives
    /// `Acquire { first: true }` again (call it when the IKE negotiation started for it failed or
    /// timed out). Harmless if no acquire is pending.
    ///
    /// # Errors
    /// [`SpdError::UnknownPolicy`] for a stale id.
    pub fn clear_acquire(&mut self, id: PolicyId) -> Result<(), SpdError> {
        let pos = self.position(id)?;
        let entry = self.entries.get_mut(pos).ok_or(SpdError::UnknownPolicy)?;
        entry.acquiring = false;
        Ok(())
    }

    /// True if an acquire was reported for `id` and no SA attached since.
    #[must_use]
    pub fn acquire_pending(&self, id: PolicyId) -> bool {
        self.live().iter().any(|e| e.id == id && e.acquiring)
    }

    /// The decision for a packet leaving the protected side (RFC 4301 §5.1): the first policy
    /// covering outbound traffic whose selector matches, read as outbound whatever
    /// `p.direction` says. Build `p` with [`PacketSelector::outbound`].
    ///
    /// Takes `&mut self` only to record that an acquire was reported.
    pub fn lookup_outbound(&mut self, p: &PacketSelector) -> Decision {
        for e in self.live_mut() {
            if !e.policy.direction.covers(Direction::Outbound)
                || !e.policy.selector.matches_as(p, Direction::Outbound)
            {
                continue;
            }
            return match e.policy.action {
                Action::Protect { sa: Some(sa) } => Decision::Protect { policy: e.id, sa },
                Action::Protect { sa: None } => {
                    let first = !e.acquiring;
                    e.acquiring = true;
                    Decision::Acquire { policy: e.id, first }
                }
                Action::Bypass => Decision::Bypass,
                Action::Discard => Decision::Discard,
            };
        }
        Decision::NoPolicy
    }

    /// The first policy covering inbound traffic that matches `p`, read as inbound, without
    /// applying its action.
    #[must_use]
    pub fn lookup_inbound(&self, p: &PacketSelector) -> Option<(PolicyId, &Policy)> {
        self.live()
            .iter()
            .find(|e| {
                e.policy.direction.covers(Direction::Inbound)
                    && e.policy.selector.matches_as(p, Direction::Inbound)
            })
            .map(|e| (e.id, &e.policy))
    }

    /// Checks plaintext traffic that arrived without IPsec (RFC 4301 §5.2 step 3): it passes only if
    /// the first matching inbound policy is BYPASS. Build `p` with [`PacketSelector::inbound`]; it is
    /// read as inbound whatever `p.direction` says.
    ///
    /// # Errors
    /// [`PolicyViolation::UnprotectedTraffic`] under a PROTECT policy, [`PolicyViolation::Discarded`]
    /// under a DISCARD policy, [`PolicyViolation::NoPolicy`] if no policy matches.
    pub fn check_inbound_plain(&self, p: &PacketSelector) -> Result<PolicyId, PolicyViolation> {
        match self.lookup_inbound(p) {
            Some((
                policy,
                Policy {
                    action: Action::Bypass,
                    ..
                },
            )) => Ok(policy),
            Some((
                policy,
                Policy {
                    action: Action::Protect { .. },
                    ..
                },
            )) => Err(PolicyViolation::UnprotectedTraffic { policy }),
            Some((
                policy,
                Policy {
                    action: Action::Discard,
                    ..
                },
            )) => Err(PolicyViolation::Discarded { policy }),
            None => Err(PolicyViolation::NoPolicy),
        }
    }

    fn live(&self) -> &[Entry] {
        self.entries.get(..self.len).unwrap_or(&[])
    }

    fn live_mut(&mut self) -> &mut [Entry] {
        self.entries.get_mut(..self.len).unwrap_or(&mut [])
    }

    fn position(&self, id: PolicyId) -> Result<usize, SpdError> {
        self.live()
            .iter()
            .position(|e| e.id == id)
            .ok_or(SpdError::UnknownPolicy)
    }
}

impl<const N: usize> Default for Spd<N> {
    fn default() -> Self {
        Spd::new()
    }
}

impl<const N: usize> fmt::Debug for Spd<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.live()).finish()
    }
}

// Test packets are built with plain length arithmetic on small, known sizes.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests;
