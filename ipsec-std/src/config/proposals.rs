//! IKE and ESP proposals in strongSwan's syntax (`ike=`, `esp=`), parsed into typed algorithms.
//!
//! # Syntax
//! A value is a comma-separated list of proposals; each proposal is a `-`-separated list of
//! algorithm keywords in any order, several of one type allowed (RFC 7296 §3.3: a proposal
//! offers a set of transforms per type). A trailing `!` makes the list *strict*: only these
//! proposals are acceptable (without it strongSwan, and we, also accept built-in defaults).
//!
//! ```text
//! aes256-sha2_256-modp1024!                 IKE: AES-256-CBC, HMAC-SHA2-256-128, PRF from it, MODP-1024; strict
//! aes256gcm16-prfsha256-x25519              IKE: AES-256-GCM-16, PRF-HMAC-SHA2-256, Curve25519
//! aes128-sha256-ecp256,chacha20poly1305-prfsha256-x25519   two IKE proposals
//! aes256-sha256                             ESP: AES-256-CBC, HMAC-SHA2-256-128, no PFS, no ESN
//! aes256gcm16-x25519-esn-noesn              ESP with PFS group and both ESN choices
//! ```
//!
//! # Rules (as strongSwan applies them)
//! - IKE: without a `prf…` keyword, the PRFs follow the integrity algorithms (`sha256` →
//!   `prfsha256`); an AEAD IKE proposal therefore needs an explicit PRF. A DH group is required.
//! - AEAD and classic ciphers cannot share a proposal; a classic cipher needs an integrity
//!   algorithm, an AEAD cipher takes none (RFC 5282 §8).
//! - ESP: DH groups are the PFS groups for CHILD SAs made by CREATE_CHILD_SA; `esn`/`noesn`
//!   select Extended Sequence Numbers (RFC 4303 §2.2.1), default `noesn`; no PRF.
//! - Keywords strongSwan knows but this stack does not implement (`3des`, `aes128ctr`,
//!   `modp1536`, `ecp521`, `md5`, GCM with short ICVs, …) are rejected as *unsupported*,
//!   anything else as *unknown*: never silently dropped.
//!
//! MODP-1024 and SHA-1 parse, but are [`WeakAlgorithm`]s: a connection must allow them
//! explicitly (see [`super::Connection::allow_weak`]).

use std::fmt;

/// AES key length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AesKeyLen {
    /// 128-bit key.
    Aes128,
    /// 192-bit key.
    Aes192,
    /// 256-bit key.
    Aes256,
}

impl AesKeyLen {
    /// Key length in bits (the IKEv2 Key Length attribute, RFC 7296 §3.3.5).
    #[must_use]
    pub const fn bits(self) -> u16 {
        match self {
            Self::Aes128 => 128,
            Self::Aes192 => 192,
            Self::Aes256 => 256,
        }
    }
}

/// Encryption algorithms (IKEv2 transform type 1, RFC 7296 §3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encryption {
    /// ENCR_AES_CBC (12), RFC 3602.
    AesCbc(AesKeyLen),
    /// ENCR_AES_GCM_16 (20): AES-GCM with a 16-byte ICV, RFC 4106 / RFC 5282.
    AesGcm16(AesKeyLen),
    /// ENCR_CHACHA20_POLY1305 (28), RFC 7634.
    ChaCha20Poly1305,
}

impl Encryption {
    /// True for combined-mode (AEAD) ciphers, which take no integrity algorithm.
    #[must_use]
    pub const fn is_aead(self) -> bool {
        !matches!(self, Self::AesCbc(_))
    }

    /// The IANA transform ID.
    #[must_use]
    pub const fn iana_id(self) -> u16 {
        match self {
            Self::AesCbc(_) => 12,
            Self::AesGcm16(_) => 20,
            Self::ChaCha20Poly1305 => 28,
        }
    }

    /// The Key Length attribute in bits, for ciphers that carry one.
    #[must_use]
    pub const fn key_bits(self) -> Option<u16> {
        match self {
            Self::AesCbc(k) | Self::AesGcm16(k) => Some(k.bits()),
            Self::ChaCha20Poly1305 => None,
        }
    }

