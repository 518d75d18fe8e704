//! A throw-away CA and end-entity certificates made with strongSwan's `pki`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::LabError;
use super::netns::run;

/// Key type of a lab PKI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA P-256.
    Ecdsa,
    /// RSA 2048.
    Rsa,
}

impl KeyType {
    fn args(self) -> [&'static str; 4] {
        match self {
            Self::Ecdsa => ["--type", "ecdsa", "--size", "256"],
            Self::Rsa => ["--type", "rsa", "--size", "2048"],
        }
    }
}

/// Files of one identity: `<dir>/<id>.key` (PEM private key) and `<dir>/<id>.crt` (PEM cert).
#[derive(Clone, Debug)]
pub struct Issued {
    /// The private key (SEC1 / PKCS#1 PEM as `pki` writes it).
    pub key: PathBuf,
    /// The certificate, subject `CN=<id>` with `<id>` as subjectAltName.
    pub cert: PathBuf,
}

/// A CA in `dir` (`ca.key`, `ca.crt`) and one certificate per identity.
#[derive(Clone, Debug)]
pub struct LabPki {
    /// The CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// The issued identities, in the order asked for.
    pub issued: Vec<(String, Issued)>,
}

fn pki(conf: &Path, args: &[&str], out: &Path) -> Result<(), LabError> {
    let bytes = run(Command::new("pki").env("STRONGSWAN_CONF", conf).args(args))?;
    std::fs::write(out, bytes).map_err(|e| LabError::io(out, e))
}

/// Creates the CA and certificates for `ids` (FQDNs), valid for 30 days.
pub fn make(dir: &Path, key_type: KeyType, ids: &[&str]) -> Result<LabPki, LabError> {
    std::fs::create_dir_all(dir).map_err(|e| LabError::io(dir, e))?;
    let conf = dir.join("pki.conf");
    std::fs::write(
        &conf,
        "pki {\n  load = random openssl pem pkcs1 pkcs8 x509 gmp sha1 sha2\n}\n",
    )
    .map_err(|e| LabError::io(&conf, e))?;
    let p = |name: &str| dir.join(name);
    let s = |path: &Path| path.display().to_string();
    let kt = key_type.args();
    pki(
        &conf,
        &[&["--gen"], &kt[..], &["--outform", "pem"]].concat(),
        &p("ca.key"),
    )?;
    pki(
        &conf,
        &[
            &[
                "--self",
                "--ca",
                "--lifetime",
                "30",
                "--in",
                &s(&p("ca.key")),
                kt[0],
                kt[1],
            ][..],
            &[
                "--dn",
                "C=XX, O=ipsec-rs interop lab, CN=Lab CA",
                "--outform",
                "pem",
            ],
        ]
        .concat(),
        &p("ca.crt"),
    )?;
    let mut issued = Vec::new();
    for id in ids {
        let key = p(&format!("{id}.key"));
        let public = p(&format!("{id}.pub"));
        let cert = p(&format!("{id}.crt"));
        pki(
            &conf,
            &[&["--gen"], &kt[..], &["--outform", "pem"]].concat(),
            &key,
        )?;
        pki(
            &conf,
            &["--pub", "--in", &s(&key), kt[0], kt[1], "--outform", "pem"],
            &public,
        )?;
        let dn = format!("C=XX, O=ipsec-rs interop lab, CN={id}");
        pki(
            &conf,
            &[
                "--issue",
                "--lifetime",
                "30",
                "--in",
                &s(&public),
                "--type",
                "pub",
                "--cacert",
                &s(&p("ca.crt")),
                "--cakey",
                &s(&p("ca.key")),
                "--dn",
                &dn,
                "--san",
                id,
                "--flag",
                "serverAuth",
                "--flag",
                "clientAuth",
                "--outform",
                "pem",
            ],
            &cert,
        )?;
        issued.push(((*id).to_owned(), Issued { key, cert }));
    }
    Ok(LabPki {
        ca_cert: p("ca.crt"),
        issued,
    })
}
