// Small Plotly wrappers drawn in the frames the scheduler gives them; growing lines are in livechart.js.

import { msg, t } from "./i18n.js";
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
  const classes = document.documentElement.classList;
  if (classes.contains("projector")) return 24; // read from the back of a room
  return classes.contains("large-type") ? 17 : 12;
}

/** How much thicker lines are drawn: twice as thick on a projector. */
export function lineScale() {
  return document.documentElement.classList.contains("projector") ? 2 : 1;
}

export const CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
};

// Plotly's own words (modebar titles, its double-click hint), as it writes them → the catalog's
// key: the committed bundle holds no Chinese locale, so each language registers its own.
const PLOTLY_WORDS = {
  Zoom: msg("plotly.zoom"),
  Pan: msg("plotly.pan"),
  "Zoom in": msg("plotly.zoomIn"),
  "Zoom out": msg("plotly.zoomOut"),
  Autoscale: msg("plotly.autoscale"),
  "Reset axes": msg("plotly.resetAxes"),
  "Download plot as a PNG": msg("plotly.download"),
  "Download plot": msg("plotly.download"),
  "Box Select": msg("plotly.boxSelect"),
  "Lasso Select": msg("plotly.lassoSelect"),
  "Show closest data on hover": msg("plotly.hoverClosest"),
  "Compare data on hover": msg("plotly.hoverCompare"),
  "Toggle show closest data on hover": msg("plotly.hoverClosest"),
  "Toggle Spike Lines": msg("plotly.spikeLines"),
  "Double-click to zoom back out": msg("plotly.zoomBack"),
  "Double-click on legend to isolate one trace": msg("plotly.isolate"),
  "Taking snapshot - this may take a few seconds": msg("plotly.snapshot"),
  "Snapshot succeeded": msg("plotly.snapshotDone"),
  "Sorry, there was a problem downloading your image!": msg("plotly.snapshotFailed"),
};

/** Plotly speaks `lang` in the charts drawn from now on (its modebar, its hints). */
export function setChartLanguage(lang) {
  if (lang !== "en" && Plotly) {
    const dictionary = Object.fromEntries(Object.entries(PLOTLY_WORDS).map(([english, key]) => [english, t(key)]));
    Plotly.register({ moduleType: "locale", name: lang, dictionary });
  }
  CONFIG.locale = lang;
  fontFamily = FONTS[lang] || FONTS.en;
}

// The charts' SVG text takes no CSS: each script's system fonts named here (style.css's stacks).
const LATIN = "system-ui, -apple-system, Segoe UI, Roboto";
const FONTS = {
  en: `${LATIN}, sans-serif`,
  "zh-TW": `${LATIN}, PingFang TC, Microsoft JhengHei, Noto Sans CJK TC, Noto Sans TC, sans-serif`,
  "zh-CN": `${LATIN}, PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Noto Sans SC, sans-serif`,
};
let fontFamily = FONTS.en;

export function chartLayout(title, extra = {}) {
  const size = fontSize();
  return {
    title: { text: title, x: 0.01, xanchor: "left", font: { size: size + 3 } },
    font: { family: fontFamily, size, color: "#1f2933" },
    margin: { l: Math.round(5 * size), r: 14, t: 40 + size, b: Math.round(3.6 * size) },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    showlegend: false,
    hoverlabel: { font: { size } },
    ...extra,
  };
}

export const axis = (title, extra = {}) => ({
  title: { text: title, standoff: 6 },
  gridcolor: "#e6e9ee",
  zeroline: false,
  linecolor: "#9aa5b1",
  ...extra,
});

/** Gradient norm of each layer at the latest epoch, one bar per run: vanishing gradients show as steps. */
export class LayerBars {
  /** `runs`: [{id, name, color}], one bar series each (runs, or variants with their replicates' mean). */
  constructor(el, { runs, minInterval = 1000 }) {
    this.el = el;
    this.runs = runs;
    this.values = new Map();
    register(this, { minInterval });
    // Plotly's figure is made at the first draw (Plotly.react on an empty element), once on screen.
    drawStats.newPlots += 1;
    schedule(this, false);
  }

