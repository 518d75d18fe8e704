//! An opt-in key log that Wireshark/tshark can decrypt captures with.
//!
//! Each installed SA becomes one line in the format of Wireshark's ESP SA table (the `esp_sa`
//! UAT file in the Wireshark profile, or `tshark -o 'uat:esp_sa:<line>'`):
//!
//! ```text
//! "IPv4","192.0.2.201","192.0.2.202","0x c1a2b3c4","AES-CBC [RFC3602]","0x<key>","HMAC-SHA-256-128 [RFC4868]","0x<key>"
//! ```
//! (without the space in the SPI). AEAD algorithms put their key with the 4-byte salt in the
//! encryption key field and `"NULL"` as authentication. ChaCha20-Poly1305 has no entry in
//! Wireshark's table: those SAs are written as a `#` comment line so the file stays loadable.
//!
//! Each IKE SA (and each rekeyed one) becomes one line of Wireshark's IKEv2 decryption table
//! (`ikev2_decryption_table`, or `tshark -o 'uat:ikev2_decryption_table:<line>'`): SPIs and keys
//! as bare hex, algorithm names quoted:
//!
//! ```text
//! 0123456789abcdef,fedcba9876543210,<SK_ei>,<SK_er>,"AES-CBC-256 [RFC3602]",<SK_ai>,<SK_ar>,"HMAC_SHA2_256_128 [RFC4868]"
//! ```
//! Lines starting with `"IPv4"`/`"IPv6"` belong to the ESP table, the others to the IKEv2 table.
//!
//! The file holds secret keys: it is created with mode 0600, is only written when the user asks
//! for it (`--keylog <file>`), and nothing else in the stack ever logs key bytes.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use ipsec_core::Spi;
use ipsec_core::sa::SecurityProtocol;
use ipsec_core::transform::{AesKeyLen, EspAlgorithm, Integrity, KeyMaterial};
use ipsec_ike::IkeSaKeyLog;
use ipsec_ike::message::{EncrId, IntegId};

/// An open key log file (appended to).
#[derive(Debug)]
pub struct KeyLog {
    file: File,
}

impl KeyLog {
    /// Opens (creates with mode 0600, or appends to) the key log at `path`.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(Self { file })
    }

    /// Appends the line for one SA (`src` → `dst` is the direction the SA protects).
    ///
    /// # Errors
    /// Writing failed.
    pub fn log_sa(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        spi: Spi,
        protocol: SecurityProtocol,
        keys: &KeyMaterial,
    ) -> io::Result<()> {
        let line = esp_sa_line(src, dst, spi, protocol, keys.as_bytes());
        self.file.write_all(line.as_bytes())?;
        self.file.flush()
    }
}

impl KeyLog {
    /// Appends the `ikev2_decryption_table` line for one IKE SA.
    ///
    /// # Errors
    /// Writing failed.
    pub fn log_ike(&mut self, keys: &IkeSaKeyLog) -> io::Result<()> {
        self.file.write_all(ikev2_line(keys).as_bytes())?;
        self.file.flush()
    }
}

/// The `ikev2_decryption_table` line (with its newline) for one IKE SA.
#[must_use]
pub fn ikev2_line(k: &IkeSaKeyLog) -> String {
    let head = format!("{},{}", hex(&k.spi_i), hex(&k.spi_r));
    let encr = match k.encr {
        (EncrId::ENCR_AES_CBC, Some(128)) => "AES-CBC-128 [RFC3602]",
        (EncrId::ENCR_AES_CBC, Some(192)) => "AES-CBC-192 [RFC3602]",
        (EncrId::ENCR_AES_CBC, Some(256)) => "AES-CBC-256 [RFC3602]",
        (EncrId::ENCR_AES_GCM_16, Some(128)) => "AES-GCM-128 with 16 octet ICV [RFC5282]",
        (EncrId::ENCR_AES_GCM_16, Some(192)) => "AES-GCM-192 with 16 octet ICV [RFC5282]",
        (EncrId::ENCR_AES_GCM_16, Some(256)) => "AES-GCM-256 with 16 octet ICV [RFC5282]",
        (id, _) => return format!("# IKE SA {head}: {id:?} is not decryptable by Wireshark\n"),
    };
    let integ = match k.integ {
        None => "NONE [RFC4306]",
        Some(IntegId::AUTH_HMAC_SHA2_256_128) => "HMAC_SHA2_256_128 [RFC4868]",
        Some(IntegId::AUTH_HMAC_SHA2_384_192) => "HMAC_SHA2_384_192 [RFC4868]",
        Some(IntegId::AUTH_HMAC_SHA2_512_256) => "HMAC_SHA2_512_256 [RFC4868]",
        Some(IntegId::AUTH_HMAC_SHA1_96) => "HMAC_SHA1_96 [RFC2404]",
        Some(id) => return format!("# IKE SA {head}: {id:?} is not known to Wireshark\n"),
    };
    format!(
        "{head},{},{},\"{encr}\",{},{},\"{integ}\"\n",
        hex(k.sk_ei.as_bytes()),
        hex(k.sk_er.as_bytes()),
        hex(k.sk_ai.as_bytes()),
        hex(k.sk_ar.as_bytes())
    )
}

