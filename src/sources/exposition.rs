//! The Prometheus text exposition format (0.0.4, and what OpenMetrics adds to a line) read
//! without copying: a sample keeps its labels as the slice of the page between the braces and
//! a label is read when asked for. Every refresh decodes every model server's, endpoint
//! picker's and GPU exporter's page, so this is kst's hottest path: `prom_text_format_parser`
//! allocated a `String` per name, label and value and took a third of kst's CPU at 20 clusters
//! (perf, 2026-12-07). A line that does not parse is skipped; the rest of the page stands.
//!
//! Families follow the format's rules (<https://prometheus.io/docs/instrumenting/exposition_formats/>;
//! written down in docs/upstream/prometheus-text-format.md):
//! the samples of a `# TYPE x histogram` are `x_bucket`, `x_sum` and `x_count`; of a summary
//! `x`, `x_sum` and `x_count`; any other sample is a family of its own name.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// What a family's `# TYPE` line says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Untyped,
    Counter,
    Gauge,
    Histogram,
    Summary,
}

/// Which line of a histogram or summary a sample is: a bucket or quantile, the sum, the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Sample,
    Sum,
    Count,
}

#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// Between the braces, unparsed (empty without labels).
    labels: &'a str,
    /// NaN when the value did not parse.
    pub value: f64,
    pub part: Part,
}

impl<'a> Sample<'a> {
    /// The value when it is a number (NaN and the infinities are unknown, not numbers).
    pub fn finite(&self) -> Option<f64> {
        Some(self.value).filter(|v| v.is_finite())
    }

    /// A label's value, unescaped; None when the sample does not have it.
    pub fn label(&self, key: &str) -> Option<Cow<'a, str>> {
        self.labels().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Every label, unescaped, in the page's order: one pass for a reader that wants several.
    pub fn labels(&self) -> impl Iterator<Item = (&'a str, Cow<'a, str>)> {
        Labels { rest: self.labels }.map(|(k, raw)| (k, unescape(raw)))
    }
}

#[derive(Debug, Default)]
pub struct Family<'a> {
    pub kind: Kind,
    pub samples: Vec<Sample<'a>>,
}

/// A page's families by name, and how many lines did not parse.
#[derive(Debug, Default)]
pub struct Page<'a> {
    pub families: BTreeMap<&'a str, Family<'a>>,
    pub bad_lines: usize,
    /// The first line that did not parse, for the message when nothing did.
    pub first_bad: Option<(usize, &'a str)>,
}

pub fn parse(text: &str) -> Page<'_> {
    let mut page = Page::default();
    // the last `# TYPE` line: (name, kind)
    let mut declared: Option<(&str, Kind)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(t) = type_line(comment) {
                declared = Some(t);
            }
            continue;
        }
        let Some((name, labels, value)) = sample_line(line) else {
            page.bad_lines += 1;
            page.first_bad.get_or_insert((n + 1, raw));
            continue;
        };
        let (family, kind, part) = match declared {
            Some((base, kind @ (Kind::Histogram | Kind::Summary))) => match name.strip_prefix(base) {
                Some("") => (base, kind, Part::Sample),
                Some("_bucket") if kind == Kind::Histogram => (base, kind, Part::Sample),
                Some("_sum") => (base, kind, Part::Sum),
                Some("_count") => (base, kind, Part::Count),
                _ => (name, Kind::Untyped, Part::Sample),
            },
            Some((base, kind)) if base == name => (name, kind, Part::Sample),
            _ => (name, Kind::Untyped, Part::Sample),
        };
        let f = page.families.entry(family).or_default();
        if f.samples.is_empty() {
            f.kind = kind;
        }
        f.samples.push(Sample { labels, value, part });
    }
    page
}

/// A page with at least one family, or why there is none (`not Prometheus text: line 3: …`):
/// one odd line does not lose the rest, a page of nothing usable is an error.
pub fn parse_some(text: &str) -> Result<Page<'_>, String> {
    let page = parse(text);
    if !page.families.is_empty() {
        return Ok(page);
    }
    let why = match page.first_bad {
        Some((n, line)) => format!("line {n}: {}", line.trim()),
        None => "no metrics in the response".into(),
    };
    Err(format!("not Prometheus text: {}", why.chars().take(160).collect::<String>()))
}

/// `# TYPE name kind` (after the `#`); None for HELP and other comments.
fn type_line(comment: &str) -> Option<(&str, Kind)> {
    let mut words = comment.split_whitespace();
    if words.next()? != "TYPE" {
        return None;
    }
    let name = words.next()?;
    let kind = match words.next()?.to_ascii_lowercase().as_str() {
        "counter" => Kind::Counter,
        "gauge" => Kind::Gauge,
        "histogram" => Kind::Histogram,
        "summary" => Kind::Summary,
        _ => Kind::Untyped,
    };
    Some((name, kind))
}

fn is_name_char(c: u8, first: bool) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || (!first && c.is_ascii_digit())
}

/// `name{labels} value [timestamp] [# exemplar]` -> (name, labels, value).
fn sample_line(line: &str) -> Option<(&str, &str, f64)> {
    let b = line.as_bytes();
    let end = b.iter().enumerate().take_while(|(i, c)| is_name_char(**c, *i == 0)).count();
    if end == 0 {
        return None;
    }
    let name = &line[..end];
    let after_name = &line[end..];
    let (labels, rest) = match after_name.trim_start().strip_prefix('{') {
        Some(inner) => {
            let close = closing_brace(inner)?;
            (&inner[..close], &inner[close + 1..])
        }
        // without labels, a space sets the value apart from the name
        None if after_name.starts_with(char::is_whitespace) => ("", after_name),
        None => return None,
    };
    let token = rest.split_whitespace().next()?;
    let value = match token {
        "NaN" => f64::NAN,
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        t => t.parse::<f64>().ok()?,
    };
    // labels must read as pairs, or the line is not one
    if !labels.trim().is_empty() && (Labels { rest: labels }).count() == 0 {
        return None;
    }
    Some((name, labels, value))
}

