// Small Plotly wrappers: each chart draws once, then extends, in the frame the scheduler gives it.

import { FrameScheduler, screenObserver } from "./scheduler.js";

const Plotly = window.Plotly;

// Okabe–Ito: distinguishable with the common colour-vision deficiencies; yellow last (weak on white).
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"];
export const runColor = (i) => PALETTE[i % PALETTE.length];

/** The page's one scheduler; its stats are what the browser bench and the e2e tests read. */
export const scheduler = new FrameScheduler({ observe: screenObserver() });
export const drawStats = scheduler.stats;
export const register = (chart, options) => scheduler.register(chart, options);
export const schedule = (chart, fresh) => scheduler.schedule(chart, fresh);

export function fontSize() {
  return document.documentElement.classList.contains("large-type") ? 17 : 12;
}

const CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
};

function layout(title, extra = {}) {
  const size = fontSize();
  return {
    title: { text: title, x: 0.01, xanchor: "left", font: { size: size + 3 } },
    font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size, color: "#1f2933" },
    margin: { l: Math.round(5 * size), r: 14, t: 40 + size, b: Math.round(3.6 * size) },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    showlegend: false,
    hoverlabel: { font: { size } },
    ...extra,
  };
}

const axis = (title, extra = {}) => ({
  title: { text: title, standoff: 6 },
  gridcolor: "#e6e9ee",
  zeroline: false,
  linecolor: "#9aa5b1",
  ...extra,
});

/**
 * Metrics over epochs, one colour per run; each run can have several series (train solid,
 * validation dashed). `push` buffers points; the next frame appends them with one extendTraces.
 */
// A trace keeps at most this many points on screen: older epochs are thinned (every k-th kept)
// when it overflows, recent ones stay whole. A redraw's cost grows with points; the eye's does not.
const MAX_DRAWN = 500;

export class SeriesChart {
  constructor(el, { title, yTitle, runs, series, xMax, logY = false, percent = false, markers = false, priority = 1, minInterval = 400 }) {
    this.el = el;
    register(this, { priority, minInterval });
    this.series = series;
    this.percent = percent;
    this.index = new Map();
    this.pending = new Map();
    this.full = []; // every point of every trace, for thinning
    this.received = [];
    this.markers = markers;
    this.markerState = null;
    const traces = [];
    for (const run of runs) {
      for (const s of series) {
        this.index.set(`${run.id}:${s.key}`, traces.length);
        this.full.push({ x: [], y: [] });
        traces.push({
          type: "scatter",
          mode: "lines",
          name: series.length > 1 ? `${run.name} · ${s.label}` : run.name,
          x: [],
          y: [],
          line: { color: run.color, dash: s.dash || "solid", width: s.dash === "dash" ? 2 : 2.2 },
          hovertemplate: percent ? "%{y:.1f} %" : "%{y:.4g}",
        });
      }
    }
    if (markers) {
      this.bestIndex = traces.length;
      traces.push(markerTrace("best validation", "star", 15));
      this.stopIndex = traces.length;
      traces.push(markerTrace("early stop", "x-thin-open", 16));
    }
    // The x axis spans the planned epochs from the start: curves grow across a still axis, and
    // no redraw has to re-tick it.
    const xaxis = axis("epoch", xMax ? { range: [0, xMax + 1], autorange: false } : {});
    // automargin: long tick labels ("0.005 %") push the axis title aside instead of under it.
    const yaxis = axis(yTitle, { type: logY ? "log" : "linear", ticksuffix: percent ? " %" : "", automargin: true });
    Plotly.newPlot(el, traces, layout(title, { xaxis, yaxis, hovermode: "x unified" }), CONFIG);
    drawStats.newPlots += 1;
  }

