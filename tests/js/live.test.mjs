// LiveStream with a fake WebSocket: batched messages, the cursor, resuming after a drop.

import assert from "node:assert/strict";
import { test } from "node:test";

import { LiveStream } from "../../frontend/live.js";

class FakeSocket {
  static opened = [];
  constructor(url) {
    this.url = url;
    FakeSocket.opened.push(this);
  }
  receive(data) {
    this.onmessage({ data: JSON.stringify(data) });
  }
  close(code = 1000) {
    this.onclose({ code });
  }
}

globalThis.WebSocket = FakeSocket;
globalThis.location = { protocol: "http:", host: "lab:8000" };

function follow(since = 0) {
  FakeSocket.opened = [];
  const got = [];
  const states = [];
  const stream = new LiveStream(7, { since, onEvent: (m) => got.push(m), onState: (s) => states.push(s) });
  stream.start();
  return { stream, got, states, socket: () => FakeSocket.opened.at(-1) };
}

const epoch = (cursor, epoch = cursor) => ({ type: "epoch", run_id: 1, epoch, cursor });

test("the socket asks for batches after the cursor it holds", () => {
  const { stream, socket } = follow(42);
  assert.equal(socket().url, "ws://lab:8000/ws/experiments/7?since=42&batch=1&every=50");
  stream.stop();
});

test("a stream asked for some runs' pictures names them, and asks again for them when it resumes", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  FakeSocket.opened = [];
  const stream = new LiveStream(7, { since: 3, snapshots: [11, 16], onEvent: () => {} }).start();
  const first = FakeSocket.opened.at(-1);
  assert.equal(first.url, "ws://lab:8000/ws/experiments/7?since=3&batch=1&every=50&snapshots=11%2C16");
  first.receive([epoch(4)]);
  first.close(4001);
  t.mock.timers.tick(1000);
  assert.equal(FakeSocket.opened.at(-1).url, "ws://lab:8000/ws/experiments/7?since=4&batch=1&every=50&snapshots=11%2C16");
  stream.stop();
});

test("every event of a batch is delivered once, in order, and the cursor is the last one's", () => {
  const { stream, got, socket } = follow(0);
  socket().receive([epoch(1), epoch(2), epoch(3)]);
  socket().receive([epoch(4)]);
  assert.deepEqual(got.map((m) => m.cursor), [1, 2, 3, 4]);
  assert.equal(stream.cursor, 4);
  stream.stop();
});

test("events at or below the cursor are dropped, inside a batch too; a lone event still counts", () => {
  const { stream, got, socket } = follow(5);
  socket().receive([epoch(4), epoch(5), epoch(6), epoch(7)]);
  socket().receive([epoch(7), epoch(8)]);
  socket().receive(epoch(9)); // an unbatched server's message
  assert.deepEqual(got.map((m) => m.cursor), [6, 7, 8, 9]);
  stream.stop();
});

test("after a drop the stream reopens with the last delivered cursor and goes on without a repeat", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { stream, got, socket } = follow(0);
  const first = socket();
  first.receive([epoch(1), epoch(2)]);
  first.close(4001); // the server's "too slow, resume" code
  t.mock.timers.tick(1000);
  const second = socket();
  assert.notEqual(second, first);
  assert.equal(second.url, "ws://lab:8000/ws/experiments/7?since=2&batch=1&every=50");
  second.receive([epoch(2), epoch(3)]);
  assert.deepEqual(got.map((m) => m.cursor), [1, 2, 3]);
  stream.stop();
});

test("a missing experiment (4404) is not retried", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { states, socket } = follow(0);
  socket().close(4404);
  t.mock.timers.tick(10_000);
  assert.equal(FakeSocket.opened.length, 1);
  assert.equal(states.at(-1), "missing");
});
