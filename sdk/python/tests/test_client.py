"""The client's enqueues against an in-process stand-in server: idempotency keys (given, or a
fresh one per call kept across the SDK's own retries), ``replayed``, and unknown outcomes that
are never retried."""

from __future__ import annotations

import re
import threading
import unittest
from concurrent import futures
from typing import Callable, Iterator, Optional

import grpc

from corvo.v1 import worker_pb2 as pb

from corvo_sdk import Client, CorvoError, EnqueueItem

#: Answers one Enqueue call (its index among the calls): a response, or (status, details,
#: retry hint in ms) to refuse it.
Unary = Callable[[int, pb.EnqueueRequest], "pb.EnqueueResponse | tuple[grpc.StatusCode, str, Optional[int]]"]
#: Answers one StreamLifecycle frame (its index among the frames).
Frames = Callable[[int, pb.StreamLifecycleRequest], pb.StreamLifecycleResponse]

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def accepted(i: int, frame: pb.StreamLifecycleRequest) -> pb.StreamLifecycleResponse:
    """Every item enqueued as a new pending job ``j<n>``."""
    return pb.StreamLifecycleResponse(
        request_id=frame.request_id,
        enqueue_results=[
            pb.ItemResult(job_id=f"j{n}", state=pb.JOB_STATE_PENDING) for n in range(len(frame.enqueues))
        ],
    )