  /** Buffers one epoch of one run; `receivedAt` (performance.now()) lets the page time its own lag. */
  push(runId, epoch, row, receivedAt) {
    for (const s of this.series) {
      let value = s.value ? s.value(row) : row[s.key];
      if (value === null || value === undefined) continue;
      if (this.percent) value *= 100;
      const idx = this.index.get(`${runId}:${s.key}`);
      if (idx === undefined) continue;
      if (!this.pending.has(idx)) this.pending.set(idx, { x: [], y: [] });
      const p = this.pending.get(idx);
      p.x.push(epoch);
      p.y.push(value);
      this.full[idx].x.push(epoch);
      this.full[idx].y.push(value);
    }
    // The page times its own lag on the chart students watch (the loss), as the bench reads it.
    if (receivedAt !== undefined && this.priority === 0) this.received.push(receivedAt);
    schedule(this);
  }

  /** best/stopped: [{x, y, color, name}]; drawn in the next frame with the points. */
  setMarkers(best, stopped) {
    const key = JSON.stringify([best, stopped]);
    if (key === this.markerKey) return;
    this.markerKey = key;
    this.markerState = { best, stopped };
    schedule(this);
  }

  setLog(on) {
    Plotly.relayout(this.el, { "yaxis.type": on ? "log" : "linear" });
  }

  /** Once nothing more will come, the x axis fits the epochs actually run (early stops, cancels). */
  fitX() {
    if (this.el.layout.xaxis.autorange) return;
    Plotly.relayout(this.el, { "xaxis.autorange": true });
  }

  /** Nothing waits to be drawn: every point pushed is on screen. */
  idle() {
    return this.pending.size === 0 && !scheduler.dirty.has(this);
  }

  /** Number of points of each trace on screen (tests compare it with the epochs received). */
  drawnPoints() {
    return this.el.data.map((t) => t.x.length);
  }

  flush() {
    const data = this.el.data;
    // Markers are written into the figure's data in place, so the one redraw below shows them too.
    if (this.markers && this.markerState) {
      const { best, stopped } = this.markerState;
      this.markerState = null;
      for (const [idx, ms] of [[this.bestIndex, best], [this.stopIndex, stopped]]) {
        Object.assign(data[idx], { x: ms.map((m) => m.x), y: ms.map((m) => m.y), text: ms.map((m) => m.name) });
        data[idx].marker = { ...data[idx].marker, color: ms.map((m) => m.color), line: { width: 2, color: ms.map((m) => m.color) } };
      }
      if (!this.pending.size) Plotly.redraw(this.el);
    }
    if (!this.pending.size) return;
    const indices = [...this.pending.keys()];
    const overflow = indices.filter((i) => data[i].x.length + this.pending.get(i).x.length > MAX_DRAWN);
    for (const i of overflow) {
      const { x, y } = this.full[i];
      const keep = Math.ceil(x.length / (MAX_DRAWN / 2)); // thin to half the cap, then grow again
      const recent = Math.max(0, x.length - this.pending.get(i).x.length);
      const idx = [...Array(recent).keys()].filter((k) => k % keep === 0);
      for (let k = recent; k < x.length; k++) idx.push(k);
      data[i].x = idx.map((k) => x[k]);
      data[i].y = idx.map((k) => y[k]);
      this.pending.delete(i);
    }
    const rest = [...this.pending.keys()];
    const update = { x: rest.map((i) => this.pending.get(i).x), y: rest.map((i) => this.pending.get(i).y) };
    this.pending.clear();
    if (rest.length) Plotly.extendTraces(this.el, update, rest);
    else Plotly.redraw(this.el);
    drawStats.extends += 1;
    const now = performance.now();
    for (const t of this.received) drawStats.latencies.push(now - t);
    if (drawStats.latencies.length > 20000) drawStats.latencies.splice(0, 10000);
    this.received = [];
  }
}

function markerTrace(name, symbol, size) {
  return {
    type: "scatter",
    mode: "markers",
    name,
    x: [],
    y: [],
    text: [],
    marker: { symbol, size, color: [], line: { width: 2, color: [] } },
    hovertemplate: `%{text}: ${name} at epoch %{x}<extra></extra>`,
  };
}

/** Gradient norm of each layer at the latest epoch, one bar per run: vanishing gradients show as steps. */
export class LayerBars {
  constructor(el, { runs }) {
    this.el = el;
    this.runs = runs;
    this.values = new Map();
    register(this, { minInterval: 500 });
    Plotly.newPlot(el, this.traces(), this.layout(), CONFIG);
    drawStats.newPlots += 1;
  }

