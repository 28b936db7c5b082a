//! Exponential backoff with jitter, capped: the retry pacing of watches, proxies and dials.
//! The maths is backon's (already in the tree through kube's runtime); kst adds the cap on the
//! jittered delay (backon's jitter may double a delay past its maximum) and a seed per caller, so
//! a fleet's collectors do not retry in step and a test sees the same steps every run.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

pub struct Backoff {
    builder: ExponentialBuilder,
    steps: ExponentialBackoff,
    max: Duration,
}

impl Backoff {
    /// Starts at `first` (plus up to as much jitter), doubles, never waits more than `max`.
    pub fn new(first: Duration, max: Duration, seed: u64) -> Self {
        let builder = ExponentialBuilder::default()
            .with_min_delay(first)
            .with_max_delay(max)
            .with_jitter()
            .with_jitter_seed(seed)
            .without_max_times();
        Backoff { steps: builder.build(), builder, max }
    }

    /// After a success: the next failure waits `first` again.
    pub fn reset(&mut self) {
        self.steps = self.builder.build();
    }

    /// The wait before the next attempt.
    pub fn step(&mut self) -> Duration {
        self.steps.next().unwrap_or(self.max).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(4), 3);
        let steps: Vec<Duration> = (0..8).map(|_| b.step()).collect();
        assert!(steps[0] < Duration::from_secs(1));
        assert!(steps.iter().all(|d| *d <= Duration::from_secs(4)));
        assert!(steps[7] >= Duration::from_millis(3200), "reaches the cap: {steps:?}");
        b.reset();
        assert!(b.step() < Duration::from_secs(1));
    }
}
