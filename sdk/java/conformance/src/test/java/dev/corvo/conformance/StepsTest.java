package dev.corvo.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class StepsTest {
  /** A job that records what the steps did. */
  static final class FakeJob implements Steps.Job {
    final int attempt;
    final JsonElement checkpoint;
    final CompletableFuture<Void> cancelled = new CompletableFuture<>();
    final List<String> calls = new ArrayList<>();

    FakeJob(int attempt, JsonElement checkpoint) {
      this.attempt = attempt;
      this.checkpoint = checkpoint;
    }

    @Override
    public String id() {
      return "job-1";
    }

    @Override
    public int attempt() {
      return attempt;
    }

    @Override
    public JsonElement checkpoint() {
      return checkpoint;
    }

    @Override
    public void progress(JsonElement progress) {
      calls.add("progress " + progress);
    }

    @Override
    public void checkpoint(JsonElement value) {
      calls.add("checkpoint " + value);
    }

    @Override
    public CompletableFuture<Void> cancelled() {
      return cancelled;
    }

    @Override
    public Object fail(String message) {
      calls.add("fail " + message);
      return "FAILED";
    }
  }

  private static Object run(String payload, FakeJob job, List<String> events) throws InterruptedException {
    return Steps.run(JsonParser.parseString(payload), job, id -> events.add("cancelled " + id));
  }

  @Test
  void withoutStepsTheResultIsAttemptAndCheckpoint() throws Exception {
    FakeJob job = new FakeJob(1, JsonNull.INSTANCE);
    assertEquals(JsonParser.parseString("{\"attempt\":1,\"checkpoint\":null}"), run("{\"n\":1}", job, new ArrayList<>()));
    FakeJob second = new FakeJob(2, JsonParser.parseString("{\"cursor\":7}"));
    assertEquals(
        JsonParser.parseString("{\"attempt\":2,\"checkpoint\":{\"cursor\":7}}"), run("{}", second, new ArrayList<>()));
  }

  @Test
  void stepsRunInOrderAndOnlyOnTheirAttempt() throws Exception {
    String payload =
        "{\"steps\":["
            + "{\"op\":\"progress\",\"progress\":{\"pct\":50},\"checkpoint\":{\"cursor\":7},\"attempt\":1},"
            + "{\"op\":\"sleep\",\"ms\":1,\"attempt\":1},"
            + "{\"op\":\"fail\",\"error\":\"retry me\",\"attempt\":1}]}";
    FakeJob first = new FakeJob(1, JsonNull.INSTANCE);
    assertEquals("FAILED", run(payload, first, new ArrayList<>()));
    assertEquals(List.of("progress {\"pct\":50}", "checkpoint {\"cursor\":7}", "fail retry me"), first.calls);
    FakeJob second = new FakeJob(2, JsonParser.parseString("{\"cursor\":7}"));
    Object result = run(payload, second, new ArrayList<>());
    assertEquals(JsonParser.parseString("{\"attempt\":2,\"checkpoint\":{\"cursor\":7}}"), result);
    assertTrue(second.calls.isEmpty());
  }

  @Test
  void progressMaySetOnlyOneOfTheTwo() throws Exception {
    FakeJob job = new FakeJob(1, JsonNull.INSTANCE);
    run("{\"steps\":[{\"op\":\"progress\",\"checkpoint\":{\"c\":1}}]}", job, new ArrayList<>());
    assertEquals(List.of("checkpoint {\"c\":1}"), job.calls);
  }

  @Test
  void terminalSteps() throws Exception {
    FakeJob job = new FakeJob(1, JsonNull.INSTANCE);
    assertEquals(
        JsonParser.parseString("{\"custom\":true}"),
        run("{\"steps\":[{\"op\":\"complete\",\"result\":{\"custom\":true}},{\"op\":\"fail\",\"error\":\"x\"}]}", job, new ArrayList<>()));
    assertTrue(job.calls.isEmpty(), "nothing after a terminal step");
    Steps.HandlerException thrown =
        assertThrows(
            Steps.HandlerException.class,
            () -> run("{\"steps\":[{\"op\":\"throw\",\"error\":\"kaboom\"}]}", job, new ArrayList<>()));
    assertEquals("kaboom", thrown.getMessage());
  }

  @Test
  void waitCancel() throws Exception {
    List<String> events = new ArrayList<>();
    FakeJob cancelled = new FakeJob(1, JsonNull.INSTANCE);
    cancelled.cancelled.complete(null);
    assertEquals("FAILED", run("{\"steps\":[{\"op\":\"wait_cancel\",\"timeout_ms\":5000}]}", cancelled, events));
    assertEquals(List.of("fail cancelled"), cancelled.calls);
    assertEquals(List.of("cancelled job-1"), events);
    FakeJob never = new FakeJob(1, JsonNull.INSTANCE);
    List<String> none = new ArrayList<>();
    run("{\"steps\":[{\"op\":\"wait_cancel\",\"timeout_ms\":10}]}", never, none);
    assertEquals(List.of("fail not cancelled"), never.calls);
    assertTrue(none.isEmpty());
  }

  @Test
  void options() {
    Harness.Options o =
        Harness.Options.parse(
            new String[] {
              "--server", "http://a:1", "--server=http://b:2", "--queue", "q", "--concurrency", "64",
              "--lease-secs", "3", "--drain-timeout-ms", "1000", "--max-jobs", "6", "--api-key", "k",
              "--ca-cert", "/tmp/ca.pem", "--worker-id", "w"
            });
    assertEquals(List.of("http://a:1", "http://b:2"), o.servers);
    assertEquals(List.of("q"), o.queues);
    assertEquals(64, o.concurrency);
    assertEquals(3, o.leaseSecs);
    assertEquals(1000L, o.drainTimeoutMs);
    assertEquals(6, o.maxJobs);
    assertEquals("k", o.apiKey);
    assertEquals("/tmp/ca.pem", o.caCert);
    assertEquals("w", o.workerId);
    assertThrows(IllegalArgumentException.class, () -> Harness.Options.parse(new String[] {"--queue", "q"}));
    assertThrows(
        IllegalArgumentException.class,
        () -> Harness.Options.parse(new String[] {"--server", "http://a", "--queue", "q", "--bogus", "1"}));
  }
}
