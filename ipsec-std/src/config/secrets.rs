//! Import of strongSwan's `ipsec.secrets` (ipsec.secrets(5)).
//!
//! One entry per line: optional identity selectors, a `:` surrounded by white space (or
//! starting the line), then the secret:
//!
//! ```text
//! 192.0.2.10 198.51.100.20 : PSK "a long random secret"
//! @a.example @b.example    : PSK 0x5e8f0a...          # hex
//! : RSA gw-a.key.pem
//! : ECDSA /etc/ipsec.d/private/gw-a.pem "passphrase"
//! ```
//!
//! Selectors are identities ([`super::Identity`], `%any` included). PSKs are double-quoted
//! strings or `0x` hex; private keys are RSA or ECDSA files, relative ones under
//! `ipsec.d/private/` beside the secrets file (`/etc/ipsec.secrets` →
//! `/etc/ipsec.d/private/`), with an optional passphrase. `#` starts a comment at the start of a
//! line or after white space. Base64 (`0s`) PSKs, `%prompt`, the other secret types (P12, EAP,
//! XAUTH, NTLM, PIN), multi-line entries and `include` are errors that say so.
//!
//! Nothing secret is ever part of an error message.

use std::path::Path;

use super::values;
use super::{ConfigError, ConfigErrorKind, Identity, KeyKind, Secret, SharedKey};

/// Parses `ipsec.secrets` text; `file` names it in errors and anchors relative key paths.
pub(crate) fn parse(text: &str, file: &Path) -> Result<Vec<Secret>, ConfigError> {
    let private = file
        .parent()
        .unwrap_or(Path::new("."))
        .join("ipsec.d")
        .join("private");
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx.saturating_add(1);
        let err = |key: &str, kind| ConfigError::new(file, Some(line), Some(key), kind);
        let tokens = tokenize(raw).map_err(|m| err("secret", ConfigErrorKind::Syntax(m.to_owned())))?;
        let Some(first) = tokens.first() else { continue };
        if first.text == "include" && !first.quoted {
            return Err(err(
                "include",
                ConfigErrorKind::Unsupported("include (merge the files)".to_owned()),
            ));
        }
        let Some(colon) = tokens.iter().position(|t| t.text == ":" && !t.quoted) else {
            return Err(err(
                "secret",
                ConfigErrorKind::Syntax(
                    "expected `[selectors] : TYPE secret` (a `:` between white space)".to_owned(),
                ),
            ));
        };
        let (selectors, rest) = tokens.split_at(colon);
        let ids = selectors
            .iter()
            .map(|t| values::identity(&t.text).map_err(|k| err("selector", k)))
            .collect::<Result<Vec<Identity>, _>>()?;
        let rest = rest.get(1..).unwrap_or_default();
        let Some((kind, args)) = rest.split_first() else {
            return Err(err(
                "secret",
                ConfigErrorKind::Missing("the secret type (PSK, RSA, ECDSA) after `:`".into()),
            ));
        };
        let secret = match kind.text.to_ascii_uppercase().as_str() {
            "PSK" => {
                let [value] = args else {
                    return Err(err(
                        "PSK",
                        ConfigErrorKind::Syntax("PSK takes exactly one value".to_owned()),
                    ));
                };
                Secret::Psk {
                    ids,
                    key: psk_value(value).map_err(|k| err("PSK", k))?,
                }
            }
            "RSA" | "ECDSA" => {
                let key = kind.text.to_ascii_uppercase();
                let kind = if key == "RSA" {
                    KeyKind::Rsa
                } else {
                    KeyKind::Ecdsa
                };
                let (path, passphrase) = match args {
                    [path] => (path, None),
                    [path, pass] if pass.text == "%prompt" && !pass.quoted => {
                        return Err(err(
                            &key,
                            ConfigErrorKind::Unsupported("%prompt (no terminal to ask)".to_owned()),
                        ));
                    }
                    [path, pass] => (path, Some(SharedKey::new(pass.text.as_bytes().to_vec()))),
                    _ => {
                        return Err(err(
                            &key,
                            ConfigErrorKind::Syntax(format!("{key} takes a file and an optional passphrase")),
                        ));
                    }
                };
                let path = values::path_under(&private, &path.text).map_err(|k| err(&key, k))?;
                Secret::PrivateKey {
                    ids,
                    kind,
                    path,
                    passphrase,
                }
            }
            other @ ("P12" | "EAP" | "XAUTH" | "NTLM" | "PIN") => {
                return Err(err(
                    other,
                    ConfigErrorKind::Unsupported(format!("{other} secrets")),
                ));
            }
            other => {
                return Err(err(
                    other,
                    ConfigErrorKind::Syntax(format!("unknown secret type {other:?}")),
                ));
            }
        };
        out.push(secret);
    }
    Ok(out)
}

