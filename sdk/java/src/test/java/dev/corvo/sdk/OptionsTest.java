package dev.corvo.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.corvo.v1.BackoffKind;
import dev.corvo.v1.EnqueueOptions;
import dev.corvo.v1.Priority;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionsTest {
  @Test
  void jobOptionsMapToTheWire() {
    Instant now = Instant.parse("2030-01-02T03:04:05.5Z");
    EnqueueOptions o =
        JobOptions.builder()
            .priority(Priority.PRIORITY_HIGH)
            .maxAttempts(5)
            .backoff(BackoffKind.BACKOFF_KIND_EXPONENTIAL, Duration.ofSeconds(1), Duration.ofMinutes(1))
            .delay(Duration.ofSeconds(30))
            .expireAfter(Duration.ofHours(1))
            .uniqueKey("invoice-42")
            .uniquePeriod(Duration.ofMinutes(10))
            .idempotencyKey("order-7")
            .tag("tenant", "acme")
            .build()
            .toProto(now);
    assertEquals(Priority.PRIORITY_HIGH, o.getPriority());
    assertEquals(5, o.getMaxAttempts());
    assertEquals(BackoffKind.BACKOFF_KIND_EXPONENTIAL, o.getBackoff().getKind());
    assertEquals(1000, o.getBackoff().getBaseMs());
    assertEquals(60_000, o.getBackoff().getCapMs());
    assertEquals(now.plusSeconds(30).getEpochSecond(), o.getScheduledAt().getSeconds());
    assertEquals(500_000_000, o.getScheduledAt().getNanos());
    assertEquals(3_600_000, o.getExpireAfterMs());
    assertEquals("invoice-42", o.getUniqueKey());
    assertEquals(600_000, o.getUniquePeriodMs());
    assertEquals("order-7", o.getIdempotencyKey());
    assertEquals(Map.of("tenant", "acme"), o.getTagsMap());
  }

  @Test
  void defaultJobOptionsLeaveEverythingToTheServer() {
    EnqueueOptions o = JobOptions.DEFAULTS.toProto(Instant.now());
    assertEquals(EnqueueOptions.getDefaultInstance(), o);
  }

  @Test
  void jobOptionsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> JobOptions.builder().maxAttempts(0));
    assertThrows(IllegalArgumentException.class, () -> JobOptions.builder().delay(Duration.ofSeconds(-1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> JobOptions.builder().delay(Duration.ofSeconds(1)).scheduledAt(Instant.now()).build());
    assertThrows(IllegalArgumentException.class, () -> JobOptions.builder().idempotencyKey(""));
    assertThrows(IllegalArgumentException.class, () -> JobOptions.builder().idempotencyKey("é".repeat(128)), "bytes");
    JobOptions.builder().idempotencyKey("k".repeat(JobOptions.IDEMPOTENCY_KEY_BYTES_MAX));
  }

  @Test
  void workerOptionsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> Worker.builder().concurrency(0));
    assertThrows(IllegalArgumentException.class, () -> Worker.builder().concurrency(Worker.CONCURRENCY_MAX + 1));
    assertThrows(IllegalArgumentException.class, () -> Worker.builder().lease(Duration.ofMillis(500)));
    assertThrows(IllegalArgumentException.class, () -> Worker.builder().lease(Duration.ofHours(2)));
    assertThrows(IllegalArgumentException.class, () -> Worker.builder().drainTimeout(Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> Worker.builder().servers("ftp://example.invalid"));
    assertThrows(IllegalArgumentException.class, () -> Worker.builder().apiKey("bad\nkey").build());
    Worker w = Worker.builder().concurrency(Worker.CONCURRENCY_MAX).workerId("w-1").build();
    assertEquals("w-1", w.workerId());
    assertThrows(IllegalStateException.class, w::run, "no handler");
  }

  @Test
  void theDefaultWorkerIdIsHostnameDashEightHex() {
    String a = Worker.defaultWorkerId("build-host");
    String b = Worker.defaultWorkerId("build-host");
    assertTrue(a.matches("build-host-[0-9a-f]{8}"), a);
    assertNotEquals(a, b, "one per process start");
    String id = Worker.builder().build().workerId();
    int dash = id.lastIndexOf('-');
    assertTrue(dash > 0 && id.substring(dash + 1).matches("[0-9a-f]{8}"), id);
  }

  @Test
  void serverUrls() {
    Connections.Target t = Connections.Target.parse("https://corvo.example.com");
    assertTrue(t.tls());
    assertEquals(443, t.port());
    Connections.Target plain = Connections.Target.parse("10.0.0.1:8080");
    assertFalse(plain.tls());
    assertEquals("http://10.0.0.1:8080", plain.toString());
    Connections.Target v6 = Connections.Target.parse("http://[::1]:9000");
    assertEquals("::1", v6.host());
    assertEquals("http://[::1]:9000", v6.toString());
    assertEquals(
        new Connections.Target(true, "node-2", 7000), t.withHostPort("node-2:7000"), "a leader hint keeps the scheme");
    assertThrows(IllegalArgumentException.class, () -> Connections.Target.parse("http://"));
  }

  @Test
  void connectionsMoveOnAndFollowLeaders() {
    Connections.Settings s = new Connections.Settings();
    s.servers("http://a:1", "http://b:2", "http://c:3");
    try (Connections c = new Connections(s)) {
      Connections.Target a = c.current();
      assertEquals("a", a.host());
      c.failed(a);
      assertEquals("b", c.current().host());
      c.followLeader(c.current(), "c:3");
      assertEquals("c", c.current().host(), "a known node");
      c.followLeader(c.current(), "d:4");
      assertEquals("d", c.current().host(), "an unknown leader");
      c.failed(c.current());
      assertEquals("c", c.current().host(), "the hint is dropped when it fails");
    }
  }

  @Test
  void errorsCarryTheServersCodes() {
    io.grpc.Metadata trailers = new io.grpc.Metadata();
    trailers.put(CorvoException.PUSHBACK, "250");
    trailers.put(CorvoException.LEADER, "10.0.0.2:8080");
    CorvoException e =
        CorvoException.from(io.grpc.Status.UNAVAILABLE.withDescription("not the leader").asRuntimeException(trailers));
    assertEquals(io.grpc.Status.Code.UNAVAILABLE, e.statusCode());
    assertEquals(250, e.retryAfterMs());
    assertEquals("10.0.0.2:8080", CorvoException.leader(trailers));
    assertTrue(e.getMessage().contains("not the leader"));
    CorvoException denied =
        CorvoException.fromCode(dev.corvo.v1.ErrorCode.ERROR_CODE_PERMISSION_DENIED, "queue q is outside the key's scopes", 0);
    assertEquals(io.grpc.Status.Code.PERMISSION_DENIED, denied.statusCode());
    assertTrue(denied.getMessage().toLowerCase().contains("permission"));
    CorvoException unknown =
        CorvoException.fromCode(dev.corvo.v1.ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN, "outcome unknown", 0);
    assertEquals(io.grpc.Status.Code.UNKNOWN, unknown.statusCode());
    assertEquals(dev.corvo.v1.ErrorCode.ERROR_CODE_OUTCOME_UNKNOWN, unknown.errorCode());
  }
}
