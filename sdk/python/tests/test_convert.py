"""Python values to the generated messages, and errors from statuses."""

from __future__ import annotations

import datetime as dt
import unittest

import grpc

from corvo.v1 import job_pb2, worker_pb2 as pb

from corvo_sdk import Backoff, CorvoError, EnqueueItem, job_filter, state_name
from corvo_sdk._convert import decode_json, encode_json, enqueue_request


class EnqueueRequestTest(unittest.TestCase):
    def test_every_option(self) -> None:
        at = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        r = enqueue_request(
            EnqueueItem(
                "emails",
                {"to": "ada"},
                priority="high",
                max_attempts=5,
                backoff=Backoff("fixed", base_ms=1000, cap_ms=2000),
                scheduled_at=at,
                expire_after=dt.timedelta(minutes=1),
                unique_key="k",
                unique_period=90,
                tags={"a": "b"},
                idempotency_key="order-7",
            )
        )
        o = r.options
        self.assertEqual((r.queue, r.payload_json), ("emails", '{"to":"ada"}'))
        self.assertEqual(o.priority, pb.PRIORITY_HIGH)
        self.assertEqual(o.max_attempts, 5)
        self.assertEqual((o.backoff.kind, o.backoff.base_ms, o.backoff.cap_ms), (pb.BACKOFF_KIND_FIXED, 1000, 2000))
        self.assertEqual(o.scheduled_at.ToDatetime(tzinfo=dt.timezone.utc), at)
        self.assertEqual(o.expire_after_ms, 60_000)
        self.assertEqual((o.unique_key, o.unique_period_ms), ("k", 90_000))
        self.assertEqual(dict(o.tags), {"a": "b"})
        self.assertEqual(o.idempotency_key, "order-7")

    def test_a_fresh_idempotency_key_per_request(self) -> None:
        a = enqueue_request(EnqueueItem("q")).options.idempotency_key
        b = enqueue_request(EnqueueItem("q")).options.idempotency_key
        self.assertRegex(a, r"^[0-9a-f]{32}$")
        self.assertRegex(b, r"^[0-9a-f]{32}$")
        self.assertNotEqual(a, b)

    def test_defaults_and_delay(self) -> None:
        r = enqueue_request(EnqueueItem("q"))
        self.assertEqual(r.payload_json, "{}")
        self.assertFalse(r.options.HasField("scheduled_at"))
        before = dt.datetime.now(dt.timezone.utc)
        r = enqueue_request(EnqueueItem("q", "[1,2]", delay=10))
        self.assertEqual(r.payload_json, "[1,2]", "a str is JSON text")
        when = r.options.scheduled_at.ToDatetime(tzinfo=dt.timezone.utc)
        self.assertGreaterEqual(when, before + dt.timedelta(seconds=9))

    def test_mistakes_are_caught_early(self) -> None:
        for item in [
            EnqueueItem("q", priority="urgent"),
            EnqueueItem("q", backoff=Backoff("random")),
            EnqueueItem("q", delay=1, scheduled_at=dt.datetime.now(dt.timezone.utc)),
            EnqueueItem("q", scheduled_at=dt.datetime.now()),
            EnqueueItem("q", unique_period=5),
            EnqueueItem("q", max_attempts=0),
            EnqueueItem("q", idempotency_key=""),
            EnqueueItem("q", idempotency_key="é" * 128),
            EnqueueItem(""),
        ]:
            with self.assertRaises(ValueError, msg=repr(item)):
                enqueue_request(item)
        with self.assertRaises(TypeError):
            enqueue_request(EnqueueItem("q", {1, 2}))

    def test_filter(self) -> None:
        f = job_filter(queue="q", states=["dead", "retrying"], priority="low", tags={"t": "1"})
        self.assertEqual(list(f.states), [pb.JOB_STATE_DEAD, pb.JOB_STATE_RETRYING])
        self.assertEqual(f.priority, pb.PRIORITY_LOW)
        self.assertIsInstance(f, job_pb2.JobFilter)

    def test_json_helpers(self) -> None:
        self.assertEqual(encode_json({"é": 1}, "x"), '{"é":1}')
        self.assertIsNone(decode_json(""))
        self.assertEqual(decode_json("", {}), {})
        self.assertEqual(decode_json('{"a":1}'), {"a": 1})
        self.assertEqual(state_name(pb.JOB_STATE_COMPLETED), "completed")


