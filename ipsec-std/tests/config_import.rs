//! Configuration loading: the MISSION seed `ipsec.conf` as written, `%default` and `also`,
//! errors with file:line:key, and the TOML format (documented example, round trip, errors).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipsec_std::config::proposals::{
    AesKeyLen, DhGroup, Encryption, Esn, EspProposal, IkeProposal, Integrity, Prf, ProposalList,
};
use ipsec_std::config::{
    AuthMethod, Auto, Config, ConfigErrorKind, Connection, Dpd, DpdAction, End, EndAddress, Fragmentation,
    Identity, KeyKind, KeyingTries, Mode, Secret, SharedKey, WeakAlgorithm,
};
use ipsec_std::route::StaticRoutes;
use ipsec_std::subnet::Subnet;

const SEED_CONF: &str = include_str!("fixtures/seed-ipsec.conf");
const SEED_SECRETS: &str = include_str!("fixtures/seed-ipsec.secrets");
const A: &str = "198.51.100.10";
const B: &str = "203.0.113.20";
const PSK: &str = "seed-test-psk-6a1f0c";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> Subnet {
    s.parse().unwrap()
}

/// This host: A's address is the source of the default route.
fn host_a() -> StaticRoutes {
    StaticRoutes {
        v4: Some(ip(A)),
        v6: None,
        local: Vec::new(),
    }
}

fn seed_texts() -> (String, String) {
    let conf = SEED_CONF
        .replace("<A's public address>", A)
        .replace("<B's public address>", B);
    let secrets = SEED_SECRETS
        .replace("<A>", A)
        .replace("<B>", B)
        .replace("<secret>", PSK);
    assert!(!conf.contains('<') && !secrets.contains('<'), "placeholders left");
    (conf, secrets)
}

fn conf_path() -> PathBuf {
    PathBuf::from("/etc/ipsec.conf")
}

fn load(conf: &str) -> Result<Config, ipsec_std::config::ConfigError> {
    Config::from_ipsec_conf_str(conf, &conf_path(), None, &host_a()).map(|l| l.config)
}

/// The model MISSION.md describes for its seed config, written out by hand.
fn expected_seed() -> Config {
    let local = End {
        address: EndAddress::Ip(ip(A)),
        id: Some(Identity::Ip(ip(A))),
        subnets: vec![net("192.168.10.0/24")],
        auth: AuthMethod::Psk,
        cert: None,
        pool: None,
        dns: vec![],
        request_address: false,
    };
    let remote = End {
        address: EndAddress::Ip(ip(B)),
        id: None,
        subnets: vec![net("192.168.20.0/24")],
        auth: AuthMethod::Psk,
        cert: None,
        pool: None,
        dns: vec![],
        request_address: false,
    };
    let conn = Connection {
        name: "site-to-site-vpn".into(),
        mode: Mode::Tunnel,
        local,
        remote,
        ike: ProposalList {
            proposals: vec![IkeProposal {
                encryption: vec![Encryption::AesCbc(AesKeyLen::Aes256)],
                integrity: vec![Integrity::HmacSha256_128],
                prf: vec![Prf::HmacSha256],
                dh: vec![DhGroup::Modp1024],
            }],
            strict: true,
        },
        esp: ProposalList {
            proposals: vec![EspProposal {
                encryption: vec![Encryption::AesCbc(AesKeyLen::Aes256)],
                integrity: vec![Integrity::HmacSha256_128],
                dh: vec![],
                esn: vec![Esn::No],
            }],
            strict: true,
        },
        allow_weak: vec![WeakAlgorithm::Modp1024],
        keying_tries: KeyingTries::Forever,
        ike_lifetime: Duration::from_secs(3600),
        lifetime: Duration::from_secs(8 * 3600),
        margin_time: Duration::from_secs(9 * 60),
        rekey_fuzz_percent: 100,
        dpd: Dpd {
            delay: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
            action: DpdAction::Restart,
        },
        auto: Auto::Start,
        force_encaps: false,
        fragmentation: Fragmentation::Yes,
    };
    Config {
        mss: ipsec_std::mss::MssClamping::default(),
        connections: vec![conn],
        secrets: vec![Secret::Psk {
            ids: vec![Identity::Ip(ip(A)), Identity::Ip(ip(B))],
            key: SharedKey::new(PSK.as_bytes().to_vec()),
        }],
    }
}

