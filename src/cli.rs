//! The command line (clap).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kst",
    version,
    about = "Terminal fleet monitor for LLM-d inference and Kagenti agents across many Kubernetes clusters",
    long_about = "kst watches every context of your kubeconfig at once: LLM-d inference pools, model servers and \
                  KV cache, Kagenti agents, tools and builds. Run `kst demo` to try it on a simulated fleet."
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Kubeconfig file(s), `:`-separated like KUBECONFIG. Default: $KUBECONFIG, then ~/.kube/config.
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<String>,
    /// Contexts to watch, comma-separated; a trailing `*` matches a prefix. Default: every context.
    #[arg(long, global = true, value_delimiter = ',', value_name = "NAMES")]
    pub context: Vec<String>,
    /// Config file. Default: the platform config dir (see `kst config path`).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log file. Default: kst.log in the platform state dir. Logs never go to the screen.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Refuse every write (agent toggles, scaling).
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Wall-screen mode: read-only, no prompts, rotates the tabs.
    #[arg(long, global = true)]
    pub kiosk: bool,
    /// Kiosk tab rotation interval, e.g. 20s.
    #[arg(long, global = true, value_parser = parse_duration, value_name = "DURATION")]
    pub rotate: Option<Duration>,
    /// Theme name (dark, light, high-contrast, mono) or a theme file in the config dir.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Metric polling interval, e.g. 5s.
    #[arg(long, global = true, value_parser = parse_duration, value_name = "DURATION")]
    pub refresh: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a simulated fleet in-process and open the TUI on it. Nothing is left behind on exit.
    Demo(DemoArgs),
    /// Run the fleet simulator: Kubernetes API servers on loopback, plus a kubeconfig for them.
    Sim(SimArgs),
    /// Print the fleet state once (for scripts, cron and alerting) and exit.
    Snapshot(SnapshotArgs),
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        what: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print where kst reads its config file.
    Path,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Simulated clusters.
    #[arg(long, default_value_t = 3)]
    pub clusters: usize,
    /// Scenario seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Pods per simulated cluster.
    #[arg(long, default_value_t = 60)]
    pub pods_per_cluster: usize,
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Number of clusters.
    #[arg(long, default_value_t = 3)]
    pub clusters: usize,
    /// Where to write the kubeconfig for the simulated clusters.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: PathBuf,
    /// Scenario seed: the same seed gives the same fleet.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 60)]
    pub pods_per_cluster: usize,
    #[arg(long, default_value_t = 8)]
    pub agents_per_cluster: usize,
    /// Serve plain HTTP instead of HTTPS (debugging).
    #[arg(long)]
    pub plain_http: bool,
    /// First port: cluster i listens on port-base + i. Default: ephemeral ports.
    #[arg(long)]
    pub port_base: Option<u16>,
    /// Port of the admin endpoint (faults, stats). 0: ephemeral.
    #[arg(long, default_value_t = 0)]
    pub admin_port: u16,
    /// Filler pod restarts per second per cluster.
    #[arg(long, default_value_t = 0.5)]
    pub churn: f64,
    /// Also write a read-only `<name>-viewer` context per cluster.
    #[arg(long)]
    pub viewer_contexts: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Table,
}

#[derive(Debug, Clone, Args)]
pub struct SnapshotArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,
    /// How long to wait for every cluster to sync, e.g. 10s.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub timeout: Duration,
    /// How long metrics are sampled before rates and percentiles are taken (their window).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub sample: Duration,
}

/// `5s`, `250ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len()));
    let n: f64 = num.parse().map_err(|_| format!("not a duration: {s:?} (try 5s, 250ms, 2m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit in {s:?} (use ms, s, m or h)")),
    };
    if !(0.0..=86400.0 * 365.0).contains(&secs) {
        return Err(format!("duration out of range: {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
