import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff, Pacer, RECONNECT_FIRST_MS, RECONNECT_MAX_MS } from "../backoff.js";

test("backoff waits are full-jitter draws under a ceiling that doubles from 100 ms to 10 s", () => {
  const ceilings: number[] = [];
  const b = new Backoff(RECONNECT_FIRST_MS, RECONNECT_MAX_MS, () => 0.999999);
  for (let i = 0; i < 12; i++) ceilings.push(b.next());
  assert.deepEqual(ceilings.slice(0, 8), [99, 199, 399, 799, 1599, 3199, 6399, 9999]);
  assert.ok(ceilings.every((c) => c <= RECONNECT_MAX_MS));
  const low = new Backoff(RECONNECT_FIRST_MS, RECONNECT_MAX_MS, () => 0);
  assert.equal(low.next(), 0, "full jitter may retry at once");
});

test("backoff honours the server's hint as a floor, and reset starts over", () => {
  const b = new Backoff(100, 10_000, () => 0.5);
  assert.equal(b.next(700), 700);
  b.next();
  b.next();
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 50);
});

test("backoff draws are spread (jitter), not all equal", () => {
  const draws = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const b = new Backoff();
    for (let k = 0; k < 5; k++) b.next();
    draws.add(b.next());
  }
  assert.ok(draws.size > 10);
});

test("the pacer spaces frames after a refusal and relaxes as frames are accepted", () => {
  const p = new Pacer();
  assert.equal(p.nextAt(), Number.NEGATIVE_INFINITY, "no pacing before any refusal");
  p.sent(1_000);
  p.refused(500);
  assert.equal(p.gapMs, 500);
  assert.equal(p.nextAt(), 1_500);
  p.refused(100);
  assert.equal(p.gapMs, 1_000, "a second refusal doubles the gap");
  for (let i = 0; i < 200; i++) p.accepted();
  assert.equal(p.gapMs, 0, "enough accepted frames lift the pacing");
  p.refused(60_000);
  assert.equal(p.gapMs, 10_000, "the gap is capped");
});
