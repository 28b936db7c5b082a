//! Command dispatch and process-level concerns: logging, exit codes, signals.

use std::process::ExitCode;

use crate::cli::{Cli, Command, SimArgs};
use crate::sim::{SimFleet, SimOptions};

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const SOME_UNREACHABLE: u8 = 3;
    pub const BAD_KUBECONFIG: u8 = 4;
    pub const NONE_REACHABLE: u8 = 5;
}

pub fn run(cli: Cli) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kst: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match cli.command {
        Some(Command::Sim(args)) => rt.block_on(run_sim(args)),
        _ => {
            eprintln!("kst: not yet");
            ExitCode::from(exit::ERROR)
        }
    }
}

async fn run_sim(args: SimArgs) -> ExitCode {
    let opts = SimOptions {
        clusters: args.clusters,
        seed: args.seed,
        pods_per_cluster: args.pods_per_cluster,
        agents_per_cluster: args.agents_per_cluster,
        plain_http: args.plain_http,
        port_base: args.port_base,
        churn_per_sec: args.churn,
        ..SimOptions::default()
    };
    let started = std::time::Instant::now();
    let mut fleet = match SimFleet::start(opts).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("kst sim: cannot start: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let admin = match fleet.start_admin(args.admin_port).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kst sim: cannot start the admin endpoint: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    if let Err(e) = std::fs::write(&args.kubeconfig_out, fleet.kubeconfig(args.viewer_contexts)) {
        eprintln!(
            "kst sim: cannot write {}: {e}",
            args.kubeconfig_out.display()
        );
        return ExitCode::from(exit::ERROR);
    }
    for c in &fleet.clusters {
        println!("{}\t{}\t{:?}", c.name, c.server_url(), c.shape);
    }
    println!("admin\thttp://{admin}");
    println!("kubeconfig\t{}", args.kubeconfig_out.display());
    println!("ready in {} ms", started.elapsed().as_millis());
    wait_for_signal().await;
    fleet.shutdown();
    ExitCode::from(exit::OK)
}

/// Ctrl-C, SIGTERM or SIGHUP.
pub async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
        _ = async { match hup.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
    }
}