#[test]
fn mission_seed_config_loads_as_written() {
    let (conf, secrets) = seed_texts();
    let loaded = Config::from_ipsec_conf_str(
        &conf,
        &conf_path(),
        Some((&secrets, Path::new("/etc/ipsec.secrets"))),
        &host_a(),
    )
    .unwrap();
    assert_eq!(loaded.config, expected_seed());
    let c = &loaded.config.connections[0];
    assert_eq!(c.ike.to_string(), "aes256-sha256-prfsha256-modp1024!");
    assert_eq!(c.esp.to_string(), "aes256-sha256-noesn!");
    assert_eq!(c.weak_in_use(), [WeakAlgorithm::Modp1024]);
    assert_eq!(c.local.effective_id(), Identity::Ip(ip(A)));
    assert_eq!(c.remote.effective_id(), Identity::Ip(ip(B)));
    // The PSK is found for exactly this pair of identities.
    let key = loaded
        .config
        .psk_for(&c.local.effective_id(), &c.remote.effective_id())
        .unwrap();
    assert_eq!(key.expose(), PSK.as_bytes());
    // MODP-1024 is accepted, loudly: a warning names the file, the line of ike= and the algorithm.
    let w: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with("/etc/ipsec.conf:9: ike:") && w[0].contains("modp1024"),
        "{w:?}"
    );
}

