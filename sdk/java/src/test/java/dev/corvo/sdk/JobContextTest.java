package dev.corvo.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.corvo.v1.FetchBatchJob;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class JobContextTest {
  record Cursor(int next) {}

  private static FetchBatchJob job(String checkpoint) {
    return FetchBatchJob.newBuilder()
        .setJobId("j-1")
        .setQueue("reports")
        .setAttempt(2)
        .setMaxRetries(5)
        .setPayloadJson("{\"items\":3,\"name\":\"x\"}")
        .setCheckpointJson(checkpoint)
        .setTagsJson("{\"tenant\":\"acme\"}")
        .setLeaseToken(9)
        .build();
  }

  @Test
  void whatTheHandlerSees() {
    JobContext ctx = new JobContext(job("{\"next\":4}"), () -> {});
    assertEquals("j-1", ctx.id());
    assertEquals("reports", ctx.queue());
    assertEquals(2, ctx.attempt());
    assertEquals(5, ctx.maxAttempts());
    assertEquals(Map.of("items", 3L, "name", "x"), ctx.payload());
    assertEquals(new Cursor(4), ctx.checkpointAs(Cursor.class));
    assertEquals(Map.of("tenant", "acme"), ctx.tags());
    JobContext fresh = new JobContext(job(""), () -> {});
    assertNull(fresh.checkpoint());
    assertNull(fresh.checkpointJson());
  }

  @Test
  void progressAndCheckpointMustBeObjects() {
    AtomicInteger notified = new AtomicInteger();
    JobContext ctx = new JobContext(job(""), notified::incrementAndGet);
    ctx.progress(Map.of("done", 1));
    ctx.checkpoint(new Cursor(2));
    ctx.progress("{\"done\": 2}");
    assertEquals(1, notified.get(), "one wake-up until the loop takes the updates");
    JobContext.Updates u = ctx.takeUpdates();
    assertEquals("{\"done\": 2}", u.progressJson());
    assertEquals("{\"next\":2}", u.checkpointJson());
    assertNull(ctx.takeUpdates());
    assertThrows(IllegalArgumentException.class, () -> ctx.progress(List.of(1, 2)));
    assertThrows(IllegalArgumentException.class, () -> ctx.checkpoint(42));
    assertThrows(IllegalArgumentException.class, () -> ctx.progress("[1]"));
    assertThrows(IllegalArgumentException.class, () -> ctx.progress("{not json"));
    assertThrows(IllegalArgumentException.class, () -> ctx.checkpoint("{} trailing"));
    assertNull(ctx.takeUpdates(), "refused values are not kept");
  }

  @Test
  void theCancellationSignal() throws Exception {
    JobContext ctx = new JobContext(job(""), () -> {});
    assertFalse(ctx.isCancelled());
    var waiting = ctx.cancelled();
    ctx.cancelled().cancel(true); // a handler cannot complete the SDK's own signal
    assertFalse(ctx.isCancelled());
    ctx.cancel();
    assertTrue(ctx.isCancelled());
    waiting.get(1, TimeUnit.SECONDS);
  }

  @Test
  void jsonRules() {
    assertEquals("{\"a\":[1,2]}", Json.encode(Map.of("a", List.of(1, 2)), "x"));
    assertEquals("\"text\"", Json.encode("\"text\"", "x"), "a String is JSON text");
    assertNull(Json.encode(null, "x"));
    assertThrows(IllegalArgumentException.class, () -> Json.encode("not json", "x"));
    String big = "\"" + "a".repeat(Json.DOCUMENT_BYTES_MAX) + "\"";
    assertThrows(IllegalArgumentException.class, () -> Json.encode(big, "x"));
  }

  @Test
  void errorTextIsCutToTheServersLimit() {
    String s = "é".repeat(WorkerLoop.ERROR_BYTES_MAX);
    String cut = WorkerLoop.truncate(s);
    assertTrue(cut.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= WorkerLoop.ERROR_BYTES_MAX + 3);
    assertTrue(cut.endsWith("…"));
    assertEquals("short", WorkerLoop.truncate("short"));
  }
}
