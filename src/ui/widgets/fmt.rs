//! Number formats shared by the panes. Unknown is always `—`.

use super::state::DASH;

/// The time from an RFC 3339 timestamp to `until` (unix seconds), as kubectl writes ages;
/// `—` when there is no timestamp or it cannot be read.
pub fn age(since: Option<&str>, until: f64) -> String {
    since
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .map(|t| duration((until as i64 - t.as_second()).max(0)))
        .unwrap_or_else(|| DASH.to_string())
}

/// Seconds as kubectl writes ages: `45s`, `3m12s`, `2h5m`, `4d`.
pub fn duration(secs: i64) -> String {
    // as kubectl's HumanDuration writes it: a zero second part is left out (`5m`, `3h`, `2d`)
    let two = |a: i64, u: &str, b: i64, v: &str| if b == 0 { format!("{a}{u}") } else { format!("{a}{u}{b}{v}") };
    match secs.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => two(s / 60, "m", s % 60, "s"),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => two(s / 3600, "h", (s % 3600) / 60, "m"),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s if s < 8 * 86400 => two(s / 86400, "d", (s % 86400) / 3600, "h"),
        s => format!("{}d", s / 86400),
    }
}

/// An age to the minute (`<1m`, `4m`, then as `duration`): for a screen that must not redraw
/// every second for a clock alone (the Overview's detail, the first screen over a slow link).
/// A lower bound is marked `≥` and rounded down (`≥0m`: seen for under a minute, maybe older).
pub fn age_to_the_minute(secs: i64, lower_bound: bool) -> String {
    match (secs.max(0), lower_bound) {
        (s, false) if s < 60 => "<1m".to_string(),
        (s, lower) if s < 600 => format!("{}{}m", if lower { "≥" } else { "" }, s / 60),
        (s, lower) => format!("{}{}", if lower { "≥" } else { "" }, duration(s)),
    }
}

pub fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| DASH.to_string())
}

/// 0.4 -> "0.4", 12.34 -> "12", 1234 -> "1.2k", 1.2e6 -> "1.2M".
pub fn num(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A count (requests running, waiting): whole numbers, `4` not `4.0`, `1.2k` past a thousand.
pub fn count(v: f64) -> String {
    if v.abs() < 1e3 {
        format!("{:.0}", v.round())
    } else {
        num(v)
    }
}

pub fn pct(v: f64) -> String {
    if v > 0.0 && v < 0.01 {
        format!("{:.1}%", v * 100.0)
    } else {
        format!("{:.0}%", v * 100.0)
    }
}

/// Seconds as a latency: 0.0123 -> "12ms", 1.5 -> "1.5s".
pub fn secs(v: f64) -> String {
    if v < 1.0 {
        format!("{:.0}ms", v * 1000.0)
    } else if v < 10.0 {
        format!("{v:.1}s")
    } else {
        format!("{v:.0}s")
    }
}

/// A `p50/p99` pair.
/// `21k/3.3k`: two counts or rates, `—` for an unknown one, `—` alone when both are.
pub fn pair_num(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (None, None) => DASH.to_string(),
        _ => format!("{}/{}", opt(a, num), opt(b, num)),
    }
}

pub fn pair(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (None, None) => DASH.to_string(),
        _ => format!("{}/{}", opt(a, secs), opt(b, secs)),
    }
}

/// Keeps the end of a long name (pod names differ at the end).
pub fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 2 {
        return s.to_string();
    }
    let keep: String = s.chars().skip(n - (max - 1)).collect();
    format!("…{keep}")
}

/// Keeps the start and the generated suffix of a pod name: `ms-pd-llm-d-mo…-5f7jd`.
pub fn mid(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 10 {
        return tail(s, max);
    }
    let suffix: String = s.chars().skip(n - 6).collect();
    let head: String = s.chars().take(max - 7).collect();
    format!("{head}…{suffix}")
}

/// A stale reason in one word, for narrow cells; the full text is shown elsewhere.
pub fn short_reason(why: &str) -> &'static str {
    let w = why.to_lowercase();
    if w.contains("timed out") {
        "timeout"
    } else if w.contains("refused") || w.contains("reach") || w.contains("unavailable") {
        "unreachable"
    } else if w.contains("auth") || w.contains("401") || w.contains("403") {
        "auth required"
    } else if w.contains("not scraped") {
        "pending"
    } else if w.contains(" ago") {
        "old"
    } else if w.contains("prometheus") || w.contains("metrics in the response") {
        "bad metrics"
    } else {
        "error"
    }
}

/// The last path segment of a model id.
pub fn short_model(m: &str) -> &str {
    m.rsplit('/').next().unwrap_or(m)
}

/// A text gauge: `██████░░░░`.
pub fn bar(v: f64, width: usize) -> String {
    let filled = ((v.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Cores as `kubectl top` writes them: whole millicores, rounded up (`Quantity.MilliValue`).
pub fn millicores(cores: f64) -> String {
    format!("{}m", (cores * 1000.0 - 1e-6).ceil().max(0.0) as u64)
}

/// Bytes as `kubectl top` writes memory: whole mebibytes, rounded down.
pub fn mebibytes(bytes: f64) -> String {
    format!("{}Mi", (bytes / (1024.0 * 1024.0)).floor().max(0.0) as u64)
}

/// Words of `text` in lines of at most `width` characters (a longer word is cut into pieces).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            out.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_to_the_minute_change_once_a_minute_at_most() {
        let ages = [0, 59, 60, 119, 599, 600, 7200];
        assert_eq!(ages.map(|s| age_to_the_minute(s, false)), ["<1m", "<1m", "1m", "1m", "9m", "10m", "120m"]);
        assert_eq!(ages.map(|s| age_to_the_minute(s, true)), ["≥0m", "≥0m", "≥1m", "≥1m", "≥9m", "≥10m", "≥120m"]);
    }

    #[test]
    fn formats() {
        assert_eq!(
            (count(4.0), count(17.0), count(0.0), count(1234.0)),
            ("4".into(), "17".into(), "0".into(), "1.2k".into())
        );
        assert_eq!(num(1234.0), "1.2k");
        assert_eq!(num(45678.0), "46k");
        assert_eq!(num(3.17), "3.2");
        assert_eq!(secs(0.0123), "12ms");
        assert_eq!(secs(2.5), "2.5s");
        assert_eq!(pct(0.004), "0.4%");
        assert_eq!(pair(None, None), "—");
        assert_eq!(tail("ms-pd-decode-abc-12345", 8), "…c-12345");
        assert_eq!(short_model("meta-llama/Llama-3.1-8B"), "Llama-3.1-8B");
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(mid("ms-pd-llm-d-modelservice-decode-z5pbtvpl7b-5f7jd", 20), "ms-pd-llm-d-m…-5f7jd");
        assert_eq!(mid("short", 20), "short");
    }
}
