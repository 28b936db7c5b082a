//! kst's log: a file, never the screen; at most 10 MB x 4 files (file-rotate keeps
//! `kst.log`, `kst.log.1` … `kst.log.3`), and the same line repeated is written once with a count
//! (`… repeated 120 times in 60s`), so a cluster that is down for a day does not fill a disk.

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

/// Writes lines through, but a line that repeats the one before (apart from its timestamp,
/// the first word) is only counted; the count is written when the run ends or every minute.
pub struct Collapser<W: Write> {
    inner: W,
    last: Option<String>,
    pending: String,
    repeats: u64,
    since: Instant,
}

impl<W: Write> Collapser<W> {
    pub fn new(inner: W) -> Self {
        Collapser { inner, last: None, pending: String::new(), repeats: 0, since: Instant::now() }
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
        self.inner.write_all(line.as_bytes())?;
        self.last = Some(body);
        self.since = Instant::now();
        Ok(())
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
        let out = String::from_utf8(c.inner).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].ends_with("failed with status 503"));
        assert!(lines[1].starts_with("… repeated 49 times in"), "{out}");
        assert!(lines[2].ends_with("INFO back"));
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
