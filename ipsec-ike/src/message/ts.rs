//! The Traffic Selector payloads TSi and TSr (RFC 7296 §3.13, §3.13.1).
//!
//! ```text
//! Number of TSs (1) | RESERVED (3) | Traffic Selectors
//! Selector: TS Type (1) | IP Protocol ID (1) | Selector Length (2) | Start Port (2) | End Port (2)
//!           Starting Address (4 or 16) | Ending Address (4 or 16)
//! ```
//! Selector types other than IPv4/IPv6 ranges (RFC 4595 Fibre Channel, RFC 9478 security labels,
//! future ones) are kept opaque so a message carrying them still decodes and re-encodes exactly.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::cow_owned;
use super::reader::Reader;
use crate::error::{EncodeError, InvalidMessage};

code_point! {
    /// Traffic selector type (RFC 7296 §3.13.1, IANA "IKEv2 Traffic Selector Types").
    pub struct TsType(u8);
    /// An IPv4 address range.
    TS_IPV4_ADDR_RANGE = 7,
    /// An IPv6 address range.
    TS_IPV6_ADDR_RANGE = 8,
    /// RFC 4595.
    TS_FC_ADDR_RANGE = 9,
    /// RFC 9478.
    TS_SECLABEL = 10,
}

/// An address range with IP protocol and port range (RFC 7296 §3.13.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TsRange<A> {
    /// IP protocol number; 0 means any protocol.
    pub ip_protocol: u8,
    /// First port (or ICMP type/code, RFC 4301 §4.4.1.1); 0..=65535 means any port.
    pub start_port: u16,
    /// Last port.
    pub end_port: u16,
    /// First address.
    pub start: A,
    /// Last address.
    pub end: A,
}

/// One traffic selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TrafficSelector<'a> {
    /// TS_IPV4_ADDR_RANGE.
    Ipv4(TsRange<Ipv4Addr>),
    /// TS_IPV6_ADDR_RANGE.
    Ipv6(TsRange<Ipv6Addr>),
    /// Any other selector type, kept as received.
    Other {
        /// The selector type.
        ts_type: TsType,
        /// The octet after the type (the IP protocol ID for ranges, reserved for others).
        second_octet: u8,
        /// Everything after the 4-byte selector header.
        data: Cow<'a, [u8]>,
    },
}

/// Selector length of an IPv4 range.
const TS_IPV4_LEN: u16 = 16;
/// Selector length of an IPv6 range.
const TS_IPV6_LEN: u16 = 40;

impl<'a> TrafficSelector<'a> {
    /// The selector type.
    #[must_use]
    pub fn ts_type(&self) -> TsType {
        match self {
            Self::Ipv4(_) => TsType::TS_IPV4_ADDR_RANGE,
            Self::Ipv6(_) => TsType::TS_IPV6_ADDR_RANGE,
            Self::Other { ts_type, .. } => *ts_type,
        }
    }