  layout() {
    return layout("Gradient norm per layer (latest epoch)", {
      barmode: "group",
      xaxis: axis("layer (input → output)"),
      yaxis: axis("‖∂L/∂W‖", { type: "log", dtick: 1, exponentformat: "power" }),
      hovermode: "closest",
    });
  }

  traces() {
    return this.runs.map((run) => {
      const g = this.values.get(run.id) || [];
      return {
        type: "bar",
        name: run.name,
        x: g.map((_, i) => `layer ${i + 1}`),
        y: g,
        marker: { color: run.color },
        hovertemplate: `${run.name}<br>%{x}: %{y:.3g}<extra></extra>`,
      };
    });
  }

  set(runId, norms) {
    this.values.set(runId, norms);
    schedule(this);
  }

  flush() {
    Plotly.react(this.el, this.traces(), this.layout(), CONFIG);
  }
}

/**
 * One small plot per run (histograms, decision boundaries), redrawn with Plotly.react when the
 * epoch slider moves or a new snapshot arrives: one cell per frame, so a row of heatmaps never
 * freezes the page.
 */
export class SmallMultiples {
  constructor(el, { runs, figure }) {
    this.el = el;
    this.runs = runs;
    this.figure = figure;
    this.cells = new Map();
    this.data = new Map();
    for (const run of runs) {
      const plot = document.createElement("div");
      plot.className = "multiple-plot";
      this.cells.set(run.id, plot);
    }
    register(this, { minInterval: 120 });
  }

  cell(runId) {
    return this.cells.get(runId);
  }

  show(runId, snapshot) {
    if (this.data.get(runId)?.data === snapshot.data) return;
    this.data.set(runId, snapshot);
    schedule(this);
  }

  flush() {
    const stale = this.runs.filter((run) => this.data.has(run.id) && this.cells.get(run.id).shown !== this.data.get(run.id));
    if (!stale.length) return;
    const run = stale[0];
    const plot = this.cells.get(run.id);
    const snap = this.data.get(run.id);
    plot.shown = snap;
    const fig = this.figure(run, snap);
    const figLayout = layout(fig.title, fig.layout);
    figLayout.title.font.size = fontSize(); // a small plot's title must fit its width
    Plotly.react(plot, fig.data, figLayout, { ...CONFIG, displayModeBar: false });
    if (stale.length > 1) schedule(this, false);
  }
}

/** One overlay plot for 1-D regression: the data as dots, each run's fitted curve as a line. */
export class CurveOverlay {
  constructor(el, { runs }) {
    this.el = el;
    this.runs = runs;
    this.data = new Map();
    register(this, { minInterval: 300 });
  }

  show(runId, snapshot) {
    if (this.data.get(runId)?.data === snapshot.data) return;
    this.data.set(runId, snapshot);
    schedule(this);
  }

  flush() {
    const traces = [];
    const points = [...this.data.values()].find((s) => s.points)?.points;
    const dots = (pts, name, marker) => pts && traces.push({ type: "scatter", mode: "markers", name, x: pts.x1, y: pts.y, marker,
      hovertemplate: `x %{x:.3g}, y %{y:.3g}<extra>${name}</extra>` });
    if (points) {
      dots(points.train, "training data", { color: "#7b8794", size: 6 });
      dots(points.val, "validation data", { color: "#ffffff", size: 6, line: { color: "#52606d", width: 1.5 } });
    }
    for (const run of this.runs) {
      const snap = this.data.get(run.id);
      if (!snap) continue;
      traces.push({ type: "scatter", mode: "lines", name: `${run.name} (epoch ${snap.epoch})`, x: snap.data.x, y: snap.data.y,
        line: { color: run.color, width: 2.5 }, hovertemplate: "%{y:.3g}" });
    }
    Plotly.react(this.el, traces, layout("Fitted curve", { xaxis: axis("x"), yaxis: axis("y"), showlegend: true,
      legend: { orientation: "h", y: -0.2 }, hovermode: "closest" }), CONFIG);
  }
}
