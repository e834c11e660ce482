//! What the client subcommands print: aligned tables for people, names for enum values,
//! times and durations. JSON output is built by each subcommand.

use corvo_sdk::proto as pb;

/// Prints `rows` under `header`, each column as wide as its widest cell.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
}

/// RFC 3339, to the second.
pub fn time(ts: &Option<prost_types::Timestamp>) -> Option<String> {
    ts.as_ref().map(|t| {
        let at = std::time::UNIX_EPOCH
            + std::time::Duration::new(t.seconds.max(0) as u64, t.nanos.max(0) as u32);
        humantime::format_rfc3339_seconds(at).to_string()
    })
}

/// Milliseconds since the epoch.
pub fn time_ms(ts: &Option<prost_types::Timestamp>) -> Option<i64> {
    ts.as_ref()
        .map(|t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
}

pub fn timestamp(at: std::time::SystemTime) -> prost_types::Timestamp {
    let d = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    prost_types::Timestamp {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// `1h 30m`, to the second (`0s` for zero).
pub fn duration_ms(ms: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(ms / 1000)).to_string()
}

/// An enum value's name without its prefix, lower case (`JOB_STATE_DEAD` → `dead`).
fn short_name(name: Option<&str>, prefix: &str) -> String {
    name.map_or("unknown".to_owned(), |n| {
        n.trim_start_matches(prefix).to_lowercase()
    })
}

pub fn state_name(state: i32) -> String {
    short_name(
        pb::JobState::try_from(state).ok().map(|s| s.as_str_name()),
        "JOB_STATE_",
    )
}

pub fn priority_name(priority: i32) -> String {
    short_name(
        pb::Priority::try_from(priority)
            .ok()
            .map(|p| p.as_str_name()),
        "PRIORITY_",
    )
}

pub fn role_name(role: i32) -> String {
    short_name(
        pb::KeyRole::try_from(role).ok().map(|r| r.as_str_name()),
        "KEY_ROLE_",
    )
}

pub fn operation_state_name(state: i32) -> String {
    short_name(
        pb::OperationState::try_from(state)
            .ok()
            .map(|s| s.as_str_name()),
        "OPERATION_STATE_",
    )
}

/// `--state dead` → `JOB_STATE_DEAD`, with the known names in the error.
pub fn parse_state(s: &str) -> anyhow::Result<pb::JobState> {
    pb::JobState::from_str_name(&format!("JOB_STATE_{}", s.to_uppercase()))
        .filter(|s| *s != pb::JobState::Unspecified)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "unknown state {s:?} (known: pending, scheduled, active, retrying, held, \
                 completed, dead, cancelled)"
            )
        })
}
