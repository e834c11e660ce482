//! API keys, roles and queue scopes against live servers: every credential that is not a
//! valid key is UNAUTHENTICATED on every method; the whole role × method matrix of
//! docs/security.md holds; a scoped worker key cannot reach another queue through any door;
//! secrets never reach logs, listings, snapshots or the data dir; keys rotate with a grace;
//! an open server closes when the first key exists; followers check forwarded calls.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use corvo_tests::cluster::{SECRET, three_nodes};
use corvo_tests::observe::{corvo_cli, http_get_with};
use corvo_tests::*;
use tonic::Code;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

/// The bootstrap admin key of the servers started with `--require-auth`.
const BOOT: &str = "boot-admin-key-0123456789abcdef0123456789";

async fn secured() -> TestServer {
    TestServer::builder()
        .args(&["--require-auth"])
        .env("CORVO_BOOTSTRAP_ADMIN_KEY", BOOT)
        .api_key(BOOT)
        .start()
        .await
}

async fn key_client(server: &TestServer) -> pb::key_service_client::KeyServiceClient<Channel> {
    pb::key_service_client::KeyServiceClient::new(server.channel().await)
}

/// Creates a key with `admin` (no key at all when empty: an open server) and returns
/// (id, secret).
async fn create_key(
    server: &TestServer,
    admin: &str,
    name: &str,
    role: pb::KeyRole,
    queues: &[&str],
    expires_in_ms: i64,
) -> (String, String) {
    let req = pb::CreateKeyRequest {
        name: name.into(),
        role: role.into(),
        queues: queues.iter().map(|q| (*q).to_owned()).collect(),
        expires_in_ms,
        ..Default::default()
    };
    let req = if admin.is_empty() {
        tonic::Request::new(req)
    } else {
        authed(req, admin)
    };
    let answer = key_client(server)
        .await
        .create_key(req)
        .await
        .unwrap_or_else(|e| server.fail(&format!("CreateKey {name}: {e}")))
        .into_inner();
    (answer.key.expect("a key").id, answer.secret)
}

/// How a method streams (for a raw call).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Unary,
    ServerStream,
    Bidi,
}

fn shape(path: &str) -> Shape {
    match path {
        "/corvo.v1.WorkerService/StreamLifecycle" => Shape::Bidi,
        "/corvo.v1.WorkerService/Subscribe" => Shape::ServerStream,
        _ => Shape::Unary,
    }
}

/// Calls `path` with an empty message and the given headers; the error is the call's
/// status (the server refuses before reading the message, so an empty one is enough).
async fn raw_call(
    channel: Channel,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let route = PathAndQuery::from_str(path).expect("a path");
    fn with<T>(mut req: tonic::Request<T>, headers: &[(&str, &str)]) -> tonic::Request<T> {
        for (k, v) in headers {
            let key =
                tonic::metadata::MetadataKey::from_bytes(k.as_bytes()).expect("a header name");
            req.metadata_mut()
                .insert(key, v.parse().expect("ascii header"));
        }
        req
    }
    let with_headers = |req| with(req, headers);
    match shape(path) {
        Shape::Unary => grpc
            .unary(with_headers(tonic::Request::new(())), route, codec)
            .await
            .map(|_| ()),
        Shape::ServerStream => grpc
            .server_streaming(with_headers(tonic::Request::new(())), route, codec)
            .await
            .map(|_| ()),
        Shape::Bidi => grpc
            .streaming(
                with(tonic::Request::new(tokio_stream::once(())), headers),
                route,
                codec,
            )
            .await
            .map(|_| ()),
    }
}

/// The permission matrix as docs/security.md writes it: (method path, [admin, operator,
/// worker, readonly] allowed).
fn documented_matrix() -> Vec<(String, [bool; 4])> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/security.md"))
            .expect("docs/security.md");
    let rows: Vec<(String, [bool; 4])> = doc
        .lines()
        .filter(|l| l.starts_with("| `corvo.v1."))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let path = format!("/{}", cells[1].trim_matches('`'));
            let allowed = [2, 3, 4, 5].map(|i| cells[i] == "✓");
            (path, allowed)
        })
        .collect();
    assert!(
        rows.len() >= 28,
        "the matrix in docs/security.md has {} rows",
        rows.len()
    );
    rows
}

