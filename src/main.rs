use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = kst::cli::Cli::parse();
    kst::commands::run(cli)
}
