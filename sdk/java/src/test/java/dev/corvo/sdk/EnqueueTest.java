package dev.corvo.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.corvo.v1.EnqueueRequest;
import dev.corvo.v1.ItemResult;
import dev.corvo.v1.JobState;
import dev.corvo.v1.LifecycleEnqueueItem;
import dev.corvo.v1.StreamLifecycleResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnqueueTest {
  private static final String HEX32 = "[0-9a-f]{32}";

  @Test
  void aGivenIdempotencyKeyIsSent() {
    JobOptions options = JobOptions.builder().idempotencyKey("order-7").uniqueKey("u").build();
    EnqueueRequest req = CorvoClient.enqueueRequest("q", Map.of("n", 1), options, Instant.now());
    assertEquals("order-7", req.getOptions().getIdempotencyKey());
    assertEquals("u", req.getOptions().getUniqueKey());
    assertEquals("q", req.getQueue());
    assertEquals("{\"n\":1}", req.getPayloadJson());
    LifecycleEnqueueItem item = CorvoClient.enqueueItem(new EnqueueItem("q", "{}", options), Instant.now());
    assertEquals("order-7", item.getOptions().getIdempotencyKey());
  }

  @Test
  void withoutAKeyEachCallGetsAFreshOne() {
    String a = CorvoClient.enqueueRequest("q", "{}", null, Instant.now()).getOptions().getIdempotencyKey();
    String b = CorvoClient.enqueueRequest("q", "{}", JobOptions.DEFAULTS, Instant.now()).getOptions().getIdempotencyKey();
    assertTrue(a.matches(HEX32), a);
    assertTrue(b.matches(HEX32), b);
    assertNotEquals(a, b, "a fresh key per call");
    String i = CorvoClient.enqueueItem(EnqueueItem.of("q", "{}"), Instant.now()).getOptions().getIdempotencyKey();
    String j = CorvoClient.enqueueItem(EnqueueItem.of("q", "{}"), Instant.now()).getOptions().getIdempotencyKey();
    assertTrue(i.matches(HEX32), i);
    assertNotEquals(i, j, "a fresh key per item");
    assertTrue(CorvoClient.freshIdempotencyKey().matches(HEX32));
  }

  @Test
  void replayedIsSurfaced() {
    EnqueueResult unary = new EnqueueResult("j1", "duplicate", true);
    assertTrue(unary.replayed());
    assertTrue(unary.duplicate());
    assertFalse(new EnqueueResult("j2", "pending").replayed());

    StreamLifecycleResponse resp =
        StreamLifecycleResponse.newBuilder()
            .addAllEnqueuedJobIds(List.of("a", "b", "c", "d"))
            .addEnqueueResults(ItemResult.newBuilder().setJobId("a").setState(JobState.JOB_STATE_PENDING))
            .addEnqueueResults(ItemResult.newBuilder().setJobId("b").setState(JobState.JOB_STATE_SCHEDULED))
            .addEnqueueResults(ItemResult.newBuilder().setJobId("c").setMessage("duplicate"))
            .addEnqueueResults(ItemResult.newBuilder().setJobId("d").setMessage("replayed"))
            .build();
    assertEquals(
        List.of(
            new EnqueueResult("a", "pending", false),
            new EnqueueResult("b", "scheduled", false),
            new EnqueueResult("c", "duplicate", false),
            new EnqueueResult("d", "duplicate", true)),
        CorvoClient.enqueueResults(resp));
  }
}
