//! A borrowing reader over received bytes (RFC 7296 §3: every structure is length-prefixed).
//!
//! Each read either returns a sub-slice of the input or a typed [`InvalidMessage`]; nothing indexes,
//! nothing copies. [`Reader::finish`] refuses trailing bytes, so a container whose length field
//! claims more than its contents use is rejected rather than silently accepted.

use crate::error::InvalidMessage;

/// Cursor over a byte slice that hands out borrowed pieces of it.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `buf` from its first byte.
    #[must_use]
    pub const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not read yet.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether every byte has been read.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The bytes not read yet, without consuming them.
    #[must_use]
    pub const fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] naming `what` if fewer than `n` bytes are left; the reader is
    /// then unchanged.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], InvalidMessage> {
        let (head, tail) = self
            .buf
            .split_at_checked(n)
            .ok_or(InvalidMessage::Truncated { what })?;
        self.buf = tail;
        Ok(head)
    }

    /// Takes the next `N` bytes as an array reference.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] naming `what` if fewer than `N` bytes are left.
    pub fn take_array<const N: usize>(&mut self, what: &'static str) -> Result<&'a [u8; N], InvalidMessage> {
        let (head, tail) = self
            .buf
            .split_first_chunk::<N>()
            .ok_or(InvalidMessage::Truncated { what })?;
        self.buf = tail;
        Ok(head)
    }

    /// Takes a sub-reader over the next `n` bytes, for a structure whose length field says `n`.
    ///
    /// # Errors
    /// [`InvalidMessage::BadLength`] naming `what` if the length field claims more than is left:
    /// unlike [`take`](Self::take), the structure's own length contradicts its container.
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, InvalidMessage> {
        let (head, tail) = self
            .buf
            .split_at_checked(n)
            .ok_or(InvalidMessage::BadLength { what })?;
        self.buf = tail;
        Ok(Reader::new(head))
    }

    /// Takes every byte left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if no byte is left.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, InvalidMessage> {
        let [b] = *self.take_array::<1>(what)?;
        Ok(b)
    }

    /// Reads a big-endian `u16`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if fewer than 2 bytes are left.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, InvalidMessage> {
        Ok(u16::from_be_bytes(*self.take_array::<2>(what)?))
    }

    /// Reads a big-endian `u32`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] if fewer than 4 bytes are left.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, InvalidMessage> {
        Ok(u32::from_be_bytes(*self.take_array::<4>(what)?))
    }

    /// Ends reading: every byte must have been consumed.
    ///
    /// # Errors
    /// [`InvalidMessage::TrailingBytes`] naming `what` if bytes are left.
    pub fn finish(self, what: &'static str) -> Result<(), InvalidMessage> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(InvalidMessage::TrailingBytes { what })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_order_and_refuses_trailing_bytes() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16("b").unwrap(), 0x0203);
        assert_eq!(r.u32("c").unwrap(), 0x0405_0607);
        assert_eq!(r.remaining(), 2);
        assert_eq!(
            r.finish("end"),
            Err(InvalidMessage::TrailingBytes { what: "end" })
        );
    }

    #[test]
    fn short_reads_fail_without_consuming() {
        let bytes = [1, 2, 3];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u32("x"), Err(InvalidMessage::Truncated { what: "x" }));
        assert_eq!(r.take(4, "y"), Err(InvalidMessage::Truncated { what: "y" }));
        assert_eq!(
            r.sub(4, "z").unwrap_err(),
            InvalidMessage::BadLength { what: "z" }
        );
        assert_eq!(r.remaining(), 3);
        let mut s = r.sub(2, "z").unwrap();
        assert_eq!(s.take_rest(), &[1, 2]);
        assert!(s.is_empty());
        assert_eq!(r.rest(), &[3]);
        assert_eq!(r.take_array::<1>("w").unwrap(), &[3]);
        assert!(r.finish("end").is_ok());
    }
}
