//! The command line (clap).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::durations::parse_duration;

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
    pub files: FileArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub screen: ScreenArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where kst reads its config and writes its log (every command).
#[derive(Debug, Clone, Default, Args)]
pub struct FileArgs {
    /// Config file. Default: the platform config dir (see `kst config path`).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log file. Default: kst.log in the platform state dir. Logs never go to the screen.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

/// Which clusters, and how often they are read (the TUI and `kst snapshot`).
#[derive(Debug, Clone, Default, Args)]
pub struct FleetArgs {
    /// Kubeconfig file(s), `:`-separated like KUBECONFIG. Default: $KUBECONFIG, then ~/.kube/config.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<String>,
    /// Contexts to watch, comma-separated; a trailing `*` matches a prefix. Default: every context.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub context: Vec<String>,
    /// Metric polling interval, e.g. 5s.
    #[arg(long, value_parser = parse_refresh, value_name = "DURATION")]
    pub refresh: Option<Duration>,
    /// Where model-server metrics come from: each pod's /metrics (direct), the configured
    /// [[metrics.prometheus]] query layer (prometheus), or the query layer for the clusters it
    /// covers and direct for the rest (auto, the default).
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub metrics: Option<MetricsMode>,
}

/// `--metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum MetricsMode {
    #[default]
    Auto,
    Direct,
    Prometheus,
}

/// How the screen behaves (the TUI and `kst demo`).
#[derive(Debug, Clone, Default, Args)]
pub struct ScreenArgs {
    /// Refuse every write (agent toggles, scaling).
    #[arg(long)]
    pub readonly: bool,
    /// Wall-screen mode: read-only, no prompts, rotates the tabs.
    #[arg(long)]
    pub kiosk: bool,
    /// Kiosk: `q` does not quit (stop kst with a signal).
    #[arg(long, requires = "kiosk")]
    pub kiosk_lock: bool,
    /// Kiosk tab rotation interval, e.g. 20s.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub rotate: Option<Duration>,
    /// Theme name (dark, light, high-contrast, mono) or a theme file in the config dir.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
}

/// Everything the settings are resolved from (the command line's part of defaults < file <
/// flags), whichever command the flags came with.
#[derive(Debug, Clone, Default)]
pub struct CommonArgs {
    pub kubeconfig: Option<String>,
    pub context: Vec<String>,
    pub config: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    pub readonly: bool,
    pub kiosk: bool,
    pub kiosk_lock: bool,
    pub rotate: Option<Duration>,
    pub theme: Option<String>,
    pub refresh: Option<Duration>,
    pub metrics: Option<MetricsMode>,
}

impl CommonArgs {
    pub fn from(files: &FileArgs, fleet: &FleetArgs, screen: &ScreenArgs) -> CommonArgs {
        CommonArgs {
            kubeconfig: fleet.kubeconfig.clone(),
            context: fleet.context.clone(),
            config: files.config.clone(),
            log_file: files.log_file.clone(),
            readonly: screen.readonly,
            kiosk: screen.kiosk,
            kiosk_lock: screen.kiosk_lock,
            rotate: screen.rotate,
            theme: screen.theme.clone(),
            refresh: fleet.refresh,
            metrics: fleet.metrics,
        }
    }
}

impl Cli {
    /// The flags in force: those given to the command, over those given before it.
    pub fn common(&self) -> CommonArgs {
        let top = CommonArgs::from(&self.files, &self.fleet, &self.screen);
        let merge_files = |f: &FileArgs| FileArgs {
            config: f.config.clone().or(self.files.config.clone()),
            log_file: f.log_file.clone().or(self.files.log_file.clone()),
        };
        match &self.command {
            Some(Command::Demo(d)) => {
                let fleet = FleetArgs {
                    kubeconfig: None,
                    context: d.context.clone(),
                    refresh: d.refresh.or(self.fleet.refresh),
                    metrics: self.fleet.metrics,
                };
                CommonArgs::from(&merge_files(&d.files), &fleet, &d.screen)
            }
            Some(Command::Snapshot(a)) => {
                let fleet = FleetArgs {
                    kubeconfig: a.fleet.kubeconfig.clone().or(self.fleet.kubeconfig.clone()),
                    context: if a.fleet.context.is_empty() {
                        self.fleet.context.clone()
                    } else {
                        a.fleet.context.clone()
                    },
                    refresh: a.fleet.refresh.or(self.fleet.refresh),
                    metrics: a.fleet.metrics.or(self.fleet.metrics),
                };
                CommonArgs::from(&merge_files(&a.files), &fleet, &ScreenArgs::default())
            }
            Some(Command::Sim(a)) => {
                CommonArgs::from(&merge_files(&a.files), &FleetArgs::default(), &ScreenArgs::default())
            }
            _ => top,
        }
    }
}