/// Where the braces close, quotes (and escapes in them) respected.
fn closing_brace(s: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.bytes().enumerate() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => quoted = false,
            (false, _, b'"') => quoted = true,
            (false, _, b'}') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The `key="value"` pairs between a sample's braces; stops at the first that does not read.
struct Labels<'a> {
    rest: &'a str,
}

/// Yields (key, value as written, escapes and all).
impl<'a> Iterator for Labels<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let eq = s.find('=')?;
        let key = s[..eq].trim();
        if key.is_empty() || !key.bytes().enumerate().all(|(i, c)| is_name_char(c, i == 0) && c != b':') {
            self.rest = "";
            return None;
        }
        let Some(after) = s[eq + 1..].trim_start().strip_prefix('"') else {
            self.rest = "";
            return None;
        };
        let mut escaped = false;
        let mut close = None;
        for (i, c) in after.bytes().enumerate() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            self.rest = "";
            return None;
        };
        let raw = &after[..close];
        self.rest = &after[close + 1..];
        Some((key, raw))
    }
}

/// `\\`, `\"` and `\n` as the format writes them; anything else after a backslash is kept.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_histogram_is_one_family_with_its_parts() {
        let p = parse(
            "# HELP rpc Duration.\n# TYPE rpc histogram\nrpc_bucket{le=\"0.5\"} 3\nrpc_bucket{le=\"+Inf\"} 5\n\
             rpc_sum 1.5e+00\nrpc_count 5\n# TYPE up gauge\nup 1 1395066363000\n",
        );
        let h = &p.families["rpc"];
        assert_eq!(h.kind, Kind::Histogram);
        let parts: Vec<Part> = h.samples.iter().map(|s| s.part).collect();
        assert_eq!(parts, [Part::Sample, Part::Sample, Part::Sum, Part::Count]);
        assert_eq!(h.samples[1].label("le").as_deref(), Some("+Inf"));
        assert_eq!(h.samples[2].value, 1.5);
        assert_eq!(p.families["up"].kind, Kind::Gauge);
        assert_eq!(p.families["up"].samples[0].value, 1.0, "a timestamp is not the value");
        assert_eq!(p.bad_lines, 0);
    }

    #[test]
    fn untyped_parts_are_families_of_their_own_and_counters_keep_total() {
        let p = parse("# TYPE vllm:request_success counter\nvllm:request_success_total{model_name=\"m\"} 7\nx_bucket{le=\"1\"} 2\n");
        assert_eq!(p.families["vllm:request_success_total"].samples[0].value, 7.0);
        assert_eq!(p.families["x_bucket"].kind, Kind::Untyped);
    }

    #[test]
    fn label_values_keep_braces_commas_and_escapes() {
        let p = parse(
            "m{path=\"/a,b}\",msg=\"say \\\"hi\\\"\\n\",win=\"C:\\\\x\"} 1\nm{ a = \"1\" , } 2 # {trace_id=\"x\"} 1\n",
        );
        let s = &p.families["m"].samples;
        assert_eq!(s[0].label("path").as_deref(), Some("/a,b}"));
        assert_eq!(s[0].label("msg").as_deref(), Some("say \"hi\"\n"));
        assert_eq!(s[0].label("win").as_deref(), Some("C:\\x"));
        assert_eq!(s[1].label("a").as_deref(), Some("1"));
        assert_eq!(s[1].value, 2.0, "an exemplar is not the value");
        assert_eq!(s[0].label("nope"), None);
    }

    #[test]
    fn special_values_parse_and_are_not_finite() {
        let p = parse("a NaN\nb +Inf\nc -Inf\nd 12\n");
        assert!(p.families["a"].samples[0].value.is_nan());
        assert_eq!(p.families["b"].samples[0].finite(), None);
        assert_eq!(p.families["c"].samples[0].value, f64::NEG_INFINITY);
        assert_eq!(p.families["d"].samples[0].finite(), Some(12.0));
    }

    #[test]
    fn a_bad_line_is_skipped_and_the_rest_stands() {
        let text = "good 1\n{oops} 2\nbad{l=\"unterminated} 3\nnovalue\nworse{l=x} 1\n9lives 1\nalso_good{a=\"b\"} 4\n";
        let p = parse(text);
        assert_eq!(p.families.keys().copied().collect::<Vec<_>>(), ["also_good", "good"]);
        assert_eq!(p.bad_lines, 5);
        assert_eq!(p.first_bad.map(|(n, _)| n), Some(2));
    }

    #[test]
    fn odd_input_never_panics() {
        for t in [
            "",
            "{",
            "}",
            "a{",
            "a{b",
            "a{b=",
            "a{b=\"",
            "a{b=\"\\",
            "a{b=\"é\"} 1",
            "é 1",
            "a 1e999",
            "# TYPE",
            "a{}1",
        ] {
            let _ = parse(t);
        }
        assert_eq!(parse("a{b=\"é\"} 1").families["a"].samples[0].label("b").as_deref(), Some("é"));
    }
}
