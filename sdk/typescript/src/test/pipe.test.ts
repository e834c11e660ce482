import assert from "node:assert/strict";
import { test } from "node:test";
import { Pipe } from "../pipe.js";

test("a pipe yields what was pushed, in order, and ends after close", async () => {
  const p = new Pipe<number>();
  p.push(1);
  const seen: number[] = [];
  const done = (async () => {
    for await (const v of p) seen.push(v);
  })();
  p.push(2);
  await new Promise((r) => setImmediate(r));
  p.push(3);
  p.close();
  await done;
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(p.push(4), false, "a closed pipe takes nothing");
});

test("a pipe's iterator can be thrown into (connect aborts request streams that way)", async () => {
  const p = new Pipe<number>();
  const it = p[Symbol.asyncIterator]();
  p.push(1);
  assert.deepEqual(await it.next(), { value: 1, done: false });
  await assert.rejects(it.throw!(new Error("abort")), /abort/);
  assert.equal(p.isClosed, true);
});
