//! Interop with strongSwan 5.9 (Debian, `kernel-libipsec`) in network namespaces, our
//! `ipsec-peer` on one side (issue 6, "Proof"):
//! 1. the MISSION seed site-to-site config (`aes256-sha256-modp1024!`, PSK, 192.168.10.0/24 ↔
//!    192.168.20.0/24) with our peer as initiator and as responder; pings across both subnets;
//! 2. the matrix PSK / ECDSA / RSA × AES-GCM-256, ChaCha20-Poly1305, AES-CBC-256+SHA2-256 ×
//!    x25519, ECP-256, MODP-2048, both roles;
//! 3. CHILD and IKE SA rekey started by either side during a continuous ping;
//! 4. DPD with `dpdaction=restart` after a charon crash;
//! 5. tshark decrypting a capture of our tunnel with our key log.
//!
//! Plus the control socket, and an ignored iperf3 benchmark against charon ↔ charon.
//!
//! Needs root, iproute2, ping, tshark and strongSwan; reported as skipped otherwise (a failure
//! under `CI=true`). Each case builds and removes its own pair of namespaces; traffic stays in them.

#[allow(unreachable_pub, dead_code)]
mod interop;

use std::time::{Duration, Instant};

use interop::strongswan::{Auth, CharonConfig};
use interop::{Lab, LabError, seed_conf, seed_secrets};

const PSK: &str = "interop-seed-psk-7c1e02b9";

fn prerequisites(test: &str) -> bool {
    match interop::missing_prerequisite() {
        None => true,
        Some(reason) => {
            ipsec_tests::skip(test, &reason);
            false
        }
    }
}

fn seed_charon() -> CharonConfig {
    CharonConfig {
        ike: "aes256-sha256-modp1024".into(),
        esp: "aes256-sha256".into(),
        auth: Auth::Psk(PSK.into()),
        ..CharonConfig::default()
    }
}

/// Pings both ways across the tunnel; returns (time to the first answer A→B, answers B→A of 3).
/// The default route of A (needed only for `left=%defaultroute` at load time) is removed
/// first, so that no ping can pass outside the tunnel.
fn ping_both_ways(lab: &Lab) -> Result<(Duration, u32), LabError> {
    lab.a.ip(&["route", "del", "default"])?;
    let up = Lab::ping_until_up(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        Duration::from_secs(20),
    )?;
    let back = Lab::ping(
        &lab.b,
        &lab.site_b.lan_addr,
        &lab.site_a.lan_addr,
        3,
        Duration::from_secs(2),
    )?;
    Ok((up, back))
}

/// Stops our peer with SIGTERM and checks it exits 0 having removed its routes and TUN device.
fn stop_peer_cleanly(lab: &mut Lab) {
    let status = lab.stop("ipsec-peer").expect("stop ipsec-peer");
    assert!(status.success(), "ipsec-peer exited with {status}");
    let routes = lab.a.ip(&["route", "show"]).unwrap();
    assert!(
        !routes.contains("192.168.20.0/24"),
        "route left behind:\n{routes}"
    );
    let links = lab.a.ip(&["link", "show"]).unwrap();
    assert!(!links.contains("ipsec-rs0"), "TUN device left behind:\n{links}");
}

/// charon's CHILD SA counted ESP packets in both directions (`swanctl --list-sas`:
/// `in  c1a2b3c4,    336 bytes,     4 packets, ...`).
fn assert_esp_both_ways(sas: &str) {
    let packets = |dir: &str| -> u64 {
        sas.lines()
            .filter(|l| l.trim_start().starts_with(dir))
            .filter_map(|l| {
                l.split(',')
                    .find_map(|p| p.trim().strip_suffix(" packets")?.trim().parse::<u64>().ok())
            })
            .sum()
    };
    assert!(
        packets("in ") > 0 && packets("out ") > 0,
        "ESP not counted both ways:\n{sas}"
    );
}

fn report(lab: &Lab, peer: &interop::OurPeer, charon: &interop::strongswan::Charon) -> String {
    format!(
        "--- ipsec-peer log ({}):\n{}\n--- charon log:\n{}",
        lab.dir.display(),
        peer.log(),
        charon.log()
    )
}

#[test]
fn seed_site_to_site_our_peer_initiates() {
    let test = "seed_site_to_site_our_peer_initiates";
    if !prerequisites(test) {
        return;
    }
    let t0 = Instant::now();
    let mut lab = Lab::new("seed-init").unwrap();
    let charon = lab.start_charon(&seed_charon()).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    let (up, back) = match ping_both_ways(&lab) {
        Ok(r) => r,
        Err(e) => panic!("{e}\n{}", report(&lab, &peer, &charon)),
    };
    assert!(
        back >= 2,
        "B→A: {back}/3 answered\n{}",
        report(&lab, &peer, &charon)
    );
    let sas = charon.list_sas().unwrap();
    assert!(sas.contains("ESTABLISHED") && sas.contains("INSTALLED"), "{sas}");
    assert_esp_both_ways(&sas);
    assert!(
        sas.contains("AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_1024"),
        "{sas}"
    );
    let log = peer.log();
    assert!(
        log.contains("WEAK ALGORITHM modp1024"),
        "no weak-algorithm warning:\n{log}"
    );
    assert!(
        peer.keys().contains("AES-CBC [RFC3602]"),
        "key log: {}",
        peer.keys()
    );
    stop_peer_cleanly(&mut lab);
    eprintln!(
        "{test}: tunnel up after {up:?}, B→A {back}/3, total {:?}",
        t0.elapsed()
    );
}

