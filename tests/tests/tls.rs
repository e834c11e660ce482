//! TLS on the client port (plain and mutual), certificate reload without dropping streams, and
//! TLS between nodes: a two-node cluster whose peer port and client ports serve TLS joins,
//! replicates and forwards a follower's writes over TLS.

use std::time::Duration;

use corvo_tests::certs::{arg, ca, leaf, write};
use corvo_tests::cluster::SECRET;
use corvo_tests::*;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

/// A channel to `server` over TLS with `client`'s trust and identity.
async fn channel(server: &TestServer, client: &ClientTlsFiles) -> Result<Channel, String> {
    let endpoint = Endpoint::from_shared(server.url())
        .expect("url")
        .connect_timeout(Duration::from_secs(5))
        .tls_config(client.config())
        .map_err(|e| e.to_string())?;
    let channel = endpoint.connect().await.map_err(|e| format!("{e:?}"))?;
    Ok(channel)
}

async fn server_info(channel: Channel) -> Result<(), tonic::Status> {
    pb::worker_service_client::WorkerServiceClient::new(channel)
        .get_server_info(pb::GetServerInfoRequest {})
        .await
        .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_a_client_without_the_ca_or_without_a_client_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server_ca, client_ca, other_ca) = (ca("server CA"), ca("client CA"), ca("other CA"));
    let (cert, key) = leaf(&server_ca, "corvo");
    let cert = write(dir.path(), "server.pem", &cert);
    let key = write(dir.path(), "server.key", &key);
    let client_ca_file = write(dir.path(), "client-ca.pem", &client_ca.pem());
    let good = ClientTlsFiles {
        ca_pem: server_ca.pem(),
        identity: Some(leaf(&client_ca, "worker")),
    };
    let server = TestServer::builder()
        .args(&[
            "--tls-cert",
            &arg(&cert),
            "--tls-key",
            &arg(&key),
            "--tls-client-ca",
            &arg(&client_ca_file),
        ])
        .tls(good.clone())
        .start()
        .await;
    server_info(channel(&server, &good).await.expect("mTLS"))
        .await
        .expect("a client with a certificate of the client CA");

    // A client that does not trust the server's CA does not connect.
    let untrusting = ClientTlsFiles {
        ca_pem: other_ca.pem(),
        identity: good.identity.clone(),
    };
    let refused = match channel(&server, &untrusting).await {
        Err(e) => e,
        Ok(c) => format!("{:?}", server_info(c).await.expect_err("no trust")),
    };
    assert!(!refused.is_empty());
    // A certificate of another CA fails the handshake.
    let stranger = ClientTlsFiles {
        ca_pem: server_ca.pem(),
        identity: Some(leaf(&other_ca, "stranger")),
    };
    match channel(&server, &stranger).await {
        Err(_) => {}
        Ok(c) => {
            server_info(c).await.expect_err("a stranger's certificate");
        }
    }
    // No certificate: the handshake succeeds, the probes answer, every other call is refused.
    let anonymous = ClientTlsFiles {
        ca_pem: server_ca.pem(),
        identity: None,
    };
    let c = channel(&server, &anonymous)
        .await
        .expect("TLS without a client certificate");
    let health = tonic_health::pb::health_client::HealthClient::new(c.clone())
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health stays open")
        .into_inner();
    assert_eq!(health.status, 1);
    let err = server_info(c).await.expect_err("no client certificate");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(
        err.message().contains("client certificate"),
        "{}",
        err.message()
    );
    // Plaintext gRPC to a TLS port gets nowhere.
    let plain = Endpoint::from_shared(format!("http://{}", server.addr()))
        .expect("url")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await;
    if let Ok(c) = plain {
        server_info(c).await.expect_err("plaintext to a TLS port");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_a_reload_swaps_the_certificate_without_closing_open_streams() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca_a, ca_b) = (ca("A"), ca("B"));
    let (cert, key) = leaf(&ca_a, "corvo-a");
    let cert_file = write(dir.path(), "server.pem", &cert);
    let key_file = write(dir.path(), "server.key", &key);
    let trust_a = ClientTlsFiles {
        ca_pem: ca_a.pem(),
        identity: None,
    };
    let trust_b = ClientTlsFiles {
        ca_pem: ca_b.pem(),
        identity: None,
    };
    let server = TestServer::builder()
        .args(&["--tls-cert", &arg(&cert_file), "--tls-key", &arg(&key_file)])
        .tls(trust_a.clone())
        .start()
        .await;
    let before = channel(&server, &trust_a).await.expect("trusts A");
    let mut w = pb::worker_service_client::WorkerServiceClient::new(before.clone());
    let mut stream = Lifecycle::open(&mut w).await;
    stream.call(credit_frame(&["reload"], 10)).await;

    let (cert, key) = leaf(&ca_b, "corvo-b");
    write(dir.path(), "server.pem", &cert);
    write(dir.path(), "server.key", &key);
    let pid = libc::pid_t::try_from(server.pid()).expect("pid");
    // SAFETY: kill(2) on the test's own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    eventually("new connections to get the new certificate", || async {
        let c = channel(&server, &trust_b).await.ok()?;
        server_info(c).await.ok()
    })
    .await;
    assert!(
        match channel(&server, &trust_a).await {
            Err(_) => true,
            Ok(c) => server_info(c).await.is_err(),
        },
        "new connections no longer get the old certificate"
    );
    // The stream opened before the reload still works: a job enqueued on it is pushed to it.
    let r = stream
        .call(pb::StreamLifecycleRequest {
            enqueues: vec![pb::LifecycleEnqueueItem {
                queue: "reload".into(),
                payload_json: "{}".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    let pushed = stream.pushed_jobs(1).await;
    assert_eq!(pushed[0].queue, "reload");
    assert!(server.log_tail(200).contains("TLS certificate reloaded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_nodes_join_replicate_and_forward_over_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cluster_ca = ca("cluster CA");
    let ca_file = write(dir.path(), "ca.pem", &cluster_ca.pem());
    let (cert, key) = leaf(&cluster_ca, "node");
    let cert_file = write(dir.path(), "node.pem", &cert);
    let key_file = write(dir.path(), "node.key", &key);
    let client = ClientTlsFiles {
        ca_pem: cluster_ca.pem(),
        identity: None,
    };
    let tls_args = [
        "--tls-cert".to_owned(),
        arg(&cert_file),
        "--tls-key".to_owned(),
        arg(&key_file),
        "--peer-tls-cert".to_owned(),
        arg(&cert_file),
        "--peer-tls-key".to_owned(),
        arg(&key_file),
        "--peer-tls-ca".to_owned(),
        arg(&ca_file),
    ];
    let tls_args: Vec<&str> = tls_args.iter().map(String::as_str).collect();
    let n1 = TestServer::builder()
        .node_id("n1")
        .cluster_secret(SECRET)
        .args(&tls_args)
        .tls(client.clone())
        .start()
        .await;
    let n2 = TestServer::builder()
        .node_id("n2")
        .cluster_secret(SECRET)
        .join(&n1.url())
        .args(&tls_args)
        .tls(client.clone())
        .start()
        .await;
    // The follower takes a write: it forwards it to the leader over TLS.
    let mut w = n2.worker().await;
    let id = enqueue_job(&mut w, "tls", "{}").await;
    let mut jobs = n1.jobs().await;
    assert_eq!(get_job(&mut jobs, &id).await.queue, "tls");
    let status = corvo_tests::cluster::node_status(&n2)
        .await
        .expect("status");
    assert!(status.leader_raft_id.is_some());
    // The peer port speaks TLS only: a plaintext peer call is refused.
    let plain = Endpoint::from_shared(format!("http://{}", n1.raft_addr()))
        .expect("url")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await;
    if let Ok(c) = plain {
        let r = corvo_raft::peer_pb::raft_peer_service_client::RaftPeerServiceClient::new(c)
            .vote(corvo_raft::peer_pb::VoteRequest { payload: vec![] })
            .await;
        assert!(r.is_err(), "plaintext reached the peer service: {r:?}");
    }
}