/// A refresh interval: at least 200 ms (a usage error below, not a silent change).
pub fn parse_refresh(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_millis(200) {
        return Err(format!("{s:?} is too short: the refresh must be at least 200ms"));
    }
    Ok(d)
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
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `kst man > ~/.local/share/man/man1/kst.1`.
    Man,
    /// Print kst's rules over metrics as a Prometheus rule file (the same thresholds, `for:` and
    /// alertnames the Problems tab uses, rates over `[metrics] rate_window`), to load into the
    /// organisation's own Prometheus or to compare with it; and the `kst-rollups` group, which
    /// records the per-cluster roll-ups `rollups = "recorded"` reads.
    Rules,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print where kst reads its config file.
    Path,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub files: FileArgs,
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// Simulated contexts to watch, comma-separated; a trailing `*` matches a prefix.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub context: Vec<String>,
    /// Metric polling interval, e.g. 5s.
    #[arg(long, value_parser = parse_refresh, value_name = "DURATION")]
    pub refresh: Option<Duration>,
    /// Simulated clusters.
    #[arg(long, default_value_t = 3)]
    pub clusters: usize,
    /// Scenario seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Pods per simulated cluster.
    #[arg(long, default_value_t = 60)]
    pub pods_per_cluster: usize,
    /// Leave out KubeStellar's control planes (kind-kubeflex, its1, wds1).
    #[arg(long)]
    pub no_kubestellar: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    #[command(flatten)]
    pub files: FileArgs,
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
    /// Play the incident timeline: every 10 minutes a KV surge and a TTFT spike on the first
    /// cluster, the WVA at its max and an error burst on the second (as `kst demo` does).
    #[arg(long)]
    pub incidents: bool,
    /// Add KubeStellar: a KubeFlex hosting context (kind-kubeflex), an ITS (its1) and a WDS
    /// (wds1) whose BindingPolicies place the other clusters' workloads, with drift to find.
    /// `--hub` is the same (the ITS is an OCM hub).
    #[arg(long, alias = "hub")]
    pub kubestellar: bool,
    /// With --kubestellar: this many more BindingPolicies (for scale benchmarks).
    #[arg(long, default_value_t = 0)]
    pub policies: usize,
    /// With --kubestellar: this many more WDS objects, spread over those policies.
    #[arg(long, default_value_t = 0)]
    pub objects: usize,
    /// This many more ManagedClusters on the ITS (`edge-0000`...) with no API server behind them,
    /// as a hub of a large fleet holds (implies --kubestellar).
    #[arg(long, default_value_t = 0)]
    pub managed_clusters: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Table,
}

#[derive(Debug, Clone, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub files: FileArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,
    /// How long to wait for every cluster to sync, e.g. 10s.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub timeout: Duration,
    /// How long metrics are sampled before rates and percentiles are taken (their window).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub sample: Duration,
    /// Exit 9 when a problem of this severity or worse is firing (for cron and CI alerting).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Critical,
    Warning,
    Info,
}

impl FailOn {
    /// The least severe severity that fails.
    pub fn threshold(self) -> crate::store::problems::Severity {
        use crate::store::problems::Severity as S;
        match self {
            FailOn::Critical => S::Critical,
            FailOn::Warning => S::Warning,
            FailOn::Info => S::Info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn each_command_takes_only_its_flags() {
        use clap::Parser;
        assert!(Cli::try_parse_from(["kst", "snapshot", "--kiosk"]).is_err(), "a snapshot has no screen");
        assert!(Cli::try_parse_from(["kst", "sim", "--kubeconfig-out", "x", "--readonly"]).is_err());
        assert!(Cli::try_parse_from(["kst", "demo", "--kiosk", "--theme", "mono"]).is_ok());
        let c = Cli::try_parse_from(["kst", "--context", "a", "snapshot", "--kubeconfig", "k"]).unwrap();
        let common = c.common();
        assert_eq!((common.context, common.kubeconfig.as_deref()), (vec!["a".to_string()], Some("k")));
        let err = Cli::try_parse_from(["kst", "--refresh", "0"]).unwrap_err().to_string();
        assert!(err.contains("at least 200ms"), "{err}");
    }
}