/// The `esp_sa` line (with its newline) for one SA.
#[must_use]
pub fn esp_sa_line(src: IpAddr, dst: IpAddr, spi: Spi, protocol: SecurityProtocol, keys: &[u8]) -> String {
    let family = if src.is_ipv6() { "IPv6" } else { "IPv4" };
    let head = format!("\"{family}\",\"{src}\",\"{dst}\",\"0x{:08x}\"", spi.0);
    let SecurityProtocol::Esp(alg) = protocol else {
        return format!("# AH SA {head}: not in Wireshark's ESP table\n");
    };
    let (encr, auth, split) = match alg {
        EspAlgorithm::AesGcm16(_) => ("AES-GCM with 16 octet ICV [RFC4106]", None, keys.len()),
        EspAlgorithm::AesCbc(k, i) => ("AES-CBC [RFC3602]", Some(integrity_name(i)), aes_bytes(k)),
        EspAlgorithm::Null(i) => ("NULL", Some(integrity_name(i)), 0),
        _ => return format!("# {alg:?} SA {head}: not decryptable by Wireshark\n"),
    };
    let (ek, ak) = keys.split_at_checked(split).unwrap_or((keys, &[]));
    let mut line = format!("{head},\"{encr}\",\"0x{}\",", hex(ek));
    match auth {
        Some(name) => {
            let _ = write!(line, "\"{name}\",\"0x{}\"", hex(ak));
        }
        None => line.push_str("\"NULL\",\"\""),
    }
    line.push('\n');
    line
}

fn integrity_name(i: Integrity) -> &'static str {
    match i {
        Integrity::HmacSha256_128 => "HMAC-SHA-256-128 [RFC4868]",
        Integrity::HmacSha384_192 => "HMAC-SHA-384-192 [RFC4868]",
        Integrity::HmacSha512_256 => "HMAC-SHA-512-256 [RFC4868]",
        _ => "NULL",
    }
}

fn aes_bytes(k: AesKeyLen) -> usize {
    k.bytes()
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbc_line_splits_encryption_and_integrity_keys() {
        let keys: Vec<u8> = (0..64).collect();
        let line = esp_sa_line(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            Spi(0xc1a2_b3c4),
            SecurityProtocol::Esp(EspAlgorithm::AesCbc(AesKeyLen::Aes256, Integrity::HmacSha256_128)),
            &keys,
        );
        let expected = format!(
            "\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0xc1a2b3c4\",\"AES-CBC [RFC3602]\",\"0x{}\",\"HMAC-SHA-256-128 [RFC4868]\",\"0x{}\"\n",
            hex(&keys[..32]),
            hex(&keys[32..])
        );
        assert_eq!(line, expected);
    }

    #[test]
    fn gcm_line_keeps_the_salt_and_has_no_integrity_key() {
        let keys = [0xabu8; 36];
        let line = esp_sa_line(
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
            Spi(1),
            SecurityProtocol::Esp(EspAlgorithm::AesGcm16(AesKeyLen::Aes256)),
            &keys,
        );
        assert!(line.starts_with("\"IPv6\",\"2001:db8::1\",\"2001:db8::2\",\"0x00000001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x"));
        assert!(line.ends_with(",\"NULL\",\"\"\n"));
        assert_eq!(line.matches("ab").count(), 36);
    }

    #[test]
    fn chacha_is_a_comment() {
        let line = esp_sa_line(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            Spi(7),
            SecurityProtocol::Esp(EspAlgorithm::ChaCha20Poly1305),
            &[0; 36],
        );
        assert!(line.starts_with('#') && !line.contains("0x000000000"), "{line}");
    }
}
