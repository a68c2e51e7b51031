// The arithmetic of drawing long series: thinning to pixel columns, the y range. Pure, no DOM.

/**
 * The indices of the points of (x, y) worth drawing on `columns` pixel columns spanning
 * [x0, x1]: in each column the first, lowest, highest and last point (so every peak, dip and
 * step stays on screen and every kept point is an exact value for hover). A series that already
 * has no more than four points per column comes back whole. Non-finite y are kept (they break
 * the line, as they must).
 */
export function decimate(x, y, columns, x0, x1) {
  const n = x.length;
  const all = () => Array.from({ length: n }, (_, i) => i);
  if (n <= 4 * columns || !(x1 > x0) || columns < 1) return all();
  const scale = columns / (x1 - x0);
  const keep = [];
  let col = null;
  let first = 0, lo = -1, hi = -1, last = 0;
  const close = () => {
    const picked = [first, lo, hi, last].filter((i) => i >= 0).sort((a, b) => a - b);
    for (const i of picked) if (keep.at(-1) !== i) keep.push(i);
  };
  for (let i = 0; i < n; i++) {
    const c = Math.floor((x[i] - x0) * scale);
    if (!Number.isFinite(y[i])) {
      if (col !== null) close();
      keep.push(i);
      col = null;
      continue;
    }
    if (c !== col) {
      if (col !== null) close();
      col = c;
      first = lo = hi = last = i;
      continue;
    }
    last = i;
    if (y[i] < y[lo]) lo = i;
    if (y[i] > y[hi]) hi = i;
  }
  if (col !== null) close();
  return keep;
}

/** `values` at `indices`. */
export const pick = (values, indices) => indices.map((i) => values[i]);

// Room left above and below the data, as a share of its span: the tail grows into it for a
// while before a point leaves the axis and forces an early sync.
const HEADROOM = 0.08;

/** The y range of the drawn traces with headroom (log axes in decades), or null with no data. */
export function yRange(traces, log) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of traces) {
    if (t.visible === false || t.mode === "markers") continue;
    for (const v of t.y) {
      if (typeof v !== "number" || !Number.isFinite(v) || (log && v <= 0)) continue;
      const u = log ? Math.log10(v) : v;
      if (u < lo) lo = u;
      if (u > hi) hi = u;
    }
  }
  if (lo > hi) return null;
  const pad = hi > lo ? (hi - lo) * HEADROOM : Math.abs(hi) * 0.1 || (log ? 0.5 : 1);
  return [lo - pad, hi + pad];
}