#[test]
fn seed_config_from_files_on_disk() {
    let dir = std::env::temp_dir().join(format!("ipsec-std-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (conf, secrets) = seed_texts();
    std::fs::write(dir.join("ipsec.conf"), conf).unwrap();
    std::fs::write(dir.join("ipsec.secrets"), secrets).unwrap();
    let loaded = Config::load_ipsec_conf(
        &dir.join("ipsec.conf"),
        Some(&dir.join("ipsec.secrets")),
        &host_a(),
    );
    let missing = Config::load_ipsec_conf(&dir.join("nope.conf"), None, &host_a()).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(loaded.unwrap().config, expected_seed());
    assert!(
        matches!(missing.kind, ConfigErrorKind::Io(_)) && missing.to_string().contains("nope.conf"),
        "{missing}"
    );
}

#[test]
fn defaultroute_picks_the_family_and_fails_clearly() {
    let (conf, _) = seed_texts();
    // No IPv4 default route on this "host".
    let e = Config::from_ipsec_conf_str(&conf, &conf_path(), None, &StaticRoutes::default()).unwrap_err();
    assert_eq!((e.line, e.key.as_deref()), (Some(4), Some("left")));
    assert!(e.to_string().contains("no IPv4 default route"), "{e}");
    // An IPv6 peer asks for the IPv6 default route.
    let v6 = "conn v6\n  left=%defaultroute\n  right=2001:db8::2\n  auto=add\n";
    let routes = StaticRoutes {
        v4: Some(ip(A)),
        v6: Some(ip("2001:db8::1")),
        local: Vec::new(),
    };
    let c = Config::from_ipsec_conf_str(v6, &conf_path(), None, &routes)
        .unwrap()
        .config;
    assert_eq!(c.connections[0].local.address, EndAddress::Ip(ip("2001:db8::1")));
}

#[test]
fn the_local_end_is_found_like_strongswan_does() {
    // B's view of the same connection: right is this host, so the ends swap.
    let conf = format!(
        "conn net\n  left={A}\n  leftsubnet=192.168.10.0/24\n  right={B}\n  rightsubnet=192.168.20.0/24\n  authby=secret\n  auto=add\n"
    );
    let routes_b = StaticRoutes {
        v4: Some(ip(B)),
        v6: None,
        local: Vec::new(),
    };
    let c = &Config::from_ipsec_conf_str(&conf, &conf_path(), None, &routes_b)
        .unwrap()
        .config
        .connections[0];
    assert_eq!(
        (c.local.address.ip(), c.remote.address.ip()),
        (Some(ip(B)), Some(ip(A)))
    );
    assert_eq!(c.local.subnets, [net("192.168.20.0/24")]);
    // Neither end local: left is ours.
    let c = &Config::from_ipsec_conf_str(&conf, &conf_path(), None, &StaticRoutes::default())
        .unwrap()
        .config
        .connections[0];
    assert_eq!(c.local.address.ip(), Some(ip(A)));
}

#[test]
fn default_section_and_also_chains() {
    let conf = r#"
config setup
    charondebug="ike 2"
    uniqueids=yes

conn %default
    keyexchange=ikev2
    ikelifetime=2h
    keyingtries=%forever
    authby=secret
    esp=aes128gcm16
    dpdaction=clear

conn base-ike
    ike=aes256gcm16-prfsha256-x25519!
    also=base-dpd
    lifetime=30m

conn base-dpd
    dpddelay=10s
    dpdtimeout=1m
    dpdaction=hold

conn site-common
    left=192.0.2.1
    leftsubnet=10.1.0.0/16,10.2.0.0/16
    also=base-ike

conn to-b
    also=site-common
    right=vpn-b.example.net
    rightid=@vpn-b.example.net
    rightsubnet=10.20.0.0/16
    lifetime=45m
    auto=route

conn to-c
    also=site-common
    also=base-dpd
    right=198.51.100.30
    rightauth=pubkey
    rightcert=peer-c.pem
    dpdaction=restart
    ikelifetime=
    auto=add

conn template-only
    right=%any
"#;
    let loaded = Config::from_ipsec_conf_str(conf, &conf_path(), None, &StaticRoutes::default()).unwrap();
    let c = &loaded.config.connections;
    // auto=ignore (the default) is not loaded, like in strongSwan: only to-b and to-c.
    assert_eq!(
        c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["to-b", "to-c"]
    );
    let (b, cc) = (&c[0], &c[1]);
    // From site-common, through base-ike and its also=base-dpd, over %default.
    assert_eq!(b.local.address, EndAddress::Ip(ip("192.0.2.1")));
    assert_eq!(b.local.subnets, [net("10.1.0.0/16"), net("10.2.0.0/16")]);
    assert_eq!(b.ike.to_string(), "aes256gcm16-prfsha256-x25519!");
    assert_eq!(b.esp.to_string(), "aes128gcm16-noesn");
    assert_eq!(
        b.dpd,
        Dpd {
            delay: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            action: DpdAction::Hold
        }
    );
    assert_eq!(b.ike_lifetime, Duration::from_secs(7200));
    assert_eq!(b.keying_tries, KeyingTries::Forever);
    // The section's own value beats the inherited one (lifetime=30m from base-ike).
    assert_eq!(b.lifetime, Duration::from_secs(45 * 60));
    assert_eq!(b.remote.address, EndAddress::Host("vpn-b.example.net".into()));
    assert_eq!(b.remote.id, Some(Identity::Fqdn("vpn-b.example.net".into())));
    assert_eq!(
        (b.auto, b.local.auth, b.remote.auth),
        (Auto::Route, AuthMethod::Psk, AuthMethod::Psk)
    );
    // to-c: own dpdaction wins even though an also follows; `ikelifetime=` unsets back to the default.
    assert_eq!(cc.dpd.action, DpdAction::Restart);
    assert_eq!(cc.dpd.delay, Duration::from_secs(10));
    assert_eq!(cc.lifetime, Duration::from_secs(30 * 60));
    assert_eq!(cc.ike_lifetime, Duration::from_secs(3 * 3600));
    assert_eq!(
        (cc.local.auth, cc.remote.auth),
        (AuthMethod::Psk, AuthMethod::PubKey)
    );
    assert_eq!(
        cc.remote.cert.as_deref(),
        Some(Path::new("/etc/ipsec.d/certs/peer-c.pem"))
    );
    // The ignored config setup keys are reported, not silently dropped.
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(loaded.warnings.iter().all(|w| w.line.is_some()));
}

#[test]
fn errors_name_file_line_and_key() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "conn a\n  left=1.2.3.4\n  rightt=5.6.7.8\n",
            3,
            "rightt",
            "unknown key",
        ),
        (
            "conn a\n  keyexchange=ikev1\n  auto=add\n  right=5.6.7.8\n",
            2,
            "keyexchange",
            "IKEv1",
        ),
        (
            "conn a\n  right=5.6.7.8\n  ike=aes256-sha256-modp1536\n  auto=add\n",
            3,
            "ike",
            "modp1536",
        ),
        (
            "conn a\n  right=5.6.7.8\n  esp=aes256-sha1\n  auto=add\n",
            3,
            "esp",
            "HMAC-SHA2 only",
        ),
        (
            "conn a\n  right=5.6.7.8\n  ike=aes256-sha257-modp2048\n  auto=add\n",
            3,
            "ike",
            "unknown algorithm `sha257`",
        ),
        (
            "conn a\n  right=5.6.7.8\n  lifetime=1w\n  auto=add\n",
            3,
            "lifetime",
            "unknown time unit",
        ),
        (
            "conn a\n  right=5.6.7.8\n  dpdaction=explode\n  auto=add\n",
            3,
            "dpdaction",
            "expected none, clear",
        ),
        (
            "conn a\n  right=5.6.7.8\n  type=passthrough\n  auto=add\n",
            3,
            "type",
            "not supported",
        ),
        (
            "conn a\n  right=5.6.7.8\n  leftsubnet=10.0.0.0/33\n  auto=add\n",
            3,
            "leftsubnet",
            "prefix length",
        ),
        (
            "conn a\n  right=5.6.7.8\n  leftsubnet=10.0.0.1[tcp/80]\n  auto=add\n",
            3,
            "leftsubnet",
            "protocol/port",
        ),
        (
            "conn a\n  right=5.6.7.8\n  leftsourceip=%poolname\n  auto=add\n",
            3,
            "leftsourceip",
            "not supported",
        ),
        ("conn a\n  mobike=yes\n", 2, "mobike", "only no is"),
        (
            "conn a\n  right=5.6.7.8\n  auto=begin\n",
            3,
            "auto",
            "expected ignore, add",
        ),
        (
            "conn a\n  also=b\n  auto=add\n  right=5.6.7.8\n",
            2,
            "also",
            "no section named \"b\"",
        ),
        (
            "conn a\n  also=b\n  auto=add\n  right=5.6.7.8\nconn b\n  also=a\n",
            6,
            "also",
            "cycle: a -> b -> a",
        ),
        (
            "conn a\n  right=1.1.1.1\nconn a\n  right=2.2.2.2\n",
            3,
            "conn",
            "defined twice",
        ),
        (
            "conn a\n  right=1.1.1.1\n  right=2.2.2.2\n",
            3,
            "right",
            "defined twice",
        ),
        ("conn a\n  auto=start\n", 2, "auto", "needs a remote address"),
        (
            "conn a\n  right=5.6.7.8\n  margintime=2h\n  auto=add\n",
            3,
            "margintime",
            "shorter than lifetime",
        ),
        (
            "conn a\n  right=5.6.7.8\n  keyingtries=many\n  auto=add\n",
            3,
            "keyingtries",
            "whole number",
        ),
        (
            "conn a\n  right=5.6.7.8\n  fragmentation=force\n  auto=add\n",
            3,
            "fragmentation",
            "IKEv1-only",
        ),
        (
            "conn a\n  right=5.6.7.8\n  leftid=@#xyz\n  auto=add\n",
            3,
            "leftid",
            "hex digits",
        ),
        (
            "conn a\n  right=5.6.7.8\n  forceencaps=sometimes\n  auto=add\n",
            3,
            "forceencaps",
            "yes or no",
        ),
        ("config setup\n  plutodebug=all\n", 2, "plutodebug", "unknown key"),
        ("include /etc/ipsec.d/*.conf\n", 1, "include", "not supported"),
        ("ca strongswan\n  cacert=ca.pem\n", 1, "ca", "not supported"),
        ("conn a\n  leftid=\"open\n", 2, "leftid", "unterminated"),
    ];
    for (conf, line, key, want) in cases {
        let e = load(conf).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(*line), Some(*key)),
            "{conf:?}: {e}"
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("/etc/ipsec.conf:{line}: {key}: ")),
            "{msg}"
        );
        assert!(msg.contains(want), "{conf:?}: `{msg}` lacks `{want}`");
    }
    // Lines without a key.
    for (conf, line, want) in [
        ("  left=1.2.3.4\n", 1, "before any section"),
        ("conn a\n  just words\n", 2, "expected key=value"),
        ("connection a\n", 1, "expected `conn <name>`"),
    ] {
        let e = load(conf).unwrap_err();
        assert_eq!((e.line, e.key.as_deref()), (Some(line), None), "{conf:?}: {e}");
        assert!(e.to_string().contains(want), "{e}");
    }
}

