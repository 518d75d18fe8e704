//! `ipsec-peer`: the command-line IPsec peer on the std driver.
//!
//! ```text
//! ipsec-peer run   --config <file> [--secrets <file>] [--log-level <level>] [--keylog <file>]
//!                  [--tun-name <name>] [--listen <addr>]... [--control <socket>] [--cacerts <dir>]
//! ipsec-peer check --config <file> [--secrets <file>]      # load, map, print as TOML (no secrets), exit
//! ipsec-peer up <conn> | down <conn> | status | list-sas | reload   [--control <socket>]
//! ```
//! The control commands talk to a running peer over its Unix socket (default
//! `/run/ipsec-peer.sock`, mode 0600).
//! A config ending in `.toml` is our TOML format; anything else is read as strongSwan's
//! `ipsec.conf`, with `ipsec.secrets` from `--secrets` or, if it exists, next to it. CA
//! certificates for peers that authenticate by certificate come from `--cacerts <dir>`, by default
//! `ipsec.d/cacerts/` beside an `ipsec.conf` (`cacerts/` beside a TOML file), as strongSwan reads
//! them.
//!
//! Exit codes (for scripts such as keepalived's notify): 0 normal stop (SIGTERM/SIGINT), a
//! valid `check` or a control command answered `OK`; 1 a run-time failure (sockets, TUN device,
//! routes, no peer on the control socket); 2 bad usage; 3 an invalid configuration; 4 a control
//! command the peer refused (unknown connection, reload failed). Logs go to stderr; `--log-level` is one of error, warn, info (default), debug,
//! trace. `--keylog` appends every CHILD SA's and IKE SA's keys in Wireshark's `esp_sa` and
//! `ikev2_decryption_table` formats (secret: the file is created with mode 0600).
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ipsec_std::config::engine::{EngineConfig, ca_files, engine_config_with_cas};
use ipsec_std::config::{Config, Loaded};
use ipsec_std::control::{Command, ControlSocket, send_command};
use ipsec_std::driver::{Driver, DriverOptions};
use ipsec_std::route::SystemRoutes;
use ipsec_std::shutdown::ShutdownSignal;
use tracing::level_filters::LevelFilter;

const USAGE: &str = "usage:
  ipsec-peer run   --config <file> [--secrets <file>] [--log-level error|warn|info|debug|trace]
                   [--keylog <file>] [--tun-name <name>] [--listen <addr>]...
                   [--control <socket>] [--cacerts <dir>]
  ipsec-peer check --config <file> [--secrets <file>] [--cacerts <dir>]
  ipsec-peer up <conn> | down <conn> | status | list-sas | reload   [--control <socket>]";

/// Where `run` listens and the control commands connect by default.
const DEFAULT_CONTROL: &str = "/run/ipsec-peer.sock";

const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_CONFIG: u8 = 3;
const EXIT_REFUSED: u8 = 4;

#[derive(Debug, Default)]
struct Args {
    command: String,
    config: Option<PathBuf>,
    secrets: Option<PathBuf>,
    level: Option<String>,
    keylog: Option<PathBuf>,
    tun_name: Option<String>,
    listen: Vec<IpAddr>,
    control: Option<PathBuf>,
    cacerts: Option<PathBuf>,
    target: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        command: it.next().ok_or("no command")?,
        ..Args::default()
    };
    match args.command.as_str() {
        "run" | "check" | "status" | "list-sas" | "reload" => {}
        "up" | "down" => {
            args.target = Some(
                it.next()
                    .ok_or_else(|| format!("{} needs a connection name", args.command))?,
            );
        }
        other => return Err(format!("unknown command {other:?}")),
    }
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--config" | "-c" => args.config = Some(PathBuf::from(value()?)),
            "--secrets" => args.secrets = Some(PathBuf::from(value()?)),
            "--log-level" | "-l" => args.level = Some(value()?),
            "--keylog" => args.keylog = Some(PathBuf::from(value()?)),
            "--tun-name" => args.tun_name = Some(value()?),
            "--listen" => {
                let v = value()?;
                args.listen
                    .push(v.parse().map_err(|_| format!("--listen: not an address: {v}"))?);
            }
            "--control" => args.control = Some(PathBuf::from(value()?)),
            "--cacerts" => args.cacerts = Some(PathBuf::from(value()?)),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.config.is_none() && matches!(args.command.as_str(), "run" | "check") {
        return Err("--config is required".into());
    }
    Ok(args)
}

fn level(name: Option<&str>) -> Result<LevelFilter, String> {
    Ok(match name.unwrap_or("info") {
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "info" => LevelFilter::INFO,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        other => return Err(format!("--log-level: unknown level {other:?}")),
    })
}

