//! Giving freed memory back. glibc's malloc keeps what a burst freed (the first lists of every
//! watch of a hundred clusters, decoded and dropped) in its arenas, so a kiosk's RSS would stay
//! at its start-up peak for weeks; `malloc_trim` returns the free pages to the system.

use std::time::Duration;

/// Trims the heap every `every`, for as long as the runtime runs (glibc only: other allocators
/// return memory themselves).
pub fn trim_every(every: Duration) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // SAFETY: malloc_trim only walks glibc's own arenas; 0 keeps no padding
            unsafe {
                libc::malloc_trim(0);
            }
        }
    });
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = every;
}