#[test]
fn seed_site_to_site_strongswan_initiates() {
    let test = "seed_site_to_site_strongswan_initiates";
    if !prerequisites(test) {
        return;
    }
    let t0 = Instant::now();
    let mut lab = Lab::new("seed-resp").unwrap();
    let charon = lab.start_charon(&seed_charon()).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "add",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    let took = match charon.initiate(Duration::from_secs(20)) {
        Ok(d) => d,
        Err(e) => panic!("{e}\n{}", report(&lab, &peer, &charon)),
    };
    let (up, back) = match ping_both_ways(&lab) {
        Ok(r) => r,
        Err(e) => panic!("{e}\n{}", report(&lab, &peer, &charon)),
    };
    assert!(
        back >= 2,
        "B→A: {back}/3 answered\n{}",
        report(&lab, &peer, &charon)
    );
    assert_esp_both_ways(&charon.list_sas().unwrap());
    stop_peer_cleanly(&mut lab);
    eprintln!(
        "{test}: initiate {took:?}, first ping {up:?}, B→A {back}/3, total {:?}",
        t0.elapsed()
    );
}

/// `auto=route`: our peer installs a trap policy and sets the tunnel up only when traffic
/// hits it (an SPD acquire, `Endpoint::acquire`). It proposes the triggering packet's
/// selectors first (RFC 7296 §2.9); strongSwan must still narrow to the configured subnets.
#[test]
fn auto_route_traffic_starts_the_tunnel() {
    let test = "auto_route_traffic_starts_the_tunnel";
    if !prerequisites(test) {
        return;
    }
    let t0 = Instant::now();
    let mut lab = Lab::new("route").unwrap();
    let charon = lab.start_charon(&seed_charon()).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "route",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let before = charon.list_sas().unwrap();
    assert!(
        !before.contains("ESTABLISHED"),
        "an IKE SA before any traffic:\n{before}\n{}",
        report(&lab, &peer, &charon)
    );
    let (up, back) = match ping_both_ways(&lab) {
        Ok(r) => r,
        Err(e) => panic!("{e}\n{}", report(&lab, &peer, &charon)),
    };
    assert!(
        back >= 2,
        "B→A: {back}/3 answered\n{}",
        report(&lab, &peer, &charon)
    );
    let sas = charon.list_sas().unwrap();
    assert_esp_both_ways(&sas);
    // Narrowed to the subnets, not to the one host pair that triggered it.
    let has = |want: String| {
        sas.lines()
            .any(|l| l.split_whitespace().eq(want.split_whitespace()))
    };
    assert!(
        has(format!("local {}", lab.site_b.lan_net)) && has(format!("remote {}", lab.site_a.lan_net)),
        "charon's selectors:\n{sas}"
    );
    let log = peer.log();
    assert!(log.contains("trap policy"), "no acquire in our log:\n{log}");
    // charon (cfg log level 2) shows the selectors we proposed: the pinging host first.
    let host = format!("{}/32", lab.site_a.lan_addr);
    let charon_log = charon.log();
    assert!(
        charon_log
            .lines()
            .any(|l| l.contains("child config for") && l.contains(&host)),
        "the trigger {host} was not proposed:\n{charon_log}"
    );
    stop_peer_cleanly(&mut lab);
    eprintln!(
        "{test}: first ping answered {up:?} after traffic started, B→A {back}/3, total {:?}",
        t0.elapsed()
    );
}