    /// strongSwan's keyword for it.
    #[must_use]
    pub const fn keyword(self) -> &'static str {
        match self {
            Self::AesCbc(AesKeyLen::Aes128) => "aes128",
            Self::AesCbc(AesKeyLen::Aes192) => "aes192",
            Self::AesCbc(AesKeyLen::Aes256) => "aes256",
            Self::AesGcm16(AesKeyLen::Aes128) => "aes128gcm16",
            Self::AesGcm16(AesKeyLen::Aes192) => "aes192gcm16",
            Self::AesGcm16(AesKeyLen::Aes256) => "aes256gcm16",
            Self::ChaCha20Poly1305 => "chacha20poly1305",
        }
    }
}

/// Integrity algorithms (transform type 3, RFC 7296 §3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Integrity {
    /// AUTH_HMAC_SHA1_96 (2), RFC 2404. Weak; IKE only here.
    HmacSha1_96,
    /// AUTH_HMAC_SHA2_256_128 (12), RFC 4868.
    HmacSha256_128,
    /// AUTH_HMAC_SHA2_384_192 (13), RFC 4868.
    HmacSha384_192,
    /// AUTH_HMAC_SHA2_512_256 (14), RFC 4868.
    HmacSha512_256,
}

impl Integrity {
    /// The IANA transform ID.
    #[must_use]
    pub const fn iana_id(self) -> u16 {
        match self {
            Self::HmacSha1_96 => 2,
            Self::HmacSha256_128 => 12,
            Self::HmacSha384_192 => 13,
            Self::HmacSha512_256 => 14,
        }
    }

    /// strongSwan's keyword for it.
    #[must_use]
    pub const fn keyword(self) -> &'static str {
        match self {
            Self::HmacSha1_96 => "sha1",
            Self::HmacSha256_128 => "sha256",
            Self::HmacSha384_192 => "sha384",
            Self::HmacSha512_256 => "sha512",
        }
    }

    /// The PRF strongSwan derives from it when an IKE proposal names none.
    #[must_use]
    pub const fn matching_prf(self) -> Prf {
        match self {
            Self::HmacSha1_96 => Prf::HmacSha1,
            Self::HmacSha256_128 => Prf::HmacSha256,
            Self::HmacSha384_192 => Prf::HmacSha384,
            Self::HmacSha512_256 => Prf::HmacSha512,
        }
    }
}

/// Pseudo-random functions (transform type 2, RFC 7296 §3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prf {
    /// PRF_HMAC_SHA1 (2), RFC 2104. Weak.
    HmacSha1,
    /// PRF_HMAC_SHA2_256 (5), RFC 4868.
    HmacSha256,
    /// PRF_HMAC_SHA2_384 (6), RFC 4868.
    HmacSha384,
    /// PRF_HMAC_SHA2_512 (7), RFC 4868.
    HmacSha512,
}

impl Prf {
    /// The IANA transform ID.
    #[must_use]
    pub const fn iana_id(self) -> u16 {
        match self {
            Self::HmacSha1 => 2,
            Self::HmacSha256 => 5,
            Self::HmacSha384 => 6,
            Self::HmacSha512 => 7,
        }
    }

    /// strongSwan's keyword for it.
    #[must_use]
    pub const fn keyword(self) -> &'static str {
        match self {
            Self::HmacSha1 => "prfsha1",
            Self::HmacSha256 => "prfsha256",
            Self::HmacSha384 => "prfsha384",
            Self::HmacSha512 => "prfsha512",
        }
    }
}

/// Key exchange (Diffie-Hellman) groups (transform type 4, RFC 7296 §3.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DhGroup {
    /// Group 2, 1024-bit MODP (RFC 2409 §6.2). Weak.
    Modp1024,
    /// Group 14, 2048-bit MODP (RFC 3526 §3).
    Modp2048,
    /// Group 15, 3072-bit MODP (RFC 3526 §4).
    Modp3072,
    /// Group 16, 4096-bit MODP (RFC 3526 §5).
    Modp4096,
    /// Group 19, NIST P-256 (RFC 5903).
    Ecp256,
    /// Group 20, NIST P-384 (RFC 5903).
    Ecp384,
    /// Group 31, Curve25519 (RFC 8031).
    Curve25519,
}

impl DhGroup {
    /// The IANA group number.
    #[must_use]
    pub const fn iana_id(self) -> u16 {
        match self {
            Self::Modp1024 => 2,
            Self::Modp2048 => 14,
            Self::Modp3072 => 15,
            Self::Modp4096 => 16,
            Self::Ecp256 => 19,
            Self::Ecp384 => 20,
            Self::Curve25519 => 31,
        }
    }

