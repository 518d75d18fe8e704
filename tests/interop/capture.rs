//! Packet capture with tshark on a namespace's link, and reading captures back.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::LabError;
use super::netns::{Netns, run};
use super::process::Tracked;

/// A running capture. [`Capture::stop`] (or drop) ends it; SIGINT lets tshark flush the file.
pub struct Capture {
    tracked: Tracked,
    file: PathBuf,
}

impl Capture {
    /// Captures UDP on `ifname` inside `ns` into `file`; returns once tshark reports it is
    /// capturing.
    pub fn start(ns: &Netns, ifname: &str, file: &Path) -> Result<Self, LabError> {
        let log = file.with_extension("tshark.log");
        let stderr = std::fs::File::create(&log).map_err(|e| LabError::io(&log, e))?;
        let child = ns
            .command("tshark")
            .args(["-i", ifname, "-f", "udp", "-q", "-w"])
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| LabError::new(format!("cannot start tshark: {e}")))?;
        let mut tracked = Tracked::new(
            format!("tshark {}/{ifname}", ns.name()),
            child,
            "/tshark",
            Signal::SIGINT,
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("Capturing on")
        {
            if !tracked.is_running() || Instant::now() > deadline {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(LabError::new(format!("tshark did not start capturing: {text}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // dumpcap says "Capturing on" just before the filter is live.
        std::thread::sleep(Duration::from_millis(300));
        Ok(Self {
            tracked,
            file: file.to_owned(),
        })
    }

    /// Stops the capture and returns the file.
    pub fn stop(mut self) -> Result<PathBuf, LabError> {
        self.tracked.stop()?;
        Ok(self.file.clone())
    }
}

/// `tshark -r <file> <options> -Y <filter> -T fields -e <field>...`: one line per packet.
pub fn read_fields(
    file: &Path,
    options: &[String],
    filter: &str,
    fields: &[&str],
) -> Result<Vec<String>, LabError> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(file);
    for o in options {
        cmd.args(["-o", o]);
    }
    cmd.args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    Ok(run(&mut cmd)?
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.trim().is_empty())
        .collect())
}
