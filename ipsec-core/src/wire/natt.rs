//! Classification of datagrams on UDP port 4500 (RFC 3948 §2).

use super::{ESP_HEADER_LEN, Error};

/// The four zero bytes that precede an IKE message on port 4500 (RFC 3948 §2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// What a datagram received on port 4500 carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NattDatagram<'a> {
    /// An IKE message; the slice starts after the non-ESP marker.
    Ike(&'a [u8]),
    /// A NAT keepalive (a single 0xFF byte, RFC 3948 §2.3).
    Keepalive,
    /// An ESP packet, starting with its SPI.
    Esp(&'a [u8]),
}

/// Classifies the payload of a UDP datagram received on port 4500.
///
/// # Errors
/// [`Error::Truncated`] for a datagram that is none of the three: shorter than an ESP header and not
/// a keepalive, or a non-ESP marker with nothing after it.
pub fn classify_4500(payload: &[u8]) -> Result<NattDatagram<'_>, Error> {
    if payload == [0xff] {
        return Ok(NattDatagram::Keepalive);
    }
    match payload.split_first_chunk::<4>() {
        Some((marker, ike)) if *marker == NON_ESP_MARKER => {
            if ike.is_empty() {
                Err(Error::Truncated {
                    what: "IKE message after non-ESP marker",
                })
            } else {
                Ok(NattDatagram::Ike(ike))
            }
        }
        _ if payload.len() < ESP_HEADER_LEN => Err(Error::Truncated {
            what: "ESP-in-UDP packet",
        }),
        _ => Ok(NattDatagram::Esp(payload)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_kind() {
        assert_eq!(classify_4500(&[0xff]), Ok(NattDatagram::Keepalive));
        assert_eq!(classify_4500(&[0, 0, 0, 0, 1, 2]), Ok(NattDatagram::Ike(&[1, 2])));
        let esp = [0, 0, 0, 1, 0, 0, 0, 1, 9];
        assert_eq!(classify_4500(&esp), Ok(NattDatagram::Esp(&esp)));
        assert!(classify_4500(&[]).is_err());
        assert!(classify_4500(&[0xff, 0xff]).is_err());
        assert!(classify_4500(&[0, 0, 0, 0]).is_err());
        assert!(classify_4500(&[1, 2, 3, 4, 5, 6, 7]).is_err());
    }
}
