//! The interop lab: two network namespaces joined by a veth "WAN", a "LAN" behind each gateway,
//! strongSwan (charon with userspace ESP) on one side and our `ipsec-peer` on the other.
//!
//! Everything the lab creates it removes again, in this order on drop: the processes it started
//! (by PID, after checking `/proc/PID/exe`), then the namespaces (which takes the veths, the TUN
//! devices and the routes in them). Traffic never leaves the two namespaces. Namespace names
//! carry the test process's PID and a counter, so parallel tests never share one.

pub mod capture;
pub mod netns;
pub mod pki;
pub mod process;
pub mod strongswan;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use netns::{Netns, output};
use process::Tracked;
use strongswan::{Charon, CharonConfig};

/// Why the lab could not do something.
#[derive(Debug)]
pub struct LabError(String);

impl LabError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }

    /// An I/O error on `path`.
    pub fn io(path: &Path, e: std::io::Error) -> Self {
        Self(format!("{}: {e}", path.display()))
    }
}

impl fmt::Display for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LabError {}

/// One gateway: its WAN address, IKE identity and protected LAN.
#[derive(Clone, Debug)]
pub struct Site {
    /// WAN address (no prefix).
    pub wan: String,
    /// IKE identity (here: the WAN address, as in the MISSION seed config).
    pub id: String,
    /// The protected network, CIDR.
    pub lan_net: String,
    /// The gateway's own address in it.
    pub lan_addr: String,
}

/// Why an interop test cannot run here (reported as a skip, or a failure under CI). Checked
/// once per test process.
pub fn missing_prerequisite() -> Option<String> {
    static RESULT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    RESULT.get_or_init(check_prerequisites).clone()
}

fn check_prerequisites() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("needs root (network namespaces, TUN devices)".into());
    }
    for tool in ["ip", "ping", "swanctl", strongswan::CHARON] {
        let found = if tool.starts_with('/') {
            Path::new(tool).exists()
        } else {
            std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).exists()))
        };
        if !found {
            return Some(format!(
                "{tool} is not installed (apt: strongswan-charon strongswan-swanctl iproute2 iputils-ping)"
            ));
        }
    }
    let libipsec = ["/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"];
    if !libipsec.iter().any(|p| Path::new(p).exists()) {
        return Some("strongSwan's kernel-libipsec plugin is missing (apt: libcharon-extra-plugins)".into());
    }
    let probe = format!(
        "ipr-probe-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    match Netns::create(&probe) {
        Ok(ns) => drop(ns),
        Err(e) => return Some(format!("cannot create a network namespace: {e}")),
    }
    None
}

