// The frame scheduler: which chart draws in which animation frame. No Plotly and no DOM of its own.

/*
 * A Plotly redraw costs 15–60 ms on a classroom laptop that also trains, so a frame holds at most
 * one of them (plus cheap DOM updates such as the run table):
 * - the loss chart (priority 0), the one a student watches, goes first, but never two frames
 *   running while another chart waits, so its newest epoch is on screen within about two frames;
 * - the other charts redraw at most `minInterval` ms apart, and only while on screen; one that
 *   is scrolled away keeps its points and draws them when it comes back into view, or once the
 *   stream has been quiet for QUIET_MS (one such chart per frame).
 * - a chart registered with a `share` draws no more than that share of the time, as measured: one
 *   whose last draw took 300 ms with share 0.05 waits 6 s before the next (a whole Plotly redraw
 *   of a small chart costs 25 ms on this box, 270 ms on a laptop four times slower).
 * - a `cheap` chart (DOM text: the run table) skips the budget, but not its `minInterval`: text
 *   changed in every frame makes the browser lay out and paint the page in every frame too.
 * A chart is any object with `flush()`; `el` (optional) names it in the stats and drops it from
 * the queue once it has left the page.
 */

// No new data for this long: the stream paused or ended. Longer than the slowest frame on a
// slow laptop (a 300 ms threshold let one slow frame pass for a pause and start a catch-up draw).
const QUIET_MS = 1000;
const HEAVY_BUDGET_MS = 10; // a second Plotly draw only if the first was this quick
const KEEP = 5000; // flush times kept per chart

/** What the page measured about its own drawing; the browser bench and the e2e tests read it. */
export function newStats() {
  return { newPlots: 0, extends: 0, latencies: [], frames: 0, flushMs: {}, workMs: [], dirty: 0, syncs: {} };
}

export class FrameScheduler {
  /**
   * `now` and `requestFrame` are the clock and the frame source (performance.now and
   * requestAnimationFrame in the page; a test passes its own); `observe(el, onChange)` reports
   * whether `el` is on screen (IntersectionObserver in the page), or is absent: always visible.
   */
  constructor({ now = () => performance.now(), requestFrame = (cb) => requestAnimationFrame(cb), observe = null, stats = newStats() } = {}) {
    this.now = now;
    this.requestFrame = requestFrame;
    this.observe = observe;
    this.stats = stats;
    this.dirty = new Set();
    this.framePending = false;
    this.lastHeavy = null;
    this.lastMark = -Infinity;
    this.hooks = new Set();
    this.frame = () => this.flushAll();
  }

  /** `fn()` runs at the start of every frame, before the charts are picked: what it schedules draws in that frame. */
  beforeFrame(fn) {
    this.hooks.add(fn);
    return () => this.hooks.delete(fn);
  }

  /**
   * Tells the scheduler about a chart: `priority` 0 is the loss chart; `cheap` ones skip the
   * budget; `share` (0-1), when given, spaces its draws by their measured cost.
   */
  register(chart, { priority = 1, minInterval = 0, cheap = false, share = null, watch = chart.el } = {}) {
    Object.assign(chart, { priority, minInterval, cheap, share, wait: minInterval, visible: true, lastDraw: -Infinity });
    if (this.observe && watch) this.observe(watch, (visible) => this.setVisible(chart, visible));
  }

  /** A chart scrolled into or out of view; one with points waiting draws when it comes back. */
  setVisible(chart, visible) {
    chart.visible = visible;
    if (visible && this.dirty.has(chart)) this.request();
  }

  request() {
    if (!this.framePending) {
      this.framePending = true;
      this.requestFrame(this.frame);
    }
  }

  /** Asks for `chart.flush()` in a coming frame; many calls before it still draw once. `fresh`: new data arrived. */
  schedule(chart, fresh = true) {
    this.dirty.add(chart);
    this.stats.dirty = this.dirty.size;
    if (fresh) this.lastMark = this.now();
    this.request();
  }

  run(chart, now) {
    this.dirty.delete(chart);
    chart.lastDraw = now;
    const t0 = this.now();
    chart.flush();
    const cost = this.now() - t0;
    if (chart.share) chart.wait = Math.max(chart.minInterval, cost / chart.share);
    const key = chart.el?.dataset?.chart || chart.constructor.name;
    const times = (this.stats.flushMs[key] ??= []);
    times.push(cost);
    if (times.length > KEEP) times.splice(0, KEEP / 2);
  }

  flushAll() {
    this.framePending = false;
    this.stats.frames += 1;
    const begun = this.now();
    for (const fn of this.hooks) fn();
    const start = this.now();
    const ready = [];
    let waiting = false;
    for (const chart of [...this.dirty]) {
      if (chart.el && chart.el.isConnected === false) this.dirty.delete(chart);
      else if (!chart.cheap && !chart.visible) continue; // drawn when it scrolls back into view
      else if (start - chart.lastDraw < chart.wait) waiting = true;
      else if (chart.cheap) this.run(chart, start); // no budget: drawn now, in any number
      else ready.push(chart);
    }
    // Oldest first within a priority; the loss chart yields once if it drew in the last frame.
    ready.sort((a, b) => a.priority - b.priority || (a.lastDraw === b.lastDraw ? 0 : a.lastDraw - b.lastDraw));
    if (ready.length > 1 && ready[0] === this.lastHeavy) ready.push(ready.shift());
    for (const chart of ready) {
      if (chart !== ready[0] && this.now() - start > HEAVY_BUDGET_MS) {
        waiting = true;
        break;
      }
      this.run(chart, this.now());
      this.lastHeavy = chart;
    }
    if (ready.length === 0) {
      this.lastHeavy = null;
      // The stream paused or ended: catch up one scrolled-away chart per frame.
      const hidden = [...this.dirty].find((c) => !c.visible);
      if (hidden && !waiting && start - this.lastMark > QUIET_MS) this.run(hidden, this.now());
    }
    this.stats.dirty = this.dirty.size;
    // The page's own work in this frame (hooks and draws), apart from the browser's.
    this.stats.workMs.push(this.now() - begun);
    if (this.stats.workMs.length > KEEP) this.stats.workMs.splice(0, KEEP / 2);
    if (this.dirty.size || waiting) this.request();
  }
}

/**
 * The page's IntersectionObserver as `observe(el, onChange)`, or null where there is none (node).
 * Whether `el` is on screen is also said at once: the observer's first word comes after the next
 * frame, and a chart below the fold would be drawn in it as if it were on screen.
 */
export function screenObserver(margin = 200) {
  if (typeof IntersectionObserver !== "function") return null;
  const callbacks = new WeakMap();
  const io = new IntersectionObserver((entries) => {
    for (const entry of entries) callbacks.get(entry.target)?.(entry.isIntersecting);
  }, { rootMargin: `${margin}px` });
  return (el, onChange) => {
    callbacks.set(el, onChange);
    io.observe(el);
    if (!el.isConnected) return;
    const box = el.getBoundingClientRect();
    onChange(box.bottom >= -margin && box.top <= window.innerHeight + margin);
  };
}
