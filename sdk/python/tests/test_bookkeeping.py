"""The worker's stream protocol without I/O: credits, outcomes and their re-sending,
heartbeats with progress, drain, refusals and hints."""

from __future__ import annotations

import unittest

from corvo.v1 import worker_pb2 as pb

from corvo_sdk._bookkeeping import (
    PACING_SECONDS,
    PROGRESS_DELAY,
    SHUTTING_DOWN,
    Bookkeeper,
    Outcome,
    truncate,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def job(job_id: str, token: int = 7) -> pb.FetchBatchJob:
    return pb.FetchBatchJob(job_id=job_id, queue="q", attempt=1, max_retries=3, lease_token=token)


def ok(job_id: str) -> pb.ItemResult:
    return pb.ItemResult(job_id=job_id)


def refused(job_id: str, code: int, message: str = "no") -> pb.ItemResult:
    return pb.ItemResult(job_id=job_id, code=code, message=message)  # type: ignore[arg-type]


class BookkeeperTest(unittest.TestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.bk = Bookkeeper(
            queues=["q"],
            worker_id="w-1",
            hostname="h",
            concurrency=2,
            lease_secs=30,
            clock=self.clock,
        )
        self.sid = self.bk.open_stream()

    def frame(self) -> pb.StreamLifecycleRequest:
        f = self.bk.next_frame()
        assert f is not None, "a frame was expected"
        return f

    def push(self, *jobs: pb.FetchBatchJob) -> list[str]:
        r = self.bk.on_response(pb.StreamLifecycleResponse(jobs=list(jobs)), self.sid)
        return [j.job_id for j in r.start]

    def start_two(self) -> pb.StreamLifecycleRequest:
        first = self.frame()
        self.assertEqual(self.push(job("a"), job("b")), ["a", "b"])
        return first

    def test_first_frame_names_the_stream_and_grants_concurrency(self) -> None:
        f = self.frame()
        self.assertEqual(list(f.queues), ["q"])
        self.assertEqual(f.worker_id, "w-1")
        self.assertEqual(f.hostname, "h")
        self.assertEqual(f.lease_duration, 30)
        self.assertEqual(f.credits, 2)
        self.assertIsNone(self.bk.next_frame(), "nothing more to say")

    def test_a_finished_job_is_acked_with_its_token_and_one_credit(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.ack("a", 0, '{"x":1}'))
        f = self.frame()
        self.assertEqual(len(f.acks), 1)
        self.assertEqual((f.acks[0].job_id, f.acks[0].lease_token, f.acks[0].result_json), ("a", 7, '{"x":1}'))
        self.assertEqual(f.credits, 1)
        self.assertTrue(self.bk.pending())
        self.bk.on_response(pb.StreamLifecycleResponse(request_id=f.request_id, ack_results=[ok("a")]), self.sid)
        self.assertFalse(self.bk.pending())

    def test_a_frame_refused_whole_is_sent_again_after_the_hint(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.fail("a", 0, "boom", "trace"))
        f = self.frame()
        self.assertEqual(f.credits, 1)
        r = self.bk.on_response(
            pb.StreamLifecycleResponse(
                request_id=f.request_id,
                error="OVERLOADED: frame: rate limit",
                error_code=pb.ERROR_CODE_OVERLOADED,
                retry_after_ms=400,
            ),
            self.sid,
        )
        self.assertFalse(r.reconnect)
        self.assertIsNone(self.bk.next_frame(), "waits out retry_after_ms")
        wake = self.bk.next_wakeup()
        assert wake is not None
        self.assertAlmostEqual(wake, self.clock.now + 0.4)
        self.clock.now += 0.4
        again = self.frame()
        self.assertEqual([x.job_id for x in again.fails], ["a"])
        self.assertEqual(again.fails[0].error, "boom")
        self.assertEqual(again.credits, 1, "the refused frame's credit is granted again")

    def test_pacing_spaces_frames_after_an_overload(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        f = self.frame()
        self.bk.on_response(
            pb.StreamLifecycleResponse(
                request_id=f.request_id, error_code=pb.ERROR_CODE_OVERLOADED, retry_after_ms=500
            ),
            self.sid,
        )
        self.clock.now += 0.5
        self.frame()
        self.bk.job_finished("b", Outcome.ack("b", 0, ""))
        self.assertIsNone(self.bk.next_frame(), "at most one frame per hint while pacing")
        self.clock.now += 0.5
        self.frame()
        self.clock.now += PACING_SECONDS
        self.push(job("c"))
        self.bk.job_finished("c", Outcome.ack("c", 0, ""))
        self.frame()
        self.push(job("d"))
        self.bk.job_finished("d", Outcome.ack("d", 0, ""))
        self.assertIsNotNone(self.bk.next_frame(), "pacing ends")

    def test_outcomes_unanswered_when_the_stream_breaks_go_on_the_next(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.ack("a", 0, "1"))
        self.frame()
        self.bk.close_stream(self.sid)
        self.assertIsNone(self.bk.next_frame(), "no stream")
        self.sid = self.bk.open_stream()
        f = self.frame()
        self.assertEqual([x.job_id for x in f.acks], ["a"])
        self.assertEqual(f.credits, 1, "one job still runs")
        self.assertEqual(list(f.queues), ["q"])

    def test_an_item_refused_for_good_is_dropped(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        f = self.frame()
        with self.assertLogs("corvo_sdk", "WARNING"):
            self.bk.on_response(
                pb.StreamLifecycleResponse(
                    request_id=f.request_id,
                    error="ack: stale",
                    error_code=pb.ERROR_CODE_STALE_LEASE,
                    ack_results=[refused("a", pb.ERROR_CODE_STALE_LEASE)],
                ),
                self.sid,
            )
        self.assertFalse(self.bk.pending())
        self.assertEqual(self.bk.dropped, 1)

    def test_a_transient_item_error_is_sent_again(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        f = self.frame()
        self.bk.on_response(
            pb.StreamLifecycleResponse(
                request_id=f.request_id,
                error_code=pb.ERROR_CODE_UNAVAILABLE,
                ack_results=[refused("a", pb.ERROR_CODE_UNAVAILABLE)],
            ),
            self.sid,
        )
        self.assertTrue(self.bk.pending())
        self.clock.now += 1
        self.assertEqual([x.job_id for x in self.frame().acks], ["a"])

    def test_an_unknown_outcome_is_not_transient(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        f = self.frame()
        with self.assertLogs("corvo_sdk", "WARNING"):
            self.bk.on_response(
                pb.StreamLifecycleResponse(
                    request_id=f.request_id,
                    error_code=pb.ERROR_CODE_OUTCOME_UNKNOWN,
                    ack_results=[refused("a", pb.ERROR_CODE_OUTCOME_UNKNOWN)],
                ),
                self.sid,
            )
        # An unexpected refusal: counted against the item's tries (its lease token fences a
        # second ack), not sent again as freely as UNAVAILABLE.
        self.assertEqual(self.bk.outcomes["a"].tries, 1)

    def test_heartbeats_at_a_third_of_the_lease_carry_new_progress(self) -> None:
        self.start_two()
        self.assertIsNone(self.bk.next_frame())
        self.clock.now += 10
        f = self.frame()
        self.assertEqual(sorted(h.job_id for h in f.heartbeats), ["a", "b"])
        self.assertTrue(all(h.lease_token == 7 and not h.progress_json for h in f.heartbeats))
        self.bk.on_response(
            pb.StreamLifecycleResponse(request_id=f.request_id, heartbeat_results=[ok("a"), ok("b")]),
            self.sid,
        )
        self.clock.now += 0.1
        self.bk.set_values("a", '{"pct":50}', '{"step":2}')
        f = self.frame()
        self.assertEqual(
            [(h.job_id, h.progress_json, h.checkpoint_json) for h in f.heartbeats],
            [("a", '{"pct":50}', '{"step":2}')],
        )
        self.clock.now += 0.1
        self.bk.set_values("a", '{"pct":60}', None)
        self.assertIsNone(self.bk.next_frame(), "at most one progress frame a second")
        wake = self.bk.next_wakeup()
        assert wake is not None
        self.assertAlmostEqual(wake - self.clock.now, PROGRESS_DELAY - 0.1)
        self.clock.now = wake
        f = self.frame()
        self.assertEqual(
            [(h.job_id, h.progress_json, h.checkpoint_json) for h in f.heartbeats],
            [("a", '{"pct":60}', '{"step":2}')],
        )

    def test_progress_goes_out_at_once_when_none_went_lately(self) -> None:
        self.start_two()
        self.bk.set_values("b", '{"n":1}', None)
        f = self.frame()
        self.assertEqual([(h.job_id, h.progress_json) for h in f.heartbeats], [("b", '{"n":1}')])

    def test_a_failed_jobs_last_checkpoint_is_stored_before_its_fail(self) -> None:
        self.start_two()
        self.bk.set_values("a", None, '{"row":10}')
        self.bk.job_finished("a", Outcome.fail("a", 0, "boom"))
        f = self.frame()
        self.assertEqual([h.job_id for h in f.heartbeats], ["a"])
        self.assertEqual(f.heartbeats[0].checkpoint_json, '{"row":10}')
        self.assertEqual(len(f.fails), 0, "the fail waits for the checkpoint")
        self.assertEqual(f.credits, 1, "the slot is free already")
        self.bk.on_response(
            pb.StreamLifecycleResponse(request_id=f.request_id, heartbeat_results=[ok("a")]), self.sid
        )
        f = self.frame()
        self.assertEqual([x.job_id for x in f.fails], ["a"])

    def test_jobs_beyond_the_free_slots_wait_and_take_the_next_credit(self) -> None:
        self.frame()
        self.assertEqual(self.push(job("a"), job("b"), job("c")), ["a", "b"])
        self.assertEqual(self.bk.running_count(), 2)
        self.assertIsNone(self.bk.next_frame(), "no credit while a job waits")
        nxt = self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        assert nxt is not None
        self.assertEqual(nxt.job_id, "c")
        f = self.frame()
        self.assertEqual(f.credits, 0)
        self.assertEqual(self.bk.running_count(), 2)

    def test_drain_grants_nothing_and_fails_back_what_outlives_it(self) -> None:
        self.frame()
        self.push(job("a"), job("b"), job("c"))
        self.bk.begin_drain()
        nxt = self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        assert nxt is not None
        self.assertEqual(nxt.job_id, "c", "a job already here still runs")
        f = self.frame()
        self.assertEqual(f.credits, 0)
        self.assertEqual([x.job_id for x in f.acks], ["a"])
        self.assertEqual(self.push(job("d")), [], "granted before the stop: it waits for a slot")
        self.assertEqual(sorted(self.bk.fail_running()), ["b", "c"])
        f = self.frame()
        self.assertEqual(
            sorted((x.job_id, x.error) for x in f.fails),
            [("b", SHUTTING_DOWN), ("c", SHUTTING_DOWN), ("d", SHUTTING_DOWN)],
        )
        self.assertIsNone(self.bk.job_finished("b", Outcome.ack("b", 0, "")), "the late outcome is ignored")
        self.assertEqual(self.bk.busy(), 0)

    def test_cancel_ids_reach_running_jobs(self) -> None:
        self.start_two()
        r = self.bk.on_response(pb.StreamLifecycleResponse(cancel_job_ids=["b", "zz"]), self.sid)
        self.assertEqual(r.cancel, ["b"])

    def test_a_heartbeat_refused_for_the_lease_cancels_the_job(self) -> None:
        self.start_two()
        self.clock.now += 10
        f = self.frame()
        r = self.bk.on_response(
            pb.StreamLifecycleResponse(
                request_id=f.request_id,
                heartbeat_results=[refused("a", pb.ERROR_CODE_STALE_LEASE), ok("b")],
            ),
            self.sid,
        )
        self.assertEqual(r.cancel, ["a"])

    def test_not_leader_asks_for_a_reconnect(self) -> None:
        f = self.frame()
        r = self.bk.on_response(
            pb.StreamLifecycleResponse(
                request_id=f.request_id,
                error="NOT_LEADER",
                error_code=pb.ERROR_CODE_NOT_LEADER,
                leader_addr="127.0.0.1:9",
            ),
            self.sid,
        )
        self.assertTrue(r.reconnect)
        self.assertEqual(r.leader, "127.0.0.1:9")

    def test_a_forbidden_queue_ends_the_run(self) -> None:
        f = self.frame()
        r = self.bk.on_response(
            pb.StreamLifecycleResponse(
                request_id=f.request_id,
                error="frame: permission denied: queue q",
                error_code=pb.ERROR_CODE_PERMISSION_DENIED,
            ),
            self.sid,
        )
        assert r.fatal is not None
        self.assertIn("queue q", r.fatal.message)
        self.assertEqual(r.fatal.error_code, pb.ERROR_CODE_PERMISSION_DENIED)

    def test_an_invalid_result_is_isolated_then_failed_instead(self) -> None:
        self.start_two()
        self.bk.job_finished("a", Outcome.ack("a", 0, "not json"))
        self.bk.job_finished("b", Outcome.ack("b", 0, "1"))
        f = self.frame()
        self.assertEqual(len(f.acks), 2)
        invalid = pb.StreamLifecycleResponse(
            request_id=f.request_id, error="frame: invalid acks[0].result_json", error_code=pb.ERROR_CODE_INVALID_ARGUMENT
        )
        self.assertIsNone(self.bk.on_response(invalid, self.sid).fatal)
        f1 = self.frame()
        f2 = self.frame()
        self.assertEqual((len(f1.acks), len(f2.acks)), (1, 1), "one outcome per frame now")
        self.bk.on_response(pb.StreamLifecycleResponse(request_id=f2.request_id, ack_results=[ok("b")]), self.sid)
        invalid.request_id = f1.request_id
        with self.assertLogs("corvo_sdk", "WARNING"):
            self.bk.on_response(invalid, self.sid)
        f3 = self.frame()
        self.assertEqual([x.job_id for x in f3.fails], ["a"])
        self.assertIn("refused the result", f3.fails[0].error)

    def test_drain_is_told_at_once_and_on_every_later_frame(self) -> None:
        self.frame()
        self.assertEqual(self.bk.credits_out, 2)
        self.bk.begin_drain()
        f = self.frame()
        self.assertEqual((f.drain, f.credits, len(f.acks)), (True, 0, 0), "told at once, empty")
        self.assertIsNone(self.bk.next_frame(), "told once per stream")
        self.assertEqual(self.push(job("a")), ["a"], "pushed before the server saw it: it runs")
        self.clock.now += 10
        f = self.frame()
        self.assertEqual((f.drain, f.credits, [h.job_id for h in f.heartbeats]), (True, 0, ["a"]))
        self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        f = self.frame()
        self.assertEqual((f.drain, f.credits, [x.job_id for x in f.acks]), (True, 0, ["a"]))

    def test_a_refused_drain_frame_is_sent_again_and_a_new_stream_is_told_first(self) -> None:
        self.start_two()
        self.bk.begin_drain()
        f = self.frame()
        self.bk.on_response(
            pb.StreamLifecycleResponse(
                request_id=f.request_id,
                error="OVERLOADED",
                error_code=pb.ERROR_CODE_OVERLOADED,
                retry_after_ms=200,
            ),
            self.sid,
        )
        self.assertIsNone(self.bk.next_frame(), "not before the hint")
        self.assertEqual(self.bk.next_wakeup(), self.clock.now + 0.2)
        self.clock.now += 0.2
        f = self.frame()
        self.assertEqual((f.drain, f.credits), (True, 0), "sent again")
        self.bk.job_finished("a", Outcome.ack("a", 0, ""))
        self.bk.close_stream(self.sid)
        self.sid = self.bk.open_stream()
        self.clock.now += 1
        f = self.frame()
        self.assertEqual((f.drain, f.credits, [x.job_id for x in f.acks]), (True, 0, ["a"]))
        self.assertEqual(list(f.queues), ["q"])

    def test_frames_stay_within_the_item_bound(self) -> None:
        bk = Bookkeeper(queues=["q"], worker_id="w", hostname="h", concurrency=4096, lease_secs=60, clock=self.clock)
        sid = bk.open_stream()
        bk.next_frame()
        bk.on_response(pb.StreamLifecycleResponse(jobs=[job(f"j{i}") for i in range(2500)]), sid)
        for i in range(2500):
            bk.job_finished(f"j{i}", Outcome.ack(f"j{i}", 0, ""))
        sizes = []
        while (f := bk.next_frame()) is not None:
            sizes.append(len(f.acks))
        self.assertEqual(sizes, [1000, 1000, 500])

    def test_truncate_keeps_utf8_whole(self) -> None:
        self.assertEqual(truncate("abc", 10), "abc")
        cut = truncate("é" * 100, 21)
        self.assertLessEqual(len(cut.encode()), 21)
        self.assertTrue(cut.endswith("…"))
        self.assertTrue(truncate("x" * 50 + "END", 10, keep_end=True).endswith("END"))


if __name__ == "__main__":
    unittest.main()
