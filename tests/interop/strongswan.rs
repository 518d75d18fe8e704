//! strongSwan 5.9 (Debian) as a peer: `charon` with userspace ESP (`kernel-libipsec`) in a
//! namespace, configured through `swanctl.conf` and driven with `swanctl --uri`.
//!
//! What makes two charons coexist on one machine:
//! - `/var/run/charon.pid` is compiled in (5.9.8 has no piddir option). `ip netns exec` runs the
//!   command in a fresh mount namespace, so `mount --bind <dir>/run /run` there gives each
//!   charon its own `/run`, invisible outside.
//! - Everything else is per side through `STRONGSWAN_CONF`: the vici socket, the log file, the
//!   explicit plugin list, in which `kernel-libipsec` must come before `kernel-netlink` (the
//!   first kernel IPsec backend wins; this kernel has no ESP/AH of its own).
//! - kernel-libipsec handles ESP in UDP only, so `encap = yes`; its TUN device `ipsec0` has MTU
//!   1400. MOBIKE is off (it would announce the LAN addresses).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::netns::{Netns, output, run};
use super::process::Tracked;
use super::{LabError, Site};

/// The charon binary of Debian's strongswan-charon.
pub const CHARON: &str = "/usr/lib/ipsec/charon";
/// Plugins loaded, in order (see the module docs for why the order matters).
const PLUGINS: &str = "random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints \
                       curve25519 chapoly gcm aes sha1 sha2 hmac kdf gmp kernel-libipsec kernel-netlink \
                       socket-default vici updown";
/// Plugins `pki` and `swanctl` need (without the TPM plugin's noise).
const TOOL_PLUGINS: &str = "random openssl pem pkcs1 pkcs8 x509 gmp sha1 sha2 curve25519";

/// How a side authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Pre-shared key (both sides must use the same).
    Psk(String),
    /// ECDSA P-256 certificates from the lab CA.
    Ecdsa,
    /// RSA 2048 certificates from the lab CA.
    Rsa,
}

/// One charon's connection settings. Proposals use swanctl syntax: strict unless they list
/// `default`; a strongSwan `ipsec.conf`-style trailing `!` is removed.
#[derive(Clone, Debug)]
pub struct CharonConfig {
    /// IKE proposals (`proposals =`).
    pub ike: String,
    /// ESP proposals (`esp_proposals =`).
    pub esp: String,
    /// Authentication.
    pub auth: Auth,
    /// Dump IKE and CHILD SA keys into the log (level 4), for tshark decryption.
    pub keylog: bool,
    /// IKE SA rekey time (`rekey_time`).
    pub ike_rekey: Duration,
    /// CHILD SA rekey time.
    pub child_rekey: Duration,
    /// DPD interval (0: none).
    pub dpd_delay: Duration,
    /// `dpd_action` of the child: `clear`, `trap`, `restart`.
    pub dpd_action: &'static str,
    /// `start_action` of the child: `none`, `start`, `trap`.
    pub start_action: &'static str,
    /// charon's DoS protection (COOKIEs from the 4th half-open SA of one IP).
    pub dos_protection: bool,
    /// Rekey exactly at the rekey times (`rand_time = 0s` for the IKE SA and the child),
    /// instead of up to 10 % earlier, with a minute before the hard lifetime (the default of
    /// 10 % of a few seconds would end an SA whose rekey is retransmitted once).
    pub exact_rekey: bool,
    /// Road warrior: ask the peer for an internal address (`vips = 0.0.0.0`) and use it as
    /// the local traffic selector (`local_ts = dynamic`) instead of the site's LAN.
    pub virtual_ip: bool,
    /// Gateway: hand the peer an internal address from this subnet (`pools`), the peer's
    /// selector being that address (`remote_ts = dynamic`).
    pub pool: Option<&'static str>,
    /// DNS server sent along with a pool address.
    pub pool_dns: Option<&'static str>,
}

impl Default for CharonConfig {
    fn default() -> Self {
        Self {
            ike: "aes256gcm16-prfsha256-x25519".into(),
            esp: "aes256gcm16".into(),
            auth: Auth::Psk("interop-harness-psk-5f2a9c71e0".into()),
            keylog: true,
            ike_rekey: Duration::from_secs(4 * 3600),
            child_rekey: Duration::from_secs(3600),
            dpd_delay: Duration::ZERO,
            dpd_action: "clear",
            start_action: "none",
            dos_protection: true,
            exact_rekey: false,
            virtual_ip: false,
            pool: None,
            pool_dns: None,
        }
    }
}

/// The connection and child name in every swanctl.conf the harness writes.
pub const CONN: &str = "net-net";

/// A running charon (the process itself is tracked by the [`super::Lab`]).
#[derive(Clone, Debug)]
pub struct Charon {
    dir: PathBuf,
    pid: u32,
}