class CorvoErrorTest(unittest.TestCase):
    def test_leader_and_pushback(self) -> None:
        e = CorvoError.from_status(
            grpc.StatusCode.UNAVAILABLE,
            "not the leader",
            {"x-corvo-leader": "10.0.0.2:8080", "grpc-retry-pushback-ms": "500"},
        )
        self.assertEqual(e.error_code, pb.ERROR_CODE_NOT_LEADER)
        self.assertEqual((e.leader, e.retry_after_ms), ("10.0.0.2:8080", 500))
        self.assertIn("UNAVAILABLE", str(e))
        self.assertIn("not the leader", str(e))

    def test_codes(self) -> None:
        cases = {
            grpc.StatusCode.NOT_FOUND: pb.ERROR_CODE_NOT_FOUND,
            grpc.StatusCode.PERMISSION_DENIED: pb.ERROR_CODE_PERMISSION_DENIED,
            grpc.StatusCode.RESOURCE_EXHAUSTED: pb.ERROR_CODE_OVERLOADED,
            grpc.StatusCode.DEADLINE_EXCEEDED: pb.ERROR_CODE_UNSPECIFIED,
        }
        for status, code in cases.items():
            self.assertEqual(CorvoError.from_status(status, "x", {}).error_code, code)
        stale = CorvoError.from_status(grpc.StatusCode.FAILED_PRECONDITION, "lease token for job j is stale", {})
        self.assertEqual(stale.error_code, pb.ERROR_CODE_STALE_LEASE)
        self.assertEqual(stale.error_code_name, "ERROR_CODE_STALE_LEASE")
        unknown = CorvoError.from_status(grpc.StatusCode.UNKNOWN, "outcome unknown: leadership changed", {})
        self.assertEqual(unknown.error_code, pb.ERROR_CODE_OUTCOME_UNKNOWN)
        self.assertIn("ERROR_CODE_OUTCOME_UNKNOWN", str(unknown))


class RetryTest(unittest.TestCase):
    def test_which_failures_are_retried(self) -> None:
        from corvo_sdk.client import _retryable, _transport_failure

        self.assertTrue(_transport_failure("Stream removed (Socket closed)", {}))
        self.assertFalse(
            _transport_failure("Stream removed (Data frame with END_STREAM flag received)", {}),
            "a malformed answer: the call was answered, not lost",
        )
        self.assertTrue(_transport_failure("Stream removed (Data frame with END_STREAM flag received)", {"x-corvo-leader": "h:1"}))
        unavailable = CorvoError("down", code=grpc.StatusCode.UNAVAILABLE)
        self.assertTrue(_retryable(unavailable))
        self.assertFalse(_retryable(CorvoError("Tls handshake failed", code=grpc.StatusCode.UNAVAILABLE)))
        self.assertFalse(_retryable(CorvoError("slow down", code=grpc.StatusCode.RESOURCE_EXHAUSTED)))
        self.assertTrue(_retryable(CorvoError("slow down", code=grpc.StatusCode.RESOURCE_EXHAUSTED, retry_after_ms=5)))
        self.assertFalse(_retryable(CorvoError("no", code=grpc.StatusCode.NOT_FOUND)))

    def test_an_unknown_outcome_is_never_retried(self) -> None:
        from corvo_sdk import _bookkeeping, client

        details = "outcome unknown: leadership changed; retry only with an idempotency key, or check first"
        self.assertFalse(client._transport_failure(details, {}), "an answer, not a broken connection")
        self.assertFalse(client._retryable(CorvoError.from_status(grpc.StatusCode.UNKNOWN, details, {})))
        self.assertNotIn(pb.ERROR_CODE_OUTCOME_UNKNOWN, client._TRANSIENT)
        self.assertNotIn(pb.ERROR_CODE_OUTCOME_UNKNOWN, _bookkeeping._TRANSIENT)


if __name__ == "__main__":
    unittest.main()