/// The configuration payload (RFC 7296 §3.15) against strongSwan: our peer is a gateway with
/// `rightsourceip=10.3.0.0/24` and `rightdns`; charon, a road warrior asking for an address
/// (`vips = 0.0.0.0`), gets 10.3.0.1 (not the subnet's network address) and the DNS server
/// (charon has no resolver plugin here, so it only logs processing it), and pings our LAN from
/// it through the tunnel.
#[test]
fn virtual_ip_from_our_pool_to_a_strongswan_road_warrior() {
    let test = "virtual_ip_from_our_pool_to_a_strongswan_road_warrior";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("vip").unwrap();
    let charon = lab
        .start_charon(&CharonConfig {
            virtual_ip: true,
            ..seed_charon()
        })
        .unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "add",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    )
    .replace(
        &format!("    rightsubnet={}\n", lab.site_b.lan_net),
        "    rightsourceip=10.3.0.0/24\n    rightdns=192.168.10.53\n",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    if let Err(e) = charon.initiate(Duration::from_secs(20)) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    let sas = charon.list_sas().unwrap();
    let has = |want: String| {
        sas.lines()
            .any(|l| l.split_whitespace().eq(want.split_whitespace()))
    };
    assert!(
        has("local 10.3.0.1/32".into()) && has(format!("remote {}", lab.site_a.lan_net)),
        "charon's selectors:\n{sas}\n{}",
        report(&lab, &peer, &charon)
    );
    let log = charon.log();
    assert!(
        log.lines().any(|l| l.contains("CPRP(ADDR DNS)"))
            && log.contains("processing INTERNAL_IP4_DNS attribute"),
        "no DNS server in charon's log\n{}",
        report(&lab, &peer, &charon)
    );
    let answered = Lab::ping(
        &lab.b,
        "10.3.0.1",
        &lab.site_a.lan_addr,
        3,
        Duration::from_secs(2),
    )
    .unwrap();
    assert!(
        answered >= 2,
        "{answered}/3 pings answered\n{}",
        report(&lab, &peer, &charon)
    );
    assert_esp_both_ways(&charon.list_sas().unwrap());
    stop_peer_cleanly(&mut lab);
    eprintln!("{test}: charon got 10.3.0.1 and the DNS server, {answered}/3 pings from it answered");
}

/// The other direction: our peer is the road warrior (`leftsourceip=%config`), charon the
/// gateway with a pool. We get 10.4.0.1 and the pool's DNS server, put the address on the TUN
/// device, and ping charon's LAN from it; on exit the address goes with the device.
#[test]
fn our_peer_gets_a_virtual_ip_from_a_strongswan_gateway() {
    let test = "our_peer_gets_a_virtual_ip_from_a_strongswan_gateway";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("vip-rw").unwrap();
    let charon = lab
        .start_charon(&CharonConfig {
            pool: Some("10.4.0.0/24"),
            pool_dns: Some("192.168.20.53"),
            ..seed_charon()
        })
        .unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    )
    .replace(
        &format!("    leftsubnet={}\n", lab.site_a.lan_net),
        "    leftsourceip=%config\n",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    lab.a.ip(&["route", "del", "default"]).unwrap();
    let up = match Lab::ping_until_up(&lab.a, "10.4.0.1", &lab.site_b.lan_addr, Duration::from_secs(20)) {
        Ok(d) => d,
        Err(e) => panic!("{e}\n{}", report(&lab, &peer, &charon)),
    };
    let addrs = lab.a.ip(&["addr", "show", "dev", "ipsec-rs0"]).unwrap();
    assert!(addrs.contains("10.4.0.1/32"), "{addrs}");
    let sas = charon.list_sas().unwrap();
    let has = |want: String| {
        sas.lines()
            .any(|l| l.split_whitespace().eq(want.split_whitespace()))
    };
    assert!(
        has(format!("local {}", lab.site_b.lan_net)) && has("remote 10.4.0.1/32".into()),
        "charon's selectors:\n{sas}\n{}",
        report(&lab, &peer, &charon)
    );
    assert_esp_both_ways(&sas);
    let log = peer.log();
    assert!(
        log.lines()
            .any(|l| l.contains("DNS servers assigned") && l.contains("192.168.20.53")),
        "the gateway's DNS server is not in our log\n{}",
        report(&lab, &peer, &charon)
    );
    stop_peer_cleanly(&mut lab);
    eprintln!("{test}: got 10.4.0.1 and DNS server 192.168.20.53, first ping from it answered after {up:?}");
}

/// IKE and ESP proposals of the matrix (issue 6, item 2, PSK column): AES-GCM-256,
/// ChaCha20-Poly1305 and AES-CBC-256 + HMAC-SHA2-256 × Curve25519, ECP-256, MODP-2048. Our side
/// writes them in `ipsec.conf` syntax (strict), charon in swanctl syntax.
const MATRIX: &[(&str, &str)] = &[
    ("aes256gcm16-prfsha256-x25519", "aes256gcm16"),
    ("aes256gcm16-prfsha256-ecp256", "aes256gcm16"),
    ("aes256gcm16-prfsha256-modp2048", "aes256gcm16"),
    ("chacha20poly1305-prfsha256-x25519", "chacha20poly1305"),
    ("chacha20poly1305-prfsha256-ecp256", "chacha20poly1305"),
    ("chacha20poly1305-prfsha256-modp2048", "chacha20poly1305"),
    ("aes256-sha256-x25519", "aes256-sha256"),
    ("aes256-sha256-ecp256", "aes256-sha256"),
    ("aes256-sha256-modp2048", "aes256-sha256"),
];

