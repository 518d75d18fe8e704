//! The Notify payload and the notify message types (RFC 7296 §3.10, §3.10.1).
//!
//! ```text
//! Protocol ID (1) | SPI Size (1) | Notify Message Type (2) | SPI (SPI Size) | Notification Data
//! ```
//! The data is kept opaque; helpers build and read the few notifications whose data the IKE SA
//! machinery itself interprets.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::auth::HashAlgorithm;
use super::cow_owned;
use super::payload::PayloadType;
use super::reader::Reader;
use super::sa::ProtocolId;
use super::transform::DhGroup;
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Notify message type (RFC 7296 §3.10.1, IANA "IKEv2 Notify Message Error Types" and
    /// "IKEv2 Notify Message Status Types"). Types below 16384 are errors.
    pub struct NotifyType(u16);
    /// RFC 7296: an unknown payload had its critical bit set; data = its payload type (1 byte).
    UNSUPPORTED_CRITICAL_PAYLOAD = 1,
    /// RFC 7296: a message for an unknown IKE SA.
    INVALID_IKE_SPI = 4,
    /// RFC 7296: the major version is higher than ours.
    INVALID_MAJOR_VERSION = 5,
    /// RFC 7296: the message was malformed.
    INVALID_SYNTAX = 7,
    /// RFC 7296: a message ID outside the window.
    INVALID_MESSAGE_ID = 9,
    /// RFC 7296: an ESP/AH packet for an unknown SPI.
    INVALID_SPI = 11,
    /// RFC 7296: no proposal was acceptable.
    NO_PROPOSAL_CHOSEN = 14,
    /// RFC 7296: wrong key exchange group; data = the group wanted (2 bytes).
    INVALID_KE_PAYLOAD = 17,
    /// RFC 7296: authentication failed.
    AUTHENTICATION_FAILED = 24,
    /// RFC 7296.
    SINGLE_PAIR_REQUIRED = 34,
    /// RFC 7296.
    NO_ADDITIONAL_SAS = 35,
    /// RFC 7296.
    INTERNAL_ADDRESS_FAILURE = 36,
    /// RFC 7296.
    FAILED_CP_REQUIRED = 37,
    /// RFC 7296.
    TS_UNACCEPTABLE = 38,
    /// RFC 7296.
    INVALID_SELECTORS = 39,
    /// RFC 4555 (MOBIKE).
    UNACCEPTABLE_ADDRESSES = 40,
    /// RFC 4555 (MOBIKE).
    UNEXPECTED_NAT_DETECTED = 41,
    /// RFC 5026 (IANA spells it USE_ASSIGNED_HoA).
    USE_ASSIGNED_HOA = 42,
    /// RFC 7296.
    TEMPORARY_FAILURE = 43,
    /// RFC 7296.
    CHILD_SA_NOT_FOUND = 44,
    /// RFC 9838 (G-IKEv2).
    INVALID_GROUP_ID = 45,
    /// RFC 9838 (G-IKEv2).
    AUTHORIZATION_FAILED = 46,
    /// RFC 9370.
    STATE_NOT_FOUND = 47,
    /// RFC 9611.
    TS_MAX_QUEUE = 48,
    /// RFC 9838 (G-IKEv2).
    REGISTRATION_FAILED = 49,
    /// RFC 7296.
    INITIAL_CONTACT = 16384,
    /// RFC 7296.
    SET_WINDOW_SIZE = 16385,
    /// RFC 7296.
    ADDITIONAL_TS_POSSIBLE = 16386,
    /// RFC 7296.
    IPCOMP_SUPPORTED = 16387,
    /// RFC 7296.
    NAT_DETECTION_SOURCE_IP = 16388,
    /// RFC 7296.
    NAT_DETECTION_DESTINATION_IP = 16389,
    /// RFC 7296.
    COOKIE = 16390,
    /// RFC 7296.
    USE_TRANSPORT_MODE = 16391,
    /// RFC 7296.
    HTTP_CERT_LOOKUP_SUPPORTED = 16392,
    /// RFC 7296.
    REKEY_SA = 16393,
    /// RFC 7296.
    ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
    /// RFC 7296.
    NON_FIRST_FRAGMENTS_ALSO = 16395,
    /// RFC 4555.
    MOBIKE_SUPPORTED = 16396,
    /// RFC 4555.
    ADDITIONAL_IP4_ADDRESS = 16397,
    /// RFC 4555.
    ADDITIONAL_IP6_ADDRESS = 16398,
    /// RFC 4555.
    NO_ADDITIONAL_ADDRESSES = 16399,
    /// RFC 4555.
    UPDATE_SA_ADDRESSES = 16400,
    /// RFC 4555.
    COOKIE2 = 16401,
    /// RFC 4555.
    NO_NATS_ALLOWED = 16402,
    /// RFC 4478.
    AUTH_LIFETIME = 16403,
    /// RFC 4739.
    MULTIPLE_AUTH_SUPPORTED = 16404,
    /// RFC 4739.
    ANOTHER_AUTH_FOLLOWS = 16405,
    /// RFC 5685.
    REDIRECT_SUPPORTED = 16406,
    /// RFC 5685.
    REDIRECT = 16407,
    /// RFC 5685.
    REDIRECTED_FROM = 16408,
    /// RFC 5723.
    TICKET_LT_OPAQUE = 16409,
    /// RFC 5723.
    TICKET_REQUEST = 16410,
    /// RFC 5723.
    TICKET_ACK = 16411,
    /// RFC 5723.
    TICKET_NACK = 16412,
    /// RFC 5723.
    TICKET_OPAQUE = 16413,
    /// RFC 5739.
    LINK_ID = 16414,
    /// RFC 5840.
    USE_WESP_MODE = 16415,
    /// RFC 5857.
    ROHC_SUPPORTED = 16416,
    /// RFC 5998.
    EAP_ONLY_AUTHENTICATION = 16417,
    /// RFC 6023.
    CHILDLESS_IKEV2_SUPPORTED = 16418,
    /// RFC 6290.
    QUICK_CRASH_DETECTION = 16419,
    /// RFC 6311.
    IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420,
    /// RFC 6311.
    IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421,
    /// RFC 6311.
    IKEV2_MESSAGE_ID_SYNC = 16422,
    /// RFC 6311.
    IPSEC_REPLAY_COUNTER_SYNC = 16423,
    /// RFC 6467.
    SECURE_PASSWORD_METHODS = 16424,
    /// RFC 6631.
    PSK_PERSIST = 16425,
    /// RFC 6631.
    PSK_CONFIRM = 16426,
    /// RFC 6867.
    ERX_SUPPORTED = 16427,
    /// 3GPP TS 24.303.
    IFOM_CAPABILITY = 16428,
    /// RFC 9838 (formerly SENDER_REQUEST_ID).
    GROUP_SENDER = 16429,
    /// RFC 7383.
    IKEV2_FRAGMENTATION_SUPPORTED = 16430,
    /// RFC 7427.
    SIGNATURE_HASH_ALGORITHMS = 16431,
    /// RFC 7791.
    CLONE_IKE_SA_SUPPORTED = 16432,
    /// RFC 7791.
    CLONE_IKE_SA = 16433,
    /// RFC 8019.
    PUZZLE = 16434,
    /// RFC 8784.
    USE_PPK = 16435,
    /// RFC 8784.
    PPK_IDENTITY = 16436,
    /// RFC 8784.
    NO_PPK_AUTH = 16437,
    /// RFC 9242.
    INTERMEDIATE_EXCHANGE_SUPPORTED = 16438,
    /// RFC 8983.
    IP4_ALLOWED = 16439,
    /// RFC 8983.
    IP6_ALLOWED = 16440,
    /// RFC 9370.
    ADDITIONAL_KEY_EXCHANGE = 16441,
    /// RFC 9347.
    USE_AGGFRAG = 16442,
    /// RFC 9593.
    SUPPORTED_AUTH_METHODS = 16443,
    /// RFC 9611.
    SA_RESOURCE_INFO = 16444,
    /// RFC 9867.
    USE_PPK_INT = 16445,
    /// RFC 9867.
    PPK_IDENTITY_KEY = 16446,
    /// draft-ietf-ipsecme-ikev2-auth-announce / full transcript authentication.
    IKE_SA_INIT_FULL_TRANSCRIPT_AUTH = 16447,
}

