//! Small helpers with no home of their own, shared by the scenario, the endpoints and the fake
//! GitHub: a stable hash and RFC 3339 times as the API server writes them.

/// FNV-1a: a stable hash (names, template hashes, seeds), the same every run and build.
pub fn fnv(s: &str) -> u64 {
    fnv_bytes(s.as_bytes())
}

pub fn fnv_bytes(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, c| (h ^ *c as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A time as metadata and conditions carry it: `2026-12-07T06:39:40Z`.
pub fn rfc3339(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
