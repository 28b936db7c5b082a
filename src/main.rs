use clap::Parser;

fn main() -> std::process::ExitCode {
    kst::logging::mark_start();
    let cli = kst::cli::Cli::parse();
    kst::commands::run(cli)
}