struct Token {
    text: String,
    quoted: bool,
}

/// Splits a line into white-space separated tokens; `"..."` is one token; comments dropped.
fn tokenize(raw: &str) -> Result<Vec<Token>, &'static str> {
    let mut tokens = Vec::new();
    let mut chars = raw.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek() {
            None | Some('#') => break,
            Some('"') => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => text.push(c),
                        None => return Err("unterminated quoted string (secrets cannot span lines)"),
                    }
                }
                if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                    return Err("text right after a closing quote");
                }
                tokens.push(Token { text, quoted: true });
            }
            Some(_) => {
                let mut text = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    text.push(c);
                }
                tokens.push(Token { text, quoted: false });
            }
        }
    }
    Ok(tokens)
}

fn psk_value(t: &Token) -> Result<SharedKey, ConfigErrorKind> {
    // Error messages never carry the secret itself.
    let bad = |reason: &str| ConfigErrorKind::InvalidValue {
        value: "<secret>".to_owned(),
        reason: reason.to_owned(),
    };
    let bytes = if t.quoted {
        t.text.as_bytes().to_vec()
    } else if let Some(hex) = t.text.strip_prefix("0x") {
        decode_hex(hex).ok_or_else(|| bad("0x needs an even number of hex digits"))?
    } else if t.text.starts_with("0s") {
        return Err(ConfigErrorKind::Unsupported(
            "base64 (0s) PSKs; use \"text\" or 0x hex".to_owned(),
        ));
    } else {
        return Err(bad("a PSK must be \"quoted\" or 0x hex"));
    };
    if bytes.is_empty() {
        return Err(bad("empty PSK"));
    }
    Ok(SharedKey::new(bytes))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn id(s: &str) -> Identity {
        Identity::parse(s).unwrap()
    }

    #[test]
    fn the_documented_forms() {
        let text = r#"
# a comment
192.0.2.10 198.51.100.20 : PSK "seed secret # not a comment"
@a.example %any : PSK 0x00ff10
: RSA gw.pem
  : ECDSA /keys/gw-ec.pem "pass word"   # trailing comment
2001:db8::1 : PSK "v6"
"#;
        let got = parse(text, Path::new("/etc/ipsec.secrets")).unwrap();
        assert_eq!(
            got,
            vec![
                Secret::Psk {
                    ids: vec![id("192.0.2.10"), id("198.51.100.20")],
                    key: SharedKey::new(b"seed secret # not a comment".to_vec()),
                },
                Secret::Psk {
                    ids: vec![id("@a.example"), Identity::Any],
                    key: SharedKey::new(vec![0, 0xff, 0x10])
                },
                Secret::PrivateKey {
                    ids: vec![],
                    kind: KeyKind::Rsa,
                    path: PathBuf::from("/etc/ipsec.d/private/gw.pem"),
                    passphrase: None,
                },
                Secret::PrivateKey {
                    ids: vec![],
                    kind: KeyKind::Ecdsa,
                    path: PathBuf::from("/keys/gw-ec.pem"),
                    passphrase: Some(SharedKey::new(b"pass word".to_vec())),
                },
                Secret::Psk {
                    ids: vec![id("2001:db8::1")],
                    key: SharedKey::new(b"v6".to_vec())
                },
            ]
        );
    }

    #[test]
    fn errors_name_line_and_key_but_never_the_secret() {
        for (text, line, key, want) in [
            (
                "a b PSK \"x\"",
                1,
                "secret",
                "expected `[selectors] : TYPE secret`",
            ),
            ("\n: PSK bare-secret", 2, "PSK", "quoted"),
            (": PSK 0xabc", 1, "PSK", "even number"),
            (": PSK 0sYWJj", 1, "PSK", "base64"),
            (": PSK \"\"", 1, "PSK", "empty PSK"),
            (": PSK \"a\" \"b\"", 1, "PSK", "exactly one value"),
            (": PSK \"open", 1, "secret", "unterminated"),
            (": RSA key.pem %prompt", 1, "RSA", "%prompt"),
            (": XAUTH \"x\"", 1, "XAUTH", "not supported"),
            (": FOO \"x\"", 1, "FOO", "unknown secret type"),
            ("include /etc/more.secrets", 1, "include", "not supported"),
            (":", 1, "secret", "missing the secret type"),
            ("@ : PSK \"x\"", 1, "selector", "empty FQDN"),
        ] {
            let e = parse(text, Path::new("s")).unwrap_err();
            assert_eq!((e.line, e.key.as_deref()), (Some(line), Some(key)), "{text}: {e}");
            let msg = e.to_string();
            assert!(msg.contains(want), "{text}: {msg}");
            assert!(!msg.contains("bare-secret") && !msg.contains("YWJj"), "{msg}");
        }
    }
}