fn load(config: &Path, secrets: Option<&Path>) -> Result<Loaded, String> {
    let routes = SystemRoutes;
    let result = if config.extension().is_some_and(|e| e == "toml") {
        Config::load_toml_file(config, &routes)
    } else {
        let sibling = config.with_file_name("ipsec.secrets");
        let secrets = secrets
            .map(Path::to_path_buf)
            .or_else(|| sibling.exists().then_some(sibling));
        Config::load_ipsec_conf(config, secrets.as_deref(), &routes)
    };
    result.map_err(|e| e.to_string())
}

/// A control command against a running peer.
fn control(args: &Args) -> ExitCode {
    let command = match (args.command.as_str(), args.target.clone()) {
        ("up", Some(c)) => Command::Up(c),
        ("down", Some(c)) => Command::Down(c),
        ("status", _) => Command::Status,
        ("list-sas", _) => Command::ListSas,
        _ => Command::Reload,
    };
    let path = args
        .control
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONTROL));
    match send_command(&path, &command) {
        Ok((true, body)) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Ok((false, reason)) => {
            eprintln!("ipsec-peer: {command}: {reason}");
            ExitCode::from(EXIT_REFUSED)
        }
        Err(e) => {
            eprintln!("ipsec-peer: no peer answers on {}: {e}", path.display());
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// The engine configuration with the trust anchors in `cacerts` (default: `ipsec.d/cacerts/`
/// beside an `ipsec.conf`, `cacerts/` beside a TOML file).
fn engine_for(loaded: &Loaded, config: &Path, cacerts: Option<&Path>) -> Result<EngineConfig, String> {
    let dir = match cacerts {
        Some(d) => d.to_path_buf(),
        None => {
            let base = config.parent().unwrap_or(Path::new("."));
            if config.extension().is_some_and(|e| e == "toml") {
                base.join("cacerts")
            } else {
                base.join("ipsec.d").join("cacerts")
            }
        }
    };
    let cas = ca_files(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    engine_config_with_cas(&loaded.config, &cas).map_err(|e| format!("{}: {e}", config.display()))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("ipsec-peer: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if !matches!(args.command.as_str(), "run" | "check") {
        return control(&args);
    }
    let filter = match level(args.level.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ipsec-peer: {e}\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .init();

    let Some(config_path) = args.config.as_deref() else {
        return ExitCode::from(EXIT_USAGE);
    };
    let loaded = match load(config_path, args.secrets.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("ipsec-peer: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    for conn in &loaded.config.connections {
        for weak in conn.weak_in_use() {
            tracing::warn!(
                conn = %conn.name,
                "WEAK ALGORITHM {weak} allowed by the configuration: it offers far less security than current defaults"
            );
        }
    }
    let engine = match engine_for(&loaded, config_path, args.cacerts.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("ipsec-peer: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if args.command == "check" {
        // The configuration as TOML, without the secrets (never printed).
        let mut shown = loaded.config.clone();
        shown.secrets.clear();
        print!("{}", shown.to_toml());
        println!("# {} secret(s) loaded, not shown", loaded.config.secrets.len());
        eprintln!(
            "ipsec-peer: {}: {} connection(s) loaded",
            config_path.display(),
            engine.connections.len()
        );
        return ExitCode::SUCCESS;
    }

    let mut options = DriverOptions::default();
    options.tun.name = args.tun_name.clone().or_else(|| Some("ipsec-rs0".to_owned()));
    options.keylog = args.keylog.clone();
    options.mss = loaded.config.mss;
    if !args.listen.is_empty() {
        options.udp.addresses = args.listen.clone();
    }
    let shutdown = match ShutdownSignal::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ipsec-peer: cannot install signal handlers: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let mut driver = match Driver::new(engine, &options) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("ipsec-peer: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let control_path = args
        .control
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONTROL));
    match ControlSocket::bind(&control_path) {
        Ok(c) => driver.set_control(c),
        Err(e) => {
            tracing::error!("control socket {}: {e}", control_path.display());
            eprintln!("ipsec-peer: control socket {}: {e}", control_path.display());
            return ExitCode::from(EXIT_RUNTIME);
        }
    }
    let (config_file, secrets_file, cacerts) = (
        config_path.to_path_buf(),
        args.secrets.clone(),
        args.cacerts.clone(),
    );
    driver.set_reload(Box::new(move || {
        let loaded = load(&config_file, secrets_file.as_deref())?;
        for w in &loaded.warnings {
            tracing::warn!("{w}");
        }
        engine_for(&loaded, &config_file, cacerts.as_deref())
    }));
    tracing::info!(tun = driver.tun().map_or("-", |t| t.name()), control = %control_path.display(), "running");
    let result = driver.run(&shutdown);
    drop(driver);
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("ipsec-peer: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
