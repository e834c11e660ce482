//! What other gRPC stacks see on the wire. An error answer must be "trailers-only": one
//! HEADERS frame carrying `grpc-status` and ending the stream. gRPC C-core clients (Python,
//! C++, Ruby, PHP) reject an answer that ends with an empty DATA frame instead, and report
//! UNKNOWN in place of the real status.

use bytes::Bytes;
use corvo_tests::*;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;

/// Sends one gRPC request over a raw HTTP/2 connection; the answer's status code, whether its
/// HEADERS frame ended the stream, and `grpc-status` / `grpc-message`.
async fn raw_call(
    server: &TestServer,
    path: &str,
    message: impl Message,
) -> (u16, bool, String, String) {
    let tcp = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("HTTP/2 handshake");
    tokio::spawn(conn);
    let payload = message.encode_to_vec();
    let mut body = Vec::with_capacity(5 + payload.len());
    body.push(0);
    body.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    body.extend_from_slice(&payload);
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}{path}", server.addr()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = within(path, sender.send_request(req))
        .await
        .expect("an answer");
    let ended = hyper::body::Body::is_end_stream(response.body());
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, message) = (header("grpc-status"), header("grpc-message"));
    let code = response.status().as_u16();
    if !ended {
        // Drain it, for the failure message.
        let _ = response.into_body().collect().await;
    }
    (code, ended, status, message)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t10_error_answers_are_trailers_only_on_every_service() {
    let server = TestServer::start().await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "/corvo.v1.JobService/GetJob",
            pb::GetJobRequest {
                job_id: "01M8EWM45FR0K7J6WS5YE92DFG".into(),
            }
            .encode_to_vec(),
            "5",
        ),
        (
            "/corvo.v1.WorkerService/Enqueue",
            pb::EnqueueRequest {
                queue: "q".into(),
                payload_json: "{bad".into(),
                ..Default::default()
            }
            .encode_to_vec(),
            "3",
        ),
        (
            "/corvo.v1.QueueService/GetQueue",
            pb::GetQueueRequest {
                queue: "no-such-queue".into(),
            }
            .encode_to_vec(),
            "5",
        ),
    ];
    for (path, bytes, want) in cases {
        let (code, ended, status, message) = raw_call(&server, path, RawBytes(bytes)).await;
        assert_eq!(code, 200, "{path}");
        assert_eq!(
            status, want,
            "{path}: grpc-status in the headers ({message})"
        );
        assert!(
            ended,
            "{path}: the HEADERS frame must end the stream (trailers-only answer)"
        );
    }
    // A successful unary answer still has its message.
    let mut w = server.worker().await;
    let id = enqueue_job(&mut w, "wire", "{}").await;
    let (code, ended, status, _) = raw_call(
        &server,
        "/corvo.v1.JobService/GetJob",
        pb::GetJobRequest { job_id: id },
    )
    .await;
    assert_eq!(
        (code, ended, status.as_str()),
        (200, false, ""),
        "a message follows the headers"
    );
}

/// An already-encoded message.
#[derive(Clone, PartialEq, Default)]
struct RawBytes(Vec<u8>);

impl std::fmt::Debug for RawBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes", self.0.len())
    }
}

impl Message for RawBytes {
    fn encode_raw(&self, buf: &mut impl bytes::BufMut) {
        buf.put_slice(&self.0);
    }
    fn merge_field(
        &mut self,
        _tag: u32,
        _wire_type: prost::encoding::WireType,
        _buf: &mut impl bytes::Buf,
        _ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        Ok(())
    }
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}
