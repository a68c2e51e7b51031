// A growing line chart whose cost per frame does not grow with its history.

import { t } from "./i18n.js";
import { CONFIG, axis, chartLayout, drawStats, lineScale, register, rgba, schedule, scheduler } from "./charts.js";
import { decimate, pick, yRange } from "./decimate.js";
import { reportChart } from "./probe.js";

const Plotly = window.Plotly;

/*
 * Plotly draws the axes, hover, markers and every point up to its last *sync*, each series
 * decimated to the pixel columns of the plot (first, lowest, highest and last point of each: exact
 * values, every peak kept). A canvas laid over the plot area draws only the segments that arrived
 * since, a few microseconds each, whatever the history. A sync (one Plotly redraw, 15–60 ms) comes
 * every `syncMs` while data streams, when a new point leaves the axis range (which has headroom),
 * when the pointer is on the chart, and once the stream pauses, so hover and the axes catch up.
 */
const BAND_ALPHA = 0.18;
const HOVER_SYNC_MS = 500; // how often a chart under the pointer syncs while data streams
const OUTSIDE_SYNC_MS = 500; // a point off the axis forces a sync, but not more often than this
// The most of the time syncs may take, as measured (a sync is 15-60 ms here, up to 530 ms with
// the CPU four times slower): timed syncs 5 %, so a 500 ms sync waits 10 s for the next; one
// for a point off the axis 10 % (a point below the axis stays clipped for up to 5 s on a laptop
// four times slower, rather than a 500 ms sync every 2.5 s); under the pointer 25 %.
const SYNC_SHARE = 0.05;
const OUTSIDE_SHARE = 0.1;
const HOVER_SHARE = 0.25;
const QUIET_SYNC_MS = 400; // no new point for this long: the stream paused or ended
const DASH = [7, 4];

/**
 * Series: `{id, name, color, dash, width, opacity, band, group, hidden}`. A band is filled between
 * `lo` and `hi`; series sharing a `group` become one Plotly trace (lines broken by gaps), e.g. the
 * replicates of one variant.
 */
export class LiveChart {
  constructor(el, { title, yTitle, xMax, series, logY = false, percent = false, markers = false, priority = 1, minInterval = 0, syncMs = 1000 }) {
    this.el = el;
    reportChart(el, this);
    register(this, { priority, minInterval });
    this.syncMs = syncMs;
    this.percent = percent;
    this.withMarkers = markers;
    this.series = new Map();
    for (const s of [...series].sort((a, b) => layer(a) - layer(b))) {
      this.series.set(s.id, { width: 2, opacity: 1, dash: "solid", hidden: false, ...s, x: [], y: [], lo: [], hi: [], synced: 0, drawn: 0 });
    }
    this.received = [];
    this.lastSync = -Infinity;
    this.due("first");
    this.timer = null;
    this.markerState = { best: [], stopped: [] };
    // `pull(chart)`, when set, appends what the page holds that the chart has not taken, at each
    // draw: a chart off screen takes nothing until it comes into view. `fed`: what it took.
    this.pull = null;
    this.fed = new Map();
    // The x axis spans the planned epochs from the start: curves grow across a still axis.
    this.xMax = xMax;
    const xaxis = axis(t("chart.epoch"), xMax ? { range: [0, xMax + 1], autorange: false } : {});
    // automargin: long tick labels ("0.005 %") push the axis title aside instead of under it.
    const yaxis = axis(yTitle, { type: logY ? "log" : "linear", ticksuffix: percent ? " %" : "", automargin: true });
    // uirevision: a sync keeps what the user zoomed or panned. Plotly's figure is made at the
    // chart's first draw, with the points it holds by then (`build`): a chart's first Plotly draw
    // costs 50-250 ms, and those below the fold wait until they are scrolled to or the stream
    // pauses, instead of holding up the first screen of an experiment being opened.
    this.initial = chartLayout(title, { xaxis, yaxis, hovermode: "x unified", uirevision: "keep" });
    this.built = false;
    this.syncCost = 0; // ms the last sync took
    drawStats.newPlots += 1;
    // Plotly's figure only needs every point when someone reads it: a pointer on the chart
    // syncs it at once, and then often (hover shows exact values up to the newest epoch).
    el.addEventListener("pointerenter", () => {
      this.hovered = true;
      this.due("pointer");
      schedule(this, false);
    });
    el.addEventListener("pointerleave", () => (this.hovered = false));
    schedule(this, false); // drawn, with or without points, once on screen
  }

