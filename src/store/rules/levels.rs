//! A measured value's level for the panes' colours and `!`/`!!` marks, read off the same rows
//! of the rule table the problems come from: a value drawn red is a value that is a problem.

use super::table;
use crate::store::problems::{Kind, Level};

/// A warning rule and, where the family has one, its critical twin.
#[derive(Debug, Clone, Copy)]
pub struct Threshold {
    pub warn: &'static Kind,
    pub crit: Option<&'static Kind>,
}

impl Threshold {
    pub fn level(&self, v: f64) -> Level {
        let holds = |k: &Kind| k.cmp.is_some_and(|c| c.holds(v));
        if self.crit.is_some_and(holds) {
            Level::Crit
        } else if holds(self.warn) {
            Level::Warn
        } else {
            Level::Ok
        }
    }
    /// The warning threshold's value.
    pub fn warn(&self) -> f64 {
        self.warn.cmp.map(|c| c.value).unwrap_or(f64::NAN)
    }
    /// `KV 96% > 95%`: the value against the worst threshold it crosses (the warning's when
    /// it crosses none).
    pub fn reason(&self, v: f64, suffix: &str) -> String {
        let k = match self.level(v) {
            Level::Crit => self.crit.unwrap_or(self.warn),
            _ => self.warn,
        };
        k.cmp.map(|c| c.reason(v, suffix)).unwrap_or_default()
    }
}

/// KV on a server that decodes: 90% warns, 95% is critical.
pub const KV_DECODE: Threshold = Threshold { warn: &table::KV, crit: Some(&table::KV_DECODE) };
/// KV on a prefill server: only the warning.
pub const KV: Threshold = Threshold { warn: &table::KV, crit: None };
pub const WAITING: Threshold = Threshold { warn: &table::WAITING, crit: None };
pub const WAITING_PREFILL: Threshold = Threshold { warn: &table::WAITING_PREFILL, crit: None };
pub const ERROR_RATIO: Threshold = Threshold { warn: &table::ERROR_RATIO_HIGH, crit: Some(&table::ERROR_RATIO) };
pub const TTFT_P99: Threshold = Threshold { warn: &table::TTFT_P99_HIGH, crit: Some(&table::TTFT_P99) };
pub const PD_RATIO: Threshold = Threshold { warn: &table::PD_RATIO, crit: None };
pub const PREFIX_HIT: Threshold = Threshold { warn: &table::PREFIX_HIT, crit: None };
pub const GPU_MEMORY: Threshold = Threshold { warn: &table::GPU_MEMORY, crit: None };

/// The KV levels for a server of this role.
pub fn kv(serves_decode: bool) -> &'static Threshold {
    if serves_decode {
        &KV_DECODE
    } else {
        &KV
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_at_under_and_over_each_threshold() {
        assert_eq!(KV_DECODE.level(0.89), Level::Ok);
        assert_eq!(KV_DECODE.level(0.90), Level::Ok, "at the threshold is not over it");
        assert_eq!(KV_DECODE.level(0.93), Level::Warn);
        assert_eq!(KV_DECODE.level(0.96), Level::Crit);
        assert_eq!(KV.level(0.99), Level::Warn, "prefill KV only warns");
        assert_eq!(ERROR_RATIO.level(0.02), Level::Ok, "upstream's EPP rules start at 5%");
        assert_eq!(ERROR_RATIO.level(0.06), Level::Warn);
        assert_eq!(ERROR_RATIO.level(0.21), Level::Crit);
        assert_eq!(TTFT_P99.level(31.0), Level::Crit);
        assert_eq!(PREFIX_HIT.level(0.29), Level::Warn, "below is bad for hit rates");
        assert_eq!(PREFIX_HIT.level(0.31), Level::Ok);
        assert_eq!(PD_RATIO.level(3.5), Level::Warn);
    }

    #[test]
    fn reasons_say_the_value_and_the_threshold() {
        assert_eq!(KV_DECODE.reason(0.96, " on decode"), "KV 96% > 95% on decode");
        assert_eq!(KV_DECODE.reason(0.93, " on decode"), "KV 93% > 90% on decode");
        assert_eq!(ERROR_RATIO.reason(0.08, ""), "error ratio 8% > 5%");
        assert_eq!(TTFT_P99.reason(12.0, ""), "TTFT p99 12.0s > 10.0s");
        assert_eq!(PREFIX_HIT.reason(0.25, ""), "prefix hit rate 25% < 30%");
    }
}