    /// Reads one selector.
    ///
    /// # Errors
    /// [`InvalidMessage`] if the selector is cut short, its length overruns the payload, or an
    /// IPv4/IPv6 range does not have length 16/40.
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, InvalidMessage> {
        let [ts_type, second_octet, l0, l1] = *r.take_array::<4>("traffic selector")?;
        let ts_type = TsType(ts_type);
        let len = u16::from_be_bytes([l0, l1]);
        let body_len = usize::from(len).checked_sub(4).ok_or(InvalidMessage::BadLength {
            what: "selector length",
        })?;
        let mut body = r.sub(body_len, "selector length")?;
        let expected = match ts_type {
            TsType::TS_IPV4_ADDR_RANGE => TS_IPV4_LEN,
            TsType::TS_IPV6_ADDR_RANGE => TS_IPV6_LEN,
            _ => {
                return Ok(Self::Other {
                    ts_type,
                    second_octet,
                    data: Cow::Borrowed(body.take_rest()),
                });
            }
        };
        if len != expected {
            return Err(InvalidMessage::BadLength {
                what: "selector length",
            });
        }
        let start_port = body.u16("traffic selector")?;
        let end_port = body.u16("traffic selector")?;
        let ip_protocol = second_octet;
        if ts_type == TsType::TS_IPV4_ADDR_RANGE {
            let start = Ipv4Addr::from(*body.take_array::<4>("traffic selector")?);
            let end = Ipv4Addr::from(*body.take_array::<4>("traffic selector")?);
            Ok(Self::Ipv4(TsRange {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            }))
        } else {
            let start = Ipv6Addr::from(*body.take_array::<16>("traffic selector")?);
            let end = Ipv6Addr::from(*body.take_array::<16>("traffic selector")?);
            Ok(Self::Ipv6(TsRange {
                ip_protocol,
                start_port,
                end_port,
                start,
                end,
            }))
        }
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Ipv4(_) => usize::from(TS_IPV4_LEN),
            Self::Ipv6(_) => usize::from(TS_IPV6_LEN),
            Self::Other { data, .. } => data.len().saturating_add(4),
        }
    }

    /// Appends the selector.
    ///
    /// # Errors
    /// [`EncodeError`] if an opaque selector is longer than 65535 bytes or its type is one of the
    /// two range types (which must use the typed variants).
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::Ipv4(r) => {
                emit_range_head(
                    out,
                    TsType::TS_IPV4_ADDR_RANGE,
                    TS_IPV4_LEN,
                    r.ip_protocol,
                    r.start_port,
                    r.end_port,
                );
                out.extend_from_slice(&r.start.octets());
                out.extend_from_slice(&r.end.octets());
            }
            Self::Ipv6(r) => {
                emit_range_head(
                    out,
                    TsType::TS_IPV6_ADDR_RANGE,
                    TS_IPV6_LEN,
                    r.ip_protocol,
                    r.start_port,
                    r.end_port,
                );
                out.extend_from_slice(&r.start.octets());
                out.extend_from_slice(&r.end.octets());
            }
            Self::Other {
                ts_type,
                second_octet,
                data,
            } => {
                if matches!(*ts_type, TsType::TS_IPV4_ADDR_RANGE | TsType::TS_IPV6_ADDR_RANGE) {
                    return Err(EncodeError::Inconsistent {
                        what: "address range selector kept opaque",
                    });
                }
                let len = u16::try_from(data.len().saturating_add(4)).map_err(|_| EncodeError::TooLong {
                    what: "traffic selector",
                })?;
                out.extend_from_slice(&[ts_type.0, *second_octet]);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(data);
            }
        }
        Ok(())
    }

    /// Copies borrowed bytes so the selector outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> TrafficSelector<'static> {
        match self {
            Self::Ipv4(r) => TrafficSelector::Ipv4(r),
            Self::Ipv6(r) => TrafficSelector::Ipv6(r),
            Self::Other {
                ts_type,
                second_octet,
                data,
            } => TrafficSelector::Other {
                ts_type,
                second_octet,
                data: cow_owned(data),
            },
        }
    }
}

/// TSi or TSr payload body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ts<'a> {
    /// The selectors, in order.
    pub selectors: Vec<TrafficSelector<'a>>,
}

impl<'a> Ts<'a> {
    /// Decodes a TS payload body.
    ///
    /// # Errors
    /// [`InvalidMessage`] if a selector is malformed or the selectors do not fill the body exactly
    /// as many times as Number of TSs says.
    pub fn decode(body: &'a [u8]) -> Result<Self, InvalidMessage> {
        let mut r = Reader::new(body);
        let [count, _, _, _] = *r.take_array::<4>("TS payload")?;
        let mut selectors = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            selectors.push(TrafficSelector::decode(&mut r)?);
        }
        r.finish("TS payload (after the selectors)")?;
        Ok(Self { selectors })
    }

    /// Bytes [`emit`](Self::emit) appends.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.selectors
            .iter()
            .fold(4usize, |n, s| n.saturating_add(s.buffer_len()))
    }

    /// Appends the payload body.
    ///
    /// # Errors
    /// [`EncodeError`] if there are more than 255 selectors or one cannot be encoded.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let count =
            u8::try_from(self.selectors.len()).map_err(|_| EncodeError::TooLong { what: "TS count" })?;
        out.extend_from_slice(&[count, 0, 0, 0]);
        for s in &self.selectors {
            s.emit(out)?;
        }
        Ok(())
    }

    /// Copies borrowed bytes so the payload outlives the received message.
    #[must_use]
    pub fn into_owned(self) -> Ts<'static> {
        Ts {
            selectors: self
                .selectors
                .into_iter()
                .map(TrafficSelector::into_owned)
                .collect(),
        }
    }
}