  layout() {
    return chartLayout(t("chart.grads.title"), {
      barmode: "group",
      xaxis: axis(t("chart.grads.x")),
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
        x: g.map((_, i) => t("chart.layer", { n: i + 1 })),
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
    const figLayout = chartLayout(fig.title, fig.layout);
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
      dots(points.train, t("chart.curve.train"), { color: "#7b8794", size: 6 });
      dots(points.val, t("chart.curve.val"), { color: "#ffffff", size: 6, line: { color: "#52606d", width: 1.5 } });
    }
    for (const run of this.runs) {
      const snap = this.data.get(run.id);
      if (!snap) continue;
      traces.push({ type: "scatter", mode: "lines", name: t("chart.curve.run", { run: run.name, epoch: snap.epoch }), x: snap.data.x, y: snap.data.y,
        line: { color: run.color, width: 2.5 }, hovertemplate: "%{y:.3g}" });
    }
    Plotly.react(this.el, traces, chartLayout(t("chart.curve.title"), { xaxis: axis("x"), yaxis: axis("y"), showlegend: true,
      legend: { orientation: "h", y: -0.2 }, hovermode: "closest" }), CONFIG);
  }
}

// The sweep chart's redraws take at most this share of the time: every 3 s when one costs up to
// 60 ms, every 13.5 s on a slow laptop where it costs 270 ms (once or twice a stream at CPU ×4,
// where each redraw is one frame of 0.3-0.8 s).
const SWEEP_SHARE = 0.02;

/**
 * A sweep's response curve: best and final validation loss and final training loss against the
 * swept value, each a mean line over seeds with its lowest-to-highest band; redrawn whole (a few
 * dozen points, but a full Plotly draw with a legend: 25–90 ms, 270 ms with the CPU ×4 slower) at
 * most every 3 s while on screen, less often when a redraw is measured slow.
 */
export class SweepChart {
  constructor(el, { field, log, repeats, logY = false }) {
    this.el = el;
    this.field = field;
    this.log = log;
    this.repeats = repeats;
    this.logY = logY;
    this.points = [];
    register(this, { minInterval: 3000, share: SWEEP_SHARE });
    drawStats.newPlots += 1; // its figure made at its first draw, once on screen
    schedule(this, false);
  }

  layout() {
    const name = this.field.split(".").pop();
    return chartLayout(t("chart.sweep.title", { field: name }), {
      xaxis: axis(this.log ? t("chart.sweep.xLog", { field: name }) : name, { type: this.log ? "log" : "linear" }),
      yaxis: axis(t("chart.loss.y"), { type: this.logY ? "log" : "linear", automargin: true }),
      hovermode: "closest",
      showlegend: true,
      legend: { orientation: "h", y: -0.25 },
      uirevision: "keep",
    });
  }

  set(points) {
    this.points = points;
    schedule(this);
  }

  setLog(on) {
    this.logY = on;
    schedule(this, false);
  }

  flush() {
    const traces = [];
    const curves = [
      ["best", t("chart.sweep.best"), "#0072B2", "dot"],
      ["finalVal", t("chart.sweep.finalVal"), "#D55E00", "dash"],
      ["finalTrain", t("chart.sweep.finalTrain"), "#009E73", "solid"],
    ];
    for (const [key, name, color, dash] of curves) {
      const pts = this.points.filter((p) => p[key]);
      if (this.repeats > 1 && pts.length) {
        traces.push({ type: "scatter", mode: "lines", name: t("chart.range", { name }), showlegend: false, hoverinfo: "skip", fill: "toself",
          fillcolor: rgba(color, 0.15), line: { width: 0, color },
          x: [...pts.map((p) => p.value), ...pts.map((p) => p.value).reverse()], y: [...pts.map((p) => p[key].lo), ...pts.map((p) => p[key].hi).reverse()] });
      }
      traces.push({ type: "scatter", mode: "lines+markers", name: this.repeats > 1 ? t("chart.sweep.mean", { name, n: this.repeats }) : name, x: pts.map((p) => p.value), y: pts.map((p) => p[key].mean),
        line: { color, dash, width: 2.5 }, marker: { size: 9, color: pts.map((p) => p.color), line: { width: 1.5, color } },
        text: pts.map((p) => p.variant),
        customdata: pts.map((p) => [p[key].lo, p[key].hi, p[key].n]),
        hovertemplate: `%{text}: ${name} %{y:.4g}` + (this.repeats > 1 ? ` (${t("chart.sweep.seedsRange")} %{customdata[0]:.4g} – %{customdata[1]:.4g})` : "") + "<extra></extra>" });
    }
    Plotly.react(this.el, traces, this.layout(), CONFIG);
  }
}

/** "#0072B2" and an alpha → "rgba(0,114,178,a)". */
export function rgba(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}
