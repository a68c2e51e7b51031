// Thinning long series to pixel columns: real points only, every extreme kept.

import assert from "node:assert/strict";
import { test } from "node:test";

import { decimate, pick } from "../../frontend/decimate.js";

test("a series with few points per column comes back whole", () => {
  const x = [1, 2, 3, 4, 5];
  assert.deepEqual(decimate(x, [5, 4, 3, 2, 1], 100, 0, 6), [0, 1, 2, 3, 4]);
});

test("a long series keeps at most four real points per column, with every column's extremes", () => {
  const n = 20000;
  const x = Array.from({ length: n }, (_, i) => i + 1);
  // A noisy decaying loss with one spike, as a diverging step would draw.
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.1;
  const y = x.map((e) => Math.exp(-e / 3000) + noise());
  y[12345] = 5;
  const columns = 400;
  const keep = decimate(x, y, columns, 0, n + 1);
  assert.ok(keep.length <= 4 * columns && keep.length >= columns, `kept ${keep.length}`);
  assert.deepEqual([...keep].sort((a, b) => a - b), keep, "in x order");
  assert.equal(new Set(keep).size, keep.length, "no point twice");
  assert.equal(keep[0], 0);
  assert.equal(keep.at(-1), n - 1);
  assert.ok(keep.includes(12345), "the spike stays on screen");
  // In every column, the kept points span the same range as all its points.
  const col = (i) => Math.floor((x[i] * columns) / (n + 1));
  const range = new Map();
  y.forEach((v, i) => {
    const [lo, hi] = range.get(col(i)) || [Infinity, -Infinity];
    range.set(col(i), [Math.min(lo, v), Math.max(hi, v)]);
  });
  const kept = new Map();
  for (const i of keep) {
    const [lo, hi] = kept.get(col(i)) || [Infinity, -Infinity];
    kept.set(col(i), [Math.min(lo, y[i]), Math.max(hi, y[i])]);
  }
  assert.deepEqual(kept, range);
  assert.deepEqual(pick(y, keep).slice(0, 2), [y[keep[0]], y[keep[1]]]);
});

test("a non-finite value is kept, so the drawn line breaks where the run diverged", () => {
  const x = Array.from({ length: 1000 }, (_, i) => i);
  const y = x.map((i) => (i === 500 ? Number.NaN : i));
  const keep = decimate(x, y, 10, 0, 1000);
  assert.ok(keep.includes(500));
  assert.ok(keep.length < 100);
});

test("the y range spans the drawn data with headroom, in decades on a log axis", async () => {
  const { yRange } = await import("../../frontend/decimate.js");
  const traces = [
    { y: [1, 2, 3] },
    { y: [0.5, "NaN", null, 4] },
    { y: [100], visible: false }, // hidden: not in the range
    { y: [-50], mode: "markers" }, // markers are not data
  ];
  const [lo, hi] = yRange(traces, false);
  assert.ok(Math.abs(lo - (0.5 - 0.08 * 3.5)) < 1e-12 && Math.abs(hi - (4 + 0.08 * 3.5)) < 1e-12);
  const [llo, lhi] = yRange([{ y: [0.001, 0, 10] }], true); // 0 has no place on a log axis
  assert.ok(Math.abs(llo - (-3 - 0.08 * 4)) < 1e-12 && Math.abs(lhi - (1 + 0.08 * 4)) < 1e-12);
  assert.deepEqual(yRange([{ y: [0, 0] }], false), [-1, 1], "a flat line at 0 still gets an axis");
  assert.equal(yRange([{ y: ["NaN"] }], false), null);
});