/// The documented example of `ipsec_std::config::toml`, with the seed's addresses.
fn documented_toml() -> String {
    format!(
        r#"
[[connection]]
name = "site-to-site-vpn"
mode = "tunnel"
auto = "start"
ike = "aes256-sha2_256-modp1024!"
esp = "aes256-sha2_256!"
allow_weak = ["modp1024"]
keying_tries = "forever"
ike_lifetime = "1h"
lifetime = "8h"
margin_time = "9m"
rekey_fuzz = 100
dpd_delay = "30s"
dpd_timeout = 120
dpd_action = "restart"
force_encaps = false
fragmentation = "yes"

[connection.local]
address = "%defaultroute"
id = "{A}"
subnets = ["192.168.10.0/24"]
auth = "psk"

[connection.remote]
address = "{B}"
subnets = ["192.168.20.0/24"]
auth = "psk"

[[secret]]
type = "psk"
ids = ["{A}", "{B}"]
secret = "{PSK}"
"#
    )
}

#[test]
fn toml_and_ipsec_conf_give_the_same_model() {
    let toml = documented_toml();
    let loaded = Config::from_toml_str(&toml, Path::new("/etc/ipsec-rs.toml"), &host_a()).unwrap();
    assert_eq!(loaded.config, expected_seed());
    assert!(loaded.warnings.is_empty());
}

