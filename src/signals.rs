//! The signals that end kst (SIGINT, SIGTERM, SIGHUP): waited for by the TUI's loop, a
//! snapshot and `kst sim`, and the exit status a shell expects after one.

use std::process::ExitCode;

/// SIGINT, SIGTERM and SIGHUP as streams, registered once at start.
pub struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Registers the handlers now, so a signal that comes before the first wait is kept.
    pub fn register() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }
    /// The next of them: its number.
    pub async fn next(&mut self) -> i32 {
        async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
            match s.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = one(&mut self.int) => 2,
            _ = one(&mut self.term) => 15,
            _ = one(&mut self.hup) => 1,
        }
    }
}

/// Ctrl-C (SIGINT), SIGTERM or SIGHUP: which one came, as its number.
pub async fn wait_for_signal() -> i32 {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => 2,
        _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => 15,
        _ = async { match hup.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => 1,
    }
}

/// The exit status shells expect after a signal: 128 + its number (SIGHUP 129, SIGTERM 143).
pub fn signal_exit(signo: i32) -> ExitCode {
    ExitCode::from((128 + signo).clamp(0, 255) as u8)
}
