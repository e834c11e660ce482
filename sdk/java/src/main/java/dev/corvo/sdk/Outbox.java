package dev.corvo.sdk;

import dev.corvo.v1.AckBatchItem;
import dev.corvo.v1.ErrorCode;
import dev.corvo.v1.ItemResult;
import dev.corvo.v1.LifecycleFailItem;
import dev.corvo.v1.LifecycleHeartbeatItem;
import dev.corvo.v1.StreamLifecycleRequest;
import dev.corvo.v1.StreamLifecycleResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a worker owes the server, and the frames that carry it: outcomes (acks and fails, kept
 * until the server answered them), heartbeats (with the progress and checkpoint set since the
 * last one) and credits. Pure bookkeeping, driven by one thread (the worker's loop).
 *
 * <ul>
 *   <li>An outcome stays here until its item result arrives. Progress or a checkpoint its
 *       handler set after the last heartbeat goes as a heartbeat in the outcome's own frame
 *       (the server applies a frame's heartbeats before its acks and fails), so the last
 *       checkpoint before a failure reaches the next attempt.
 *   <li>A frame refused whole with
 *       OVERLOADED or UNAVAILABLE (no item results) is put back and sent again once the
 *       server's {@code retry_after_ms} has passed; so are the outcomes of a stream that
 *       broke ({@link #onStreamLost}).
 *   <li>An item refused for good (stale lease, not found, invalid state) is dropped and
 *       reported. A frame refused for good has its outcomes sent again one per frame, so only
 *       the one the server refuses is dropped.
 *   <li>Draining: every frame carries {@code drain: true} (the server drops the stream's
 *       credits and pushes nothing more) and grants no credits; one such frame goes out even
 *       with nothing else to send, again if it is refused or the stream breaks.
 *   <li>At most {@link #FRAMES_IN_FLIGHT_MAX} frames are unanswered at a time: what finishes
 *       meanwhile rides in the next frame, so a busy worker sends few large frames. An
 *       outcome or a newer heartbeat waits while a heartbeat of its job carrying progress or a
 *       checkpoint is unanswered (were that frame refused, they would overtake it).
 *   <li>Pacing: two refusals in a row tell when the server's budget yields a frame (each
 *       hint says when the next one comes); frames are then spaced that far apart, a little
 *       less after each accepted one, so a rate-limited worker is rarely refused again
 *       instead of once per frame.
 * </ul>
 */
final class Outbox {
  /** Items (acks, fails, heartbeats) per frame; the server takes at most 1024. */
  static final int FRAME_ITEMS_MAX = 1000;
  static final int FRAMES_IN_FLIGHT_MAX = 32;
  /** The wait after a refusal that came without a hint. */
  static final long HOLD_DEFAULT_MS = 1000;
  /** The widest spacing pacing uses. */
  static final long PACE_MAX_MS = 10_000;

  /** A finished job's outcome: an ack with its result, or a fail with error and backtrace. */
  record Outcome(String jobId, long leaseToken, boolean completed, String resultJson, String error, String backtrace) {
    static Outcome complete(String jobId, long leaseToken, String resultJson) {
      return new Outcome(jobId, leaseToken, true, resultJson == null ? "" : resultJson, "", "");
    }

    static Outcome fail(String jobId, long leaseToken, String error, String backtrace) {
      return new Outcome(jobId, leaseToken, false, "", error, backtrace == null ? "" : backtrace);
    }
  }

  /** A heartbeat for one job; progress and checkpoint are null when unchanged. */
  record Beat(String jobId, long leaseToken, String progressJson, String checkpointJson) {
    /** This beat with what an older, unsent beat carried and this one does not. */
    Beat over(Beat older) {
      return new Beat(
          jobId,
          leaseToken,
          progressJson != null ? progressJson : older.progressJson,
          checkpointJson != null ? checkpointJson : older.checkpointJson);
    }
  }

  /** An outcome the server refused for good. */
  record Dropped(Outcome outcome, ErrorCode code, String message) {}

  /** What one response meant. */
  static final class Answer {
    /** The response answered one of our frames (not a push). */
    boolean ours;
    /** The frame was refused whole with {@link #code}; nothing of it was applied. */
    boolean refusedWhole;
    ErrorCode code = ErrorCode.ERROR_CODE_UNSPECIFIED;
    String error = "";
    long retryAfterMs;
    String leaderAddr = "";
    /** How many outcomes the answered frame carried. */
    int outcomes;
    final List<Outcome> confirmed = new ArrayList<>();
    final List<Dropped> dropped = new ArrayList<>();
    /** Jobs whose heartbeat came back with an error: their handler must stop. */
    final List<String> stop = new ArrayList<>();
  }

  private record Sent(List<Outcome> outcomes, List<Beat> beats, int credits, boolean drain) {}

  private LinkedHashMap<String, Outcome> unsent = new LinkedHashMap<>();
  /** Outcomes of a frame refused for good: each goes alone, to find the one refused. */
  private final Set<String> solo = new HashSet<>();
  private final LinkedHashMap<String, Beat> beats = new LinkedHashMap<>();
  private final TreeMap<Long, Sent> inFlight = new TreeMap<>();
  private int credits;
  /** The worker drains: frames say so and grant nothing. */
  private boolean draining;
  /** A frame saying {@code drain} has yet to be accepted on the current stream. */
  private boolean drainUnsent;
  private long holdUntilMs;
  private long nextRequestId = 1;
  /** Pacing: the spacing of frames, when the last one went, when the budget frees next. */
  private long paceMs;
  private long lastSentMs = Long.MIN_VALUE / 2;
  private long budgetAtMs = -1;
  private int acceptedSinceRefusal;

  /**
   * Queues an outcome. A heartbeat of the job not sent yet goes in the same frame when it
   * carries progress or a checkpoint (applied before the outcome); a bare one is moot.
   */
  void add(Outcome o) {
    unsent.put(o.jobId, o);
    Beat b = beats.get(o.jobId);
    if (b != null && b.progressJson == null && b.checkpointJson == null) {
      beats.remove(o.jobId);
    }
  }

  /** Queues a heartbeat; one not yet sent for the same job is merged into it. */
  void beat(Beat b) {
    Beat older = beats.get(b.jobId);
    beats.put(b.jobId, older == null ? b : b.over(older));
  }

  void removeBeat(String jobId) {
    beats.remove(jobId);
  }

  /** Credits to grant with the next frame (none while draining). */
  void grant(int n) {
    if (!draining) {
      credits += n;
    }
  }

  /**
   * The worker drains: the credits not sent yet are dropped, every frame from now on says
   * {@code drain}, and one goes out even when there is nothing else to send.
   */
  void drain() {
    draining = true;
    drainUnsent = true;
    credits = 0;
  }

  boolean draining() {
    return draining;
  }

  /** No outcome waits to be sent or answered. */
  boolean settled() {
    return unsent.isEmpty() && inFlight.isEmpty();
  }

  int outcomesPending() {
    int n = unsent.size();
    for (Sent s : inFlight.values()) {
      n += s.outcomes.size();
    }
    return n;
  }

  /** When the server's last retry hint ends (0 when there is none). */
  long holdUntilMs() {
    return holdUntilMs;
  }

  /** The earliest time the next frame may go (the retry hint, then pacing). */
  long nextSendAtMs() {
    return Math.max(holdUntilMs, lastSentMs + paceMs);
  }

  long paceMs() {
    return paceMs;
  }

  /** Something else drew on the server's budget now (opening a stream): pacing counts it. */
  void spent(long nowMs) {
    lastSentMs = nowMs;
  }

  /** Whether a frame could go out now, when there is something to send. */
  boolean hasWork() {
    return !unsent.isEmpty() || !beats.isEmpty() || credits > 0 || drainUnsent;
  }

  boolean canSend(long nowMs) {
    return inFlight.size() < FRAMES_IN_FLIGHT_MAX && nowMs >= nextSendAtMs();
  }

  /**
   * The next frame ({@code template} with outcomes, heartbeats and credits), or null when
   * there is nothing to send or it is not time yet.
   */
  StreamLifecycleRequest next(StreamLifecycleRequest template, long nowMs) {
    if (!canSend(nowMs) || !hasWork()) {
      return null;
    }
    List<Outcome> outcomes = new ArrayList<>();
    List<Beat> sentBeats = new ArrayList<>();
    Set<String> updating = updatesInFlight();
    Outcome alone = null;
    for (Outcome o : unsent.values()) {
      if (solo.contains(o.jobId) && !updating.contains(o.jobId)) {
        alone = o;
        break;
      }
    }
    if (alone != null) {
      outcomes.add(alone);
      Beat b = beats.get(alone.jobId);
      if (b != null) {
        sentBeats.add(b);
      }
    } else {
      int items = 0;
      for (Outcome o : unsent.values()) {
        if (updating.contains(o.jobId)) {
          continue;
        }
        Beat b = beats.get(o.jobId);
        int need = b == null ? 1 : 2;
        if (items + need > FRAME_ITEMS_MAX) {
          break;
        }
        outcomes.add(o);
        if (b != null) {
          sentBeats.add(b);
        }
        items += need;
      }
      for (Beat b : beats.values()) {
        if (items == FRAME_ITEMS_MAX) {
          break;
        }
        // A finished job's heartbeat goes with its outcome, never ahead of it; one whose
        // earlier progress or checkpoint is unanswered waits (were that frame refused and sent
        // again, the older value would land last).
        if (!unsent.containsKey(b.jobId) && !updating.contains(b.jobId)) {
          sentBeats.add(b);
          items++;
        }
      }
    }
    if (outcomes.isEmpty() && sentBeats.isEmpty() && credits == 0 && !drainUnsent) {
      return null;
    }
    StreamLifecycleRequest.Builder f =
        template.toBuilder().setRequestId(nextRequestId++).setCredits(draining ? 0 : credits).setDrain(draining);
    // Heartbeats first: the server applies them before the outcomes in any case.
    for (Beat b : sentBeats) {
      beats.remove(b.jobId);
      LifecycleHeartbeatItem.Builder h = LifecycleHeartbeatItem.newBuilder().setJobId(b.jobId).setLeaseToken(b.leaseToken);
      if (b.progressJson != null) {
        h.setProgressJson(b.progressJson);
      }
      if (b.checkpointJson != null) {
        h.setCheckpointJson(b.checkpointJson);
      }
      f.addHeartbeats(h);
    }
    for (Outcome o : outcomes) {
      unsent.remove(o.jobId);
      if (o.completed) {
        f.addAcks(AckBatchItem.newBuilder().setJobId(o.jobId).setResultJson(o.resultJson).setLeaseToken(o.leaseToken));
      } else {
        f.addFails(
            LifecycleFailItem.newBuilder()
                .setJobId(o.jobId)
                .setError(o.error)
                .setBacktrace(o.backtrace)
                .setLeaseToken(o.leaseToken));
      }
    }
    inFlight.put(f.getRequestId(), new Sent(outcomes, sentBeats, draining ? 0 : credits, draining));
    credits = 0;
    drainUnsent = false;
    lastSentMs = nowMs;
    return f.build();
  }

  /** Takes the answer to one of our frames (pushes, with request id 0, are not ours). */
  Answer onResponse(StreamLifecycleResponse resp, long nowMs) {
    Answer a = new Answer();
    Sent sent = resp.getRequestId() == 0 ? null : inFlight.remove(resp.getRequestId());
    if (sent == null) {
      return a;
    }
    a.ours = true;
    a.outcomes = sent.outcomes.size();
    a.code = resp.getErrorCode();
    a.error = resp.getError();
    a.retryAfterMs = resp.getRetryAfterMs();
    a.leaderAddr = resp.getLeaderAddr();
    int results = resp.getAckResultsCount() + resp.getFailResultsCount() + resp.getHeartbeatResultsCount();
    if (a.code != ErrorCode.ERROR_CODE_UNSPECIFIED && results == 0) {
      a.refusedWhole = true;
      refused(sent, a, nowMs);
      return a;
    }
    paceMs -= paceMs / 16;
    acceptedSinceRefusal++;
    Map<String, Outcome> waiting = new LinkedHashMap<>();
    for (Outcome o : sent.outcomes) {
      waiting.put(o.jobId, o);
    }
    List<Outcome> again = new ArrayList<>();
    long hint = 0;
    for (List<ItemResult> list : List.of(resp.getAckResultsList(), resp.getFailResultsList())) {
      for (ItemResult r : list) {
        Outcome o = waiting.remove(r.getJobId());
        if (o == null) {
          continue;
        }
        if (r.getCode() == ErrorCode.ERROR_CODE_UNSPECIFIED) {
          solo.remove(o.jobId);
          a.confirmed.add(o);
        } else if (retryable(r.getCode())) {
          again.add(o);
          hint = Math.max(hint, resp.getRetryAfterMs());
        } else {
          solo.remove(o.jobId);
          a.dropped.add(new Dropped(o, r.getCode(), r.getMessage()));
        }
      }
    }
    // An outcome the response did not mention was not applied: send it again.
    again.addAll(waiting.values());
    if (!again.isEmpty()) {
      requeue(again);
      hold(nowMs, hint);
    }
    for (ItemResult r : resp.getHeartbeatResultsList()) {
      if (r.getCode() != ErrorCode.ERROR_CODE_UNSPECIFIED) {
        a.stop.add(r.getJobId());
      }
    }
    return a;
  }

  /** The stream broke: what it did not confirm goes out again on the next one. */
  void onStreamLost() {
    List<Sent> lost = new ArrayList<>(inFlight.values());
    inFlight.clear();
    List<Outcome> outcomes = new ArrayList<>();
    for (Sent s : lost) {
      outcomes.addAll(s.outcomes);
    }
    requeue(outcomes);
    for (Sent s : lost) {
      restore(s.beats);
    }
    credits = 0;
    holdUntilMs = 0;
    drainUnsent = draining;
  }

  private void refused(Sent sent, Answer a, long nowMs) {
    grant(sent.credits);
    if (a.code == ErrorCode.ERROR_CODE_NOT_LEADER || retryable(a.code)) {
      requeue(sent.outcomes);
      restore(sent.beats);
      drainUnsent |= sent.drain;
      if (a.code != ErrorCode.ERROR_CODE_NOT_LEADER) {
        hold(nowMs, a.retryAfterMs);
      }
      return;
    }
    if (sent.outcomes.size() == 1) {
      Outcome o = sent.outcomes.get(0);
      solo.remove(o.jobId);
      a.dropped.add(new Dropped(o, a.code, a.error));
    } else {
      for (Outcome o : sent.outcomes) {
        solo.add(o.jobId);
      }
      requeue(sent.outcomes);
      restore(sent.beats);
    }
  }

  /** Jobs whose progress or checkpoint is in an unanswered frame. */
  private Set<String> updatesInFlight() {
    Set<String> ids = new HashSet<>();
    for (Sent s : inFlight.values()) {
      for (Beat b : s.beats) {
        if (b.progressJson != null || b.checkpointJson != null) {
          ids.add(b.jobId);
        }
      }
    }
    return ids;
  }

  private void hold(long nowMs, long hintMs) {
    long until = nowMs + (hintMs > 0 ? hintMs : HOLD_DEFAULT_MS);
    holdUntilMs = Math.max(holdUntilMs, until);
    if (hintMs > 0) {
      // One frame got through since the last refusal, at its hint: the budget refills one
      // frame per (this hint's end - that one's).
      if (budgetAtMs >= 0 && acceptedSinceRefusal == 1 && until > budgetAtMs) {
        paceMs = Math.max(paceMs, Math.min(PACE_MAX_MS, until - budgetAtMs));
      }
      budgetAtMs = until;
      acceptedSinceRefusal = 0;
    }
  }

  /** Puts outcomes back ahead of the newer ones, in their order. */
  private void requeue(List<Outcome> outcomes) {
    if (outcomes.isEmpty()) {
      return;
    }
    LinkedHashMap<String, Outcome> merged = new LinkedHashMap<>();
    for (Outcome o : outcomes) {
      merged.put(o.jobId, o);
    }
    merged.putAll(unsent);
    unsent = merged;
  }

  /**
   * Puts heartbeats back (newer values win). A bare one of a finished job is dropped: its
   * outcome ends the lease anyway.
   */
  private void restore(List<Beat> lost) {
    for (Beat b : lost) {
      Beat newer = beats.get(b.jobId);
      Beat merged = newer == null ? b : newer.over(b);
      if (unsent.containsKey(b.jobId) && merged.progressJson == null && merged.checkpointJson == null) {
        continue;
      }
      beats.put(b.jobId, merged);
    }
  }

  /**
   * A refusal that is transient: the same frame may go again after the hint. Never {@code
   * ERROR_CODE_OUTCOME_UNKNOWN}, whose write may have been applied (the server answers
   * UNAVAILABLE instead when every write of the frame was safe to repeat).
   */
  static boolean retryable(ErrorCode code) {
    return code == ErrorCode.ERROR_CODE_OVERLOADED || code == ErrorCode.ERROR_CODE_UNAVAILABLE;
  }

  /** For tests: the request ids of the unanswered frames. */
  List<Long> inFlightIds() {
    return new ArrayList<>(inFlight.keySet());
  }

  /** For tests: the outcomes waiting to be sent, by job id. */
  Map<String, Outcome> unsent() {
    return new HashMap<>(unsent);
  }
}