#[test]
fn toml_round_trip() {
    // The seed, a bigger import and hand-built odd values all survive to_toml -> from_toml.
    let mut configs = vec![expected_seed()];
    let mut c = expected_seed();
    c.secrets.push(Secret::Psk {
        ids: vec![],
        key: SharedKey::new(vec![0, 1, 0xff, b'\n']),
    });
    c.secrets.push(Secret::PrivateKey {
        ids: vec![Identity::Fqdn("gw.example".into())],
        kind: KeyKind::Ecdsa,
        path: "/etc/ipsec-rs/private/gw.pem".into(),
        passphrase: Some(SharedKey::new(b"p4ss".to_vec())),
    });
    let mut extra = Connection::new(
        "road",
        End {
            address: EndAddress::AnyV6,
            id: Some(Identity::Dn("C=CH, O=Example, CN=gw".into())),
            subnets: vec![net("2001:db8:1::/48")],
            auth: AuthMethod::PubKey,
            cert: Some("/etc/c.pem".into()),
            pool: None,
            dns: vec![],
            request_address: true,
        },
        End {
            address: EndAddress::Any,
            id: Some(Identity::KeyId(vec![1, 2, 3])),
            subnets: vec![],
            auth: AuthMethod::PubKey,
            cert: None,
            pool: Some(net("10.3.0.0/24")),
            dns: vec![ip("10.3.0.1"), ip("2001:db8::53")],
            request_address: false,
        },
    );
    extra.mode = Mode::Transport;
    extra.auto = Auto::Add;
    extra.keying_tries = KeyingTries::Limited(NonZeroU32::new(7).unwrap());
    extra.ike = ipsec_std::config::proposals::parse_ike_proposals(
        "aes128-sha1-ecp256-modp2048,chacha20poly1305-prfsha384-x25519",
    )
    .unwrap();
    extra.esp = ipsec_std::config::proposals::parse_esp_proposals("aes256gcm16-ecp384-esn-noesn").unwrap();
    extra.allow_weak = vec![WeakAlgorithm::Sha1];
    extra.lifetime = Duration::from_secs(5400);
    extra.rekey_fuzz_percent = 0;
    extra.dpd = Dpd {
        delay: Duration::ZERO,
        timeout: Duration::from_secs(90_061),
        action: DpdAction::None,
    };
    extra.force_encaps = true;
    extra.fragmentation = Fragmentation::No;
    c.connections.push(extra);
    configs.push(c);
    for config in configs {
        let text = config.to_toml();
        let back = Config::from_toml_str(&text, Path::new("/tmp/x.toml"), &StaticRoutes::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back.config, config, "{text}");
        // And the text is stable.
        assert_eq!(back.config.to_toml(), text);
    }
}