/// Runs one matrix case in a fresh lab; `Err` says what failed (with both logs).
fn matrix_case(we_initiate: bool, ike: &str, esp: &str) -> Result<Duration, String> {
    let mut lab = Lab::new("matrix").map_err(|e| e.to_string())?;
    let cfg = CharonConfig {
        ike: ike.into(),
        esp: esp.into(),
        auth: Auth::Psk(PSK.into()),
        ..CharonConfig::default()
    };
    let charon = lab.start_charon(&cfg).map_err(|e| e.to_string())?;
    let auto = if we_initiate { "start" } else { "add" };
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        auto,
        &format!("{ike}!"),
        &format!("{esp}!"),
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let result = (|| {
        if !we_initiate {
            charon.initiate(Duration::from_secs(20))?;
        }
        let (_, back) = ping_both_ways(&lab)?;
        if back < 2 {
            return Err(LabError::new(format!("B→A: {back}/3 answered")));
        }
        Ok(t0.elapsed())
    })();
    result.map_err(|e| format!("{e}\n{}", report(&lab, &peer, &charon)))
}

fn run_matrix(test: &str, we_initiate: bool) {
    if !prerequisites(test) {
        return;
    }
    let mut failures = Vec::new();
    for (ike, esp) in MATRIX {
        match matrix_case(we_initiate, ike, esp) {
            Ok(d) => eprintln!("{test}: {ike} / {esp}: OK, tunnel carried pings after {d:?}"),
            Err(e) => {
                eprintln!("{test}: {ike} / {esp}: FAILED");
                failures.push(format!("=== {ike} / {esp}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        MATRIX.len(),
        failures.join("\n")
    );
}

#[test]
fn matrix_psk_our_peer_initiates() {
    run_matrix("matrix_psk_our_peer_initiates", true);
}

#[test]
fn matrix_psk_strongswan_initiates() {
    run_matrix("matrix_psk_strongswan_initiates", false);
}

/// Issue 6, item 5: a capture of our tunnel, decrypted by tshark with nothing but our key log
/// (`--keylog`: Wireshark `esp_sa` and `ikev2_decryption_table` lines), shows the inner ICMP
/// between the two LANs and the identities inside IKE_AUTH.
#[test]
fn tshark_decrypts_our_tunnel_with_our_key_log() {
    let test = "tshark_decrypts_our_tunnel_with_our_key_log";
    if !prerequisites(test) {
        return;
    }
    if interop::netns::output(std::process::Command::new("tshark").arg("--version")).is_err() {
        ipsec_tests::skip(test, "tshark is not installed (apt: tshark)");
        return;
    }
    let mut lab = Lab::new("tshark").unwrap();
    let charon = lab
        .start_charon(&CharonConfig {
            auth: Auth::Psk(PSK.into()),
            ..CharonConfig::default()
        })
        .unwrap();
    let pcap = lab.dir.join("wan.pcapng");
    let capture = interop::capture::Capture::start(&lab.b, "wan", &pcap).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256gcm16-prfsha256-x25519!",
        "aes256gcm16!",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    if let Err(e) = ping_both_ways(&lab) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    // Give dumpcap a moment to write the last packets before it is stopped.
    std::thread::sleep(Duration::from_millis(500));
    let pcap = capture.stop().unwrap();
    let keys = peer.keys();
    let lines: Vec<&str> = keys.lines().filter(|l| l.starts_with("\"IPv4\"")).collect();
    assert_eq!(lines.len(), 2, "one line per direction expected:\n{keys}");
    let mut options = vec!["esp.enable_encryption_decode:TRUE".to_owned()];
    options.extend(lines.iter().map(|l| format!("uat:esp_sa:{l}")));
    let inner =
        interop::capture::read_fields(&pcap, &options, "icmp", &["ip.src", "ip.dst", "icmp.type"]).unwrap();
    let requests = inner
        .iter()
        .filter(|l| l.contains("192.168.10.1") && l.contains("192.168.20.1") && l.ends_with("\t8"))
        .count();
    let replies = inner.iter().filter(|l| l.ends_with("\t0")).count();
    // 1 echo request A→B and 3 B→A, each answered.
    assert!(
        requests >= 3 && replies >= 3,
        "decrypted ICMP not found ({} ICMP lines):\n{}",
        inner.len(),
        inner.join("\n")
    );
    // The IKE SA's line (Wireshark's IKEv2 decryption table) opens IKE_AUTH: both identities.
    let ike_lines: Vec<&str> = keys
        .lines()
        .filter(|l| !l.starts_with('"') && !l.starts_with('#') && !l.is_empty())
        .collect();
    assert!(!ike_lines.is_empty(), "no IKE SA line in the key log:\n{keys}");
    let ike_options: Vec<String> = ike_lines
        .iter()
        .map(|l| format!("uat:ikev2_decryption_table:{l}"))
        .collect();
    let ids = interop::capture::read_fields(
        &pcap,
        &ike_options,
        "isakmp.id.data.ipv4_addr",
        &["isakmp.id.data.ipv4_addr"],
    )
    .unwrap()
    .join(",");
    assert!(
        ids.contains(&lab.site_a.id) && ids.contains(&lab.site_b.id),
        "IKE_AUTH not decrypted with our key log (IDs seen: {ids:?})"
    );
    let hidden = interop::capture::read_fields(
        &pcap,
        &[],
        "isakmp.id.data.ipv4_addr",
        &["isakmp.id.data.ipv4_addr"],
    )
    .unwrap();
    assert!(hidden.is_empty(), "IDs visible without keys: {hidden:?}");
    // Without the keys the same capture shows no ICMP at all: the decryption did the work.
    let plain = interop::capture::read_fields(&pcap, &[], "icmp", &["ip.src"]).unwrap();
    assert!(plain.is_empty(), "ICMP visible without keys: {plain:?}");
    eprintln!("{test}: {requests} echo requests and {replies} replies decrypted");
}

/// The control socket as a keepalived notify script uses it: `status`, `list-sas` (SPIs,
/// algorithm, packets both ways, time to rekey), `down` (the tunnel goes, charon sees the
/// DELETE), `up` (it comes back), `reload`, and the exit codes of a refused command and of a
/// peer that is gone.
#[test]
fn control_socket_down_up_status_and_list_sas() {
    let test = "control_socket_down_up_status_and_list_sas";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("control").unwrap();
    let charon = lab.start_charon(&seed_charon()).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    if let Err(e) = ping_both_ways(&lab) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    let (code, status) = peer.control(&["status"]).unwrap();
    assert_eq!(code, Some(0), "{status}");
    assert!(
        status.contains("site-to-site-vpn") && status.contains("ESTABLISHED"),
        "{status}"
    );
    let (code, sas) = peer.control(&["list-sas"]).unwrap();
    assert_eq!(code, Some(0), "{sas}");
    assert!(
        sas.contains("TUNNEL-in-UDP") && sas.contains("rekeying in"),
        "{sas}"
    );
    assert!(
        sas.contains("local  192.168.10.0/24") && sas.contains("remote 192.168.20.0/24"),
        "{sas}"
    );
    let out_packets: u64 = sas
        .lines()
        .filter(|l| l.trim_start().starts_with("out "))
        .filter_map(|l| {
            l.split(',')
                .find_map(|p| p.trim().strip_suffix(" packets")?.parse::<u64>().ok())
        })
        .sum();
    assert!(out_packets >= 4, "outbound packets not counted:\n{sas}");

    let (code, text) = peer.control(&["down", "site-to-site-vpn"]).unwrap();
    assert_eq!(code, Some(0), "{text}");
    let t0 = Instant::now();
    while charon.list_sas().unwrap().contains("ESTABLISHED") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "charon kept the IKE SA after `down`"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let lost = Lab::ping(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        1,
        Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(lost, 0, "traffic passed with the tunnel down");

    let (code, text) = peer.control(&["up", "site-to-site-vpn"]).unwrap();
    assert_eq!(code, Some(0), "{text}");
    if let Err(e) = Lab::ping_until_up(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        Duration::from_secs(20),
    ) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }

    // A reload that fails (`%defaultroute` while A has no default route) is refused with exit
    // code 4 and leaves the running tunnel alone.
    let (code, text) = peer.control(&["reload"]).unwrap();
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("%defaultroute"), "{text}");
    let still = Lab::ping(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        1,
        Duration::from_secs(2),
    )
    .unwrap();
    assert_eq!(still, 1, "a refused reload broke the tunnel");
    // With the route back, `reload` re-reads ipsec.conf, tears down and starts again
    // (auto=start): the tunnel returns.
    lab.a
        .ip(&["route", "add", "default", "via", "198.18.0.2"])
        .unwrap();
    let (code, text) = peer.control(&["reload"]).unwrap();
    lab.a.ip(&["route", "del", "default"]).unwrap();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("reloaded: 1 connection(s)"), "{text}");
    if let Err(e) = Lab::ping_until_up(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        Duration::from_secs(20),
    ) {
        panic!("after reload: {e}\n{}", report(&lab, &peer, &charon));
    }

    let (code, text) = peer.control(&["up", "no-such-conn"]).unwrap();
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("no connection named"), "{text}");
    stop_peer_cleanly(&mut lab);
    let (code, text) = peer.control(&["status"]).unwrap();
    assert_eq!(code, Some(1), "no peer runs any more: {text}");
}

/// Pings A→B every 100 ms for `duration` in the background; returns (sent, answered).
fn background_ping(lab: &Lab, duration: Duration) -> std::thread::JoinHandle<(u32, u32)> {
    let count = u32::try_from(duration.as_millis() / 100).unwrap();
    let mut cmd = lab.a.command("ping");
    cmd.args(["-n", "-q", "-i", "0.1", "-W", "1", "-c", &count.to_string(), "-I"])
        .arg(&lab.site_a.lan_addr)
        .arg(&lab.site_b.lan_addr);
    std::thread::spawn(move || {
        let out = interop::netns::output(&mut cmd).unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let received = text
            .split(',')
            .find_map(|p| {
                p.trim()
                    .strip_suffix(" received")
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0);
        (count, received)
    })
}

/// Issue 6, item 3 (strongSwan's side): CHILD SA rekey, then IKE SA rekey, started by charon
/// during a continuous ping; at most one ping lost, and the tunnel still works afterwards.
#[test]
fn rekey_started_by_strongswan_during_ping() {
    let test = "rekey_started_by_strongswan_during_ping";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("rekey-sw").unwrap();
    let charon = lab.start_charon(&seed_charon()).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    if let Err(e) = ping_both_ways(&lab) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    let pinger = background_ping(&lab, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(1000));
    charon.rekey_child().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    charon.rekey_ike().unwrap();
    let (sent, answered) = pinger.join().unwrap();
    let log = peer.log();
    let installs = log.matches("CHILD SA installed").count();
    assert!(
        installs >= 2,
        "no rekeyed CHILD SA installed\n{}",
        report(&lab, &peer, &charon)
    );
    assert!(
        log.contains("IKE SA rekeyed"),
        "no IKE rekey seen\n{}",
        report(&lab, &peer, &charon)
    );
    assert!(
        sent - answered <= 1,
        "{} of {sent} pings lost during rekey\n{}",
        sent - answered,
        report(&lab, &peer, &charon)
    );
    let after = Lab::ping(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        2,
        Duration::from_secs(1),
    )
    .unwrap();
    assert!(
        after >= 1,
        "tunnel dead after the rekeys\n{}",
        report(&lab, &peer, &charon)
    );
    eprintln!("{test}: {answered}/{sent} pings answered across CHILD and IKE rekey");
}

/// Issue 6, item 3 (our side): short lifetimes make our peer rekey the CHILD SA (after 5 s) and
/// the IKE SA (after 7 s) during a continuous ping; at most one ping lost.
#[test]
fn rekey_started_by_our_peer_during_ping() {
    let test = "rekey_started_by_our_peer_during_ping";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("rekey-us").unwrap();
    let charon = lab.start_charon(&seed_charon()).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    )
    .replace("ikelifetime=1h", "ikelifetime=10s")
    .replace("lifetime=8h", "lifetime=8s\n    margintime=3s\n    rekeyfuzz=0%");
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    if let Err(e) = ping_both_ways(&lab) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    let (sent, answered) = background_ping(&lab, Duration::from_secs(9)).join().unwrap();
    let log = peer.log();
    assert!(
        log.matches("CHILD SA installed").count() >= 2,
        "our peer did not rekey the CHILD SA\n{}",
        report(&lab, &peer, &charon)
    );
    assert!(
        log.contains("IKE SA rekeyed"),
        "our peer did not rekey the IKE SA\n{}",
        report(&lab, &peer, &charon)
    );
    assert!(
        sent - answered <= 1,
        "{} of {sent} pings lost during rekey\n{}",
        sent - answered,
        report(&lab, &peer, &charon)
    );
    eprintln!("{test}: {answered}/{sent} pings answered across our CHILD and IKE rekeys");
}

/// Both ends rekey at the same moments (RFC 7296 §2.8.1, §2.8.2): our peer and charon with the
/// same exact rekey times (CHILD SA after 5 s and 10 s, IKE SA after 7 s, no jitter on either
/// side) during a continuous ping. Whether a given rekey collides depends on a millisecond of
/// timing, so the test asserts only what must hold either way: at most one lost ping, and one
/// IKE SA with one CHILD SA on each side at the end, still carrying traffic. It reports the
/// collisions charon logged.
#[test]
fn simultaneous_rekeys_with_strongswan_converge() {
    let test = "simultaneous_rekeys_with_strongswan_converge";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("rekey-both").unwrap();
    let charon_cfg = CharonConfig {
        ike_rekey: Duration::from_secs(7),
        child_rekey: Duration::from_secs(5),
        exact_rekey: true,
        ..seed_charon()
    };
    let charon = lab.start_charon(&charon_cfg).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    )
    .replace("ikelifetime=1h", "ikelifetime=10s")
    .replace("lifetime=8h", "lifetime=8s\n    margintime=3s\n    rekeyfuzz=0%");
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    if let Err(e) = ping_both_ways(&lab) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    let (sent, answered) = background_ping(&lab, Duration::from_secs(11)).join().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        sent - answered <= 1,
        "{} of {sent} pings lost\n{}",
        sent - answered,
        report(&lab, &peer, &charon)
    );
    let sas = charon.list_sas().unwrap();
    assert_eq!(
        sas.matches("ESTABLISHED").count(),
        1,
        "IKE SAs:\n{sas}\n{}",
        report(&lab, &peer, &charon)
    );
    assert_eq!(
        sas.matches("INSTALLED").count(),
        1,
        "CHILD SAs:\n{sas}\n{}",
        report(&lab, &peer, &charon)
    );
    let log = peer.log();
    assert!(
        log.contains("IKE SA rekeyed"),
        "no IKE rekey\n{}",
        report(&lab, &peer, &charon)
    );
    let after = Lab::ping(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        2,
        Duration::from_secs(1),
    )
    .unwrap();
    assert!(
        after >= 1,
        "tunnel dead after the rekeys\n{}",
        report(&lab, &peer, &charon)
    );
    let collisions = charon
        .log()
        .lines()
        .filter(|l| l.contains("collision"))
        .map(|l| l.split_once(']').map_or(l, |(_, r)| r).trim().to_owned())
        .collect::<Vec<_>>();
    eprintln!(
        "{test}: {answered}/{sent} pings answered; charon logged {} collision line(s): {collisions:?}",
        collisions.len()
    );
    stop_peer_cleanly(&mut lab);
}