  /** Plotly's figure of what the chart holds, once; from then on synced (`sync`) and extended (the canvas). */
  build() {
    const el = this.el;
    this.built = true;
    this.lastSync = performance.now();
    this.syncDue = false;
    this.markersChanged = false;
    for (const s of this.series.values()) s.synced = s.x.length;
    const traces = this.traces();
    const layout = this.initial;
    const range = yRange(traces, layout.yaxis.type === "log");
    if (range) Object.assign(layout.yaxis, { range, autorange: false });
    const t0 = performance.now();
    Plotly.newPlot(el, traces, layout, CONFIG);
    this.syncCost = performance.now() - t0;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "live-layer";
    this.canvas.setAttribute("aria-hidden", "true");
    el.appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    el.on("plotly_afterplot", () => this.measure());
    // A zoom or pan by the user: the y range is theirs until they double-click back.
    el.on("plotly_relayout", (ev) => {
      if (this.ownRelayout) return;
      if ("yaxis.range[0]" in ev || "yaxis.range" in ev) this.userRange = true;
      if (ev["yaxis.autorange"]) this.userRange = false;
    });
    this.measure();
  }

  /**
   * Makes the figure now, before the chart holds points (a comparison still training, on screen):
   * that first Plotly draw then comes before the stream opens, not in its first frames while
   * epochs pour in, and the first points are synced into it (a Plotly.react, cheaper).
   */
  prepare() {
    if (this.built) return;
    this.build();
    this.due("prepared");
  }

  /** Adds points to a line series (x and y arrays of equal length). */
  append(id, x, y) {
    const s = this.series.get(id);
    if (!s || !x.length) return;
    for (let i = 0; i < x.length; i++) {
      s.x.push(x[i]);
      s.y.push(y[i]);
    }
    if (!this.pulling) schedule(this);
  }

  /** Adds points to a band series. */
  appendBand(id, x, lo, hi) {
    const s = this.series.get(id);
    if (!s || !x.length) return;
    for (let i = 0; i < x.length; i++) {
      s.x.push(x[i]);
      s.lo.push(lo[i]);
      s.hi.push(hi[i]);
    }
    if (!this.pulling) schedule(this);
  }

  /** Times the page received the epochs just appended (the bench's event → drawn). */
  noteReceived(times) {
    for (const t of times) this.received.push(t);
  }

  /** Shows or hides series (`test(series)` true: hidden); drawn at once. */
  hide(test) {
    for (const s of this.series.values()) s.hidden = test(s);
    this.due("hidden");
    schedule(this, false);
  }

  /** best/stopped: [{x, y, color, name}]; drawn with the next sync. */
  setMarkers(best, stopped) {
    this.markerState = { best, stopped };
    this.markersChanged = true;
    schedule(this, false);
  }

  setLog(on) {
    if (this.built) this.relayout({ "yaxis.type": on ? "log" : "linear", "yaxis.autorange": true });
    else Object.assign(this.initial.yaxis, { type: on ? "log" : "linear", autorange: true });
    this.due("axis"); // the next sync sets a range in the new axis's units
    schedule(this, false);
  }

  /** Once nothing more will come, the x axis fits the epochs actually run (early stops, cancels). */
  fitX() {
    if (!this.built) {
      Object.assign(this.initial.xaxis, { autorange: true, range: undefined });
      this.xMax = null;
    } else if (!this.el.layout.xaxis.autorange) {
      this.relayout({ "xaxis.autorange": true });
    }
  }

  relayout(update) {
    this.ownRelayout = true;
    try {
      Plotly.relayout(this.el, update);
    } finally {
      this.ownRelayout = false;
    }
  }

  /** Nothing waits to be drawn: every point appended is on screen (canvas or Plotly). */
  idle() {
    return !scheduler.dirty.has(this) && [...this.series.values()].every((s) => s.drawn === s.x.length);
  }

  /** Idle, and every point and marker is in Plotly's figure too (hover sees it all). */
  settled() {
    return this.idle() && !this.unsynced();
  }

  /** {name: points on screen} of each visible line series (tests compare it with the epochs received). */
  drawnCounts() {
    const out = {};
    for (const s of this.series.values()) if (!s.band && !s.hidden) out[s.name] = s.drawn;
    return out;
  }

