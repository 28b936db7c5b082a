//! The event loop: input, updates and timers in; a frame out only when something visible
//! changed, at most every FRAME_INTERVAL after a key and every DATA_FRAME_INTERVAL for data
//! alone. An idle fleet draws nothing.

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::app::{App, DATA_FRAME_INTERVAL, FRAME_INTERVAL};

/// How often the problems are derived again.
pub const TRIAGE_INTERVAL: Duration = Duration::from_secs(1);
use super::terminal::TerminalGuard;
use crate::store::Update;

/// The loop: input, updates and timers in; a frame out only when dirty, at most every
/// FRAME_INTERVAL. An idle fleet draws nothing.
pub async fn run(
    mut app: App,
    guard: TerminalGuard,
    updates: mpsc::Receiver<Update>,
    rotate: Option<Duration>,
) -> std::io::Result<Option<i32>> {
    let r = run_loop(&mut app, guard, updates, rotate).await;
    // every exit path keeps the problems' ages for the next run
    app.keep_problems();
    r
}

async fn run_loop(
    app: &mut App,
    mut guard: TerminalGuard,
    mut updates: mpsc::Receiver<Update>,
    rotate: Option<Duration>,
) -> std::io::Result<Option<i32>> {
    let mut events = EventStream::new();
    let mut dirty = true;
    // a key, a resize or a rotation is drawn within FRAME_INTERVAL; data alone within
    // DATA_FRAME_INTERVAL: a hundred clusters' updates arrive without pause, and a frame of
    // each burst cost a tenth of a core in direct mode (perf: the Overview's draw, 22 %)
    let mut urgent = true;
    let mut last_draw = Instant::now() - FRAME_INTERVAL;
    let mut rotation = rotate.map(|d| tokio::time::interval_at(tokio::time::Instant::now() + d, d));
    // problems are derived on a timer, not per update: a `for:` is measured in seconds
    let mut triage = tokio::time::interval(TRIAGE_INTERVAL);
    triage.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let signals = crate::signals::wait_for_signal();
    tokio::pin!(signals);
    let mut complete_logged = false;
    loop {
        if let Some(text) = app.pending_copy.take() {
            super::terminal::copy_osc52(&text)?;
        }
        let interval = if urgent { FRAME_INTERVAL } else { DATA_FRAME_INTERVAL };
        if dirty && last_draw.elapsed() >= interval {
            let _written = guard.draw(|f| app.draw(f))?;
            last_draw = Instant::now();
            dirty = false;
            urgent = false;
            // the startup figure the benchmarks read: every cluster settled and drawn
            if !complete_logged
                && app.fleet.clusters.iter().all(|c| {
                    !matches!(c.conn, crate::store::Conn::Connecting) && (c.nodes.is_some() || !c.conn.reachable())
                })
            {
                complete_logged = true;
                tracing::info!(ms = crate::logging::since_start().as_millis() as u64, "first complete frame");
            }
        }
        if app.quit {
            return Ok(None);
        }
        let frame_due = tokio::time::sleep(interval.saturating_sub(last_draw.elapsed()));
        tokio::select! {
            signo = &mut signals => return Ok(Some(signo)),
            _ = frame_due, if dirty => {}
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => {
                    let changed = app.on_key(k);
                    dirty |= changed;
                    urgent |= changed;
                    if std::mem::take(&mut app.suspend) {
                        guard.suspend()?;
                        dirty = true;
                        urgent = true;
                    }
                    if let Some(run) = app.writes.shell_run.take() {
                        // the keyboard is kubectl's while it runs: this reader stops first and
                        // a new one starts (on its first poll) after
                        events = EventStream::new();
                        let result = run_shell(app, &mut guard, &run, &mut updates).await?;
                        app.flash = Some(run.ended(&result));
                        app.writes.shell_ended(&run, result);
                        dirty = true;
                        urgent = true;
                    }
                }
                Some(Ok(Event::Mouse(m))) => {
                    let width = guard.terminal.size().map(|s| s.width).unwrap_or(80);
                    let changed = app.on_mouse(m, width);
                    dirty |= changed;
                    urgent |= changed;
                }
                Some(Ok(Event::Resize(_, _))) => {
                    dirty = true;
                    urgent = true;
                }
                Some(Ok(_)) => {}
                // The terminal is gone (SSH dropped): nothing left to draw on.
                Some(Err(_)) | None => return Ok(Some(1)),
            },
            u = updates.recv() => match u {
                Some(u) => {
                    dirty |= app.on_update(u);
                    // drain a burst before drawing once
                    while let Ok(u) = updates.try_recv() { dirty |= app.on_update(u); }
                }
                None => std::future::pending::<()>().await,
            },
            _ = triage.tick() => {
                let now = app.now();
                dirty |= app.fleet.evaluate_problems(now);
                // a guarded move's waits read the fleet
                dirty |= app.writes.tick(&app.fleet, now);
                // kept at most every 10 s, and only when the list changed
                if app.kept_problems.is_none_or(|(g, at)| g != app.fleet.problems.generation && now - at >= 10.0) {
                    app.keep_problems();
                }
                // the wall screen's rotation countdown moves every second
                dirty |= app.wall.is_some();
            }
            _ = async { match rotation.as_mut() { Some(r) => { r.tick().await; } None => std::future::pending().await } } => {
                app.rotate();
                dirty = true;
                urgent = true;
            }
        }
    }
}

/// A shell session: the terminal lent to `kubectl exec -it` until it ends (updates keep being
/// applied meanwhile, nothing is drawn), then taken back. Returns what happened, for the user
/// and the audit file.
async fn run_shell(
    app: &mut App,
    guard: &mut TerminalGuard,
    run: &super::dialog::session::ShellRun,
    updates: &mut mpsc::Receiver<Update>,
) -> std::io::Result<String> {
    guard.lend();
    let kubectl = std::env::var_os("KST_KUBECTL").unwrap_or_else(|| "kubectl".into());
    println!(
        "kst: kubectl exec into {} of {}/{} on {} (exit the shell to return)",
        run.target.container, run.target.namespace, run.target.pod, run.context
    );
    let status = tokio::process::Command::new(&kubectl).args(run.args()).kill_on_drop(true).status();
    tokio::pin!(status);
    let mut open = true;
    let status = loop {
        tokio::select! {
            s = &mut status => break s,
            u = updates.recv(), if open => match u {
                Some(u) => { app.on_update(u); }
                None => open = false,
            },
        }
    };
    let result = match status {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("failed: no kubectl on the PATH ({}); the shell runs kubectl exec", kubectl.to_string_lossy())
        }
        Err(e) => format!("failed: kubectl did not start: {e}"),
        Ok(s) if s.success() => "closed (exit 0)".to_string(),
        Ok(s) => {
            let code = s.code().map_or_else(|| "a signal".to_string(), |c| c.to_string());
            // what kubectl said (a refusal, a lost connection) stays readable until a key
            println!("\nkst: kubectl ended with exit code {code}; press Enter to return to kst");
            let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await;
            format!("ended with exit code {code}")
        }
    };
    guard.resume()?;
    Ok(result)
}