/// Issue 6, item 4: `dpdaction=restart` (with `dpddelay=2s`, `dpdtimeout=8s` instead of the
/// seed's 30 s / 120 s to keep the test short). charon crashes (SIGKILL, no DELETE) and is
/// started again; our peer detects the dead peer and re-establishes the tunnel without a
/// manual step, within dpddelay + dpdtimeout + one retry.
#[test]
fn dpd_restart_after_strongswan_crash() {
    let test = "dpd_restart_after_strongswan_crash";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("dpd").unwrap();
    let cfg = seed_charon();
    let charon = lab.start_charon(&cfg).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256-sha2_256-modp1024!",
        "aes256-sha2_256!",
    )
    .replace("dpddelay=30", "dpddelay=2s")
    .replace("dpdtimeout=120", "dpdtimeout=8s");
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &[]).unwrap();
    if let Err(e) = ping_both_ways(&lab) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    lab.kill("charon").unwrap();
    let killed = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let charon = lab.start_charon(&cfg).unwrap();
    let budget = Duration::from_secs(2 + 8 + 10);
    match Lab::ping_until_up(&lab.a, &lab.site_a.lan_addr, &lab.site_b.lan_addr, budget) {
        Ok(_) => eprintln!("{test}: tunnel back {:?} after the crash", killed.elapsed()),
        Err(e) => panic!("{e}\n{}", report(&lab, &peer, &charon)),
    }
    assert!(
        peer.log().matches("IKE SA established").count() >= 2,
        "{}",
        report(&lab, &peer, &charon)
    );
}