impl NotifyType {
    /// Whether this is an error type (below 16384, RFC 7296 §3.10.1).
    #[must_use]
    pub const fn is_error(self) -> bool {
        self.0 < 16384
    }
}

/// Notify payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Notify<'a> {
    /// Protocol of the SA the notification concerns ([`ProtocolId::NONE`] without SPI).
    pub protocol: ProtocolId,
    /// SPI of that SA; empty for notifications about the IKE SA or without SA.
    pub spi: Cow<'a, [u8]>,
    /// Notification type.
    pub notify_type: NotifyType,
    /// Notification data, as sent.
    pub data: Cow<'a, [u8]>,
}

impl<'a> Notify<'a> {
    /// A notification without SPI (protocol 0) carrying `data`.
    #[must_use]
    pub fn new(notify_type: NotifyType, data: &'a [u8]) -> Self {
        Self {
            protocol: ProtocolId::NONE,
            spi: Cow::Borrowed(&[]),
            notify_type,
            data: Cow::Borrowed(data),
        }
    }

    /// A notification about an ESP or AH SA, e.g. REKEY_SA (RFC 7296 §1.3.3).
    #[must_use]
    pub fn with_spi(protocol: ProtocolId, spi: u32, notify_type: NotifyType) -> Notify<'static> {
        Notify {
            protocol,
            spi: Cow::Owned(spi.to_be_bytes().to_vec()),
            notify_type,
            data: Cow::Borrowed(&[]),
        }
    }

    /// INVALID_KE_PAYLOAD naming the group the responder wants (RFC 7296 §1.3, §3.10.1).
    #[must_use]
    pub fn invalid_ke_payload(group: DhGroup) -> Notify<'static> {
        Notify::owned(NotifyType::INVALID_KE_PAYLOAD, group.0.to_be_bytes().to_vec())
    }

    /// UNSUPPORTED_CRITICAL_PAYLOAD naming the offending payload type (RFC 7296 §2.5).
    #[must_use]
    pub fn unsupported_critical_payload(payload_type: PayloadType) -> Notify<'static> {
        Notify::owned(
            NotifyType::UNSUPPORTED_CRITICAL_PAYLOAD,
            alloc::vec![payload_type.0],
        )
    }

    /// SIGNATURE_HASH_ALGORITHMS listing the hashes we accept (RFC 7427 §4).
    #[must_use]
    pub fn signature_hash_algorithms(hashes: &[HashAlgorithm]) -> Notify<'static> {
        let data = hashes.iter().flat_map(|h| h.0.to_be_bytes()).collect();
        Notify::owned(NotifyType::SIGNATURE_HASH_ALGORITHMS, data)
    }

    /// The group of an INVALID_KE_PAYLOAD notification whose data is exactly 2 bytes.
    #[must_use]
    pub fn requested_group(&self) -> Option<DhGroup> {
        let b: [u8; 2] = self.data.as_ref().try_into().ok()?;
        (self.notify_type == NotifyType::INVALID_KE_PAYLOAD).then(|| DhGroup(u16::from_be_bytes(b)))
    }

    /// The hashes of a SIGNATURE_HASH_ALGORITHMS notification, or `None` for another type or an
    /// odd data length.
    #[must_use]
    pub fn hash_algorithms(&self) -> Option<impl Iterator<Item = HashAlgorithm> + '_> {
        let chunks = self.data.chunks_exact(2);
        let ok = self.notify_type == NotifyType::SIGNATURE_HASH_ALGORITHMS && chunks.remainder().is_empty();
        ok.then(|| {
            chunks
                .filter_map(|c| <[u8; 2]>::try_from(c).ok())
                .map(|b| HashAlgorithm(u16::from_be_bytes(b)))
        })
    }

    /// The SPI as an ESP/AH SPI, if it is 4 bytes long.
    #[must_use]
    pub fn spi_u32(&self) -> Option<u32> {
        let b: [u8; 4] = self.spi.as_ref().try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }

    /// Decodes a Notify payload body.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if the body is shorter than its 4 fixed bytes plus the SPI.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let [protocol, spi_size, t0, t1] = *r.take_array::<4>("Notify payload")?;
        let spi = r.take(usize::from(spi_size), "Notify SPI")?;
        Ok(Self {
            protocol: ProtocolId(protocol),
            spi: Cow::Borrowed(spi),
            notify_type: NotifyType(u16::from_be_bytes([t0, t1])),
            data: Cow::Borrowed(r.take_rest()),
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.spi.len().saturating_add(self.data.len()).saturating_add(4)
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] if the SPI is longer than 255 bytes.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let spi_size =
            u8::try_from(self.spi.len()).map_err(|_| EncodeError::TooLong { what: "Notify SPI" })?;
        out.extend_from_slice(&[self.protocol.0, spi_size]);
        out.extend_from_slice(&self.notify_type.0.to_be_bytes());
        out.extend_from_slice(&self.spi);
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Notify<'static> {
        Notify {
            protocol: self.protocol,
            spi: cow_owned(self.spi),
            notify_type: self.notify_type,
            data: cow_owned(self.data),
        }
    }

    fn owned(notify_type: NotifyType, data: Vec<u8>) -> Notify<'static> {
        Notify {
            protocol: ProtocolId::NONE,
            spi: Cow::Borrowed(&[]),
            notify_type,
            data: Cow::Owned(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc7634_set_window_size() {
        // The inner payload of RFC 7634 App. B, minus its generic header.
        let body = [0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00, 0x0a];
        let n = Notify::decode(&body).unwrap();
        assert_eq!(n.protocol, ProtocolId::NONE);
        assert!(n.spi.is_empty());
        assert_eq!(n.notify_type, NotifyType::SET_WINDOW_SIZE);
        assert!(!n.notify_type.is_error());
        assert_eq!(&*n.data, &[0, 0, 0, 10]);
        let mut out = Vec::new();
        n.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(n.buffer_len(), body.len());
        for len in 0..4 {
            assert_eq!(
                Notify::decode(&body[..len]),
                Err(InvalidMessage::Truncated {
                    what: "Notify payload"
                })
            );
        }
        assert_eq!(n.clone().into_owned(), n);
    }

    #[test]
    fn spi_is_length_checked() {
        let body = [0x03, 0x04, 0x40, 0x09, 0xaa, 0xbb, 0xcc];
        assert_eq!(
            Notify::decode(&body),
            Err(InvalidMessage::Truncated { what: "Notify SPI" })
        );
        let rekey = Notify::with_spi(ProtocolId::ESP, 0xaabb_ccdd, NotifyType::REKEY_SA);
        let mut out = Vec::new();
        rekey.emit(&mut out).unwrap();
        assert_eq!(out, [0x03, 0x04, 0x40, 0x09, 0xaa, 0xbb, 0xcc, 0xdd]);
        let back = Notify::decode(&out).unwrap();
        assert_eq!(back, rekey);
        assert_eq!(back.spi_u32(), Some(0xaabb_ccdd));
    }

    #[test]
    fn typed_helpers() {
        let ke = Notify::invalid_ke_payload(DhGroup::ECP_256);
        assert_eq!(&*ke.data, &[0, 19]);
        assert_eq!(ke.requested_group(), Some(DhGroup::ECP_256));
        assert!(ke.notify_type.is_error());
        let crit = Notify::unsupported_critical_payload(PayloadType(99));
        assert_eq!(&*crit.data, &[99]);
        let sha = Notify::signature_hash_algorithms(&[HashAlgorithm::SHA2_256, HashAlgorithm::SHA2_512]);
        assert_eq!(&*sha.data, &[0, 2, 0, 4]);
        let got: Vec<_> = sha.hash_algorithms().unwrap().collect();
        assert_eq!(got, [HashAlgorithm::SHA2_256, HashAlgorithm::SHA2_512]);
        assert!(
            Notify::new(NotifyType::SIGNATURE_HASH_ALGORITHMS, &[0, 2, 0])
                .hash_algorithms()
                .is_none()
        );
        assert!(ke.hash_algorithms().is_none());
        assert_eq!(sha.requested_group(), None);
        assert_eq!(
            alloc::format!("{:?}", NotifyType::IKEV2_FRAGMENTATION_SUPPORTED),
            "IKEV2_FRAGMENTATION_SUPPORTED"
        );
        assert_eq!(alloc::format!("{:?}", NotifyType(40000)), "NotifyType(40000)");
    }

    #[test]
    fn every_named_type_has_its_iana_value() {
        let expect: &[(NotifyType, u16)] = &[
            (NotifyType::COOKIE, 16390),
            (NotifyType::NAT_DETECTION_SOURCE_IP, 16388),
            (NotifyType::NAT_DETECTION_DESTINATION_IP, 16389),
            (NotifyType::IKEV2_FRAGMENTATION_SUPPORTED, 16430),
            (NotifyType::SIGNATURE_HASH_ALGORITHMS, 16431),
            (NotifyType::REKEY_SA, 16393),
            (NotifyType::USE_TRANSPORT_MODE, 16391),
            (NotifyType::INITIAL_CONTACT, 16384),
            (NotifyType::ESP_TFC_PADDING_NOT_SUPPORTED, 16394),
            (NotifyType::NON_FIRST_FRAGMENTS_ALSO, 16395),
            (NotifyType::MOBIKE_SUPPORTED, 16396),
            (NotifyType::MULTIPLE_AUTH_SUPPORTED, 16404),
            (NotifyType::CHILDLESS_IKEV2_SUPPORTED, 16418),
            (NotifyType::REDIRECT_SUPPORTED, 16406),
            (NotifyType::IKEV2_MESSAGE_ID_SYNC_SUPPORTED, 16420),
            (NotifyType::INTERMEDIATE_EXCHANGE_SUPPORTED, 16438),
            (NotifyType::ADDITIONAL_KEY_EXCHANGE, 16441),
            (NotifyType::TEMPORARY_FAILURE, 43),
            (NotifyType::CHILD_SA_NOT_FOUND, 44),
        ];
        for (t, v) in expect {
            assert_eq!(t.0, *v, "{t:?}");
        }
        // Every value from 16384 to 16447 is registered.
        for v in 16384..=16447 {
            assert!(NotifyType(v).name().is_some(), "{v}");
        }
    }
}
