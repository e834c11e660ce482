package dev.corvo.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.corvo.v1.AckBatchItem;
import dev.corvo.v1.ErrorCode;
import dev.corvo.v1.ItemResult;
import dev.corvo.v1.LifecycleFailItem;
import dev.corvo.v1.LifecycleHeartbeatItem;
import dev.corvo.v1.StreamLifecycleRequest;
import dev.corvo.v1.StreamLifecycleResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboxTest {
  private static final StreamLifecycleRequest TEMPLATE =
      StreamLifecycleRequest.newBuilder().addQueues("q").setWorkerId("w-1").setLeaseDuration(60).build();

  private static Outbox.Outcome ack(String id) {
    return Outbox.Outcome.complete(id, 7, "{\"ok\":true}");
  }

  private static Outbox.Outcome fail(String id) {
    return Outbox.Outcome.fail(id, 7, "boom", "trace");
  }

  private static StreamLifecycleResponse.Builder answer(StreamLifecycleRequest f) {
    StreamLifecycleResponse.Builder r = StreamLifecycleResponse.newBuilder().setRequestId(f.getRequestId());
    for (AckBatchItem a : f.getAcksList()) {
      r.addAckResults(ItemResult.newBuilder().setJobId(a.getJobId()));
    }
    for (LifecycleFailItem x : f.getFailsList()) {
      r.addFailResults(ItemResult.newBuilder().setJobId(x.getJobId()));
    }
    for (LifecycleHeartbeatItem h : f.getHeartbeatsList()) {
      r.addHeartbeatResults(ItemResult.newBuilder().setJobId(h.getJobId()));
    }
    return r;
  }

  private static StreamLifecycleResponse refused(StreamLifecycleRequest f, ErrorCode code, long retryAfterMs) {
    return StreamLifecycleResponse.newBuilder()
        .setRequestId(f.getRequestId())
        .setErrorCode(code)
        .setError("refused")
        .setRetryAfterMs(retryAfterMs)
        .build();
  }

  @Test
  void outcomesCarryTheLeaseTokenAndCredits() {
    Outbox o = new Outbox();
    o.grant(3);
    o.add(ack("a"));
    o.add(fail("b"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    assertNotNull(f);
    assertEquals(3, f.getCredits());
    assertEquals(List.of("q"), f.getQueuesList());
    assertEquals("a", f.getAcks(0).getJobId());
    assertEquals(7, f.getAcks(0).getLeaseToken());
    assertEquals("b", f.getFails(0).getJobId());
    assertEquals(7, f.getFails(0).getLeaseToken());
    assertEquals("trace", f.getFails(0).getBacktrace());
    assertFalse(f.getDrain());
    Outbox.Answer a = o.onResponse(answer(f).build(), 1);
    assertTrue(a.ours);
    assertEquals(2, a.confirmed.size());
    assertTrue(o.settled());
    assertNull(o.next(TEMPLATE, 2), "nothing left to send");
  }

  @Test
  void theLastProgressAndCheckpointTravelInTheOutcomesFrame() {
    Outbox o = new Outbox();
    o.beat(new Outbox.Beat("a", 7, "{\"pct\":50}", null));
    o.beat(new Outbox.Beat("a", 7, null, "{\"cursor\":7}"));
    o.add(fail("a"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    assertEquals(1, f.getHeartbeatsCount());
    LifecycleHeartbeatItem h = f.getHeartbeats(0);
    assertEquals("{\"pct\":50}", h.getProgressJson(), "merged with the older unsent beat");
    assertEquals("{\"cursor\":7}", h.getCheckpointJson());
    assertEquals(7, h.getLeaseToken());
    assertEquals("a", f.getFails(0).getJobId());
  }

  @Test
  void aBareHeartbeatOfAFinishedJobIsNotSent() {
    Outbox o = new Outbox();
    o.beat(new Outbox.Beat("a", 7, null, null));
    o.beat(new Outbox.Beat("b", 7, null, null));
    o.add(ack("a"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    assertEquals(1, f.getAcksCount());
    assertEquals(1, f.getHeartbeatsCount());
    assertEquals("b", f.getHeartbeats(0).getJobId(), "only the running job's heartbeat");
  }

  @Test
  void aFewFramesInFlightAtATime() {
    Outbox o = new Outbox();
    StreamLifecycleRequest first = null;
    for (int i = 0; i < Outbox.FRAMES_IN_FLIGHT_MAX; i++) {
      o.add(ack("a" + i));
      StreamLifecycleRequest f = o.next(TEMPLATE, i);
      assertNotNull(f);
      first = first == null ? f : first;
    }
    o.add(ack("b"));
    o.grant(1);
    assertNull(o.next(TEMPLATE, 100), "as many frames as allowed are unanswered");
    o.onResponse(answer(first).build(), 101);
    StreamLifecycleRequest next = o.next(TEMPLATE, 102);
    assertEquals("b", next.getAcks(0).getJobId());
    assertEquals(1, next.getCredits());
    assertTrue(next.getRequestId() > first.getRequestId());
  }

  @Test
  void anOutcomeNeverOvertakesItsJobsUnansweredCheckpoint() {
    Outbox o = new Outbox();
    o.beat(new Outbox.Beat("a", 7, null, "{\"cursor\":1}"));
    StreamLifecycleRequest beat = o.next(TEMPLATE, 0);
    o.add(fail("a"));
    o.add(ack("b"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 1);
    assertEquals(0, f.getFailsCount(), "the fail waits for the checkpoint's answer");
    assertEquals("b", f.getAcks(0).getJobId());
    // The checkpoint's frame is refused: it goes again, now together with the fail.
    o.onResponse(refused(beat, ErrorCode.ERROR_CODE_OVERLOADED, 100), 2);
    o.onResponse(answer(f).build(), 3);
    StreamLifecycleRequest again = o.next(TEMPLATE, 103);
    assertEquals("{\"cursor\":1}", again.getHeartbeats(0).getCheckpointJson());
    assertEquals("a", again.getFails(0).getJobId());
  }

  @Test
  void aNewerCheckpointNeverLandsBeforeAnOlderOne() {
    Outbox o = new Outbox();
    o.beat(new Outbox.Beat("a", 7, null, "{\"cursor\":1}"));
    StreamLifecycleRequest older = o.next(TEMPLATE, 0);
    o.beat(new Outbox.Beat("a", 7, "{\"pct\":20}", "{\"cursor\":2}"));
    assertNull(o.next(TEMPLATE, 1), "waits for the older one's answer");
    o.onResponse(refused(older, ErrorCode.ERROR_CODE_OVERLOADED, 100), 2);
    StreamLifecycleRequest merged = o.next(TEMPLATE, 102);
    assertEquals(1, merged.getHeartbeatsCount());
    assertEquals("{\"cursor\":2}", merged.getHeartbeats(0).getCheckpointJson(), "the newer value wins");
    assertEquals("{\"pct\":20}", merged.getHeartbeats(0).getProgressJson());
  }

  @Test
  void aFrameRefusedWholeIsSentAgainAfterTheHint() {
    Outbox o = new Outbox();
    o.grant(2);
    o.add(ack("a"));
    o.beat(new Outbox.Beat("r", 7, "{\"p\":1}", null));
    StreamLifecycleRequest f = o.next(TEMPLATE, 1_000);
    Outbox.Answer a = o.onResponse(refused(f, ErrorCode.ERROR_CODE_OVERLOADED, 500), 1_010);
    assertTrue(a.refusedWhole);
    assertTrue(a.confirmed.isEmpty() && a.dropped.isEmpty());
    assertFalse(o.settled());
    assertNull(o.next(TEMPLATE, 1_200), "waits out retry_after_ms");
    StreamLifecycleRequest again = o.next(TEMPLATE, 1_510);
    assertNotNull(again);
    assertEquals("a", again.getAcks(0).getJobId());
    assertEquals(2, again.getCredits(), "the refused credits are granted again");
    assertEquals("{\"p\":1}", again.getHeartbeats(0).getProgressJson(), "the progress too");
    o.onResponse(answer(again).build(), 1_520);
    assertTrue(o.settled());
  }

  @Test
  void aRefusalWithoutHintWaitsTheDefault() {
    Outbox o = new Outbox();
    o.add(ack("a"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    o.onResponse(refused(f, ErrorCode.ERROR_CODE_UNAVAILABLE, 0), 10);
    assertNull(o.next(TEMPLATE, 10 + Outbox.HOLD_DEFAULT_MS - 1));
    assertNotNull(o.next(TEMPLATE, 10 + Outbox.HOLD_DEFAULT_MS));
  }

  @Test
  void unconfirmedOutcomesGoAgainOnTheNextStream() {
    Outbox o = new Outbox();
    o.add(ack("a"));
    o.add(fail("b"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    assertEquals(1, o.inFlightIds().size());
    o.onStreamLost();
    assertTrue(o.inFlightIds().isEmpty());
    assertEquals(2, o.outcomesPending());
    StreamLifecycleRequest again = o.next(TEMPLATE, 1);
    assertEquals(f.getAcksList(), again.getAcksList());
    assertEquals(f.getFailsList(), again.getFailsList());
    // A late answer to the lost stream's frame is not ours any more.
    assertFalse(o.onResponse(answer(f).build(), 2).ours);
  }

  @Test
  void itemsRefusedForGoodAreDroppedAndRetryableOnesResent() {
    Outbox o = new Outbox();
    o.add(ack("stale"));
    o.add(ack("busy"));
    o.add(ack("fine"));
    o.add(ack("unmentioned"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    StreamLifecycleResponse r =
        StreamLifecycleResponse.newBuilder()
            .setRequestId(f.getRequestId())
            .setErrorCode(ErrorCode.ERROR_CODE_STALE_LEASE)
            .setRetryAfterMs(200)
            .addAckResults(ItemResult.newBuilder().setJobId("stale").setCode(ErrorCode.ERROR_CODE_STALE_LEASE).setMessage("stale"))
            .addAckResults(ItemResult.newBuilder().setJobId("busy").setCode(ErrorCode.ERROR_CODE_OVERLOADED))
            .addAckResults(ItemResult.newBuilder().setJobId("fine"))
            .build();
    Outbox.Answer a = o.onResponse(r, 10);
    assertFalse(a.refusedWhole);
    assertEquals(1, a.confirmed.size());
    assertEquals("fine", a.confirmed.get(0).jobId());
    assertEquals(1, a.dropped.size());
    assertEquals("stale", a.dropped.get(0).outcome().jobId());
    assertEquals(ErrorCode.ERROR_CODE_STALE_LEASE, a.dropped.get(0).code());
    assertNull(o.next(TEMPLATE, 100), "the retryable ones wait for the hint");
    StreamLifecycleRequest again = o.next(TEMPLATE, 210);
    assertEquals(2, again.getAcksCount());
    assertEquals("busy", again.getAcks(0).getJobId());
    assertEquals("unmentioned", again.getAcks(1).getJobId());
  }

  @Test
  void aFrameRefusedForGoodIsSplitToFindTheRefusedOutcome() {
    Outbox o = new Outbox();
    o.add(ack("a"));
    o.add(ack("b"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    Outbox.Answer a = o.onResponse(refused(f, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 0), 1);
    assertTrue(a.dropped.isEmpty());
    StreamLifecycleRequest onlyA = o.next(TEMPLATE, 2);
    assertEquals(1, onlyA.getAcksCount());
    assertEquals("a", onlyA.getAcks(0).getJobId());
    assertEquals(1, o.onResponse(answer(onlyA).build(), 3).confirmed.size());
    StreamLifecycleRequest onlyB = o.next(TEMPLATE, 4);
    assertEquals("b", onlyB.getAcks(0).getJobId());
    Outbox.Answer dropped = o.onResponse(refused(onlyB, ErrorCode.ERROR_CODE_INVALID_ARGUMENT, 0), 5);
    assertEquals(1, dropped.dropped.size());
    assertTrue(o.settled());
  }

  @Test
  void anUnknownOutcomeIsNotTransient() {
    assertFalse(Outbox.retryable(ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN));
    Outbox o = new Outbox();
    o.add(ack("a"));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    Outbox.Answer a = o.onResponse(refused(f, ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN, 0), 1);
    assertTrue(a.refusedWhole);
    assertEquals(1, a.dropped.size(), "not put back to be sent again");
    assertEquals(ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN, a.dropped.get(0).code());
    assertEquals(0, o.holdUntilMs(), "no retry wait: nothing is retried");
    assertTrue(o.settled());
    o.add(ack("b"));
    StreamLifecycleRequest g = o.next(TEMPLATE, 2);
    StreamLifecycleResponse r =
        StreamLifecycleResponse.newBuilder()
            .setRequestId(g.getRequestId())
            .addAckResults(ItemResult.newBuilder().setJobId("b").setCode(ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN))
            .build();
    Outbox.Answer item = o.onResponse(r, 3);
    assertEquals(1, item.dropped.size(), "an item result too");
    assertTrue(o.settled());
  }

  @Test
  void framesStayWithinTheItemLimit() {
    Outbox o = new Outbox();
    int n = Outbox.FRAME_ITEMS_MAX + 10;
    for (int i = 0; i < n; i++) {
      o.add(ack("j" + i));
    }
    o.beat(new Outbox.Beat("j0", 7, "{\"p\":1}", null));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    assertEquals(Outbox.FRAME_ITEMS_MAX, f.getAcksCount() + f.getHeartbeatsCount());
    o.onResponse(answer(f).build(), 1);
    StreamLifecycleRequest rest = o.next(TEMPLATE, 2);
    assertEquals(n - f.getAcksCount(), rest.getAcksCount());
  }

  @Test
  void drainFramesSayDrainAndGrantNothing() {
    Outbox o = new Outbox();
    o.grant(4);
    o.drain();
    o.grant(1);
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    assertNotNull(f, "the drain goes out alone");
    assertTrue(f.getDrain());
    assertEquals(0, f.getCredits());
    // Refused for now: sent again after the hint.
    o.onResponse(refused(f, ErrorCode.ERROR_CODE_OVERLOADED, 100), 1);
    assertNull(o.next(TEMPLATE, 50));
    StreamLifecycleRequest again = o.next(TEMPLATE, 101);
    assertTrue(again.getDrain());
    o.onResponse(answer(again).build(), 102);
    assertNull(o.next(TEMPLATE, 103), "said once is enough");
    o.add(ack("a"));
    StreamLifecycleRequest later = o.next(TEMPLATE, 104);
    assertTrue(later.getDrain(), "every later frame says drain too");
    assertEquals(0, later.getCredits());
    o.onResponse(answer(later).build(), 105);
    // A new stream hears it again first.
    o.onStreamLost();
    StreamLifecycleRequest opening = o.next(TEMPLATE, 106);
    assertTrue(opening.getDrain());
    assertEquals(0, opening.getCredits());
  }

  @Test
  void heartbeatErrorsStopTheirJobs() {
    Outbox o = new Outbox();
    o.beat(new Outbox.Beat("lost", 7, null, null));
    o.beat(new Outbox.Beat("ok", 7, null, null));
    StreamLifecycleRequest f = o.next(TEMPLATE, 0);
    StreamLifecycleResponse r =
        StreamLifecycleResponse.newBuilder()
            .setRequestId(f.getRequestId())
            .addHeartbeatResults(ItemResult.newBuilder().setJobId("lost").setCode(ErrorCode.ERROR_CODE_STALE_LEASE))
            .addHeartbeatResults(ItemResult.newBuilder().setJobId("ok"))
            .build();
    assertEquals(List.of("lost"), o.onResponse(r, 1).stop);
  }

  @Test
  void pushesAreNotAnswers() {
    Outbox o = new Outbox();
    o.add(ack("a"));
    o.next(TEMPLATE, 0);
    Outbox.Answer a = o.onResponse(StreamLifecycleResponse.newBuilder().setRequestId(0).build(), 1);
    assertFalse(a.ours);
    assertEquals(1, o.inFlightIds().size());
  }
}
