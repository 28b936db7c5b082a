//! The cluster's own record of when something happened: RFC 3339 times in objects
//! (`lastTransitionTime`, `finishedAt`, `completionTime`) as Unix seconds. A problem's age is
//! read from these where they exist, not from when kst first looked.

use serde_json::Value;

/// An RFC 3339 time (`2026-12-06T03:12:00Z`) as Unix seconds; None when absent or not a time.
pub fn time(v: &Value) -> Option<f64> {
    let t: jiff::Timestamp = v.as_str()?.parse().ok()?;
    Some(t.as_millisecond() as f64 / 1000.0)
}

/// The condition of this type in `status.conditions`: (status, lastTransitionTime).
pub fn condition<'a>(status: &'a Value, kind: &str) -> Option<(&'a str, Option<f64>)> {
    let c = status["conditions"].as_array()?.iter().find(|c| c["type"] == kind)?;
    Some((c["status"].as_str().unwrap_or(""), time(&c["lastTransitionTime"])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_conditions_as_the_api_server_writes_them() {
        assert_eq!(time(&Value::from("1970-01-01T00:01:40Z")), Some(100.0));
        assert_eq!(time(&Value::from("2026-12-06T03:12:00.5+00:00")), Some(1_796_526_720.5));
        assert_eq!(time(&Value::from("yesterday")), None);
        assert_eq!(time(&Value::Null), None);
        let st = serde_json::json!({"conditions": [
            {"type": "Ready", "status": "False", "lastTransitionTime": "1970-01-01T00:01:40Z"},
            {"type": "PodScheduled", "status": "True"}]});
        assert_eq!(condition(&st, "Ready"), Some(("False", Some(100.0))));
        assert_eq!(condition(&st, "PodScheduled"), Some(("True", None)));
        assert_eq!(condition(&st, "Initialized"), None);
    }
}