  flush() {
    if (this.pull) {
      this.pulling = true;
      try {
        this.pull(this);
      } finally {
        this.pulling = false;
      }
    }
    const now = performance.now();
    const due = now - this.lastSync >= (this.hovered ? this.spaced(HOVER_SYNC_MS, HOVER_SHARE) : this.spaced(this.syncMs, SYNC_SHARE));
    if (!this.built) this.build();
    else if (!this.syncDue && !this.unsynced() && this.idle()) return; // asked to draw, nothing new
    else if (this.syncDue || due) this.sync(now, this.syncDue ? this.syncWhy : "timed");
    else this.drawTail();
    if (!this.syncDue && this.unsynced()) this.syncWhenQuiet();
    drawStats.extends += 1;
    if (this.received.length) {
      const done = performance.now();
      for (const t of this.received) drawStats.latencies.push(done - t);
      if (drawStats.latencies.length > 20000) drawStats.latencies.splice(0, 10000);
      this.received = [];
    }
  }

  /** `ms`, or longer when the last sync took more than `share` of it. */
  spaced(ms, share) {
    return Math.max(ms, this.syncCost / share);
  }

  unsynced() {
    return this.markersChanged || [...this.series.values()].some((s) => s.synced !== s.x.length);
  }

  /** A sync once no new point has come for QUIET_SYNC_MS: the end of a stream reaches Plotly at once. */
  syncWhenQuiet() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.due("quiet");
      schedule(this, false);
    }, QUIET_SYNC_MS);
  }

  /** A sync is due at the next draw, and why (counted in drawStats.syncs: the bench prints it). */
  due(why) {
    this.syncDue = true;
    this.syncWhy = why;
  }

  sync(now, why) {
    const key = `${this.el.dataset.chart || "chart"}: ${why}`;
    drawStats.syncs[key] = (drawStats.syncs[key] || 0) + 1;
    this.lastSync = now;
    this.syncDue = false;
    clearTimeout(this.timer);
    this.markersChanged = false;
    for (const s of this.series.values()) s.synced = s.x.length;
    const traces = this.traces();
    let layout = this.el.layout;
    const range = this.userRange ? null : yRange(traces, layout.yaxis.type === "log");
    if (range) layout = { ...layout, yaxis: { ...layout.yaxis, range, autorange: false } };
    const t0 = performance.now();
    Plotly.react(this.el, traces, layout, CONFIG);
    this.syncCost = performance.now() - t0;
    this.measure();
  }

  /** The figure's traces: bands, replicate groups, lines, then the markers, each decimated. */
  traces() {
    const g = this.geometry;
    const columns = Math.max(50, Math.round(g?.w || this.el.clientWidth || 800));
    const [x0, x1] = g ? [g.x0, g.x1] : this.xSpan();
    const keep = (x, y) => decimate(x, y, columns, x0, x1);
    const traces = [];
    const groups = new Map();
    for (const s of this.series.values()) {
      if (s.band) {
        const lo = keep(s.x, s.lo);
        const hi = keep(s.x, s.hi).reverse();
        traces.push({ type: "scatter", mode: "lines", name: s.name, x: [...pick(s.x, lo), ...pick(s.x, hi)], y: [...pick(s.lo, lo), ...pick(s.hi, hi)],
          fill: "toself", fillcolor: rgba(s.color, BAND_ALPHA), line: { width: 0, color: s.color }, hoverinfo: "skip", visible: !s.hidden });
        continue;
      }
      // A hidden series (the seeds, until asked for) goes to Plotly empty: `hide` syncs it in.
      const idx = s.hidden ? [] : keep(s.x, s.y);
      let x = pick(s.x, idx);
      let y = pick(s.y, idx);
      if (s.group) {
        const t = groups.get(s.group);
        if (t) {
          t.x.push(null, ...x);
          t.y.push(null, ...y);
          continue;
        }
        x = [...x];
        y = [...y];
      }
      const trace = { type: "scatter", mode: "lines", name: s.group ? s.groupName : s.name, x, y, opacity: s.opacity, visible: !s.hidden,
        line: { color: s.color, dash: s.dash, width: s.width * lineScale() }, hovertemplate: this.percent ? "%{y:.1f} %" : "%{y:.4g}" };
      if (s.group) {
        groups.set(s.group, trace);
        trace.hoverinfo = "skip";
        delete trace.hovertemplate;
      }
      traces.push(trace);
    }
    if (this.withMarkers) {
      const { best, stopped } = this.markerState;
      traces.push(markerTrace(t("chart.marker.best"), "star", 15, best), markerTrace(t("chart.marker.stop"), "x-thin-open", 16, stopped));
    }
    return traces;
  }

  /** The x axis's span before Plotly has drawn it: the planned epochs, or those held. */
  xSpan() {
    if (this.xMax) return [0, this.xMax + 1];
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of this.series.values()) if (s.x.length) (lo = Math.min(lo, s.x[0])), (hi = Math.max(hi, s.x.at(-1)));
    return lo < hi ? [lo, hi] : [0, 1];
  }

  /** Lays the canvas over Plotly's plot area and maps data to its pixels; redraws the unsynced tail. */
  measure() {
    const fl = this.el._fullLayout;
    if (!fl || !fl._size) return;
    const { l, t, w, h } = fl._size;
    const ya = fl.yaxis;
    const dpr = window.devicePixelRatio || 1;
    this.geometry = { w, h, x0: fl.xaxis.range[0], x1: fl.xaxis.range[1], y0: ya.range[0], y1: ya.range[1], log: ya.type === "log" };
    Object.assign(this.canvas.style, { left: `${l}px`, top: `${t}px`, width: `${w}px`, height: `${h}px` });
    this.canvas.width = Math.round(w * dpr); // also clears it
    this.canvas.height = Math.round(h * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (const s of this.series.values()) s.drawn = Math.min(s.drawn, s.synced);
    this.drawTail();
  }

  /** Draws on the canvas each series' points after its last drawn one; cost ∝ new points only. */
  drawTail() {
    const g = this.geometry;
    if (!g) return;
    const ctx = this.ctx;
    const px = (x) => ((x - g.x0) / (g.x1 - g.x0)) * g.w;
    const py = (y) => g.h - (((g.log ? Math.log10(y) : y) - g.y0) / (g.y1 - g.y0)) * g.h;
    let outside = false;
    for (const s of this.series.values()) {
      const from = Math.max(0, s.drawn - 1, s.synced - 1);
      const n = s.x.length;
      if (s.hidden || n - from < 2) {
        s.drawn = n; // nothing unsynced to draw: every point is in Plotly's figure (or hidden)
        continue;
      }
      ctx.globalAlpha = s.band ? BAND_ALPHA : s.opacity;
      ctx.beginPath();
      if (s.band) {
        for (let i = from + 1; i < n; i++) {
          const a = [px(s.x[i - 1]), py(s.lo[i - 1]), py(s.hi[i - 1])];
          const b = [px(s.x[i]), py(s.lo[i]), py(s.hi[i])];
          if (![...a, ...b].every(Number.isFinite)) continue;
          ctx.moveTo(a[0], a[1]);
          ctx.lineTo(b[0], b[1]);
          ctx.lineTo(b[0], b[2]);
          ctx.lineTo(a[0], a[2]);
          ctx.closePath();
        }
        ctx.fillStyle = s.color;
        ctx.fill();
      } else {
        let pen = false;
        for (let i = from; i < n; i++) {
          const X = px(s.x[i]);
          const Y = py(s.y[i]);
          if (!Number.isFinite(Y)) {
            pen = false;
            continue;
          }
          if (Y < 0 || Y > g.h) outside = true;
          if (pen) ctx.lineTo(X, Y);
          else ctx.moveTo(X, Y);
          pen = true;
        }
        ctx.strokeStyle = s.color;
        ctx.lineWidth = s.width * lineScale();
        ctx.lineJoin = "round";
        ctx.setLineDash(s.dash === "dash" ? DASH : []);
        ctx.stroke();
      }
      s.drawn = n;
    }
    // A point off the axis is clipped until Plotly re-ranges it: ask for that sync soon.
    if (outside && performance.now() - this.lastSync > this.spaced(OUTSIDE_SYNC_MS, OUTSIDE_SHARE)) this.due("off-axis");
    if (this.syncDue) schedule(this, false);
  }
}

const layer = (s) => (s.band ? 0 : s.group ? 1 : 2);

function markerTrace(name, symbol, size, ms) {
  const color = ms.map((m) => m.color);
  return {
    type: "scatter",
    mode: "markers",
    name,
    x: ms.map((m) => m.x),
    y: ms.map((m) => m.y),
    text: ms.map((m) => m.name),
    marker: { symbol, size, color, line: { width: 2, color } },
    hovertemplate: `%{text}: ${t("chart.marker.hover", { name })}<extra></extra>`,
  };
}