/// Writes strongswan.conf, swanctl.conf and secrets for `site` talking to `peer` into `dir`.
pub(crate) fn write_config(dir: &Path, site: &Site, peer: &Site, cfg: &CharonConfig) -> Result<(), LabError> {
    for sub in [
        "run",
        "swanctl/conf.d",
        "swanctl/x509",
        "swanctl/x509ca",
        "swanctl/x509aa",
        "swanctl/x509ocsp",
        "swanctl/x509crl",
        "swanctl/x509ac",
        "swanctl/private",
        "swanctl/rsa",
        "swanctl/ecdsa",
        "swanctl/bliss",
        "swanctl/pkcs8",
        "swanctl/pkcs12",
        "swanctl/pubkey",
    ] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| LabError::io(dir, e))?;
    }
    let level = if cfg.keylog { 4 } else { 2 };
    let vici = dir.join("charon.vici");
    let conf = format!(
        "# written by the ipsec-tests interop harness; used through STRONGSWAN_CONF\n\
         charon {{\n  load_modular = no\n  load = {PLUGINS}\n  install_routes = yes\n  \
         dos_protection = {dos}\n  retransmit_timeout = 2.0\n  retransmit_tries = 3\n  \
         plugins {{\n    vici {{\n      socket = unix://{vici}\n    }}\n  }}\n  \
         filelog {{\n    main {{\n      path = {log}\n      time_format = %H:%M:%S\n      default = 1\n      \
         ike = {level}\n      chd = {level}\n      cfg = 2\n      knl = 1\n      net = 1\n      esp = 1\n      \
         flush_line = yes\n      append = yes\n    }}\n  }}\n  syslog {{\n    daemon {{\n      default = -1\n    }}\n  }}\n}}\n\
         swanctl {{\n  socket = unix://{vici}\n  load = {TOOL_PLUGINS}\n}}\n\
         pki {{\n  load = {TOOL_PLUGINS}\n}}\n",
        dos = if cfg.dos_protection { "yes" } else { "no" },
        vici = vici.display(),
        log = dir.join("charon.log").display(),
    );
    std::fs::write(dir.join("strongswan.conf"), conf).map_err(|e| LabError::io(dir, e))?;

    let (local_auth, remote_auth) = match &cfg.auth {
        Auth::Psk(_) => ("auth = psk".to_owned(), "auth = psk".to_owned()),
        Auth::Ecdsa | Auth::Rsa => (
            format!("auth = pubkey\n      certs = {}.crt", site.id),
            "auth = pubkey".to_owned(),
        ),
    };
    let secs = |d: Duration| format!("{}s", d.as_secs());
    let mut sw = format!(
        "connections {{\n  {CONN} {{\n    version = 2\n    local_addrs = {la}\n    remote_addrs = {ra}\n    \
         proposals = {ike}\n    encap = yes\n    mobike = no\n    fragmentation = yes\n    \
         dpd_delay = {dpd}\n    rekey_time = {ikerekey}\n    {rand}{vips}{pools}\
         local {{\n      {local_auth}\n      id = {lid}\n    }}\n    remote {{\n      {remote_auth}\n      id = {rid}\n    }}\n    \
         children {{\n      {CONN} {{\n        local_ts = {lts}\n        remote_ts = {rts}\n        esp_proposals = {esp}\n        \
         mode = tunnel\n        rekey_time = {childrekey}\n        {child_rand}start_action = {start}\n        dpd_action = {dpdaction}\n      }}\n    }}\n  }}\n}}\n",
        la = site.wan,
        ra = peer.wan,
        ike = cfg.ike.trim_end_matches('!'),
        esp = cfg.esp.trim_end_matches('!'),
        dpd = secs(cfg.dpd_delay),
        ikerekey = secs(cfg.ike_rekey),
        childrekey = secs(cfg.child_rekey),
        rand = if cfg.exact_rekey {
            "rand_time = 0s\n    over_time = 60s\n    "
        } else {
            ""
        },
        child_rand = if cfg.exact_rekey {
            format!(
                "rand_time = 0s\n        life_time = {}\n        ",
                secs(cfg.child_rekey + Duration::from_secs(60))
            )
        } else {
            String::new()
        },
        lid = site.id,
        rid = peer.id,
        vips = if cfg.virtual_ip {
            "vips = 0.0.0.0\n    "
        } else {
            ""
        },
        lts = if cfg.virtual_ip {
            "dynamic"
        } else {
            site.lan_net.as_str()
        },
        pools = if cfg.pool.is_some() {
            "pools = rw\n    "
        } else {
            ""
        },
        rts = if cfg.pool.is_some() {
            "dynamic"
        } else {
            peer.lan_net.as_str()
        },
        start = cfg.start_action,
        dpdaction = cfg.dpd_action,
    );
    if let Some(pool) = cfg.pool {
        let dns = cfg
            .pool_dns
            .map(|d| format!("    dns = {d}\n"))
            .unwrap_or_default();
        let _ = write!(sw, "pools {{\n  rw {{\n    addrs = {pool}\n{dns}  }}\n}}\n");
    }
    if let Auth::Psk(psk) = &cfg.auth {
        let _ = write!(
            sw,
            "secrets {{\n  ike-psk {{\n    id-1 = {}\n    id-2 = {}\n    secret = \"{psk}\"\n  }}\n}}\n",
            site.id, peer.id
        );
    }
    std::fs::write(dir.join("swanctl/swanctl.conf"), sw).map_err(|e| LabError::io(dir, e))
}

