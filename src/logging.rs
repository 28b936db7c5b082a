//! kst's log: a file, never the screen; at most 10 MB x 4 files (file-rotate keeps
//! `kst.log`, `kst.log.1` … `kst.log.3`), and the same line repeated is written once with a count
//! (`… repeated 120 times in 60s`), so a cluster that is down for a day does not fill a disk.
//! A library's line repeated among others (an error every refresh, between kst's own lines) is
//! written once per ten minutes, then summed up (`… repeated 23 times in 600s: ERROR rmcp…`);
//! kst's own lines are all kept, since their times say when states changed.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};

/// Bytes per log file before it is rotated.
pub const FILE_BYTES: usize = 10 * 1024 * 1024;
/// Rotated files kept beside the current one.
pub const KEPT: usize = 3;
/// A run of repeats is summed up at least this often.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(60);
/// A line seen again among others within this long is counted, not written.
pub const RECENT_WINDOW: Duration = Duration::from_secs(600);
/// At most this many distinct recent lines are remembered (the oldest forgotten first).
const RECENT_KEPT: usize = 256;
/// A summed-up line quotes at most this many characters of the line.
const QUOTED: usize = 160;

/// Writes lines through, but a line that repeats the one before (apart from its timestamp,
/// the first word) is only counted; the count is written when the run ends or every minute.
pub struct Collapser<W: Write> {
    inner: W,
    last: Option<String>,
    pending: String,
    repeats: u64,
    since: Instant,
    /// Lines written lately: when, and how often seen again since (repeats among other lines).
    recent: HashMap<String, (Instant, u64)>,
}

impl<W: Write> Collapser<W> {
    pub fn new(inner: W) -> Self {
        Collapser {
            inner,
            last: None,
            pending: String::new(),
            repeats: 0,
            since: Instant::now(),
            recent: HashMap::new(),
        }
    }

    /// Writes the count of each recent line whose window is over (all of them with `all`).
    fn flush_recent(&mut self, all: bool) -> io::Result<()> {
        let mut over: Vec<(String, Instant, u64)> = self
            .recent
            .iter()
            .filter(|(_, (at, _))| all || at.elapsed() >= RECENT_WINDOW)
            .map(|(b, (at, n))| (b.clone(), *at, *n))
            .collect();
        over.sort_by_key(|(_, at, _)| *at);
        for (body, at, n) in over {
            self.recent.remove(&body);
            if n > 0 {
                let quoted: String = body.chars().take(QUOTED).collect();
                let secs = at.elapsed().as_secs().max(1);
                writeln!(self.inner, "… repeated {n} times in {secs}s among other lines: {quoted}")?;
            }
        }
        Ok(())
    }

    /// Remembers a line just written; past the bound, the oldest goes (with its count).
    fn remember(&mut self, body: String) -> io::Result<()> {
        if self.recent.len() >= RECENT_KEPT {
            if let Some(oldest) = self.recent.iter().min_by_key(|(_, (at, _))| *at).map(|(b, _)| b.clone()) {
                if let Some((at, n)) = self.recent.remove(&oldest) {
                    if n > 0 {
                        let quoted: String = oldest.chars().take(QUOTED).collect();
                        let secs = at.elapsed().as_secs().max(1);
                        writeln!(self.inner, "… repeated {n} times in {secs}s among other lines: {quoted}")?;
                    }
                }
            }
        }
        self.recent.insert(body, (Instant::now(), 0));
        Ok(())
    }

    fn body(line: &str) -> &str {
        line.split_once(' ').map(|(_, rest)| rest).unwrap_or(line).trim_end()
    }

    fn flush_repeats(&mut self) -> io::Result<()> {
        if self.repeats > 0 {
            let secs = self.since.elapsed().as_secs().max(1);
            writeln!(self.inner, "… repeated {} times in {secs}s", self.repeats)?;
            self.repeats = 0;
        }
        Ok(())
    }
}