    /// strongSwan's keyword for it.
    #[must_use]
    pub const fn keyword(self) -> &'static str {
        match self {
            Self::Modp1024 => "modp1024",
            Self::Modp2048 => "modp2048",
            Self::Modp3072 => "modp3072",
            Self::Modp4096 => "modp4096",
            Self::Ecp256 => "ecp256",
            Self::Ecp384 => "ecp384",
            Self::Curve25519 => "x25519",
        }
    }
}

/// Extended Sequence Numbers choice (transform type 5, RFC 7296 §3.3.2, RFC 4303 §2.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Esn {
    /// 32-bit sequence numbers (`noesn`).
    No,
    /// 64-bit extended sequence numbers (`esn`).
    Yes,
}

impl Esn {
    /// strongSwan's keyword for it.
    #[must_use]
    pub const fn keyword(self) -> &'static str {
        match self {
            Self::No => "noesn",
            Self::Yes => "esn",
        }
    }
}

/// Algorithms that parse but are off unless a connection allows them (STYLE §4 rule 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WeakAlgorithm {
    /// MODP-1024 (group 2): about 80-bit security, within reach of well-funded attackers.
    Modp1024,
    /// HMAC-SHA-1 as integrity or PRF.
    Sha1,
}

impl WeakAlgorithm {
    /// The name used in configs (`allow_weak = ["modp1024"]`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Modp1024 => "modp1024",
            Self::Sha1 => "sha1",
        }
    }

    /// Parses [`Self::name`].
    #[must_use]
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "modp1024" => Some(Self::Modp1024),
            "sha1" => Some(Self::Sha1),
            _ => None,
        }
    }
}

impl fmt::Display for WeakAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One IKE SA proposal (RFC 7296 §3.3): every listed transform of each type is offered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IkeProposal {
    /// Ciphers, in preference order (all AEAD or all classic).
    pub encryption: Vec<Encryption>,
    /// Integrity algorithms (empty with AEAD ciphers).
    pub integrity: Vec<Integrity>,
    /// PRFs (never empty).
    pub prf: Vec<Prf>,
    /// Key exchange groups (never empty).
    pub dh: Vec<DhGroup>,
}

/// One ESP proposal for CHILD SAs (RFC 7296 §3.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EspProposal {
    /// Ciphers, in preference order (all AEAD or all classic).
    pub encryption: Vec<Encryption>,
    /// Integrity algorithms (empty with AEAD ciphers).
    pub integrity: Vec<Integrity>,
    /// PFS groups for CREATE_CHILD_SA (empty: no PFS).
    pub dh: Vec<DhGroup>,
    /// ESN choices (never empty; default `[Esn::No]`).
    pub esn: Vec<Esn>,
}

/// Proposals for one protocol plus strongSwan's strict flag (`!`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProposalList<P> {
    /// The proposals, most preferred first.
    pub proposals: Vec<P>,
    /// `!`: only these are acceptable; otherwise the built-in defaults are acceptable too.
    pub strict: bool,
}

/// Why a proposal string was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalError {
    /// A keyword nobody knows.
    UnknownAlgorithm(String),
    /// A keyword strongSwan knows but this stack does not implement.
    Unsupported {
        /// The keyword.
        keyword: String,
        /// Which algorithm that is, or why it is refused here.
        what: &'static str,
    },
    /// The keyword exists but does not belong in this kind of proposal (`esn` in `ike=`).
    WrongProtocol {
        /// The keyword.
        keyword: String,
        /// `"IKE"` or `"ESP"`.
        protocol: &'static str,
    },
    /// The proposal as a whole breaks a rule (see the module docs).
    Invalid {
        /// The proposal.
        proposal: String,
        /// The rule.
        reason: &'static str,
    },
    /// Empty value, empty proposal or empty keyword, or `!` not at the end.
    Syntax(&'static str),
}

impl fmt::Display for ProposalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownAlgorithm(k) => write!(f, "unknown algorithm `{k}`"),
            Self::Unsupported { keyword, what } => write!(f, "`{keyword}` ({what}) is not supported"),
            Self::WrongProtocol { keyword, protocol } => {
                write!(f, "`{keyword}` does not belong in an {protocol} proposal")
            }
            Self::Invalid { proposal, reason } => write!(f, "proposal `{proposal}`: {reason}"),
            Self::Syntax(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for ProposalError {}

/// One parsed keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Encr(Encryption),
    Integ(Integrity),
    Prf(Prf),
    Dh(DhGroup),
    Esn(Esn),
}

