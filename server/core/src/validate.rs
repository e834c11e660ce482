//! Input rules shared by the API layer (which checks before proposing, with the configured
//! limits) and `apply` (which re-checks structure, so a bad command can never corrupt state).

use crate::command::{Enqueue, JobError};

/// Queue names: 1..=255 bytes of `[A-Za-z0-9._:-]`, so they are safe in keys, metrics
/// labels and URLs.
pub const QUEUE_NAME_BYTES_MAX: usize = 255;
/// Unique keys, tag keys and tag values.
pub const KEY_BYTES_MAX: usize = 255;
pub const TAG_VALUE_BYTES_MAX: usize = 1_024;
pub const TAGS_MAX: usize = 64;
/// A job that needs more than 1000 attempts needs a different design.
pub const MAX_ATTEMPTS_MAX: u32 = 1_000;
/// Worker ids and host names.
pub const WORKER_ID_BYTES_MAX: usize = 255;
/// Ten years: longer delays and periods are certainly mistakes.
pub const DURATION_MS_MAX: u64 = 10 * 365 * 24 * 3_600_000;

pub fn invalid(field: &str, reason: impl Into<String>) -> JobError {
    JobError::InvalidArgument {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

pub fn queue_name(field: &str, name: &str) -> Result<(), JobError> {
    if name.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if name.len() > QUEUE_NAME_BYTES_MAX {
        return Err(invalid(
            field,
            format!(
                "is {} bytes, at most {QUEUE_NAME_BYTES_MAX} allowed",
                name.len()
            ),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(invalid(
            field,
            format!("contains {c:?}; allowed are letters, digits and . _ : -"),
        ));
    }
    Ok(())
}

/// A JSON document of at most `max_bytes`.
pub fn json_document(field: &str, text: &str, max_bytes: usize) -> Result<(), JobError> {
    if text.len() > max_bytes {
        return Err(invalid(
            field,
            format!("is {} bytes, at most {max_bytes} allowed", text.len()),
        ));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| invalid(field, format!("is not valid JSON: {e}")))?;
    Ok(())
}

/// A JSON object (progress and checkpoints).
pub fn json_object(field: &str, text: &str, max_bytes: usize) -> Result<(), JobError> {
    json_document(field, text, max_bytes)?;
    if !text.trim_start().starts_with('{') {
        return Err(invalid(field, "must be a JSON object"));
    }
    Ok(())
}

pub fn bounded_text(field: &str, text: &str, max_bytes: usize) -> Result<(), JobError> {
    if text.len() > max_bytes {
        return Err(invalid(
            field,
            format!("is {} bytes, at most {max_bytes} allowed", text.len()),
        ));
    }
    Ok(())
}

/// The structural rules of an enqueue (limits that do not depend on configuration).
pub fn enqueue_structure(cmd: &Enqueue) -> Result<(), JobError> {
    queue_name("queue", &cmd.queue)?;
    let o = &cmd.options;
    if o.max_attempts == 0 || o.max_attempts > MAX_ATTEMPTS_MAX {
        return Err(invalid(
            "options.max_attempts",
            format!("must be 1..={MAX_ATTEMPTS_MAX}, got {}", o.max_attempts),
        ));
    }
    if o.backoff.base_ms > DURATION_MS_MAX || o.backoff.cap_ms > DURATION_MS_MAX {
        return Err(invalid(
            "options.backoff",
            "delays must be at most ten years",
        ));
    }
    if o.expire_after_ms
        .is_some_and(|ms| ms == 0 || ms > DURATION_MS_MAX)
    {
        return Err(invalid(
            "options.expire_after_ms",
            "must be 1 ms to ten years",
        ));
    }
    if o.unique_period_ms == 0 || o.unique_period_ms > DURATION_MS_MAX {
        return Err(invalid(
            "options.unique_period_ms",
            "must be 1 ms to ten years",
        ));
    }
    if let Some(key) = &o.unique_key {
        if key.is_empty() {
            return Err(invalid("options.unique_key", "must not be empty when set"));
        }
        bounded_text("options.unique_key", key, KEY_BYTES_MAX)?;
    }
    if o.tags.len() > TAGS_MAX {
        return Err(invalid(
            "options.tags",
            format!("has {} entries, at most {TAGS_MAX} allowed", o.tags.len()),
        ));
    }
    for (k, v) in &o.tags {
        if k.is_empty() {
            return Err(invalid("options.tags", "keys must not be empty"));
        }
        bounded_text("options.tags", k, KEY_BYTES_MAX)?;
        bounded_text("options.tags", v, TAG_VALUE_BYTES_MAX)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names() {
        assert!(queue_name("queue", "emails.send-1:high_prio").is_ok());
        assert!(
            queue_name("queue", "")
                .unwrap_err()
                .to_string()
                .contains("queue")
        );
        assert!(queue_name("queue", &"x".repeat(256)).is_err());
        assert!(queue_name("queue", "a\0b").is_err());
        assert!(queue_name("queue", "a b").is_err());
    }

    #[test]
    fn json_rules() {
        assert!(json_document("payload_json", "{\"a\":1}", 100).is_ok());
        assert!(json_document("payload_json", "[1,2]", 100).is_ok());
        let e = json_document("payload_json", "{not json", 100)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("payload_json") && e.contains("not valid JSON"),
            "{e}"
        );
        assert!(
            json_document("payload_json", "\"aaaa\"", 3)
                .unwrap_err()
                .to_string()
                .contains("at most 3")
        );
        assert!(json_object("progress_json", "[1]", 100).is_err());
        assert!(json_object("progress_json", " {\"p\":1}", 100).is_ok());
    }
}
