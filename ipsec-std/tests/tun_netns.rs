//! TUN device, routes and cleanup, each test inside a network namespace it creates and deletes.
//!
//! Needs root (and `/dev/net/tun`, iproute2). Elsewhere each test prints `SKIPPED ... (not
//! root)` and returns — except under `CI=true`, where a skip is a failure.
//!
//! The in-process tests move only their own thread into the namespace (`setns` is per thread);
//! the SIGTERM test runs this same binary as a child inside the namespace, so a real signal
//! hits a real process.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ipsec_std::cleanup::Cleanup;
use ipsec_std::route::{Route, add_route};
use ipsec_std::shutdown::ShutdownSignal;
use ipsec_std::tun::{TunConfig, TunDevice};
use ipsec_std::wait::wait_readable;
use nix::sched::{CloneFlags, setns};

/// True under CI (`CI=true`), where tests must not skip (the rule of `ipsec_tests::skip`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reports a skip, or fails under CI.
fn skip(test: &str, reason: &str) {
    assert!(!in_ci(), "{test}: cannot run under CI: {reason}");
    eprintln!("SKIPPED {test}: {reason}");
}

/// Why this host cannot run the tests, if it cannot.
fn unavailable() -> Option<&'static str> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs network namespaces and a TUN device (not root)");
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun missing");
    }
    None
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("iproute2 installed");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace named `ipx<pid>s<n>`, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("ipx{}s{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        ip(&["netns", "add", &name]);
        let ns = Self { name };
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// Runs a command inside the namespace and returns its stdout.
    fn exec(&self, cmd: &[&str]) -> String {
        let mut args = vec!["netns", "exec", self.name.as_str()];
        args.extend(cmd);
        ip(&args)
    }

    /// Moves the calling thread into the namespace until the guard drops.
    fn enter(&self) -> Entered {
        let original = File::open(format!("/proc/self/task/{}/ns/net", nix::unistd::gettid())).unwrap();
        let target = File::open(format!("/run/netns/{}", self.name)).unwrap();
        setns(target.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
        Entered { original }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

struct Entered {
    original: File,
}

impl Drop for Entered {
    fn drop(&mut self) {
        setns(self.original.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
    }
}

fn link_exists(name: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", name])
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// A minimal IPv4/UDP packet (UDP checksum 0 = none, allowed over IPv4, RFC 768).
fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + 8 + payload.len()).unwrap();
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend(src.octets());
    p.extend(dst.octets());
    let mut sum: u32 = p
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let csum = !(sum as u16);
    p[10..12].copy_from_slice(&csum.to_be_bytes());
    p.extend(sport.to_be_bytes());
    p.extend(dport.to_be_bytes());
    p.extend((u16::try_from(8 + payload.len()).unwrap()).to_be_bytes());
    p.extend([0, 0]);
    p.extend(payload);
    p
}

#[test]
fn tun_carries_packets_both_ways_and_routes_are_cleaned_up() {
    if let Some(why) = unavailable() {
        return skip("tun_carries_packets_both_ways_and_routes_are_cleaned_up", why);
    }
    let ns = Netns::new();
    let _inside = ns.enter();

    let tun = TunDevice::create(&TunConfig {
        name: Some("ipxtun0".into()),
        mtu: 1380,
        ipv4: Some((Ipv4Addr::new(10, 77, 1, 1), 24)),
        ..TunConfig::default()
    })
    .unwrap();
    assert_eq!(tun.name(), "ipxtun0");
    assert_eq!(tun.mtu().unwrap(), 1380);
    assert!(tun.index().unwrap() > 0);
    let link = ip(&["-o", "link", "show", "ipxtun0"]);
    assert!(link.contains("mtu 1380") && link.contains(",UP"), "{link}");

    let mut cleanup = Cleanup::new();
    let mut route = tun.route("10.77.2.0/24".parse().unwrap());
    route.source = Some("10.77.1.1".parse().unwrap());
    add_route(&route, &mut cleanup).unwrap();
    let table = ip(&["route", "show"]);
    assert!(table.contains("10.77.2.0/24 dev ipxtun0"), "{table}");
    // Adding it twice is an error from `ip`, not a silent replace.
    let e = add_route(&route, &mut cleanup).unwrap_err();
    assert!(e.to_string().contains("File exists"), "{e}");
    assert_eq!(cleanup.len(), 1);

    // Outbound: the host routes a datagram for the protected subnet into the device.
    let app = UdpSocket::bind("10.77.1.1:0").unwrap();
    app.send_to(b"to the tunnel", "10.77.2.9:7777").unwrap();
    let mut buf = [0u8; 2048];
    let deadline = Instant::now() + Duration::from_secs(5);
    let packet = loop {
        let mut ready = [false];
        wait_readable(&[tun.as_fd()], &mut ready, Some(Duration::from_millis(200))).unwrap();
        if let Some(n) = tun.read(&mut buf).unwrap() {
            let p = &buf[..n];
            // Skip IPv6 router solicitations and the like; we want our IPv4/UDP packet.
            if p[0] >> 4 == 4 && p[9] == 17 {
                break p.to_vec();
            }
        }
        assert!(Instant::now() < deadline, "no packet from the TUN device");
    };
    assert_eq!(&packet[12..16], &[10, 77, 1, 1]);
    assert_eq!(&packet[16..20], &[10, 77, 2, 9]);
    assert_eq!(&packet[28..], b"to the tunnel");

    // Inbound: a packet written to the device reaches the local socket.
    let port = app.local_addr().unwrap().port();
    let reply = ipv4_udp(
        Ipv4Addr::new(10, 77, 2, 9),
        Ipv4Addr::new(10, 77, 1, 1),
        7777,
        port,
        b"from the tunnel",
    );
    tun.write(&reply).unwrap();
    app.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (n, from) = app.recv_from(&mut buf).unwrap();
    assert_eq!(
        (&buf[..n], from),
        (&b"from the tunnel"[..], "10.77.2.9:7777".parse().unwrap())
    );

    // Cleanup removes the route; dropping the device removes the interface.
    assert!(cleanup.run_all().is_empty());
    assert!(!ip(&["route", "show"]).contains("10.77.2.0/24"));
    drop(tun);
    assert!(!link_exists("ipxtun0"));
}

#[test]
fn cleanup_guard_removes_routes_when_a_panic_unwinds() {
    if let Some(why) = unavailable() {
        return skip("cleanup_guard_removes_routes_when_a_panic_unwinds", why);
    }
    let ns = Netns::new();
    let _inside = ns.enter();
    let result = std::panic::catch_unwind(|| {
        let tun = TunDevice::create(&TunConfig {
            name: Some("ipxtun1".into()),
            ..TunConfig::default()
        })
        .unwrap();
        let mut cleanup = Cleanup::new();
        // A route over `lo` does not vanish with the TUN device: only the guard removes it.
        add_route(&Route::new("10.78.0.0/16".parse().unwrap(), "lo"), &mut cleanup).unwrap();
        add_route(&tun.route("10.79.0.0/16".parse().unwrap()), &mut cleanup).unwrap();
        assert!(ip(&["route", "show"]).contains("10.78.0.0/16 dev lo"));
        panic!("simulated driver failure");
    });
    assert!(result.is_err());
    let table = ip(&["route", "show"]);
    assert!(
        !table.contains("10.78.0.0/16") && !table.contains("10.79.0.0/16"),
        "{table}"
    );
    assert!(!link_exists("ipxtun1"));
}

const CHILD_ENV: &str = "IPSEC_STD_SIGTERM_CHILD";

/// The child half of the SIGTERM test: set up, report ready, wait for the signal, clean up.
fn sigterm_child() {
    let shutdown = ShutdownSignal::install().unwrap();
    let tun = TunDevice::create(&TunConfig {
        name: Some("ipxtun2".into()),
        ..TunConfig::default()
    })
    .unwrap();
    let mut cleanup = Cleanup::new();
    add_route(&Route::new("10.80.0.0/16".parse().unwrap(), "lo"), &mut cleanup).unwrap();
    add_route(&tun.route("10.81.0.0/16".parse().unwrap()), &mut cleanup).unwrap();
    println!("READY");
    let mut ready = [false];
    while !shutdown.is_requested() {
        wait_readable(&[shutdown.fd()], &mut ready, Some(Duration::from_secs(20))).unwrap();
        shutdown.drain();
    }
    drop(cleanup);
    drop(tun);
    println!("CLEAN");
}

#[test]
fn sigterm_removes_routes_and_device() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return sigterm_child();
    }
    if let Some(why) = unavailable() {
        return skip("sigterm_removes_routes_and_device", why);
    }
    let ns = Netns::new();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(&exe)
        .args([
            "--exact",
            "sigterm_removes_routes_and_device",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.by_ref().map(Result::unwrap).any(|l| l.contains("READY"));
    assert!(ready, "child did not get ready");
    let table = ns.exec(&["ip", "route", "show"]);
    assert!(
        table.contains("10.80.0.0/16 dev lo") && table.contains("10.81.0.0/16 dev ipxtun2"),
        "{table}"
    );

    // `ip netns exec` execs the test binary, so the child PID is the test process itself.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    // Read to the end: closing the pipe early would fail the child's own report with EPIPE.
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let clean = rest.iter().any(|l| l.contains("CLEAN"));
    let status = child.wait().unwrap();
    assert!(clean && status.success(), "child: clean={clean} {status}");
    let table = ns.exec(&["ip", "route", "show"]);
    assert!(
        !table.contains("10.80.0.0/16") && !table.contains("10.81.0.0/16"),
        "{table}"
    );
    assert!(!ns.exec(&["ip", "link", "show"]).contains("ipxtun2"));
}