class FakeNode:
    """Enqueue and StreamLifecycle as scripted; records what the client sent."""

    def __init__(self, unary: Unary, frames: Frames = accepted) -> None:
        self.unary = unary
        self.frames_script = frames
        self.calls: list[pb.EnqueueRequest] = []
        self.frames: list[pb.StreamLifecycleRequest] = []
        self.lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "corvo.v1.WorkerService",
                    {
                        "Enqueue": grpc.unary_unary_rpc_method_handler(
                            self._enqueue,
                            request_deserializer=pb.EnqueueRequest.FromString,
                            response_serializer=pb.EnqueueResponse.SerializeToString,
                        ),
                        "StreamLifecycle": grpc.stream_stream_rpc_method_handler(
                            self._stream,
                            request_deserializer=pb.StreamLifecycleRequest.FromString,
                            response_serializer=pb.StreamLifecycleResponse.SerializeToString,
                        ),
                    },
                ),
            )
        )
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.url = f"http://127.0.0.1:{port}"

    def _enqueue(self, req: pb.EnqueueRequest, context: grpc.ServicerContext) -> pb.EnqueueResponse:
        with self.lock:
            self.calls.append(req)
            n = len(self.calls) - 1
        answer = self.unary(n, req)
        if isinstance(answer, tuple):
            code, details, retry_ms = answer
            if retry_ms is not None:
                context.set_trailing_metadata((("grpc-retry-pushback-ms", str(retry_ms)),))
            context.abort(code, details)
        return answer

    def _stream(
        self, requests: Iterator[pb.StreamLifecycleRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.StreamLifecycleResponse]:
        for frame in requests:
            with self.lock:
                self.frames.append(frame)
                n = len(self.frames) - 1
            yield self.frames_script(n, frame)

    def stop(self) -> None:
        self.server.stop(None)


def created(n: int, req: pb.EnqueueRequest) -> pb.EnqueueResponse:
    return pb.EnqueueResponse(job_id=f"j{n}", status="pending", state=pb.JOB_STATE_PENDING)


class EnqueueTest(unittest.TestCase):
    def node(self, unary: Unary = created, frames: Frames = accepted) -> FakeNode:
        node = FakeNode(unary, frames)
        self.addCleanup(node.stop)
        return node

    def client(self, node: FakeNode) -> Client:
        client = Client(node.url, call_timeout=5)
        self.addCleanup(client.close)
        return client

    def test_a_given_key_is_sent_else_a_fresh_one_per_call(self) -> None:
        node = self.node()
        client = self.client(node)
        first = client.enqueue("q", {"n": 1}, idempotency_key="order-7")
        self.assertEqual((first.job_id, first.status, first.replayed), ("j0", "pending", False))
        client.enqueue("q", {"n": 2})
        client.enqueue("q", {"n": 2})
        keys = [c.options.idempotency_key for c in node.calls]
        self.assertEqual(keys[0], "order-7")
        self.assertRegex(keys[1], HEX32)
        self.assertRegex(keys[2], HEX32)
        self.assertNotEqual(keys[1], keys[2], "a fresh key per call")

    def test_a_retry_sends_the_same_key_and_replayed_is_surfaced(self) -> None:
        def flaky(n: int, req: pb.EnqueueRequest) -> pb.EnqueueResponse | tuple[grpc.StatusCode, str, Optional[int]]:
            if n == 0:
                return (grpc.StatusCode.UNAVAILABLE, "its outcome is unknown; retrying it is safe", 10)
            return pb.EnqueueResponse(job_id="j0", status="duplicate", state=pb.JOB_STATE_ACTIVE, replayed=True)

        node = self.node(flaky)
        result = self.client(node).enqueue("q", {"n": 1})
        self.assertEqual(len(node.calls), 2, "retried once")
        self.assertRegex(node.calls[0].options.idempotency_key, HEX32)
        self.assertEqual(node.calls[0].options.idempotency_key, node.calls[1].options.idempotency_key)
        self.assertEqual((result.job_id, result.status, result.replayed), ("j0", "duplicate", True))
        self.assertTrue(result.duplicate)

    def test_an_unknown_outcome_is_not_retried(self) -> None:
        def unknown(n: int, req: pb.EnqueueRequest) -> tuple[grpc.StatusCode, str, Optional[int]]:
            return (grpc.StatusCode.UNKNOWN, "outcome unknown: leadership changed while the request was in flight", None)

        node = self.node(unknown)
        with self.assertRaises(CorvoError) as caught:
            self.client(node).enqueue("q", {"n": 1}, idempotency_key="k")
        self.assertEqual(len(node.calls), 1, "never retried blindly")
        self.assertEqual(caught.exception.code, grpc.StatusCode.UNKNOWN)
        self.assertEqual(caught.exception.error_code, pb.ERROR_CODE_OUTCOME_UNKNOWN)

    def test_batch_keys_are_kept_when_a_frame_goes_again_and_replayed_is_surfaced(self) -> None:
        def frames(n: int, frame: pb.StreamLifecycleRequest) -> pb.StreamLifecycleResponse:
            if n == 0:
                return pb.StreamLifecycleResponse(
                    request_id=frame.request_id,
                    error_code=pb.ERROR_CODE_UNAVAILABLE,
                    error="its outcome is unknown; retrying it is safe",
                    retry_after_ms=10,
                )
            return pb.StreamLifecycleResponse(
                request_id=frame.request_id,
                enqueue_results=[
                    pb.ItemResult(job_id="j0", state=pb.JOB_STATE_ACTIVE, message="replayed"),
                    pb.ItemResult(job_id="j1", state=pb.JOB_STATE_PENDING, message="duplicate"),
                    pb.ItemResult(job_id="j2", state=pb.JOB_STATE_SCHEDULED),
                ],
            )

        node = self.node(frames=frames)
        items = [EnqueueItem("q", {"n": 0}), EnqueueItem("q", {"n": 1}, unique_key="u"), EnqueueItem("q", idempotency_key="k2")]
        results = self.client(node).enqueue_batch_results(items)
        self.assertEqual(len(node.frames), 2, "the refused frame went again")
        sent = [[e.options.idempotency_key for e in f.enqueues] for f in node.frames]
        self.assertEqual(sent[0], sent[1], "the same keys on the retry")
        self.assertRegex(sent[0][0], HEX32)
        self.assertRegex(sent[0][1], HEX32)
        self.assertNotEqual(sent[0][0], sent[0][1], "a fresh key per item")
        self.assertEqual(sent[0][2], "k2")
        self.assertEqual(
            [(r.job_id, r.status, r.replayed) for r in results],
            [("j0", "duplicate", True), ("j1", "duplicate", False), ("j2", "scheduled", False)],
        )

    def test_batch_ids_and_a_frame_with_an_unknown_outcome(self) -> None:
        node = self.node()
        self.assertEqual(self.client(node).enqueue_batch([EnqueueItem("q"), EnqueueItem("q")]), ["j0", "j1"])

        def unknown(n: int, frame: pb.StreamLifecycleRequest) -> pb.StreamLifecycleResponse:
            return pb.StreamLifecycleResponse(
                request_id=frame.request_id, error_code=pb.ERROR_CODE_OUTCOME_UNKNOWN, error="outcome unknown"
            )

        node = self.node(frames=unknown)
        with self.assertRaises(CorvoError) as caught:
            self.client(node).enqueue_batch([EnqueueItem("q")])
        self.assertEqual(len(node.frames), 1, "never sent again")
        self.assertEqual(caught.exception.error_code, pb.ERROR_CODE_OUTCOME_UNKNOWN)


if __name__ == "__main__":
    unittest.main()
