//! Network namespaces and the links between them.

use std::process::{Command, Output, Stdio};

use super::LabError;

/// Runs a command and returns its stdout, or an error with the command line and stderr.
pub fn run(cmd: &mut Command) -> Result<String, LabError> {
    let out = output(cmd)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::new(format!(
            "`{}` failed ({}): {}{}",
            describe(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        )))
    }
}

/// Runs a command and returns its output, whatever its exit status.
pub fn output(cmd: &mut Command) -> Result<Output, LabError> {
    cmd.stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::new(format!("cannot run `{}`: {e}", describe(cmd))))
}

/// The command line, for messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A network namespace this harness created; deleted on drop (after the processes in it were
/// stopped: the lab drops processes first).
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `name` (which must not exist) and brings its loopback up.
    pub fn create(name: &str) -> Result<Self, LabError> {
        if Self::exists(name) {
            return Err(LabError::new(format!(
                "network namespace {name} already exists; not touching it"
            )));
        }
        run(Command::new("ip").args(["netns", "add", name]))?;
        let ns = Self {
            name: name.to_owned(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// True if a namespace of that name exists.
    pub fn exists(name: &str) -> bool {
        std::path::Path::new("/run/netns").join(name).exists()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n <ns> <args>`.
    pub fn ip(&self, args: &[&str]) -> Result<String, LabError> {
        run(Command::new("ip").arg("-n").arg(&self.name).args(args))
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `program args` inside the namespace; returns stdout or the error.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<String, LabError> {
        run(self.command(program).args(args))
    }

    /// A "LAN" behind the gateway: a veth pair with both ends in the namespace (this kernel has
    /// no dummy interfaces), `addr` (CIDR) on `ifname`.
    pub fn add_lan(&self, ifname: &str, addr: &str) -> Result<(), LabError> {
        let peer = format!("{ifname}p");
        self.ip(&["link", "add", ifname, "type", "veth", "peer", "name", &peer])?;
        self.ip(&["link", "set", ifname, "up"])?;
        self.ip(&["link", "set", &peer, "up"])?;
        self.ip(&["addr", "add", addr, "dev", ifname])?;
        Ok(())
    }

    /// A veth link from this namespace to `other`, both ends called `ifname`, created inside the
    /// namespaces (nothing appears in the host's namespace), with an address on each end.
    pub fn link_to(
        &self,
        other: &Netns,
        ifname: &str,
        addr_here: &str,
        addr_there: &str,
    ) -> Result<(), LabError> {
        self.ip(&[
            "link",
            "add",
            ifname,
            "type",
            "veth",
            "peer",
            "name",
            ifname,
            "netns",
            other.name(),
        ])?;
        self.ip(&["addr", "add", addr_here, "dev", ifname])?;
        other.ip(&["addr", "add", addr_there, "dev", ifname])?;
        self.ip(&["link", "set", ifname, "up"])?;
        other.ip(&["link", "set", ifname, "up"])?;
        Ok(())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = run(Command::new("ip").args(["netns", "del", &self.name])) {
            eprintln!("[lab] {e}");
        }
    }
}
