// Small Plotly wrappers: each chart draws once, then extends; all drawing happens in one animation frame.

const Plotly = window.Plotly;

// Okabe–Ito: distinguishable with the common colour-vision deficiencies; yellow last (weak on white).
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"];
export const runColor = (i) => PALETTE[i % PALETTE.length];

/** What the page measured about its own drawing; the browser bench and the e2e tests read it. */
export const drawStats = { newPlots: 0, extends: 0, latencies: [], frames: 0 };

const dirty = new Set();
let framePending = false;
// Drawing beyond this share of a frame is left to the next one, so the page keeps answering
// however many charts are behind; charts wait in the order they were marked, so none starves.
const FRAME_BUDGET_MS = 24;

/** Asks for `chart.flush()` in the next animation frame; many calls before it still draw once. */
export function schedule(chart) {
  dirty.add(chart);
  if (!framePending) {
    framePending = true;
    requestAnimationFrame(flushAll);
  }
}

function flushAll() {
  framePending = false;
  drawStats.frames += 1;
  const start = performance.now();
  for (const chart of [...dirty]) {
    if (performance.now() - start > FRAME_BUDGET_MS) break;
    dirty.delete(chart);
    if (chart.el.isConnected) chart.flush();
  }
  if (dirty.size && !framePending) {
    framePending = true;
    requestAnimationFrame(flushAll);
  }
}

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
    margin: { l: 60, r: 14, t: 40 + size, b: 44 },
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
export class SeriesChart {
  constructor(el, { title, yTitle, runs, series, logY = false, percent = false, markers = false }) {
    this.el = el;
    this.series = series;
    this.percent = percent;
    this.index = new Map();
    this.pending = new Map();
    this.received = [];
    this.markers = markers;
    this.markerState = null;
    const traces = [];
    for (const run of runs) {
      for (const s of series) {
        this.index.set(`${run.id}:${s.key}`, traces.length);
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
    const yaxis = axis(yTitle, { type: logY ? "log" : "linear", ticksuffix: percent ? " %" : "" });
    Plotly.newPlot(el, traces, layout(title, { xaxis: axis("epoch"), yaxis, hovermode: "x unified" }), CONFIG);
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
    }
    if (receivedAt !== undefined) this.received.push(receivedAt);
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

  flush() {
    if (this.pending.size) {
      const indices = [...this.pending.keys()];
      const update = { x: indices.map((i) => this.pending.get(i).x), y: indices.map((i) => this.pending.get(i).y) };
      this.pending.clear();
      Plotly.extendTraces(this.el, update, indices);
      drawStats.extends += 1;
      const now = performance.now();
      for (const t of this.received) drawStats.latencies.push(now - t);
      if (drawStats.latencies.length > 20000) drawStats.latencies.splice(0, 10000);
      this.received = [];
    }
    if (this.markers && this.markerState) {
      const { best, stopped } = this.markerState;
      this.markerState = null;
      const cols = (ms) => ms.map((m) => m.color);
      Plotly.restyle(
        this.el,
        {
          x: [best.map((m) => m.x), stopped.map((m) => m.x)],
          y: [best.map((m) => m.y), stopped.map((m) => m.y)],
          text: [best.map((m) => m.name), stopped.map((m) => m.name)],
          "marker.color": [cols(best), cols(stopped)],
          "marker.line.color": [cols(best), cols(stopped)],
        },
        [this.bestIndex, this.stopIndex],
      );
    }
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
  constructor(el, { title, runs }) {
    this.el = el;
    this.runs = runs;
    this.values = new Map();
    this.lastDraw = 0;
    this.timer = null;
    Plotly.newPlot(el, this.traces(), this.layout(), CONFIG);
    drawStats.newPlots += 1;
    this.title = title;
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
    // Bars are redrawn whole, so at most four times a second: the line charts keep every frame.
    const wait = 250 - (performance.now() - this.lastDraw);
    if (wait > 0) {
      if (!this.timer) this.timer = setTimeout(() => ((this.timer = null), schedule(this)), wait);
      return;
    }
    this.lastDraw = performance.now();
    Plotly.react(this.el, this.traces(), this.layout(), CONFIG);
  }
}

/**
 * One small plot per run (histograms, decision boundaries), redrawn with Plotly.react when the
 * epoch slider moves or a new snapshot arrives; throttled like LayerBars.
 */
export class SmallMultiples {
  constructor(el, { runs, figure }) {
    this.el = el;
    this.runs = runs;
    this.figure = figure;
    this.cells = new Map();
    this.data = new Map();
    this.lastDraw = 0;
    this.timer = null;
    for (const run of runs) {
      const plot = document.createElement("div");
      plot.className = "multiple-plot";
      this.cells.set(run.id, plot);
    }
  }

  cell(runId) {
    return this.cells.get(runId);
  }

  show(runId, snapshot) {
    this.data.set(runId, snapshot);
    schedule(this);
  }

  flush() {
    const wait = 200 - (performance.now() - this.lastDraw);
    if (wait > 0) {
      if (!this.timer) this.timer = setTimeout(() => ((this.timer = null), schedule(this)), wait);
      return;
    }
    this.lastDraw = performance.now();
    for (const run of this.runs) {
      const snap = this.data.get(run.id);
      if (!snap || snap === this.cells.get(run.id).shown) continue;
      const plot = this.cells.get(run.id);
      plot.shown = snap;
      const fig = this.figure(run, snap);
      Plotly.react(plot, fig.data, layout(fig.title, fig.layout), { ...CONFIG, displayModeBar: false });
    }
  }
}

/** One overlay plot for 1-D regression: the data as dots, each run's fitted curve as a line. */
export class CurveOverlay {
  constructor(el, { runs }) {
    this.el = el;
    this.runs = runs;
    this.data = new Map();
    this.lastDraw = 0;
    this.timer = null;
  }

  show(runId, snapshot) {
    this.data.set(runId, snapshot);
    schedule(this);
  }

  flush() {
    const wait = 200 - (performance.now() - this.lastDraw);
    if (wait > 0) {
      if (!this.timer) this.timer = setTimeout(() => ((this.timer = null), schedule(this)), wait);
      return;
    }
    this.lastDraw = performance.now();
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