fn keyword(k: &str) -> Result<Token, ProposalError> {
    use AesKeyLen::{Aes128, Aes192, Aes256};
    let unsupported = |what| {
        Err(ProposalError::Unsupported {
            keyword: k.to_owned(),
            what,
        })
    };
    Ok(match k {
        "aes" | "aes128" => Token::Encr(Encryption::AesCbc(Aes128)),
        "aes192" => Token::Encr(Encryption::AesCbc(Aes192)),
        "aes256" => Token::Encr(Encryption::AesCbc(Aes256)),
        "aes128gcm16" | "aes128gcm128" => Token::Encr(Encryption::AesGcm16(Aes128)),
        "aes192gcm16" | "aes192gcm128" => Token::Encr(Encryption::AesGcm16(Aes192)),
        "aes256gcm16" | "aes256gcm128" => Token::Encr(Encryption::AesGcm16(Aes256)),
        "chacha20poly1305" => Token::Encr(Encryption::ChaCha20Poly1305),
        "sha" | "sha1" => Token::Integ(Integrity::HmacSha1_96),
        "sha256" | "sha2_256" => Token::Integ(Integrity::HmacSha256_128),
        "sha384" | "sha2_384" => Token::Integ(Integrity::HmacSha384_192),
        "sha512" | "sha2_512" => Token::Integ(Integrity::HmacSha512_256),
        "prfsha1" => Token::Prf(Prf::HmacSha1),
        "prfsha256" => Token::Prf(Prf::HmacSha256),
        "prfsha384" => Token::Prf(Prf::HmacSha384),
        "prfsha512" => Token::Prf(Prf::HmacSha512),
        "modp1024" => Token::Dh(DhGroup::Modp1024),
        "modp2048" => Token::Dh(DhGroup::Modp2048),
        "modp3072" => Token::Dh(DhGroup::Modp3072),
        "modp4096" => Token::Dh(DhGroup::Modp4096),
        "ecp256" => Token::Dh(DhGroup::Ecp256),
        "ecp384" => Token::Dh(DhGroup::Ecp384),
        "x25519" | "curve25519" => Token::Dh(DhGroup::Curve25519),
        "esn" => Token::Esn(Esn::Yes),
        "noesn" => Token::Esn(Esn::No),
        // Known to strongSwan, not implemented here.
        "aes128gcm8" | "aes128gcm64" | "aes128gcm12" | "aes128gcm96" | "aes192gcm8" | "aes192gcm64"
        | "aes192gcm12" | "aes192gcm96" | "aes256gcm8" | "aes256gcm64" | "aes256gcm12" | "aes256gcm96" => {
            return unsupported("AES-GCM with an 8- or 12-byte ICV");
        }
        "3des" | "des" | "cast128" | "blowfish" | "blowfish128" | "blowfish192" | "blowfish256" | "null" => {
            return unsupported("legacy or null cipher");
        }
        _ if k.starts_with("aes") && (k.contains("ctr") || k.contains("ccm") || k.contains("gmac")) => {
            return unsupported("AES-CTR, AES-CCM or AES-GMAC");
        }
        _ if k.starts_with("camellia") || k.starts_with("twofish") || k.starts_with("serpent") => {
            return unsupported("cipher");
        }
        "md5" | "md5_128" | "sha1_160" | "sha256_96" | "sha2_256_96" | "aesxcbc" | "aescmac"
        | "aes128gmac" | "aes192gmac" | "aes256gmac" => return unsupported("integrity algorithm"),
        "prfmd5" | "prfaesxcbc" | "prfaescmac" => return unsupported("PRF"),
        "modp768" | "modp1536" | "modp6144" | "modp8192" | "modp1024s160" | "modp2048s224"
        | "modp2048s256" | "ecp192" | "ecp224" | "ecp521" | "ecp224bp" | "ecp256bp" | "ecp384bp"
        | "ecp512bp" | "x448" | "curve448" => {
            return unsupported("key exchange group");
        }
        "" => {
            return Err(ProposalError::Syntax(
                "empty algorithm keyword (`--` or a leading/trailing `-`)",
            ));
        }
        _ => return Err(ProposalError::UnknownAlgorithm(k.to_owned())),
    })
}

