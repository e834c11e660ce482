//! `corvo events tail`: the event log over `WorkerService.Subscribe`, one line (or JSON
//! object) per event, until Ctrl-C or `--max`.

use corvo_sdk::proto as pb;
use corvo_sdk::proto::worker_service_client::WorkerServiceClient;
use serde_json::json;

use crate::client::{channel, status_error};
use crate::config::{EventsAction, EventsArgs, Output};

pub async fn run(args: EventsArgs) -> anyhow::Result<()> {
    let EventsAction::Tail {
        queues,
        types,
        from,
        max,
    } = args.action;
    let mut client = WorkerServiceClient::new(channel(&args.client).await?);
    let mut events = client
        .subscribe(pb::SubscribeRequest {
            queues,
            job_ids: Vec::new(),
            types,
            last_event_id: from.unwrap_or(0),
            from_now: from.is_none(),
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let mut seen = 0;
    loop {
        if max.is_some_and(|max| seen >= max) {
            return Ok(());
        }
        let event = tokio::select! {
            e = events.message() => e.map_err(status_error)?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(e) = event else {
            anyhow::bail!("the server ended the event stream");
        };
        seen += 1;
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(e.at_ns);
        match args.client.output {
            Output::Json => println!(
                "{}",
                json!({
                    "seq": e.seq, "type": e.r#type, "job_id": e.job_id, "queue": e.queue,
                    "at": humantime::format_rfc3339_millis(at).to_string(),
                    "data": serde_json::from_str::<serde_json::Value>(&e.data_json).ok(),
                })
            ),
            Output::Text => println!(
                "{} {:>8} {:<10} {:<10} {} {}",
                humantime::format_rfc3339_millis(at),
                e.seq,
                e.queue,
                e.r#type,
                e.job_id,
                e.data_json
            ),
        }
    }
}