/// One certificate case: a lab CA and certificates (IP-address identities as subjectAltName)
/// from strongSwan's `pki`; our peer reads `leftcert`, `: ECDSA|RSA <key>` from ipsec.secrets
/// and the CA from `ipsec.d/cacerts/` beside its ipsec.conf.
fn cert_case(
    pki: &interop::pki::LabPki,
    key_type: interop::pki::KeyType,
    we_initiate: bool,
    (ike, esp): (&str, &str),
) -> Result<Duration, String> {
    let mut lab = Lab::new("cert").map_err(|e| e.to_string())?;
    let ids = [lab.site_a.id.clone(), lab.site_b.id.clone()];
    let auth = match key_type {
        interop::pki::KeyType::Ecdsa => Auth::Ecdsa,
        interop::pki::KeyType::Rsa => Auth::Rsa,
    };
    let cfg = CharonConfig {
        ike: ike.into(),
        esp: esp.into(),
        auth,
        ..CharonConfig::default()
    };
    let charon = lab.start_charon_with_pki(&cfg, pki).map_err(|e| e.to_string())?;
    let (_, ours) = pki
        .issued
        .iter()
        .find(|(id, _)| *id == ids[0])
        .ok_or("no certificate for us")?;
    let cacerts = lab.dir.join("peer/ipsec.d/cacerts");
    std::fs::create_dir_all(&cacerts).map_err(|e| e.to_string())?;
    std::fs::copy(&pki.ca_cert, cacerts.join("lab-ca.crt")).map_err(|e| e.to_string())?;
    let auto = if we_initiate { "start" } else { "add" };
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        auto,
        &format!("{ike}!"),
        &format!("{esp}!"),
    )
    .replace("authby=secret", "authby=pubkey")
    .replace(
        "    right=",
        &format!(
            "    leftcert={}\n    rightid={}\n    right=",
            ours.cert.display(),
            lab.site_b.id
        ),
    );
    let kind = if key_type == interop::pki::KeyType::Rsa {
        "RSA"
    } else {
        "ECDSA"
    };
    let secrets = format!(": {kind} {}\n", ours.key.display());
    let peer = lab.start_peer(&conf, &secrets, &[]).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let result = (|| {
        if !we_initiate {
            charon.initiate(Duration::from_secs(20))?;
        }
        let (_, back) = ping_both_ways(&lab)?;
        if back < 2 {
            return Err(LabError::new(format!("B→A: {back}/3 answered")));
        }
        // charon verified our signature: "authentication of '198.18.0.1' with ECDSA_... successful".
        let verified = format!("authentication of '{}' with {kind}", lab.site_a.id);
        let log = charon.log();
        if !log
            .lines()
            .any(|l| l.contains(&verified) && l.contains("successful"))
        {
            return Err(LabError::new(format!(
                "charon did not log {verified:?} ... successful"
            )));
        }
        // RSA-2048 certificates make IKE_AUTH exceed the fragment size both ways: RFC 7383
        // fragments, split by each side and reassembled by the other.
        if key_type == interop::pki::KeyType::Rsa {
            let ours_received = peer
                .log()
                .lines()
                .filter(|l| l.contains("received IKE_AUTH"))
                .count();
            if !log.contains("reassembled fragmented IKE message")
                || !log.contains("splitting IKE message")
                || ours_received < 2
            {
                return Err(LabError::new(format!(
                    "IKE_AUTH not fragmented both ways (we received {ours_received} IKE_AUTH datagrams)"
                )));
            }
        }
        Ok(t0.elapsed())
    })();
    result.map_err(|e| format!("{e}\n{}", report(&lab, &peer, &charon)))
}

