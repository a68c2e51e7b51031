// The frame scheduler with a fake clock and a fake frame source: which chart draws in which frame.

import assert from "node:assert/strict";
import { test } from "node:test";

import { FrameScheduler } from "../../frontend/scheduler.js";

/** A scheduler whose frames run only when the test says so, and whose clock the charts advance. */
function harness() {
  const clock = { t: 1000 };
  const frames = [];
  const log = [];
  const observed = new Map();
  const scheduler = new FrameScheduler({
    now: () => clock.t,
    requestFrame: (cb) => frames.push(cb),
    observe: (el, onChange) => observed.set(el, onChange),
  });
  const chart = (name, cost = 0, options = {}) => {
    const c = { el: { dataset: { chart: name }, isConnected: true }, flush: () => { log.push(name); clock.t += cost; } };
    scheduler.register(c, options);
    return c;
  };
  /** Runs the pending frame (there is at most one) and returns the charts it drew. */
  const frame = (gap = 16.7) => {
    clock.t += gap;
    log.length = 0;
    const pending = frames.splice(0);
    assert.ok(pending.length <= 1, "never two frames requested at once");
    for (const cb of pending) cb();
    return [...log];
  };
  return { clock, scheduler, chart, frame, frames, observed };
}

test("many schedules before a frame draw the chart once", () => {
  const { scheduler, chart, frame } = harness();
  const loss = chart("loss", 1, { priority: 0 });
  for (let i = 0; i < 50; i++) scheduler.schedule(loss);
  assert.deepEqual(frame(), ["loss"]);
  assert.deepEqual(frame(), [], "nothing left to draw");
  assert.equal(scheduler.stats.flushMs.loss.length, 1);
});

test("a slow draw leaves the next chart for the next frame; a quick one lets it in", () => {
  const { scheduler, chart, frame } = harness();
  const loss = chart("loss", 25, { priority: 0 });
  const acc = chart("accuracy", 25);
  scheduler.schedule(acc);
  scheduler.schedule(loss);
  assert.deepEqual(frame(), ["loss"], "the loss chart first, and alone after a 25 ms draw");
  assert.deepEqual(frame(), ["accuracy"]);
  const quick = harness();
  const a = quick.chart("loss", 2, { priority: 0 });
  const b = quick.chart("accuracy", 2);
  quick.scheduler.schedule(a);
  quick.scheduler.schedule(b);
  assert.deepEqual(quick.frame(), ["loss", "accuracy"]);
});

test("the loss chart yields one frame to a waiting chart instead of drawing every frame", () => {
  const { scheduler, chart, frame } = harness();
  const loss = chart("loss", 25, { priority: 0 });
  const gap = chart("gap", 25);
  const drawn = [];
  for (let i = 0; i < 6; i++) {
    scheduler.schedule(loss);
    scheduler.schedule(gap);
    drawn.push(...frame());
  }
  assert.deepEqual(drawn, ["loss", "gap", "loss", "gap", "loss", "gap"]);
});

test("a secondary chart draws at most every minInterval ms", () => {
  const { scheduler, chart, frame } = harness();
  const norm = chart("norm", 1, { minInterval: 400 });
  let draws = 0;
  for (let i = 0; i < 60; i++) { // one second of frames, new data in each
    scheduler.schedule(norm);
    draws += frame().length;
  }
  assert.ok(draws >= 2 && draws <= 3, `drew ${draws} times in a second`);
});

test("cheap charts draw every frame without using the heavy budget", () => {
  const { scheduler, chart, frame } = harness();
  const table = chart("table", 0, { cheap: true });
  const loss = chart("loss", 25, { priority: 0 });
  scheduler.schedule(loss);
  scheduler.schedule(table);
  assert.deepEqual(frame().sort(), ["loss", "table"]);
});

test("a cheap chart with a minInterval draws at most that often, and its last change still draws", () => {
  const { scheduler, chart, frame } = harness();
  const table = chart("table", 0, { cheap: true, minInterval: 250 });
  let draws = 0;
  for (let i = 0; i < 60; i++) { // one second of frames, new data in each
    scheduler.schedule(table);
    draws += frame().length;
  }
  assert.ok(draws >= 4 && draws <= 5, `drew ${draws} times in a second`);
  // The last change of a stream (no schedule after it) still draws, within the interval.
  scheduler.schedule(table);
  const after = [];
  for (let i = 0; i < 16; i++) after.push(...frame());
  assert.deepEqual(after, ["table"]);
});

test("a chart off screen keeps its points until it is back in view or the stream goes quiet", () => {
  const { scheduler, chart, frame, observed } = harness();
  const zeros = chart("zeros", 1);
  const loss = chart("loss", 1, { priority: 0 });
  observed.get(zeros.el)(false);
  for (let i = 0; i < 5; i++) {
    scheduler.schedule(zeros);
    scheduler.schedule(loss);
    assert.deepEqual(frame(), ["loss"]);
  }
  observed.get(zeros.el)(true);
  assert.deepEqual(frame(), ["zeros"], "drawn in the first frame back on screen");

  observed.get(zeros.el)(false);
  scheduler.schedule(zeros);
  assert.deepEqual(frame(400), [], "not while data still flows (a slow frame is no pause)");
  assert.deepEqual(frame(700), ["zeros"], "drawn once the stream has been quiet for a second");
});

test("a chart whose element left the page is dropped, not drawn", () => {
  const { scheduler, chart, frame, frames } = harness();
  const gone = chart("gone", 1);
  scheduler.schedule(gone);
  gone.el.isConnected = false;
  assert.deepEqual(frame(), []);
  assert.equal(scheduler.stats.dirty, 0);
  assert.equal(frames.length, 0, "no further frame requested");
});

test("before-frame hooks run first, so what they schedule draws in that same frame", () => {
  const { scheduler, chart, frame } = harness();
  const loss = chart("loss", 1, { priority: 0 });
  let fed = 0;
  const stop = scheduler.beforeFrame(() => {
    fed += 1;
    scheduler.schedule(loss);
  });
  scheduler.request();
  assert.deepEqual(frame(), ["loss"]);
  stop();
  scheduler.request();
  assert.deepEqual(frame(), []);
  assert.equal(fed, 1);
});

test("a chart with a share waits in proportion to its measured draw", () => {
  const { clock, scheduler, chart, frame } = harness();
  const sweep = chart("sweep", 300, { minInterval: 3000, share: 0.05 }); // a slow laptop's redraw
  scheduler.schedule(sweep);
  assert.deepEqual(frame(), ["sweep"]);
  const drawnAt = clock.t - 300; // its last draw began then
  scheduler.schedule(sweep);
  while (clock.t - drawnAt < 5900) assert.deepEqual(frame(100), [], "not before 300 ms / 0.05 = 6 s");
  assert.deepEqual(frame(100), ["sweep"]);
  const quick = harness();
  const fast = quick.chart("sweep", 20, { minInterval: 3000, share: 0.05 });
  quick.scheduler.schedule(fast);
  quick.frame();
  quick.scheduler.schedule(fast);
  while (quick.clock.t < 1000 + 2900) assert.deepEqual(quick.frame(100), []);
  assert.deepEqual(quick.frame(200), ["sweep"], "a 20 ms draw keeps the 3 s minimum");
});
