package dev.corvo.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void ceilingDoublesFrom100msUpTo10s() {
    Backoff b = new Backoff(() -> 0.999_999);
    List<Long> waits = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      waits.add(b.nextMs(0));
    }
    assertEquals(List.of(100L, 200L, 400L, 800L, 1600L, 3200L, 6400L, 10_000L, 10_000L, 10_000L), waits);
  }

  @Test
  void fullJitterSpansZeroToTheCeiling() {
    Backoff low = new Backoff(() -> 0.0);
    assertEquals(0, low.nextMs(0));
    assertEquals(0, low.nextMs(0));
    Backoff mid = new Backoff(() -> 0.5);
    mid.nextMs(0);
    long second = mid.nextMs(0); // ceiling 200
    assertTrue(second >= 99 && second <= 101, "half of 200 ms: " + second);
  }

  @Test
  void neverShorterThanTheServersHint() {
    Backoff b = new Backoff(() -> 0.0);
    assertEquals(1500, b.nextMs(1500));
    Backoff high = new Backoff(() -> 0.999_999);
    assertEquals(100, high.nextMs(50), "a hint under the jittered wait changes nothing");
  }

  @Test
  void resetStartsOverAndManyFailuresDoNotOverflow() {
    Backoff b = new Backoff(() -> 0.999_999);
    for (int i = 0; i < 200; i++) {
      assertTrue(b.nextMs(0) <= Backoff.MAX_MS);
    }
    b.reset();
    assertEquals(100, b.nextMs(0));
  }
}