/// Splits off the strict flag and the comma-separated proposals.
fn split_list(value: &str) -> Result<(Vec<&str>, bool), ProposalError> {
    let value = value.trim();
    let (body, strict) = match value.strip_suffix('!') {
        Some(b) => (b.trim_end(), true),
        None => (value, false),
    };
    if body.contains('!') {
        return Err(ProposalError::Syntax(
            "`!` (strict) is only allowed at the very end",
        ));
    }
    if body.is_empty() {
        return Err(ProposalError::Syntax("no proposal given"));
    }
    let parts: Vec<&str> = body.split(',').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ProposalError::Syntax("empty proposal between commas"));
    }
    Ok((parts, strict))
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, t: T) {
    if !v.contains(&t) {
        v.push(t);
    }
}

/// Collected tokens of one proposal, checked for the rules shared by IKE and ESP.
#[derive(Default)]
struct Parts {
    encryption: Vec<Encryption>,
    integrity: Vec<Integrity>,
    prf: Vec<Prf>,
    dh: Vec<DhGroup>,
    esn: Vec<Esn>,
}

fn collect(proposal: &str, protocol: &'static str) -> Result<Parts, ProposalError> {
    let mut p = Parts::default();
    for k in proposal.split('-') {
        let k = k.trim();
        match keyword(&k.to_ascii_lowercase())? {
            Token::Encr(e) => push_unique(&mut p.encryption, e),
            Token::Integ(i) => push_unique(&mut p.integrity, i),
            Token::Prf(f) if protocol == "IKE" => push_unique(&mut p.prf, f),
            Token::Esn(e) if protocol == "ESP" => push_unique(&mut p.esn, e),
            Token::Dh(d) => push_unique(&mut p.dh, d),
            Token::Prf(_) | Token::Esn(_) => {
                return Err(ProposalError::WrongProtocol {
                    keyword: k.to_owned(),
                    protocol,
                });
            }
        }
    }
    let invalid = |reason| {
        Err(ProposalError::Invalid {
            proposal: proposal.to_owned(),
            reason,
        })
    };
    if p.encryption.is_empty() {
        return invalid("no encryption algorithm");
    }
    let aead = p.encryption.iter().filter(|e| e.is_aead()).count();
    if aead != 0 && aead != p.encryption.len() {
        return invalid("AEAD and classic ciphers cannot share a proposal");
    }
    if aead != 0 && !p.integrity.is_empty() {
        return invalid("an AEAD cipher takes no integrity algorithm (RFC 5282 §8)");
    }
    if aead == 0 && p.integrity.is_empty() {
        return invalid("a classic cipher needs an integrity algorithm");
    }
    Ok(p)
}

/// Parses an `ike=` value.
///
/// # Errors
/// [`ProposalError`] for the first thing wrong (see the module docs).
pub fn parse_ike_proposals(value: &str) -> Result<ProposalList<IkeProposal>, ProposalError> {
    let (parts, strict) = split_list(value)?;
    let mut proposals = Vec::with_capacity(parts.len());
    for part in parts {
        let mut p = collect(part, "IKE")?;
        if p.prf.is_empty() {
            p.prf = p.integrity.iter().map(|i| i.matching_prf()).collect();
            p.prf.dedup();
        }
        if p.prf.is_empty() {
            return Err(ProposalError::Invalid {
                proposal: part.to_owned(),
                reason: "an AEAD IKE proposal needs a PRF (e.g. prfsha256)",
            });
        }
        if p.dh.is_empty() {
            return Err(ProposalError::Invalid {
                proposal: part.to_owned(),
                reason: "an IKE proposal needs a key exchange group (e.g. x25519, modp2048)",
            });
        }
        proposals.push(IkeProposal {
            encryption: p.encryption,
            integrity: p.integrity,
            prf: p.prf,
            dh: p.dh,
        });
    }
    Ok(ProposalList { proposals, strict })
}

/// Parses an `esp=` value.
///
/// # Errors
/// [`ProposalError`] for the first thing wrong (see the module docs); SHA-1 is not offered
/// for ESP because the data plane does not implement it.
pub fn parse_esp_proposals(value: &str) -> Result<ProposalList<EspProposal>, ProposalError> {
    let (parts, strict) = split_list(value)?;
    let mut proposals = Vec::with_capacity(parts.len());
    for part in parts {
        let mut p = collect(part, "ESP")?;
        if p.integrity.contains(&Integrity::HmacSha1_96) {
            return Err(ProposalError::Unsupported {
                keyword: "sha1".to_owned(),
                what: "HMAC-SHA1-96 for ESP: the data plane implements HMAC-SHA2 only",
            });
        }
        if p.esn.is_empty() {
            p.esn.push(Esn::No);
        }
        proposals.push(EspProposal {
            encryption: p.encryption,
            integrity: p.integrity,
            dh: p.dh,
            esn: p.esn,
        });
    }
    Ok(ProposalList { proposals, strict })
}

