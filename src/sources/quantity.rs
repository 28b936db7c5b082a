//! Kubernetes resource quantities as numbers: `250m`, `4021855n`, `23640Ki`, `1.5Gi`, `1e3`
//! (apimachinery's `resource.Quantity` grammar: a decimal number, then a binary suffix, a
//! decimal suffix or an exponent).

/// A quantity's value in base units (cores, bytes); None when it is not a quantity.
pub fn parse(s: &str) -> Option<f64> {
    let s = s.trim();
    let binary = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)];
    for (suffix, shift) in binary {
        if let Some(n) = s.strip_suffix(suffix) {
            return number(n).map(|n| n * (1u64 << shift) as f64);
        }
    }
    // an exponent (`1e3`, `2E-3`) before the decimal suffixes: `E` alone is exa
    if let Some((at, _)) = s.char_indices().skip(1).find(|(_, c)| matches!(c, 'e' | 'E')) {
        let (m, e) = (&s[..at], &s[at + 1..]);
        if !e.is_empty() && e.trim_start_matches(['+', '-']).chars().all(|c| c.is_ascii_digit()) {
            let e = e.parse::<i32>().ok()?;
            let m = number(m)?;
            return Some(if e < 0 { m / 10f64.powi(-e) } else { m * 10f64.powi(e) });
        }
    }
    let decimal = [("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];
    for (suffix, exp) in decimal {
        if let Some(n) = s.strip_suffix(suffix) {
            // dividing by an exact power of ten rounds once: `100u` is exactly `100e-6`
            return number(n).map(|n| if exp < 0 { n / 10f64.powi(-exp) } else { n * 10f64.powi(exp) });
        }
    }
    number(s)
}

/// The number before a suffix: digits with at most one point and an optional sign.
fn number(s: &str) -> Option<f64> {
    let digits = s.trim_start_matches(['+', '-']);
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && digits != ".";
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn metrics_server_and_request_forms() {
        assert_eq!(parse("4021855n"), Some(0.004021855));
        assert_eq!(parse("250m"), Some(0.25));
        assert_eq!(parse("2"), Some(2.0));
        assert_eq!(parse("23640Ki"), Some(23640.0 * 1024.0));
        assert_eq!(parse("1.5Gi"), Some(1.5 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("1E"), Some(1e18), "E alone is exa");
        assert_eq!(parse("12M"), Some(12e6));
        assert_eq!(parse("100u"), Some(100e-6));
    }

    #[test]
    fn odd_text_is_not_a_quantity() {
        for s in ["", "Ki", "abc", "1.2.3m", "é", "--1", "12Qi", ".", "1e", "ée3"] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }
}