const ROLES: [pb::KeyRole; 4] = [
    pb::KeyRole::Admin,
    pb::KeyRole::Operator,
    pb::KeyRole::Worker,
    pb::KeyRole::Readonly,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_every_method_refuses_missing_malformed_unknown_expired_and_revoked_keys() {
    let server = secured().await;
    let (_, expiring) = create_key(&server, BOOT, "soon", pb::KeyRole::Admin, &[], 1_500).await;
    let (revoked_id, revoked) = create_key(&server, BOOT, "gone", pb::KeyRole::Admin, &[], 0).await;
    key_client(&server)
        .await
        .revoke_key(authed(
            pb::RevokeKeyRequest {
                key_id: revoked_id.clone(),
            },
            BOOT,
        ))
        .await
        .expect("RevokeKey");
    // Let the expiring key expire.
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let expiring = format!("Bearer {expiring}");
    let revoked = format!("Bearer {revoked}");
    // (what, the headers sent, what the refusal says)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        ("missing", vec![], "missing API key"),
        (
            "not bearer",
            vec![("authorization", "Basic dXNlcjpwYXNz")],
            "Bearer",
        ),
        ("empty bearer", vec![("authorization", "Bearer ")], "Bearer"),
        ("too short", vec![("x-api-key", "abc")], "malformed"),
        (
            "unknown",
            vec![(
                "authorization",
                "Bearer cvk_0000000000000000000000000000000000000000000000000000000000000000",
            )],
            "unknown API key",
        ),
        ("expired", vec![("authorization", &expiring)], "expired at"),
        ("revoked", vec![("authorization", &revoked)], "revoked"),
    ];
    let channel = server.channel().await;
    for (path, _) in documented_matrix() {
        for (what, headers, says) in &cases {
            let err = raw_call(channel.clone(), &path, headers)
                .await
                .expect_err(&format!("{path} with a {what} key must be refused"));
            assert_eq!(err.code(), Code::Unauthenticated, "{path}, {what}: {err:?}");
            assert!(
                err.message().contains(says),
                "{path}, {what}: {}",
                err.message()
            );
        }
    }
    // A worker stream with a bad key is refused before its first frame is read.
    let mut w = server.worker().await;
    let refused = Lifecycle::open_with_key(&mut w, "an-unknown-key-of-good-length")
        .await
        .err()
        .expect("the stream is refused");
    assert_eq!(refused.code(), Code::Unauthenticated);
    // Probes and reflection stay open.
    assert!(matches!(
        http_get(server.addr(), "/healthz").await,
        Ok((200, _))
    ));
    assert!(matches!(
        http_get(server.addr(), "/readyz").await,
        Ok((200, _))
    ));
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let serving = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health needs no key")
        .into_inner();
    assert_eq!(serving.status, 1, "SERVING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t20_the_whole_role_matrix_of_docs_security_md_holds() {
    let server = secured().await;
    let mut keys = Vec::new();
    for role in ROLES {
        let (_, secret) = create_key(&server, BOOT, role.as_str_name(), role, &[], 0).await;
        keys.push(format!("Bearer {secret}"));
    }
    let channel = server.channel().await;
    for (path, allowed) in documented_matrix() {
        for (i, role) in ROLES.iter().enumerate() {
            let headers = [("authorization", keys[i].as_str())];
            let result = raw_call(channel.clone(), &path, &headers).await;
            let denied = matches!(&result, Err(s) if s.code() == Code::PermissionDenied);
            assert_eq!(
                denied,
                !allowed[i],
                "{path} with a {} key: {result:?}",
                role.as_str_name()
            );
            if let Err(s) = &result {
                assert_ne!(s.code(), Code::Unauthenticated, "{path}: {s:?}");
                if denied {
                    assert!(s.message().contains(path.trim_start_matches('/')), "{s:?}");
                }
            }
        }
    }
    // The cluster secret is no key here (this node has none): its value is just unknown.
    let err = raw_call(
        channel.clone(),
        "/corvo.v1.ClusterService/RemoveNode",
        &[("x-corvo-cluster-secret", SECRET)],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t30_a_worker_scoped_to_emails_cannot_reach_billing_through_any_door() {
    let server = secured().await;
    let (_, key) = create_key(
        &server,
        BOOT,
        "mailer",
        pb::KeyRole::Worker,
        &["emails.*"],
        0,
    )
    .await;
    let mut w = server.worker().await;
    let mut jobs = server.jobs().await;
    // A billing job, leased by an admin.
    let billing = w
        .enqueue(authed(
            enqueue_req("billing.charge", r#"{"cents":100}"#),
            BOOT,
        ))
        .await
        .expect("admin enqueue")
        .into_inner()
        .job_id;
    let leased = w
        .fetch(authed(fetch_req("billing.charge", 1_000), BOOT))
        .await
        .expect("admin fetch")
        .into_inner();
    assert!(leased.found && leased.job_id == billing);
    let denied = |r: Result<_, tonic::Status>, what: &str| {
        let s = r.err().unwrap_or_else(|| panic!("{what} must be refused"));
        assert_eq!(s.code(), Code::PermissionDenied, "{what}: {s:?}");
        assert!(
            s.message().contains("billing.charge"),
            "{what}: {}",
            s.message()
        );
    };
    denied(
        w.enqueue(authed(enqueue_req("billing.charge", "{}"), &key))
            .await
            .map(|_| ()),
        "unary enqueue",
    );
    denied(
        w.fetch(authed(fetch_req("billing.charge", 0), &key))
            .await
            .map(|_| ()),
        "unary fetch",
    );
    denied(
        w.ack(authed(
            pb::AckRequest {
                job_id: billing.clone(),
                lease_token: leased.lease_token,
                ..Default::default()
            },
            &key,
        ))
        .await
        .map(|_| ()),
        "unary ack of a billing job",
    );
    denied(
        jobs.get_job(authed(
            pb::GetJobRequest {
                job_id: billing.clone(),
            },
            &key,
        ))
        .await
        .map(|_| ()),
        "GetJob of a billing job",
    );
    denied(
        w.subscribe(authed(
            pb::SubscribeRequest {
                queues: vec!["billing.charge".into()],
                ..Default::default()
            },
            &key,
        ))
        .await
        .map(|_| ()),
        "subscribe to billing",
    );
    let batch = w
        .ack_batch(authed(
            pb::AckBatchRequest {
                items: vec![pb::AckBatchItem {
                    job_id: billing.clone(),
                    lease_token: leased.lease_token,
                    ..Default::default()
                }],
            },
            &key,
        ))
        .await
        .expect("AckBatch answers per item")
        .into_inner();
    assert_eq!(batch.acked, 0);
    assert_eq!(
        batch.results[0].code,
        pb::ErrorCode::PermissionDenied as i32
    );

    // The stream: every frame that reaches billing is refused whole, naming the queue.
    let mut s = Lifecycle::open_with_key(&mut w, &key)
        .await
        .expect("stream");
    let frame_denied = |r: &pb::StreamLifecycleResponse, what: &str| {
        assert_eq!(
            r.error_code,
            pb::ErrorCode::PermissionDenied as i32,
            "{what}: {r:?}"
        );
        assert!(r.error.contains("billing.charge"), "{what}: {}", r.error);
        assert!(r.jobs.is_empty() && r.acked == 0 && r.enqueued_job_ids.is_empty());
    };
    let r = s.call(credit_frame(&["billing.charge"], 1)).await;
    frame_denied(&r, "stream fetch");
    let r = s
        .call(pb::StreamLifecycleRequest {
            enqueues: vec![pb::LifecycleEnqueueItem {
                queue: "billing.charge".into(),
                payload_json: "{}".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    frame_denied(&r, "stream enqueue");
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![pb::AckBatchItem {
                job_id: billing.clone(),
                lease_token: leased.lease_token,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await;
    frame_denied(&r, "stream ack of a billing job");
    // Its own queues work on the same stream.
    let r = s
        .call(pb::StreamLifecycleRequest {
            enqueues: vec![pb::LifecycleEnqueueItem {
                queue: "emails.welcome".into(),
                payload_json: "{}".into(),
                ..Default::default()
            }],
            ..credit_frame(&["emails.welcome"], 1)
        })
        .await;
    assert!(r.error.is_empty(), "{r:?}");
    let pushed = s.pushed_jobs(1).await;
    assert_eq!(pushed[0].queue, "emails.welcome");
    let r = s
        .call(pb::StreamLifecycleRequest {
            acks: vec![ack_item(&pushed[0])],
            ..Default::default()
        })
        .await;
    assert_eq!(r.acked, 1, "{r:?}");

    // The billing job is untouched: still active under the admin's lease.
    let job = jobs
        .get_job(authed(
            pb::GetJobRequest {
                job_id: billing.clone(),
            },
            BOOT,
        ))
        .await
        .expect("admin GetJob")
        .into_inner()
        .job
        .expect("job");
    assert_eq!(state_of(&job), pb::JobState::Active);
    assert_eq!((job.attempt, job.lease_token), (1, leased.lease_token));

    // Without a queue filter, the worker's subscription sees only its own queues' events.
    let mut events = w
        .subscribe(authed(pb::SubscribeRequest::default(), &key))
        .await
        .expect("subscribe")
        .into_inner();
    let seen = events_until(&mut events, |e| e.r#type == "completed").await;
    assert!(
        seen.iter().all(|e| e.queue.starts_with("emails.")),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t40_secrets_never_reach_logs_listings_snapshots_or_the_data_dir() {
    let server = secured().await;
    let (id, secret) = create_key(&server, BOOT, "ops", pb::KeyRole::Admin, &[], 0).await;
    let rotated = key_client(&server)
        .await
        .rotate_key(authed(
            pb::RotateKeyRequest {
                key_id: id.clone(),
                grace_ms: Some(60_000),
            },
            BOOT,
        ))
        .await
        .expect("RotateKey")
        .into_inner()
        .secret;
    // Both secrets work (the old one in its grace); use them so logs and last-used move.
    for k in [&secret, &rotated] {
        server
            .worker()
            .await
            .enqueue(authed(enqueue_req("q", "{}"), k))
            .await
            .expect("enqueue with the key");
    }
    let list = corvo_cli(
        &server,
        &["keys", "list", "--output", "json", "--api-key", BOOT],
    )
    .await;
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let listing = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listing.contains(&id), "{listing}");
    server
        .cluster()
        .await
        .create_snapshot(authed(pb::CreateSnapshotRequest {}, &secret))
        .await
        .expect("CreateSnapshot with an admin key");
    let secrets = [BOOT, secret.as_str(), rotated.as_str()];
    let hex_of = |s: &str| s.trim_start_matches("cvk_").to_owned();
    for s in secrets {
        assert!(!listing.contains(s), "keys list shows a secret");
        assert!(
            !server.log_tail(100_000).contains(&hex_of(s)),
            "the log holds a secret"
        );
    }
    let mut files = Vec::new();
    let mut dirs = vec![server.data_dir().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("snapshots")),
        "{files:?}"
    );
    for file in files {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for s in secrets {
            let needle = hex_of(s).into_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds a secret",
                file.display()
            );
        }
    }
    // `corvo server --help` does not echo secrets taken from the environment.
    let help = std::process::Command::new(corvo_bin())
        .args(["server", "--help"])
        .env("CORVO_CLUSTER_SECRET", "cluster-secret-from-env-123")
        .env("CORVO_BOOTSTRAP_ADMIN_KEY", BOOT)
        .env("CORVO_API_KEY", "api-key-from-env-1234567890")
        .output()
        .expect("corvo server --help");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("CORVO_BOOTSTRAP_ADMIN_KEY"), "{text}");
    for s in ["cluster-secret-from-env-123", BOOT] {
        assert!(!text.contains(s), "--help shows a secret");
    }
    let help = std::process::Command::new(corvo_bin())
        .args(["jobs", "--help"])
        .env("CORVO_API_KEY", "api-key-from-env-1234567890")
        .output()
        .expect("corvo jobs --help");
    assert!(!String::from_utf8_lossy(&help.stdout).contains("api-key-from-env"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t50_a_rotated_key_works_during_its_grace_and_fails_after() {
    let server = secured().await;
    let (id, old) = create_key(&server, BOOT, "svc", pb::KeyRole::Worker, &[], 0).await;
    let new = key_client(&server)
        .await
        .rotate_key(authed(
            pb::RotateKeyRequest {
                key_id: id.clone(),
                grace_ms: Some(2_000),
            },
            BOOT,
        ))
        .await
        .expect("RotateKey")
        .into_inner();
    assert_eq!(new.key.as_ref().map(|k| k.id.as_str()), Some(id.as_str()));
    assert!(
        new.key
            .as_ref()
            .and_then(|k| k.previous_secret_valid_until)
            .is_some()
    );
    let info = |key: String| {
        let server = &server;
        async move {
            server
                .worker()
                .await
                .get_server_info(authed(pb::GetServerInfoRequest {}, &key))
                .await
        }
    };
    info(old.clone())
        .await
        .expect("the old secret works during its grace");
    info(new.secret.clone())
        .await
        .expect("the new secret works");
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let err = info(old).await.expect_err("the grace is over");
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("rotated out"), "{}", err.message());
    info(new.secret).await.expect("the new secret still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t60_an_open_server_requires_keys_once_the_first_exists_for_good() {
    let server = TestServer::start().await;
    let mut w = server.worker().await;
    enqueue_job(&mut w, "q", "{}").await;
    // Anonymous callers may create the first key on an open server.
    let (id, admin) = create_key(&server, "", "first", pb::KeyRole::Admin, &[], 0).await;
    let err = w
        .enqueue(enqueue_req("q", "{}"))
        .await
        .expect_err("keys now required");
    assert_eq!(err.code(), Code::Unauthenticated);
    w.enqueue(authed(enqueue_req("q", "{}"), &admin))
        .await
        .expect("with the key");
    // Revoking every key does not reopen the server.
    key_client(&server)
        .await
        .revoke_key(authed(pb::RevokeKeyRequest { key_id: id }, &admin))
        .await
        .expect("revoke");
    let err = w
        .enqueue(enqueue_req("q", "{}"))
        .await
        .expect_err("still closed");
    assert_eq!(err.code(), Code::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t70_the_bootstrap_key_is_stored_once_and_its_use_is_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("admin-key");
    std::fs::write(&file, format!("{BOOT}\n")).expect("write the key file");
    let mut server = TestServer::builder()
        .args(&["--require-auth", "--metrics-auth"])
        .env(
            "CORVO_BOOTSTRAP_ADMIN_KEY_FILE",
            file.to_str().expect("utf-8 path"),
        )
        .api_key(BOOT)
        .start()
        .await;
    async fn list(server: &TestServer, key: &str) -> Result<Vec<pb::ApiKey>, tonic::Status> {
        key_client(server)
            .await
            .list_keys(authed(pb::ListKeysRequest {}, key))
            .await
            .map(|r| r.into_inner().keys)
    }
    let keys = list(&server, BOOT)
        .await
        .expect("the bootstrap key is an admin key");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "bootstrap admin");
    assert_eq!(keys[0].role, pb::KeyRole::Admin as i32);
    // Its use reaches the state within about a minute's aggregation bound (the leader checks
    // every 10 s; the first use of a key is written at the next check).
    let recorded = eventually("the key's last use to be recorded", || async {
        list(&server, BOOT)
            .await
            .ok()?
            .into_iter()
            .next()?
            .last_used_at
    })
    .await;
    assert!(recorded.seconds > 0);
    // /metrics needs a key with --metrics-auth; probes do not.
    let (code, _, _) = http_get_with(server.addr(), "/metrics", &[])
        .await
        .expect("GET");
    assert_eq!(code, 401);
    let bearer = format!("Bearer {BOOT}");
    let (code, _, _) = http_get_with(server.addr(), "/metrics", &[("authorization", &bearer)])
        .await
        .expect("GET");
    assert_eq!(code, 200);
    // A restart with another bootstrap key changes nothing: keys exist already.
    server.terminate_and_wait().await;
    server.set_env("CORVO_BOOTSTRAP_ADMIN_KEY_FILE", None);
    server.set_env(
        "CORVO_BOOTSTRAP_ADMIN_KEY",
        Some("another-bootstrap-key-0123456789abcdef"),
    );
    server.restart().await;
    assert_eq!(
        list(&server, BOOT)
            .await
            .expect("the first key still works")
            .len(),
        1
    );
    let err = list(&server, "another-bootstrap-key-0123456789abcdef")
        .await
        .expect_err("not stored");
    assert_eq!(err.code(), Code::Unauthenticated);
    // The join route needs the cluster secret or an admin key.
    let (_, worker) = create_key(&server, BOOT, "w", pb::KeyRole::Worker, &[], 0).await;
    let (code, body) = corvo_tests::cluster::http_post_json(
        server.addr(),
        "/api/v1/cluster/join",
        &[("x-api-key", &worker)],
        r#"{"node_id":"x","raft_addr":"127.0.0.1:1","api_addr":"127.0.0.1:2"}"#,
        WAIT,
    )
    .await
    .expect("POST");
    assert_eq!(code, 403, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t80_followers_check_calls_before_relaying_them_and_a_forged_header_gains_nothing() {
    let mut nodes = three_nodes().await;
    let leader = corvo_tests::cluster::leader_index(&mut nodes).await;
    let follower = (leader + 1) % nodes.len();
    // The first key, created through a follower (KeyService calls go to the leader).
    let (_, admin) = create_key(&nodes[follower], "", "admin", pb::KeyRole::Admin, &[], 0).await;
    let (worker_id, worker) =
        create_key(&nodes[follower], &admin, "w", pb::KeyRole::Worker, &[], 0).await;
    // Every node now refuses anonymous calls, and takes the replicated key.
    for node in &nodes {
        eventually("the node to require keys", || async {
            let r = node.worker().await.enqueue(enqueue_req("q", "{}")).await;
            matches!(r, Err(s) if s.code() == Code::Unauthenticated).then_some(())
        })
        .await;
        node.worker()
            .await
            .enqueue(authed(enqueue_req("q", "{}"), &worker))
            .await
            .unwrap_or_else(|e| node.fail(&format!("a replicated key was refused: {e}")));
    }
    // A forged forwarding header does not stand in for a key on the leader.
    let err = raw_call(
        nodes[leader].channel().await,
        "/corvo.v1.WorkerService/Enqueue",
        &[("x-corvo-forwarded-from", "n2")],
    )
    .await
    .expect_err("forged forward");
    assert_eq!(err.code(), Code::Unauthenticated);
    // A key revoked on the leader is refused by the followers too.
    key_client(&nodes[leader])
        .await
        .revoke_key(authed(pb::RevokeKeyRequest { key_id: worker_id }, &admin))
        .await
        .expect("revoke");
    eventually("the follower to refuse the revoked key", || async {
        let r = nodes[follower]
            .worker()
            .await
            .enqueue(authed(enqueue_req("q", "{}"), &worker))
            .await;
        matches!(r, Err(s) if s.code() == Code::Unauthenticated).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t90_revoking_a_key_closes_the_streams_opened_with_it() {
    let server = secured().await;
    let (id, key) = create_key(&server, BOOT, "w", pb::KeyRole::Worker, &[], 0).await;
    let mut w = server.worker().await;
    let mut stream = Lifecycle::open_with_key(&mut w, &key)
        .await
        .expect("stream");
    let r = stream.call(credit_frame(&["revoke"], 5)).await;
    assert!(r.error.is_empty(), "{r:?}");
    let mut events = w
        .subscribe(authed(pb::SubscribeRequest::default(), &key))
        .await
        .expect("subscribe")
        .into_inner();
    key_client(&server)
        .await
        .revoke_key(authed(pb::RevokeKeyRequest { key_id: id }, BOOT))
        .await
        .expect("revoke");
    // Both end at once, without the worker sending anything.
    let ended = loop {
        match stream.recv().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream ended without a status"),
            Err(s) => break s,
        }
    };
    assert_eq!(ended.code(), Code::Unauthenticated, "{ended:?}");
    assert!(ended.message().contains("revoked"), "{}", ended.message());
    let ended = loop {
        match within("the subscription to end", events.message()).await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the subscription ended without a status"),
            Err(s) => break s,
        }
    };
    assert_eq!(ended.code(), Code::Unauthenticated, "{ended:?}");
}