#[test]
fn toml_errors_name_line_and_key() {
    let base = documented_toml();
    let cases: Vec<(String, usize, &str, &str)> = vec![
        (
            base.replace("rekey_fuzz = 100", "rekey_fuzz = 100\nrekey_fuzzz = 5"),
            14,
            "rekey_fuzzz",
            "unknown key",
        ),
        (
            base.replace("allow_weak = [\"modp1024\"]\n", ""),
            6,
            "ike",
            "weak algorithm",
        ),
        (
            base.replace("aes256-sha2_256-modp1024!", "aes256-sha2_256-modp1536!"),
            6,
            "ike",
            "modp1536",
        ),
        (
            base.replace("lifetime = \"8h\"", "lifetime = \"8 hours\""),
            11,
            "lifetime",
            "not a number",
        ),
        (
            base.replace("address = \"203.0.113.20\"", "address = \"not an address!\""),
            27,
            "address",
            "not an IP address",
        ),
        (
            base.replace("dpd_action = \"restart\"", "dpd_action = 5"),
            16,
            "dpd_action",
            "invalid type",
        ),
        (
            base.replace("type = \"psk\"", "type = \"pgp\""),
            32,
            "type",
            "expected \"psk\"",
        ),
        (
            base.replace(&format!("secret = \"{PSK}\""), "secret_hex = \"abc\""),
            34,
            "secret_hex",
            "hex digits",
        ),
        (
            base.replace(
                "subnets = [\"192.168.10.0/24\"]",
                "subnets = [\"192.168.10.0/24\", \"10.0.0.0/99\"]",
            ),
            23,
            "subnets",
            "prefix length",
        ),
        (
            base.replace("allow_weak = [\"modp1024\"]", "allow_weak = [\"md5\"]"),
            8,
            "allow_weak",
            "expected \"modp1024\"",
        ),
        (
            base.replace("mode = \"tunnel\"", "mode = \"tunnel\"\nmode = \"transport\""),
            5,
            "mode",
            "duplicate key",
        ),
    ];
    for (text, line, key, want) in cases {
        let e = Config::from_toml_str(&text, Path::new("/etc/ipsec-rs.toml"), &host_a()).unwrap_err();
        let msg = e.to_string();
        assert_eq!((e.line, e.key.as_deref()), (Some(line), Some(key)), "{msg}");
        assert!(
            msg.starts_with(&format!("/etc/ipsec-rs.toml:{line}: {key}: ")),
            "{msg}"
        );
        assert!(msg.contains(want), "`{msg}` lacks `{want}`");
        assert!(!msg.contains(PSK), "{msg}");
    }
}

#[test]
fn driver_table_sets_mss_clamping_and_round_trips() {
    use ipsec_std::config::ConfigErrorKind;
    use ipsec_std::mss::MssClamping;

    // Absent: on, path MTU 1500; not written back out.
    let plain = Config::from_toml_str("", Path::new("/etc/ipsec-rs.toml"), &host_a()).unwrap();
    assert_eq!(plain.config.mss, MssClamping::default());
    assert!(plain.config.mss.enabled);
    assert!(!plain.config.to_toml().contains("[driver]"));

    let text = "[driver]\nmss_clamp = false\npath_mtu = 1400\n";
    let loaded = Config::from_toml_str(text, Path::new("/etc/ipsec-rs.toml"), &host_a()).unwrap();
    assert_eq!(
        loaded.config.mss,
        MssClamping {
            enabled: false,
            path_mtu: 1400
        }
    );
    let again = Config::from_toml_str(&loaded.config.to_toml(), Path::new("/x.toml"), &host_a()).unwrap();
    assert_eq!(again.config, loaded.config);

    // A path MTU below 576 and an unknown key name file, line and key.
    let e = Config::from_toml_str(
        "[driver]\n\npath_mtu = 100\n",
        Path::new("/etc/ipsec-rs.toml"),
        &host_a(),
    )
    .unwrap_err();
    assert_eq!((e.line, e.key.as_deref()), (Some(3), Some("path_mtu")));
    assert!(matches!(e.kind, ConfigErrorKind::InvalidValue { .. }), "{e}");
    let e =
        Config::from_toml_str("[driver]\nmss = 1\n", Path::new("/etc/ipsec-rs.toml"), &host_a()).unwrap_err();
    assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("mss")));
    assert!(matches!(e.kind, ConfigErrorKind::UnknownKey), "{e}");
}
