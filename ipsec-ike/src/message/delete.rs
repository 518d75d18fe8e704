//! The Delete payload (RFC 7296 §3.11).
//!
//! ```text
//! Protocol ID (1) | SPI Size (1) | Num of SPIs (2) | SPIs (SPI Size * Num of SPIs)
//! ```
//! Deleting the IKE SA uses protocol 1 with SPI size 0 and no SPIs.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::cow_owned;
use super::reader::Reader;
use super::sa::ProtocolId;
use crate::error::{EncodeError, InvalidMessage};

/// Delete payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Delete<'a> {
    /// Protocol of the SAs deleted.
    pub protocol: ProtocolId,
    /// SPI size in bytes: 0 for IKE, 4 for ESP and AH.
    pub spi_size: u8,
    /// The SPIs, each `spi_size` bytes long (the inbound SPIs of the sender).
    pub spis: Vec<Cow<'a, [u8]>>,
}

impl<'a> Delete<'a> {
    /// Deletes the IKE SA the message is sent under (RFC 7296 §1.4.1).
    #[must_use]
    pub fn ike() -> Delete<'static> {
        Delete {
            protocol: ProtocolId::IKE,
            spi_size: 0,
            spis: Vec::new(),
        }
    }

    /// Deletes ESP or AH SAs by their SPIs.
    #[must_use]
    pub fn ipsec(protocol: ProtocolId, spis: &[u32]) -> Delete<'static> {
        let spis = spis
            .iter()
            .map(|s| Cow::Owned(s.to_be_bytes().to_vec()))
            .collect();
        Delete {
            protocol,
            spi_size: 4,
            spis,
        }
    }

    /// The SPIs as ESP/AH SPIs, or `None` if the SPI size is not 4.
    #[must_use]
    pub fn spis_u32(&self) -> Option<impl Iterator<Item = u32> + '_> {
        (self.spi_size == 4).then(|| {
            self.spis
                .iter()
                .filter_map(|s| <[u8; 4]>::try_from(s.as_ref()).ok())
                .map(u32::from_be_bytes)
        })
    }

    /// Decodes a Delete payload body.
    ///
    /// # Errors
    /// [`InvalidMessage`] if the fixed part is cut short or the SPIs do not fill the body exactly.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let [protocol, spi_size, n0, n1] = *r.take_array::<4>("Delete payload")?;
        let count = u16::from_be_bytes([n0, n1]);
        let mut spis = Vec::with_capacity(usize::from(count).min(r.remaining()));
        for _ in 0..count {
            spis.push(Cow::Borrowed(r.take(usize::from(spi_size), "Delete SPIs")?));
        }
        r.finish("Delete payload (after the SPIs)")?;
        Ok(Self {
            protocol: ProtocolId(protocol),
            spi_size,
            spis,
        })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.spis.iter().fold(4usize, |n, s| n.saturating_add(s.len()))
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// [`EncodeError`] if an SPI's length differs from `spi_size` or there are more than 65535.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let count = u16::try_from(self.spis.len()).map_err(|_| EncodeError::TooLong {
            what: "Delete SPI count",
        })?;
        if self.spis.iter().any(|s| s.len() != usize::from(self.spi_size)) {
            return Err(EncodeError::Inconsistent {
                what: "Delete SPI length differs from SPI size",
            });
        }
        out.extend_from_slice(&[self.protocol.0, self.spi_size]);
        out.extend_from_slice(&count.to_be_bytes());
        for s in &self.spis {
            out.extend_from_slice(s);
        }
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Delete<'static> {
        Delete {
            protocol: self.protocol,
            spi_size: self.spi_size,
            spis: self.spis.into_iter().map(cow_owned).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_esp_delete_and_emits_identically() {
        let body = [
            0x03, 0x04, 0x00, 0x02, 0xc1, 0x00, 0x00, 0x01, 0xc2, 0x00, 0x00, 0x02,
        ];
        let d = Delete::decode(&body).unwrap();
        assert_eq!((d.protocol, d.spi_size, d.spis.len()), (ProtocolId::ESP, 4, 2));
        let spis: Vec<u32> = d.spis_u32().unwrap().collect();
        assert_eq!(spis, [0xc100_0001, 0xc200_0002]);
        assert_eq!(d, Delete::ipsec(ProtocolId::ESP, &[0xc100_0001, 0xc200_0002]));
        let mut out = Vec::new();
        d.emit(&mut out).unwrap();
        assert_eq!(out, body);
        assert_eq!(d.buffer_len(), body.len());
        for n in 0..body.len() {
            let e = Delete::decode(&body[..n]).unwrap_err();
            let what = if n < 4 { "Delete payload" } else { "Delete SPIs" };
            assert_eq!(e, InvalidMessage::Truncated { what }, "length {n}");
        }
        let mut long = body.to_vec();
        long.push(0);
        assert_eq!(
            Delete::decode(&long),
            Err(InvalidMessage::TrailingBytes {
                what: "Delete payload (after the SPIs)"
            })
        );
        assert_eq!(d.clone().into_owned(), d);
    }

    #[test]
    fn ike_delete_and_inconsistent_spis() {
        let ike = Delete::ike();
        let mut out = Vec::new();
        ike.emit(&mut out).unwrap();
        assert_eq!(out, [1, 0, 0, 0]);
        assert_eq!(Delete::decode(&out).unwrap(), ike);
        assert!(ike.spis_u32().is_none());
        let bad = Delete {
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: alloc::vec![Cow::Borrowed(&[1u8][..])],
        };
        assert!(bad.emit(&mut Vec::new()).is_err());
    }
}