/// Issue 6, item 2 (certificate rows): ECDSA P-256 and RSA-2048 certificates × the cipher and
/// group matrix × both roles (one lab CA per key type, shared by its cases).
fn run_cert_matrix(test: &str, key_type: interop::pki::KeyType) {
    if !prerequisites(test) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ipsec-interop-pki-{key_type:?}-{}", std::process::id()));
    let pki = interop::pki::make(&dir, key_type, &["198.18.0.1", "198.18.0.2"]).unwrap();
    let mut failures = Vec::new();
    for we_initiate in [true, false] {
        for &(ike, esp) in MATRIX {
            let case = format!(
                "{ike} / {esp}, our peer {}",
                if we_initiate { "initiates" } else { "responds" }
            );
            match cert_case(&pki, key_type, we_initiate, (ike, esp)) {
                Ok(d) => eprintln!("{test}: {case}: OK after {d:?}"),
                Err(e) => {
                    eprintln!("{test}: {case}: FAILED");
                    failures.push(format!("=== {case}: {e}"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn matrix_ecdsa_certificates_both_roles() {
    run_cert_matrix(
        "matrix_ecdsa_certificates_both_roles",
        interop::pki::KeyType::Ecdsa,
    );
}

#[test]
fn matrix_rsa_certificates_both_roles() {
    run_cert_matrix("matrix_rsa_certificates_both_roles", interop::pki::KeyType::Rsa);
}

/// Issue 6, benchmark: iperf3 (TCP, 5 s, LAN A → LAN B) through our tunnel (ipsec-peer ↔ charon)
/// and through charon ↔ charon on the same namespaces in the same run; prints both and the
/// ratio, asserts only that data flowed (tests never assert timings). Ignored by default: it
/// loads both cores for ~15 s and needs iperf3 (`cargo test -p ipsec-tests --test
/// interop_strongswan -- --ignored iperf3`).
#[test]
#[ignore = "benchmark; run with --ignored (needs root, strongSwan and iperf3)"]
fn iperf3_our_tunnel_vs_strongswan() {
    let test = "iperf3_our_tunnel_vs_strongswan";
    if !prerequisites(test) {
        return;
    }
    let mut lab = Lab::new("iperf3").unwrap();
    let cfg = CharonConfig {
        auth: Auth::Psk(PSK.into()),
        keylog: false,
        ..CharonConfig::default()
    };
    let charon = lab.start_charon(&cfg).unwrap();
    let conf = seed_conf(
        &lab.site_a,
        &lab.site_b,
        "start",
        "aes256gcm16-prfsha256-x25519!",
        "aes256gcm16!",
    );
    let secrets = seed_secrets(&lab.site_a, &lab.site_b, PSK);
    let peer = lab.start_peer(&conf, &secrets, &["--log-level", "info"]).unwrap();
    if let Err(e) = ping_both_ways(&lab) {
        panic!("{e}\n{}", report(&lab, &peer, &charon));
    }
    let ours = lab.iperf3(5).unwrap();
    lab.stop("ipsec-peer").unwrap();
    let charon_a = lab.start_charon_a(&cfg).unwrap();
    charon_a.initiate(Duration::from_secs(20)).unwrap();
    Lab::ping_until_up(
        &lab.a,
        &lab.site_a.lan_addr,
        &lab.site_b.lan_addr,
        Duration::from_secs(10),
    )
    .unwrap();
    let theirs = lab.iperf3(5).unwrap();
    assert!(ours > 0.0 && theirs > 0.0);
    eprintln!(
        "{test}: AES-GCM-256, TCP 5 s: ipsec-peer↔charon {:.0} Mbit/s, charon↔charon {:.0} Mbit/s, ratio {:.2}",
        ours / 1e6,
        theirs / 1e6,
        ours / theirs
    );
}
