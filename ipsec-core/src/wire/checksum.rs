//! The Internet checksum (RFC 1071) with incremental update (RFC 1624).

// One's-complement sums of 16/32-bit words in a u64 cannot overflow for any IP packet (< 2^32 words).
#![allow(clippy::arithmetic_side_effects)]

/// One's-complement sum accumulator for the Internet checksum.
///
/// Bytes may be added in pieces of any length; odd-length pieces are handled as if the pieces were
/// concatenated.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checksum {
    sum: u64,
    /// A dangling high byte from an odd-length piece, waiting for its partner.
    odd: Option<u8>,
}

impl Checksum {
    /// An empty sum.
    #[must_use]
    pub const fn new() -> Self {
        Checksum { sum: 0, odd: None }
    }

    /// Adds bytes, in network order.
    pub fn add_bytes(&mut self, mut bytes: &[u8]) {
        if let Some(hi) = self.odd.take() {
            match bytes.split_first() {
                Some((&lo, rest)) => {
                    self.add_u16(u16::from_be_bytes([hi, lo]));
                    bytes = rest;
                }
                None => {
                    self.odd = Some(hi);
                    return;
                }
            }
        }
        let mut chunks = bytes.chunks_exact(4);
        for c in &mut chunks {
            if let Ok(w) = <[u8; 4]>::try_from(c) {
                self.sum = self.sum.wrapping_add(u64::from(u32::from_be_bytes(w)));
            }
        }
        let mut rest = chunks.remainder();
        while let Some((pair, tail)) = rest.split_first_chunk::<2>() {
            self.add_u16(u16::from_be_bytes(*pair));
            rest = tail;
        }
        if let Some(&b) = rest.first() {
            self.odd = Some(b);
        }
    }

    /// Adds one 16-bit word.
    pub fn add_u16(&mut self, w: u16) {
        self.sum = self.sum.wrapping_add(u64::from(w));
    }

    /// The checksum: the one's complement of the folded sum.
    #[must_use]
    pub fn finish(mut self) -> u16 {
        if let Some(hi) = self.odd.take() {
            self.add_u16(u16::from_be_bytes([hi, 0]));
        }
        !fold(self.sum)
    }

    /// Updates `checksum` after a 16-bit field changed from `old` to `new` (RFC 1624 eqn. 3).
    #[must_use]
    pub fn update(checksum: u16, old: u16, new: u16) -> u16 {
        let sum = u64::from(!checksum) + u64::from(!old) + u64::from(new);
        !fold(sum)
    }
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves at most 16 significant bits.
    u16::try_from(sum).unwrap_or(0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, checksum 220d.
        let mut c = Checksum::new();
        c.add_bytes(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(c.finish(), 0x220d);
    }

    #[test]
    fn pieces_equal_whole() {
        let data: [u8; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        let mut whole = Checksum::new();
        whole.add_bytes(&data);
        for split in 0..data.len() {
            let (a, b) = data.split_at(split);
            let mut c = Checksum::new();
            c.add_bytes(a);
            c.add_bytes(&[]);
            c.add_bytes(b);
            assert_eq!(c.finish(), whole.finish(), "split at {split}");
        }
    }

    #[test]
    fn incremental_update_matches_recompute() {
        let mut data = [
            0x45u8, 0, 0, 0x54, 0x12, 0x34, 0, 0, 0x40, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let mut c = Checksum::new();
        c.add_bytes(&data);
        let before = c.finish();
        data[8] = 0x3f; // TTL 64 -> 63
        let mut c = Checksum::new();
        c.add_bytes(&data);
        assert_eq!(Checksum::update(before, 0x4001, 0x3f01), c.finish());
    }
}
