//! The monitoring docs stay true: the example alert rules (`docs/monitoring/alerts.yml`) and
//! the Grafana dashboard (`docs/monitoring/dashboard.json`) parse, and every metric their
//! expressions use exists in a live `/metrics`; every metric the server exports is described
//! in `docs/monitoring.md`. (promtool is not available here: the PromQL itself is checked for
//! balanced brackets and metric names only.)

use std::collections::BTreeSet;
use std::path::PathBuf;

use corvo_tests::observe::scrape;
use corvo_tests::*;
use serde::Deserialize;

/// Series Prometheus records itself for every target (not exported by Corvo).
const PROMETHEUS_OWN: &[&str] = &["up"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleGroup {
    name: String,
    #[serde(default)]
    interval: Option<String>,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    alert: String,
    expr: String,
    #[serde(default, rename = "for")]
    for_: Option<String>,
    labels: std::collections::BTreeMap<String, String>,
    annotations: std::collections::BTreeMap<String, String>,
}

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join("docs")
}

/// Metric names in a PromQL expression: identifiers with Corvo's or the process prefix, plus
/// Prometheus's own series.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_string = false;
    let mut token = String::new();
    let mut flush = |token: &mut String| {
        let t = std::mem::take(token);
        if t.starts_with("corvo_")
            || t.starts_with("process_")
            || PROMETHEUS_OWN.contains(&t.as_str())
        {
            names.insert(t);
        }
    };
    for c in expr.chars() {
        if c == '"' {
            in_string = !in_string;
            token.clear();
            continue;
        }
        if in_string {
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            token.push(c);
        } else {
            flush(&mut token);
        }
    }
    flush(&mut token);
    names
}

#[track_caller]
fn assert_balanced(expr: &str) {
    let mut stack = Vec::new();
    let mut in_string = false;
    for c in expr.chars() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '(' | '[' | '{' => stack.push(c),
            ')' | ']' | '}' => {
                let open = stack.pop();
                let expected = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                assert_eq!(open, Some(expected), "unbalanced {c:?} in {expr:?}");
            }
            _ => {}
        }
    }
    assert!(
        stack.is_empty() && !in_string,
        "unclosed brackets in {expr:?}"
    );
}

/// Every `expr` (panel targets) and templating `query` string in the dashboard.
fn dashboard_queries(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(s)) => out.push(s.clone()),
                    ("query", serde_json::Value::String(s)) if s.contains('(') => {
                        out.push(s.clone())
                    }
                    _ => dashboard_queries(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| dashboard_queries(i, out)),
        _ => {}
    }
}

#[test]
fn metric_names_are_found_in_promql() {
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.99, sum by (le) (rate(corvo_x_bucket{state="corvo_not_a_metric"}[5m]))) / up"#
        ),
        ["corvo_x_bucket", "up"].map(String::from).into()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_alert_rules_and_dashboard_use_only_exported_metrics() {
    let rules: RuleFile = serde_norway::from_str(
        &std::fs::read_to_string(docs().join("monitoring/alerts.yml")).expect("alerts.yml"),
    )
    .expect("alerts.yml is a Prometheus rule file");
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(docs().join("monitoring/dashboard.json")).expect("dashboard.json"),
    )
    .expect("dashboard.json is JSON");
    let mut queries = Vec::new();
    dashboard_queries(&dashboard, &mut queries);
    assert!(
        dashboard["panels"]
            .as_array()
            .is_some_and(|p| p.len() >= 10),
        "a dashboard with panels"
    );
    assert!(queries.len() >= 20, "{queries:?}");

    // A live node that ran a job through its life, so that every labelled family has a
    // series (the exposition omits families with none).
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    let id = enqueue_job(&mut w, "docs", "{}").await;
    let job = fetch_some(&mut w, "docs").await;
    assert_eq!(job.job_id, id);
    within(
        "Ack",
        w.ack(pb::AckRequest {
            job_id: job.job_id,
            lease_token: job.lease_token,
            ..Default::default()
        }),
    )
    .await
    .expect("Ack");
    let exported = scrape(&server).await.names();

    let mut alert_names = BTreeSet::new();
    let mut used = BTreeSet::new();
    for group in &rules.groups {
        assert!(group.name.starts_with("corvo"), "{}", group.name);
        assert!(group.interval.is_none() || group.interval.as_deref() != Some(""));
        for rule in &group.rules {
            assert!(
                alert_names.insert(rule.alert.clone()),
                "duplicate {}",
                rule.alert
            );
            assert!(
                matches!(
                    rule.labels.get("severity").map(String::as_str),
                    Some("warning" | "critical")
                ),
                "{}: severity warning or critical",
                rule.alert
            );
            assert!(
                rule.annotations.contains_key("summary"),
                "{}: a summary",
                rule.alert
            );
            if let Some(d) = &rule.for_ {
                assert!(
                    d.ends_with('m') || d.ends_with('s') || d.ends_with('h'),
                    "{}: for {d}",
                    rule.alert
                );
            }
            assert_balanced(&rule.expr);
            let names = metric_names(&rule.expr);
            assert!(!names.is_empty(), "{}: uses no metric", rule.alert);
            used.extend(names);
        }
    }
    for q in &queries {
        assert_balanced(q);
        let names = metric_names(q);
        assert!(!names.is_empty(), "dashboard query uses no metric: {q}");
        used.extend(names);
    }
    let missing: Vec<&String> = used
        .iter()
        .filter(|n| !exported.contains(*n) && !PROMETHEUS_OWN.contains(&n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "alerts or dashboard use metrics /metrics does not export: {missing:?}"
    );

    // And the doc describes every family the server exports.
    let guide = std::fs::read_to_string(docs().join("monitoring.md")).expect("monitoring.md");
    let families: Vec<&String> = exported
        .iter()
        .filter(|n| !(n.ends_with("_bucket") || n.ends_with("_sum") || n.ends_with("_count")))
        .collect();
    let undocumented: Vec<&&String> = families
        .iter()
        .filter(|n| !guide.contains(n.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/monitoring.md does not mention {undocumented:?}"
    );
    for alert in &alert_names {
        assert!(
            guide.contains(alert.as_str()),
            "docs/monitoring.md does not name {alert}"
        );
    }
}