/// strongSwan's documented default `ike=` (without `!`): `aes128-sha256-modp3072`.
#[must_use]
pub fn default_ike() -> ProposalList<IkeProposal> {
    ProposalList {
        proposals: vec![IkeProposal {
            encryption: vec![Encryption::AesCbc(AesKeyLen::Aes128)],
            integrity: vec![Integrity::HmacSha256_128],
            prf: vec![Prf::HmacSha256],
            dh: vec![DhGroup::Modp3072],
        }],
        strict: false,
    }
}

/// strongSwan's documented default `esp=` (without `!`): `aes128-sha256`.
#[must_use]
pub fn default_esp() -> ProposalList<EspProposal> {
    ProposalList {
        proposals: vec![EspProposal {
            encryption: vec![Encryption::AesCbc(AesKeyLen::Aes128)],
            integrity: vec![Integrity::HmacSha256_128],
            dh: Vec::new(),
            esn: vec![Esn::No],
        }],
        strict: false,
    }
}

impl IkeProposal {
    /// The weak algorithms this proposal offers.
    #[must_use]
    pub fn weak(&self) -> Vec<WeakAlgorithm> {
        let mut w = Vec::new();
        if self.dh.contains(&DhGroup::Modp1024) {
            w.push(WeakAlgorithm::Modp1024);
        }
        if self.integrity.contains(&Integrity::HmacSha1_96) || self.prf.contains(&Prf::HmacSha1) {
            w.push(WeakAlgorithm::Sha1);
        }
        w
    }
}

impl EspProposal {
    /// The weak algorithms this proposal offers.
    #[must_use]
    pub fn weak(&self) -> Vec<WeakAlgorithm> {
        if self.dh.contains(&DhGroup::Modp1024) {
            vec![WeakAlgorithm::Modp1024]
        } else {
            Vec::new()
        }
    }
}

fn join<'a>(f: &mut fmt::Formatter<'_>, words: impl Iterator<Item = &'a str>) -> fmt::Result {
    for (i, w) in words.enumerate() {
        if i > 0 {
            f.write_str("-")?;
        }
        f.write_str(w)?;
    }
    Ok(())
}

/// The canonical strongSwan form: every transform explicit (`aes256-sha256-prfsha256-modp1024`).
impl fmt::Display for IkeProposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        join(
            f,
            self.encryption
                .iter()
                .map(|e| e.keyword())
                .chain(self.integrity.iter().map(|i| i.keyword()))
                .chain(self.prf.iter().map(|p| p.keyword()))
                .chain(self.dh.iter().map(|d| d.keyword())),
        )
    }
}

/// The canonical strongSwan form (`aes256-sha256-noesn`).
impl fmt::Display for EspProposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        join(
            f,
            self.encryption
                .iter()
                .map(|e| e.keyword())
                .chain(self.integrity.iter().map(|i| i.keyword()))
                .chain(self.dh.iter().map(|d| d.keyword()))
                .chain(self.esn.iter().map(|e| e.keyword())),
        )
    }
}