/// Starts charon in `ns` with the config in `dir`; returns the tracked process once its vici
/// socket answers.
pub(crate) fn start(ns: &Netns, dir: &Path, label: &str) -> Result<(Charon, Tracked), LabError> {
    let script = format!(
        "mount --bind '{run}' /run && STRONGSWAN_CONF='{conf}' exec {CHARON}",
        run = dir.join("run").display(),
        conf = dir.join("strongswan.conf").display()
    );
    let stdout = std::fs::File::create(dir.join("charon.stdout")).map_err(|e| LabError::io(dir, e))?;
    let stderr = stdout.try_clone().map_err(|e| LabError::io(dir, e))?;
    let child = ns
        .command("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| LabError::new(format!("cannot start charon: {e}")))?;
    // `ip netns exec` and `sh -c "... exec"` both exec: the child's PID becomes charon's.
    let mut tracked = Tracked::new(label, child, "/charon", Signal::SIGTERM);
    let charon = Charon {
        dir: dir.to_owned(),
        pid: tracked.pid(),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if charon.dir.join("charon.vici").exists() && charon.swanctl(&["--stats"]).is_ok() {
            break;
        }
        if !tracked.is_running() {
            let out = std::fs::read_to_string(dir.join("charon.stdout")).unwrap_or_default();
            let log = std::fs::read_to_string(dir.join("charon.log")).unwrap_or_default();
            return Err(LabError::new(format!(
                "charon {label} exited at start:\n{out}\n{log}"
            )));
        }
        if Instant::now() > deadline {
            return Err(LabError::new(format!(
                "charon {label}: vici socket did not answer within 15 s"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let exe = tracked.exe().unwrap_or_default();
    if !exe.ends_with("/charon") {
        return Err(LabError::new(format!(
            "pid {} runs {exe:?}, expected charon",
            tracked.pid()
        )));
    }
    charon.swanctl(&[
        "--load-all",
        "--noprompt",
        "--file",
        &dir.join("swanctl/swanctl.conf").display().to_string(),
    ])?;
    Ok((charon, tracked))
}

impl Charon {
    /// Its working directory (configs, log, `run/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The vici URI `swanctl --uri` takes.
    pub fn uri(&self) -> String {
        format!("unix://{}", self.dir.join("charon.vici").display())
    }

    /// `swanctl --uri <this charon> <args>`; stdout, or an error with stderr.
    pub fn swanctl(&self, args: &[&str]) -> Result<String, LabError> {
        run(&mut self.command(args))
    }

    /// `swanctl --initiate --child net-net`; returns how long it took.
    pub fn initiate(&self, timeout: Duration) -> Result<Duration, LabError> {
        let t0 = Instant::now();
        let secs = timeout.as_secs().max(1).to_string();
        let out = output(&mut self.command(&["--initiate", "--child", CONN, "--timeout", &secs]))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && text.contains("initiate completed successfully") {
            Ok(t0.elapsed())
        } else {
            Err(LabError::new(format!(
                "initiate failed ({}):\n{text}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// `swanctl --list-sas`.
    pub fn list_sas(&self) -> Result<String, LabError> {
        self.swanctl(&["--list-sas"])
    }

    /// Rekeys the CHILD SA (`--rekey --child`).
    pub fn rekey_child(&self) -> Result<String, LabError> {
        self.swanctl(&["--rekey", "--child", CONN])
    }

    /// Rekeys the IKE SA (`--rekey --ike`).
    pub fn rekey_ike(&self) -> Result<String, LabError> {
        self.swanctl(&["--rekey", "--ike", CONN])
    }

    /// Closes the IKE SA (`--terminate --ike`).
    pub fn terminate(&self) -> Result<String, LabError> {
        self.swanctl(&["--terminate", "--ike", CONN, "--timeout", "5"])
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("charon.log")).unwrap_or_default()
    }

    /// A `swanctl` command for this charon.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("swanctl");
        c.env("STRONGSWAN_CONF", self.dir.join("strongswan.conf"))
            .env("SWANCTL_DIR", self.dir.join("swanctl"))
            .args(args)
            .arg("--uri")
            .arg(self.uri());
        c
    }
}