impl<W: Write> Collapser<W> {
    fn line(&mut self, line: &str) -> io::Result<()> {
        let body = Self::body(line).to_string();
        if self.last.as_deref() == Some(body.as_str()) && self.since.elapsed() < REPEAT_WINDOW {
            if self.repeats == 0 {
                self.since = Instant::now();
            }
            self.repeats += 1;
            return Ok(());
        }
        self.flush_repeats()?;
        self.flush_recent(false)?;
        // kst's own lines (state changes, with their times) are all kept; a library's repeats are not
        let library = body.split_whitespace().nth(1).is_some_and(|target| !target.starts_with("kst"));
        if let Some((_, n)) = self.recent.get_mut(&body).filter(|_| library) {
            // seen lately among other lines: counted, summed up when its window ends
            *n += 1;
            return Ok(());
        }
        self.inner.write_all(line.as_bytes())?;
        if library {
            self.remember(body.clone())?;
        }
        self.last = Some(body);
        self.since = Instant::now();
        Ok(())
    }
}

impl<W: Write> Drop for Collapser<W> {
    /// What was only counted is written at the end.
    fn drop(&mut self) {
        let _ = self.flush_repeats();
        let _ = self.flush_recent(true);
        let _ = self.inner.flush();
    }
}

impl<W: Write> Write for Collapser<W> {
    /// Whole lines are compared, whatever pieces `write!` hands over.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.push_str(&String::from_utf8_lossy(buf));
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            self.line(&line)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The log file at `path`, rotated by size, behind the collapser.
/// When the process started (`mark_start`, first thing in `main`): startup figures in the log
/// count from here, so what comes before the first frame (the config, the kubeconfigs, the
/// problems kept by the last run) is counted too.
static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// The time since `mark_start` (since the first call when it was never marked: a test).
pub fn since_start() -> Duration {
    STARTED.get_or_init(Instant::now).elapsed()
}

pub fn writer(path: &std::path::Path) -> Collapser<FileRotate<AppendCount>> {
    let rotate = FileRotate::new(
        path,
        AppendCount::new(KEPT),
        ContentLimit::BytesSurpassed(FILE_BYTES),
        Compression::None,
        None,
    );
    Collapser::new(rotate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_lines_are_counted_not_written() {
        let mut c = Collapser::new(Vec::new());
        for i in 0..50 {
            writeln!(c, "2026-11-30T00:00:{i:02}Z ERROR kube: failed with status 503").unwrap();
        }
        writeln!(c, "2026-11-30T00:01:00Z INFO back").unwrap();
        let out = String::from_utf8(std::mem::take(&mut c.inner)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].ends_with("failed with status 503"));
        assert!(lines[1].starts_with("… repeated 49 times in"), "{out}");
        assert!(lines[2].ends_with("INFO back"));
    }

    #[test]
    fn a_line_repeated_among_others_is_written_once_then_counted() {
        let mut out = Vec::new();
        {
            let mut c = Collapser::new(&mut out);
            for i in 0..20 {
                writeln!(c, "2026-11-30T00:{i:02}:00Z ERROR rmcp::transport::worker: worker quit with fatal: 503")
                    .unwrap();
                writeln!(c, "2026-11-30T00:{i:02}:05Z INFO kst: round {i}").unwrap();
                writeln!(c, "2026-11-30T00:{i:02}:06Z INFO kst::sources: cluster 1 unreachable").unwrap();
            }
        }
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.iter().filter(|l| l.contains("worker quit")).count(), 2, "once, then summed up: {out}");
        assert_eq!(lines.iter().filter(|l| l.contains("INFO kst: round")).count(), 20, "distinct lines all written");
        assert_eq!(lines.iter().filter(|l| l.contains("unreachable")).count(), 20, "kst's own repeats all kept");
        let sum = lines.iter().find(|l| l.starts_with("… repeated")).unwrap();
        assert!(
            sum.starts_with("… repeated 19 times in")
                && sum.ends_with("ERROR rmcp::transport::worker: worker quit with fatal: 503"),
            "{sum}"
        );
    }

    #[test]
    fn the_files_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kst.log");
        let mut w =
            FileRotate::new(&path, AppendCount::new(KEPT), ContentLimit::BytesSurpassed(1000), Compression::None, None);
        for i in 0..1000 {
            writeln!(w, "line {i} with some text to fill the file").unwrap();
        }
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(files.len(), KEPT + 1);
        let total: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
        assert!(total < 1100 * (KEPT as u64 + 1), "{total} bytes");
    }
}
