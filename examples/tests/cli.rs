//! The `ipsec-peer` command line: exit codes and messages a script can rely on (0 ok, 2 usage,
//! 3 configuration), the seed config's weak-algorithm warning, no secret in any output. These run
//! without privileges (`check` opens no socket); this test also makes `cargo test --workspace`
//! build the binary that the interop tests in `tests/` start.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PEER: &str = env!("CARGO_BIN_EXE_ipsec-peer");

/// The MISSION seed config with loopback and documentation addresses for the placeholders.
const SEED: &str = "conn site-to-site-vpn\n    type=tunnel\n    authby=secret\n    left=127.0.0.1\n    \
    leftid=127.0.0.1\n    leftsubnet=192.168.10.0/24\n    right=192.0.2.202\n    rightsubnet=192.168.20.0/24\n    \
    ike=aes256-sha2_256-modp1024!\n    esp=aes256-sha2_256!\n    keyingtries=0\n    ikelifetime=1h\n    lifetime=8h\n    \
    dpddelay=30\n    dpdtimeout=120\n    dpdaction=restart\n    auto=start\n";
const SECRET: &str = "cli-test-secret-4b9d";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ipsec-peer-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, conf: &str) -> PathBuf {
    std::fs::write(
        dir.join("ipsec.secrets"),
        format!("127.0.0.1 192.0.2.202 : PSK \"{SECRET}\"\n"),
    )
    .unwrap();
    let path = dir.join("ipsec.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(PEER).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn check_accepts_the_seed_config_and_warns_about_modp1024() {
    let d = dir("seed");
    let conf = write(&d, SEED);
    let o = run(&["check", "--config", conf.to_str().unwrap()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("name = \"site-to-site-vpn\""), "{stdout}");
    assert!(
        stdout.contains("ike = \"aes256-sha256-prfsha256-modp1024!\""),
        "{stdout}"
    );
    assert!(all.contains("WEAK ALGORITHM modp1024"), "{all}");
    assert!(!all.contains(SECRET), "the PSK must never be printed:\n{all}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn an_unknown_key_exits_3_naming_file_line_and_key() {
    let d = dir("unknown");
    let conf = write(&d, &format!("{SEED}    frobnicate=yes\n"));
    let o = run(&["check", "--config", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ipsec.conf:18: frobnicate: unknown key"), "{err}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_missing_psk_exits_3() {
    let d = dir("nopsk");
    let conf = write(
        &d,
        &SEED
            .replace("right=192.0.2.202", "right=192.0.2.203")
            .replace("leftid=127.0.0.1", "leftid=@gw-a.example"),
    );
    let o = run(&["check", "--config", conf.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no PSK"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn bad_usage_exits_2_with_the_usage_text() {
    for args in [
        &["frob"][..],
        &["run"],
        &["check", "--config"],
        &["run", "--config", "x", "--log-level", "loud"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("usage:"), "{args:?}");
    }
}

#[test]
fn a_missing_config_file_exits_3() {
    let o = run(&["check", "--config", "/nonexistent/ipsec.conf"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/ipsec.conf"));
}
