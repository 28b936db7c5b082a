//! The one table of thresholds. The panes' colours and the problems (triage) both read it, so
//! a value drawn red is a value that is a problem, and the other way round.
//!
//! Source: llm-d `docs/monitoring/prometheus-alerting-rules.yaml` (error rate, TTFT p99, KV
//! usage, waiting requests, preemptions, prefix-cache hit rate, the prefill:decode running
//! ratio), with their `for:` durations; see ../shared/reference/llm-d.md and anchors-2026-11.md.

/// How bad a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Crit,
}

/// Which side of the threshold is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    Above,
    Below,
}

/// One rule: a measured value against its thresholds, held for `for_s` before it fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub id: &'static str,
    /// What is measured, as the reason line says it (`KV`, `error rate`).
    pub what: &'static str,
    pub bad: Bad,
    pub warn: f64,
    pub crit: Option<f64>,
    /// Seconds the condition must hold before it is a problem (Prometheus' `for:`).
    pub for_s: f64,
    /// How the value and threshold are written.
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Ratio,
    Seconds,
    Count,
    PerSecond,
}

impl Unit {
    pub fn fmt(self, v: f64) -> String {
        match self {
            Unit::Ratio => {
                let p = v * 100.0;
                if p != 0.0 && p.abs() < 1.0 {
                    format!("{p:.1}%")
                } else {
                    format!("{p:.0}%")
                }
            }
            Unit::Seconds => {
                if v < 1.0 {
                    format!("{:.0}ms", v * 1000.0)
                } else {
                    format!("{v:.1}s")
                }
            }
            Unit::Count => format!("{v:.0}"),
            Unit::PerSecond => format!("{v:.1}/s"),
        }
    }
}

impl Rule {
    pub fn level(&self, v: f64) -> Level {
        let over = |t: f64| match self.bad {
            Bad::Above => v > t,
            Bad::Below => v < t,
        };
        match self.crit {
            Some(c) if over(c) => Level::Crit,
            _ if over(self.warn) => Level::Warn,
            _ => Level::Ok,
        }
    }
    /// `KV 96% ≥ 95% on decode`: the measured value against the threshold it crossed.
    pub fn reason(&self, v: f64, suffix: &str) -> String {
        let (op, t) = match (self.level(v), self.bad) {
            (Level::Crit, Bad::Above) => (">", self.crit.unwrap_or(self.warn)),
            (Level::Crit, Bad::Below) => ("<", self.crit.unwrap_or(self.warn)),
            (_, Bad::Above) => (">", self.warn),
            (_, Bad::Below) => ("<", self.warn),
        };
        format!("{} {} {op} {}{suffix}", self.what, self.unit.fmt(v), self.unit.fmt(t))
    }
}

pub const ERROR_RATE: Rule = Rule {
    id: "error-rate",
    what: "error rate",
    bad: Bad::Above,
    warn: 0.01,
    crit: Some(0.05),
    for_s: 300.0,
    unit: Unit::Ratio,
};
pub const TTFT_P99: Rule = Rule {
    id: "ttft-p99",
    what: "TTFT p99",
    bad: Bad::Above,
    warn: 10.0,
    crit: Some(30.0),
    for_s: 300.0,
    unit: Unit::Seconds,
};
/// KV usage: warning above 90% on any server.
pub const KV: Rule =
    Rule { id: "kv", what: "KV", bad: Bad::Above, warn: 0.90, crit: None, for_s: 300.0, unit: Unit::Ratio };
/// KV usage on decode servers: critical above 95%.
pub const KV_DECODE: Rule = Rule {
    id: "kv-decode",
    what: "KV",
    bad: Bad::Above,
    warn: 0.90,
    crit: Some(0.95),
    for_s: 300.0,
    unit: Unit::Ratio,
};
pub const WAITING: Rule =
    Rule { id: "waiting", what: "waiting", bad: Bad::Above, warn: 50.0, crit: None, for_s: 300.0, unit: Unit::Count };