/// The `ipsec-peer` binary, built by `cargo test --workspace` (the examples package has an
/// integration test, so cargo builds the binary) or, failing that, here with `cargo build`.
/// `cargo test -p ipsec-tests` alone does not rebuild an existing one: after changing the
/// peer, run `cargo build -p ipsec-examples --bin ipsec-peer` first or the tests run the old one.
pub fn peer_binary() -> Result<PathBuf, LabError> {
    let exe = std::env::current_exe().map_err(|e| LabError::new(format!("current_exe: {e}")))?;
    // target/<profile>/deps/<test> -> target/<profile>/ipsec-peer
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| LabError::new("cannot find the target directory"))?;
    let bin = profile_dir.join("ipsec-peer");
    if bin.exists() {
        return Ok(bin);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = profile_dir.parent().unwrap_or(profile_dir);
    let out = output(
        std::process::Command::new(cargo)
            .args(["build", "-p", "ipsec-examples", "--bin", "ipsec-peer"])
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(ipsec_tests::workspace_root()),
    )?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(LabError::new(format!(
            "ipsec-peer not built: {}",
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Two namespaces: `a` (our peer, LAN 192.168.10.0/24) and `b` (strongSwan, LAN 192.168.20.0/24),
/// WAN 198.18.0.1 ↔ 198.18.0.2 (RFC 2544 benchmarking space, inside the namespaces only).
pub struct Lab {
    // Dropped first: processes stop before their namespaces go.
    procs: Vec<Tracked>,
    /// Our side.
    pub a: Netns,
    /// strongSwan's side.
    pub b: Netns,
    /// Our site.
    pub site_a: Site,
    /// strongSwan's site.
    pub site_b: Site,
    /// Working directory (configs, logs, captures).
    pub dir: PathBuf,
}

impl Lab {
    /// Creates the namespaces, the WAN link and the LANs; `name` labels the directory.
    pub fn new(name: &str) -> Result<Self, LabError> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tag = format!("{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("ipsec-interop-{name}-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| LabError::io(&dir, e))?;
        let a = Netns::create(&format!("ipr-a-{tag}"))?;
        let b = Netns::create(&format!("ipr-b-{tag}"))?;
        let site_a = Site {
            wan: "198.18.0.1".into(),
            id: "198.18.0.1".into(),
            lan_net: "192.168.10.0/24".into(),
            lan_addr: "192.168.10.1".into(),
        };
        let site_b = Site {
            wan: "198.18.0.2".into(),
            id: "198.18.0.2".into(),
            lan_net: "192.168.20.0/24".into(),
            lan_addr: "192.168.20.1".into(),
        };
        a.link_to(&b, "wan", "198.18.0.1/24", "198.18.0.2/24")?;
        a.add_lan("lan", "192.168.10.1/24")?;
        b.add_lan("lan", "192.168.20.1/24")?;
        // `left=%defaultroute` needs a default route; it points at the peer namespace only.
        a.ip(&["route", "add", "default", "via", "198.18.0.2"])?;
        Ok(Self {
            procs: Vec::new(),
            a,
            b,
            site_a,
            site_b,
            dir,
        })
    }

    /// Writes the configuration for charon in `b` and starts it.
    pub fn start_charon(&mut self, cfg: &CharonConfig) -> Result<Charon, LabError> {
        let dir = self.dir.join("charon");
        strongswan::write_config(&dir, &self.site_b, &self.site_a, cfg)?;
        let (charon, tracked) = strongswan::start(&self.b, &dir, "charon")?;
        self.procs.push(tracked);
        Ok(charon)
    }

    /// Like [`Self::start_charon`], with the lab CA and charon's certificate and key from `pki`
    /// installed into its swanctl directories (`x509ca/`, `x509/`, `private/`).
    pub fn start_charon_with_pki(
        &mut self,
        cfg: &CharonConfig,
        pki: &pki::LabPki,
    ) -> Result<Charon, LabError> {
        let dir = self.dir.join("charon");
        strongswan::write_config(&dir, &self.site_b, &self.site_a, cfg)?;
        let sw = dir.join("swanctl");
        let copy = |from: &Path, to: PathBuf| {
            std::fs::copy(from, &to)
                .map(|_| ())
                .map_err(|e| LabError::io(&to, e))
        };
        copy(&pki.ca_cert, sw.join("x509ca/ca.crt"))?;
        let (_, mine) = pki
            .issued
            .iter()
            .find(|(id, _)| *id == self.site_b.id)
            .ok_or_else(|| LabError::new("no certificate for charon's identity"))?;
        copy(&mine.cert, sw.join(format!("x509/{}.crt", self.site_b.id)))?;
        copy(&mine.key, sw.join(format!("private/{}.key", self.site_b.id)))?;
        let (charon, tracked) = strongswan::start(&self.b, &dir, "charon")?;
        self.procs.push(tracked);
        Ok(charon)
    }

    /// Starts a second charon in `a` (in place of our peer), for strongSwan↔strongSwan
    /// comparisons; its process is labelled `charon-a`.
    pub fn start_charon_a(&mut self, cfg: &CharonConfig) -> Result<Charon, LabError> {
        let dir = self.dir.join("charon-a");
        strongswan::write_config(&dir, &self.site_a, &self.site_b, cfg)?;
        let (charon, tracked) = strongswan::start(&self.a, &dir, "charon-a")?;
        self.procs.push(tracked);
        Ok(charon)
    }

    /// Runs iperf3 (TCP, `seconds`) from A's LAN address to an iperf3 server on B's; returns the
    /// receiver's bits per second.
    pub fn iperf3(&mut self, seconds: u32) -> Result<f64, LabError> {
        let server = self
            .b
            .command("iperf3")
            .args(["-s", "-1", "-B", &self.site_b.lan_addr])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| LabError::new(format!("cannot start iperf3 -s: {e}")))?;
        self.procs
            .push(Tracked::new("iperf3-server", server, "/iperf3", Signal::SIGTERM));
        std::thread::sleep(Duration::from_millis(300));
        let out = output(self.a.command("iperf3").args([
            "-c",
            &self.site_b.lan_addr,
            "-B",
            &self.site_a.lan_addr,
            "-t",
            &seconds.to_string(),
            "-J",
        ]))?;
        let _ = self.stop("iperf3-server");
        let json = String::from_utf8_lossy(&out.stdout);
        json.split("\"sum_received\"")
            .nth(1)
            .and_then(|rest| rest.split("\"bits_per_second\":").nth(1))
            .and_then(|v| v.split([',', '}']).next())
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| LabError::new(format!("no iperf3 result:\n{json}")))
    }

    /// Stops the tracked process labelled `label` (e.g. to restart charon); returns its status.
    pub fn stop(&mut self, label: &str) -> Result<std::process::ExitStatus, LabError> {
        let pos = self
            .procs
            .iter()
            .position(|p| p.label() == label)
            .ok_or_else(|| LabError::new(format!("no process {label}")))?;
        let mut p = self.procs.remove(pos);
        p.stop()
    }

    /// Kills the tracked process `label` with SIGKILL (a crash: no DELETE is sent).
    pub fn kill(&mut self, label: &str) -> Result<std::process::ExitStatus, LabError> {
        let pos = self
            .procs
            .iter()
            .position(|p| p.label() == label)
            .ok_or_else(|| LabError::new(format!("no process {label}")))?;
        let mut p = self.procs.remove(pos);
        p.stop_with(Signal::SIGKILL)
    }

    /// Writes `ipsec.conf` and `ipsec.secrets` for our peer and starts `ipsec-peer run` in `a`.
    pub fn start_peer(&mut self, conf: &str, secrets: &str, extra: &[&str]) -> Result<OurPeer, LabError> {
        let dir = self.dir.join("peer");
        std::fs::create_dir_all(&dir).map_err(|e| LabError::io(&dir, e))?;
        let conf_file = dir.join("ipsec.conf");
        std::fs::write(&conf_file, conf).map_err(|e| LabError::io(&conf_file, e))?;
        let secrets_file = dir.join("ipsec.secrets");
        std::fs::write(&secrets_file, secrets).map_err(|e| LabError::io(&secrets_file, e))?;
        let log = dir.join("peer.log");
        let stderr = std::fs::File::create(&log).map_err(|e| LabError::io(&log, e))?;
        let bin = peer_binary()?;
        let child = self
            .a
            .command(&bin.display().to_string())
            .args(["run", "--config"])
            .arg(&conf_file)
            .args(["--log-level", "debug", "--keylog"])
            .arg(dir.join("keys.txt"))
            .arg("--control")
            .arg(dir.join("ctl.sock"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| LabError::new(format!("cannot start ipsec-peer: {e}")))?;
        let tracked = Tracked::new("ipsec-peer", child, "/ipsec-peer", Signal::SIGTERM);
        self.procs.push(tracked);
        let peer = OurPeer { dir };
        // Running once the TUN device exists (sockets are bound before it is created).
        let deadline = Instant::now() + Duration::from_secs(10);
        while !peer.log().contains("running") {
            if Instant::now() > deadline || !self.is_running("ipsec-peer") {
                return Err(LabError::new(format!(
                    "ipsec-peer did not start:\n{}",
                    peer.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(peer)
    }

    /// True while the tracked process `label` runs.
    pub fn is_running(&mut self, label: &str) -> bool {
        self.procs
            .iter_mut()
            .find(|p| p.label() == label)
            .is_some_and(Tracked::is_running)
    }

    /// Pings `to` from `ns` with source `from`: `count` echo requests, returns how many were
    /// answered.
    pub fn ping(ns: &Netns, from: &str, to: &str, count: u32, timeout: Duration) -> Result<u32, LabError> {
        let out = output(ns.command("ping").args([
            "-n",
            "-q",
            "-c",
            &count.to_string(),
            "-i",
            "0.2",
            "-W",
            &timeout.as_secs().max(1).to_string(),
            "-I",
            from,
            to,
        ]))?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "3 packets transmitted, 3 received, 0% packet loss"
        let received = text
            .split(',')
            .find_map(|part| {
                part.trim()
                    .strip_suffix(" received")
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0);
        Ok(received)
    }

    /// Pings until one answer arrives or `within` passes; returns the time it took.
    pub fn ping_until_up(ns: &Netns, from: &str, to: &str, within: Duration) -> Result<Duration, LabError> {
        let t0 = Instant::now();
        while t0.elapsed() < within {
            if Self::ping(ns, from, to, 1, Duration::from_secs(1))? == 1 {
                return Ok(t0.elapsed());
            }
        }
        Err(LabError::new(format!(
            "no answer from {to} (source {from}) within {within:?}"
        )))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Processes first (they write into the directory), then the files if the test passed;
        // a failed test keeps them for reading (the path is in its message).
        for p in &mut self.procs {
            let _ = p.stop();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Our running peer's files.
pub struct OurPeer {
    /// Its directory: ipsec.conf, ipsec.secrets, peer.log, keys.txt.
    pub dir: PathBuf,
}

impl OurPeer {
    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("peer.log")).unwrap_or_default()
    }

    /// Its key log so far.
    pub fn keys(&self) -> String {
        std::fs::read_to_string(self.dir.join("keys.txt")).unwrap_or_default()
    }

    /// Runs `ipsec-peer <args> --control <this peer's socket>`; returns (exit code, stdout+stderr).
    pub fn control(&self, args: &[&str]) -> Result<(Option<i32>, String), LabError> {
        let out = output(
            std::process::Command::new(peer_binary()?)
                .args(args)
                .arg("--control")
                .arg(self.dir.join("ctl.sock")),
        )?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.code(), text))
    }

    /// Waits until the log contains `what`.
    pub fn wait_for(&self, what: &str, within: Duration) -> Result<(), LabError> {
        let t0 = Instant::now();
        while !self.log().contains(what) {
            if t0.elapsed() > within {
                return Err(LabError::new(format!(
                    "ipsec-peer never logged {what:?} within {within:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

/// The MISSION seed site-to-site config with the lab's addresses for the placeholders and the
/// given `auto=`, proposals as in the seed unless overridden.
pub fn seed_conf(site: &Site, peer: &Site, auto: &str, ike: &str, esp: &str) -> String {
    format!(
        "conn site-to-site-vpn\n    type=tunnel\n    authby=secret\n    left=%defaultroute\n    leftid={lid}\n    \
         leftsubnet={lnet}\n    right={right}\n    rightsubnet={rnet}\n    ike={ike}\n    esp={esp}\n    keyingtries=0\n    \
         ikelifetime=1h\n    lifetime=8h\n    dpddelay=30\n    dpdtimeout=120\n    dpdaction=restart\n    auto={auto}\n",
        lid = site.id,
        lnet = site.lan_net,
        right = peer.wan,
        rnet = peer.lan_net,
    )
}

/// The seed's `ipsec.secrets` line for the two sites.
pub fn seed_secrets(site: &Site, peer: &Site, psk: &str) -> String {
    format!("{} {} : PSK \"{psk}\"\n", site.id, peer.id)
}