/// The value as strongSwan would take it back: proposals joined by `,`, `!` if strict.
impl<P: fmt::Display> fmt::Display for ProposalList<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.proposals.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{p}")?;
        }
        if self.strict {
            f.write_str("!")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::AesKeyLen::*;
    use super::*;

    fn ike(enc: &[Encryption], integ: &[Integrity], prf: &[Prf], dh: &[DhGroup]) -> IkeProposal {
        IkeProposal {
            encryption: enc.to_vec(),
            integrity: integ.to_vec(),
            prf: prf.to_vec(),
            dh: dh.to_vec(),
        }
    }

    fn esp(enc: &[Encryption], integ: &[Integrity], dh: &[DhGroup], esn: &[Esn]) -> EspProposal {
        EspProposal {
            encryption: enc.to_vec(),
            integrity: integ.to_vec(),
            dh: dh.to_vec(),
            esn: esn.to_vec(),
        }
    }

    #[test]
    fn ike_proposal_table() {
        use DhGroup::*;
        use Encryption::*;
        use Integrity::*;
        let table: Vec<(&str, Vec<IkeProposal>, bool)> = vec![
            (
                "aes256-sha2_256-modp1024!",
                vec![ike(
                    &[AesCbc(Aes256)],
                    &[HmacSha256_128],
                    &[Prf::HmacSha256],
                    &[Modp1024],
                )],
                true,
            ),
            (
                "aes256gcm16-prfsha256-x25519",
                vec![ike(&[AesGcm16(Aes256)], &[], &[Prf::HmacSha256], &[Curve25519])],
                false,
            ),
            (
                "aes128-sha256-ecp256",
                vec![ike(
                    &[AesCbc(Aes128)],
                    &[HmacSha256_128],
                    &[Prf::HmacSha256],
                    &[Ecp256],
                )],
                false,
            ),
            (
                "chacha20poly1305-prfsha512-curve25519-ecp384",
                vec![ike(
                    &[ChaCha20Poly1305],
                    &[],
                    &[Prf::HmacSha512],
                    &[Curve25519, Ecp384],
                )],
                false,
            ),
            (
                "aes128-aes256-sha1-sha384-modp3072-modp2048",
                vec![ike(
                    &[AesCbc(Aes128), AesCbc(Aes256)],
                    &[HmacSha1_96, HmacSha384_192],
                    &[Prf::HmacSha1, Prf::HmacSha384],
                    &[Modp3072, Modp2048],
                )],
                false,
            ),
            (
                " AES256-SHA512-prfsha256-modp4096 , aes128gcm128-prfsha384-ecp256 ! ",
                vec![
                    ike(
                        &[AesCbc(Aes256)],
                        &[HmacSha512_256],
                        &[Prf::HmacSha256],
                        &[Modp4096],
                    ),
                    ike(&[AesGcm16(Aes128)], &[], &[Prf::HmacSha384], &[Ecp256]),
                ],
                true,
            ),
            (
                "aes-sha-modp2048",
                vec![ike(
                    &[AesCbc(Aes128)],
                    &[HmacSha1_96],
                    &[Prf::HmacSha1],
                    &[Modp2048],
                )],
                false,
            ),
        ];
        for (text, proposals, strict) in table {
            let got = parse_ike_proposals(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, ProposalList { proposals, strict }, "{text}");
            // The canonical form parses back to the same thing.
            assert_eq!(
                parse_ike_proposals(&got.to_string()).unwrap(),
                got,
                "{text} -> {got}"
            );
        }
    }

    #[test]
    fn esp_proposal_table() {
        use DhGroup::*;
        use Encryption::*;
        use Integrity::*;
        let table: Vec<(&str, Vec<EspProposal>, bool)> = vec![
            (
                "aes256-sha2_256!",
                vec![esp(&[AesCbc(Aes256)], &[HmacSha256_128], &[], &[Esn::No])],
                true,
            ),
            (
                "aes256-sha256",
                vec![esp(&[AesCbc(Aes256)], &[HmacSha256_128], &[], &[Esn::No])],
                false,
            ),
            (
                "chacha20poly1305",
                vec![esp(&[ChaCha20Poly1305], &[], &[], &[Esn::No])],
                false,
            ),
            (
                "aes256gcm16-esn",
                vec![esp(&[AesGcm16(Aes256)], &[], &[], &[Esn::Yes])],
                false,
            ),
            (
                "aes128gcm16-x25519-noesn-esn",
                vec![esp(&[AesGcm16(Aes128)], &[], &[Curve25519], &[Esn::No, Esn::Yes])],
                false,
            ),
            (
                "aes128-sha256-modp2048,aes256gcm16",
                vec![
                    esp(&[AesCbc(Aes128)], &[HmacSha256_128], &[Modp2048], &[Esn::No]),
                    esp(&[AesGcm16(Aes256)], &[], &[], &[Esn::No]),
                ],
                false,
            ),
        ];
        for (text, proposals, strict) in table {
            let got = parse_esp_proposals(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, ProposalList { proposals, strict }, "{text}");
            assert_eq!(
                parse_esp_proposals(&got.to_string()).unwrap(),
                got,
                "{text} -> {got}"
            );
        }
    }

    #[test]
    fn rejections_say_why() {
        let ike_cases: &[(&str, &str)] = &[
            ("aes256-sha256", "needs a key exchange group"),
            ("aes256gcm16-x25519", "needs a PRF"),
            ("aes256-x25519", "needs an integrity algorithm"),
            (
                "aes256gcm16-sha256-prfsha256-x25519",
                "AEAD cipher takes no integrity",
            ),
            ("aes256-aes256gcm16-sha256-x25519", "cannot share a proposal"),
            ("sha256-modp2048", "no encryption algorithm"),
            ("aes256-sha256-modp2048-esn", "does not belong in an IKE proposal"),
            (
                "3des-sha1-modp1024",
                "`3des` (legacy or null cipher) is not supported",
            ),
            ("aes256ctr-sha256-modp2048", "not supported"),
            ("aes256gcm12-prfsha256-x25519", "8- or 12-byte ICV"),
            ("aes256-sha256-modp1536", "key exchange group"),
            ("aes256-md5-modp2048", "integrity algorithm"),
            ("aes256-sha256-prfaesxcbc-modp2048", "PRF"),
            ("aes256-sha256-ecp521", "not supported"),
            ("aes256-sha257-modp2048", "unknown algorithm `sha257`"),
            ("aes256--sha256-modp2048", "empty algorithm keyword"),
            ("aes256-sha256-modp2048,", "empty proposal"),
            (
                "aes256-sha256-modp2048!,aes128-sha256-modp2048",
                "only allowed at the very end",
            ),
            ("", "no proposal given"),
            ("!", "no proposal given"),
        ];
        for (text, want) in ike_cases {
            let e = parse_ike_proposals(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: got `{e}`, want `{want}`");
        }
        let esp_cases: &[(&str, &str)] = &[
            ("aes256-sha1", "HMAC-SHA2 only"),
            ("aes256-prfsha256-sha256", "does not belong in an ESP proposal"),
            ("aes256", "needs an integrity algorithm"),
            ("aes256gcm16-sha256", "AEAD cipher takes no integrity"),
            ("aes128gmac", "not supported"),
        ];
        for (text, want) in esp_cases {
            let e = parse_esp_proposals(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: got `{e}`, want `{want}`");
        }
    }

    #[test]
    fn weak_algorithms_are_flagged() {
        let p = parse_ike_proposals("aes256-sha2_256-modp1024!").unwrap();
        assert_eq!(p.proposals[0].weak(), [WeakAlgorithm::Modp1024]);
        let p = parse_ike_proposals("aes128-sha1-modp2048").unwrap();
        assert_eq!(p.proposals[0].weak(), [WeakAlgorithm::Sha1]);
        let p = parse_ike_proposals("aes256gcm16-prfsha256-x25519").unwrap();
        assert!(p.proposals[0].weak().is_empty());
        let p = parse_esp_proposals("aes256gcm16-modp1024").unwrap();
        assert_eq!(p.proposals[0].weak(), [WeakAlgorithm::Modp1024]);
        assert!(default_ike().proposals[0].weak().is_empty());
        assert_eq!(
            WeakAlgorithm::from_name("modp1024"),
            Some(WeakAlgorithm::Modp1024)
        );
        assert_eq!(WeakAlgorithm::from_name("md5"), None);
    }

    #[test]
    fn iana_numbers() {
        assert_eq!(Encryption::AesCbc(Aes256).iana_id(), 12);
        assert_eq!(Encryption::AesGcm16(Aes128).iana_id(), 20);
        assert_eq!(Encryption::AesGcm16(Aes192).key_bits(), Some(192));
        assert_eq!(Encryption::ChaCha20Poly1305.iana_id(), 28);
        assert_eq!(Encryption::ChaCha20Poly1305.key_bits(), None);
        assert_eq!(Integrity::HmacSha256_128.iana_id(), 12);
        assert_eq!(Integrity::HmacSha1_96.iana_id(), 2);
        assert_eq!(Prf::HmacSha256.iana_id(), 5);
        assert_eq!(DhGroup::Modp1024.iana_id(), 2);
        assert_eq!(DhGroup::Curve25519.iana_id(), 31);
        assert_eq!(DhGroup::Ecp256.iana_id(), 19);
    }

    #[test]
    fn defaults_are_strongswans_documented_ones() {
        assert_eq!(default_ike().to_string(), "aes128-sha256-prfsha256-modp3072");
        assert_eq!(default_esp().to_string(), "aes128-sha256-noesn");
        assert!(!default_ike().strict && !default_esp().strict);
    }
}