pub const WAITING_PREFILL: Rule = Rule {
    id: "waiting-prefill",
    what: "waiting",
    bad: Bad::Above,
    warn: 100.0,
    crit: None,
    for_s: 300.0,
    unit: Unit::Count,
};
pub const PREEMPTIONS: Rule = Rule {
    id: "preemptions",
    what: "preemptions",
    bad: Bad::Above,
    warn: 1.0,
    crit: None,
    for_s: 300.0,
    unit: Unit::PerSecond,
};
pub const PREFIX_HIT: Rule = Rule {
    id: "prefix-hit",
    what: "prefix hit rate",
    bad: Bad::Below,
    warn: 0.30,
    crit: None,
    for_s: 600.0,
    unit: Unit::Ratio,
};
pub const PD_RATIO: Rule = Rule {
    id: "pd-ratio",
    what: "prefill:decode running",
    bad: Bad::Above,
    warn: 3.0,
    crit: None,
    for_s: 600.0,
    unit: Unit::Count,
};

/// Every rule, for the README and `kst snapshot`'s documentation.
pub const ALL: &[Rule] =
    &[ERROR_RATE, TTFT_P99, KV, KV_DECODE, WAITING, WAITING_PREFILL, PREEMPTIONS, PREFIX_HIT, PD_RATIO];

/// The KV rule for a server of this role.
pub fn kv_rule(serves_decode: bool) -> &'static Rule {
    if serves_decode {
        &KV_DECODE
    } else {
        &KV
    }
}

/// The waiting rule for a server of this role.
pub fn waiting_rule(prefill: bool) -> &'static Rule {
    if prefill {
        &WAITING_PREFILL
    } else {
        &WAITING
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
        assert_eq!(ERROR_RATE.level(0.02), Level::Warn);
        assert_eq!(ERROR_RATE.level(0.051), Level::Crit);
        assert_eq!(TTFT_P99.level(31.0), Level::Crit);
        assert_eq!(PREFIX_HIT.level(0.29), Level::Warn, "below is bad for hit rates");
        assert_eq!(PREFIX_HIT.level(0.31), Level::Ok);
        assert_eq!(PD_RATIO.level(3.5), Level::Warn);
    }

    #[test]
    fn reasons_say_the_value_and_the_threshold() {
        assert_eq!(KV_DECODE.reason(0.96, " on decode"), "KV 96% > 95% on decode");
        assert_eq!(ERROR_RATE.reason(0.02, ""), "error rate 2% > 1%");
        assert_eq!(TTFT_P99.reason(12.0, ""), "TTFT p99 12.0s > 10.0s");
        assert_eq!(PREFIX_HIT.reason(0.25, ""), "prefix hit rate 25% < 30%");
    }
}

// GPUs (kst's own thresholds; DCGM reports the values, nothing upstream sets alert levels).

/// A GPU at or above this utilisation (0..1) is busy; below it, a held GPU is idle.
pub const GPU_BUSY: f64 = 0.10;
/// A held GPU idle (under `GPU_BUSY`) this long is paid for and unused.
pub const GPU_IDLE_HELD: Rule = Rule {
    id: "gpu-idle-held",
    what: "GPU utilisation",
    bad: Bad::Below,
    warn: GPU_BUSY,
    crit: None,
    for_s: 7200.0,
    unit: Unit::Ratio,
};
/// Framebuffer used: the next allocation may fail (vLLM takes 90% up front, so 95% is beyond it).
pub const GPU_MEMORY: Rule = Rule {
    id: "gpu-memory",
    what: "GPU memory",
    bad: Bad::Above,
    warn: 0.95,
    crit: None,
    for_s: 300.0,
    unit: Unit::Ratio,
};

/// A placement status (WorkStatus) older than this, from a cluster the hub says is not Available,
/// may no longer be true (a healthy object's status is rewritten only when it changes, so age
/// alone says nothing).
pub const PLACEMENT_STATUS_STALE_S: f64 = 600.0;