fn emit_range_head(out: &mut Vec<u8>, ty: TsType, len: u16, proto: u8, start_port: u16, end_port: u16) {
    out.extend_from_slice(&[ty.0, proto]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&start_port.to_be_bytes());
    out.extend_from_slice(&end_port.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    // TSi body from the AOSP fragment 5/5 vector: 10.10.10.1, any protocol, any port.
    const TSI: [u8; 20] = [
        0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x10, 0x00, 0x00, 0xff, 0xff, 0x0a, 0x0a, 0x0a, 0x01, 0x0a,
        0x0a, 0x0a, 0x01,
    ];

    #[test]
    fn parses_a_real_ts_and_emits_identically() {
        let ts = Ts::decode(&TSI).unwrap();
        let host = Ipv4Addr::new(10, 10, 10, 1);
        let expect = TsRange {
            ip_protocol: 0,
            start_port: 0,
            end_port: 65535,
            start: host,
            end: host,
        };
        assert_eq!(ts.selectors, [TrafficSelector::Ipv4(expect)]);
        assert_eq!(ts.selectors[0].ts_type(), TsType::TS_IPV4_ADDR_RANGE);
        let mut out = Vec::new();
        ts.emit(&mut out).unwrap();
        assert_eq!(out, TSI);
        assert_eq!(ts.buffer_len(), TSI.len());
        assert_eq!(ts.clone().into_owned(), ts);
    }

    #[test]
    fn rejects_every_truncation() {
        for n in 0..TSI.len() {
            let e = Ts::decode(&TSI[..n]).unwrap_err();
            let expect = match n {
                0..4 => InvalidMessage::Truncated { what: "TS payload" },
                4..8 => InvalidMessage::Truncated {
                    what: "traffic selector",
                },
                _ => InvalidMessage::BadLength {
                    what: "selector length",
                },
            };
            assert_eq!(e, expect, "length {n}");
        }
    }

    #[test]
    fn rejects_wrong_lengths_and_counts() {
        let mut b = TSI;
        b[7] = 0x14; // IPv4 selector claiming 20 bytes
        assert_eq!(
            Ts::decode(&b),
            Err(InvalidMessage::BadLength {
                what: "selector length"
            })
        );
        let mut b = TSI;
        b[7] = 0x03; // below the selector header
        assert_eq!(
            Ts::decode(&b),
            Err(InvalidMessage::BadLength {
                what: "selector length"
            })
        );
        let mut b = TSI;
        b[0] = 2;
        assert_eq!(
            Ts::decode(&b),
            Err(InvalidMessage::Truncated {
                what: "traffic selector"
            })
        );
        let mut b = TSI;
        b[0] = 0;
        assert_eq!(
            Ts::decode(&b),
            Err(InvalidMessage::TrailingBytes {
                what: "TS payload (after the selectors)"
            })
        );
    }

    #[test]
    fn ipv6_and_opaque_selectors_round_trip() {
        let ts = Ts {
            selectors: alloc::vec![
                TrafficSelector::Ipv6(TsRange {
                    ip_protocol: 17,
                    start_port: 500,
                    end_port: 4500,
                    start: Ipv6Addr::UNSPECIFIED,
                    end: Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff),
                }),
                TrafficSelector::Other {
                    ts_type: TsType::TS_SECLABEL,
                    second_octet: 0,
                    data: Cow::Borrowed(b"system_u:object_r:ipsec_spd_t:s0"),
                },
            ],
        };
        let mut out = Vec::new();
        ts.emit(&mut out).unwrap();
        assert_eq!(out.len(), ts.buffer_len());
        assert_eq!(Ts::decode(&out).unwrap(), ts);
        let bad = TrafficSelector::Other {
            ts_type: TsType::TS_IPV4_ADDR_RANGE,
            second_octet: 0,
            data: Cow::Borrowed(&[]),
        };
        assert!(bad.emit(&mut Vec::new()).is_err());
    }
}
