//! Advertised addresses: nodes that listen on every interface (`--bind 0.0.0.0:...`, as in
//! Kubernetes) form a cluster through the addresses they advertise (`--advertise-addr`,
//! `--raft-advertise-addr`), and the membership shows those; a clustering node that would
//! advertise 0.0.0.0 refuses to start, saying which flag to set.
//!
//! Every wait is bounded (`WAIT`, 30 s).

use std::time::Instant;

use corvo_tests::cluster::*;
use corvo_tests::observe::corvo_cli;
use corvo_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_nodes_bound_to_any_address_cluster_through_their_advertised_addresses() {
    let n1 = TestServer::builder()
        .node_id("n1")
        .cluster_secret(SECRET)
        .bind_any()
        .advertise_loopback()
        .start()
        .await;
    // The join names n1 by its advertised client address; n1's leader hint and the join's
    // forwarding use the membership's addresses.
    let n2 = TestServer::builder()
        .node_id("n2")
        .cluster_secret(SECRET)
        .bind_any()
        .advertise_loopback()
        .join(&n1.url())
        .start()
        .await;
    let nodes = [&n1, &n2];
    let expected: Vec<(String, String, String)> = nodes
        .iter()
        .zip(["n1", "n2"])
        .map(|(n, name)| {
            (
                name.to_owned(),
                n.addr().to_string(),
                n.raft_addr().to_string(),
            )
        })
        .collect();

    // Both nodes list both members, reachable voters, at the advertised addresses (which
    // the answering node also used to ask the other for its status).
    for node in nodes {
        let deadline = Instant::now() + WAIT;
        loop {
            let status = cluster_status(node).await;
            let mut members: Vec<(String, String, String)> = status
                .nodes
                .iter()
                .map(|m| {
                    (
                        m.node_id.clone(),
                        m.client_address.clone(),
                        m.raft_address.clone(),
                    )
                })
                .collect();
            members.sort();
            if members == expected && status.nodes.iter().all(|m| m.voter && m.reachable) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "expected members {expected:?} (reachable voters) after {WAIT:?}: {status:#?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    // `corvo cluster status` shows them too, and never the bind address.
    let out = corvo_cli(&n2, &["cluster", "status"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    for (_, api, _) in &expected {
        assert!(
            text.contains(&format!("voter at {api}")),
            "{api} missing:\n{text}"
        );
    }
    assert!(
        !text.contains("0.0.0.0"),
        "an unspecified address shown:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_a_clustering_node_refuses_to_advertise_an_unspecified_address() {
    let mut node = TestServer::builder()
        .node_id("n1")
        .cluster_secret(SECRET)
        .bind_any()
        .spawn();
    let status = node.wait_exit(WAIT).await;
    assert!(!status.success(), "started while advertising 0.0.0.0");
    let log = node.log_tail(20);
    assert!(
        log.contains("refusing to advertise 0.0.0.0:") && log.contains("set --advertise-addr"),
        "no clear error:\n{log}"
    );

    // Alone (no cluster secret) it advertises nothing to anyone: it starts.
    let alone = TestServer::builder().bind_any().start().await;
    alone.worker().await;
}
