// The live view's page: header, run table, diagnosis, charts, lesson panels and snapshots, built
// for a model; returns the parts the per-frame drawing (experiment-draw.js) brings up to it.

import { api, exportUrl, pageUrl } from "../api.js";
import { CurveOverlay, LayerBars, SmallMultiples, SweepChart } from "../charts.js";
import { h } from "../dom.js";
import { t, tOr } from "../i18n.js";
import { LiveChart } from "../livechart.js";
import { DiagnosisPanel } from "./diagnosis.js";
import { feed, SERIES_CHARTS, seriesOf } from "./experiment-charts.js";
import { CONNECTION_TEXT, drawSnapshots } from "./experiment-draw.js";
import { allFinal, picturedRuns, spread, verdictOf } from "./experiment-model.js";
import { lessonPanels } from "./experiment-panels.js";
import { boundaryFigure, histogramFigure } from "./figures.js";
import { SummaryTable, VariantTable } from "./summary.js";

const REGRESSION = new Set(["poly", "sine"]);
const PLANE = new Set(["moons", "circles", "xor", "spiral", "gaussians"]);

/** Builds the page for the model (header, table, charts, snapshot panels) and returns its parts. */
export function layout(root, model, ctx, { sharedNote, replay, replayPerS }) {
  const task = REGRESSION.has(model.kind) ? "regression" : "classification";
  const runs = model.runs;

  const conn = h("span", { class: "conn", "data-conn": model.connection }, CONNECTION_TEXT[model.connection] ? t(CONNECTION_TEXT[model.connection]) : model.connection);
  const cancelAll = h("button", { type: "button", class: "danger", id: "cancel-all" }, t("exp.cancelAll"));
  cancelAll.addEventListener("click", async () => {
    cancelAll.disabled = true;
    try {
      await api.cancelExperiment(model.id);
      ctx.toast(t("exp.cancelling"));
    } catch (err) {
      ctx.toast(t("exp.error.cancel", { error: err.message }), "error");
      cancelAll.disabled = false;
    }
  });
  const clone = h("button", { type: "button", class: "ghost" }, t("exp.clone"));
  clone.addEventListener("click", async () => {
    const spec = await api.cloneExperiment(model.id);
    ctx.state.formDraft = { ...spec, name: t("exp.copyName", { name: model.meta.name }) };
    ctx.navigate("#/new");
  });
  const logToggle = h("input", { type: "checkbox", id: "log-scale", checked: model.logY });
  const owner = model.meta.owner ? ` · ${t("exp.by", { owner: model.meta.owner })}` : "";
  const title = h("h1", {}, model.meta.name || t("exp.untitled", { id: String(model.id) }));
  const description = model.meta.description ? h("p", { class: "exp-description" }, model.meta.description) : null;
  // A lesson's run (a student's launch, a poll's) carries the lesson's English title and
  // description: said from the catalog once the lessons are known; words someone wrote stay theirs.
  const translateDescription = () => {
    const l = ctx.state.lessons?.find((x) => x.name === model.meta.lesson);
    if (!l) return;
    if (model.meta.name === l.title) title.textContent = tOr(`lesson.${l.name}.title`, l.title);
    if (description && model.meta.description === l.description) description.textContent = tOr(`lesson.${l.name}.description`, l.description);
  };
  translateDescription();
  root.append(
    h("section", { class: "intro exp-head" },
      h("div", {},
        title,
        h("p", { class: "muted" }, runs.length === 1 ? t("exp.oneRun", { n: 1 }) : t("exp.runs", { n: runs.length }), model.meta.lesson ? ` · ${t("exp.lesson", { lesson: model.meta.lesson })}` : "", owner, " · ", conn),
        model.meta.challenge_id ? h("p", { class: "muted" }, model.meta.challenge_role === "entry" ? t("exp.challenge.entryOf") : t("exp.challenge.baselinesOf"),
          h("a", { href: pageUrl.challenge(model.meta.challenge_id), id: "challenge-link" }, t("exp.challenge.link", { id: String(model.meta.challenge_id) })),
          model.meta.runs.some((r) => r.summary?.extra?.withheld) ? t("exp.challenge.hidden") : "") : null,
        description),
      h("div", { class: "exp-actions" }, cancelAll, clone,
        h("a", { class: "button ghost", href: exportUrl.csv(model.id), download: "" }, "CSV"),
        h("a", { class: "button ghost", href: exportUrl.json(model.id), download: "" }, "JSON"),
        h("a", { class: "button ghost", href: exportUrl.html(model.id), target: "_blank", rel: "noopener" }, t("exp.report")))),
    h("p", { class: "notice fair" }, t("exp.fair")),
  );
  const tableBox = h("div", { class: "panel table-panel" });
  root.appendChild(tableBox);
  const table = model.repeats > 1 ? new VariantTable(tableBox, { model, task, spread, verdictOf, sharedNote }) : new SummaryTable(tableBox, { runs, task, sharedNote, readOnly: model.replaying, onCancel: async (run, button) => {
    button.disabled = true;
    try {
      await api.cancelRun(run.id);
    } catch (err) {
      ctx.toast(t("exp.error.cancelRun", { run: run.name, error: err.message }), "error");
      button.disabled = false;
    }
  } });

  const diagnosisBox = h("section", { class: "panel diagnosis-panel", hidden: true });
  root.appendChild(diagnosisBox);
  const lessonTitle = (name) => {
    const l = ctx.state.lessons?.find((x) => x.name === name);
    return l ? tOr(`lesson.${l.name}.title`, l.title) : name;
  };
  const diagnosis = new DiagnosisPanel(diagnosisBox, { model, lessonTitle, navigate: ctx.navigate });
  if (!ctx.state.lessons) ctx.loadLessons().then(() => ((diagnosis.key = null), diagnosis.update(), translateDescription())).catch(() => {});

  const chartBox = (name, cls = "") => h("div", { class: `chart ${cls}`, "data-chart": name });
  const lossEl = chartBox("loss", "chart-tall");
  const banded = model.repeats > 1;
  const seedsToggle = banded ? h("input", { type: "checkbox", id: "show-seeds", checked: model.showReplicates }) : null;
  // Shared runs arrive whole: a replay lets a student watch their curves grow all the same.
  const replayButton = model.runs.some((r) => r.sharedFrom) || model.replaying
    ? h("button", { type: "button", class: "ghost small", id: "replay", disabled: !model.replaying && !allFinal(model) },
      model.replaying ? t("exp.replay.stop") : t("exp.replay.start", { n: replayPerS }))
    : null;
  replayButton?.addEventListener("click", replay);
  root.append(
    h("div", { class: "toolbar" },
      replayButton,
      h("label", { class: "inline", for: "log-scale" }, logToggle, ` ${t("exp.logScale")}`),
      banded ? h("label", { class: "inline", for: "show-seeds" }, seedsToggle, ` ${t("exp.showSeeds", { n: model.repeats })}`) : null,
      h("span", { class: "legend-hint" }, h("span", { class: "line-solid" }), ` ${t("chart.train")} `, h("span", { class: "line-dash" }), ` ${t("chart.validation")} `,
        banded ? [h("span", { class: "band-swatch" }), ` ${t("exp.band", { n: model.repeats })} `] : null,
        h("span", { class: "marker-star" }, "★"), ` ${t("chart.marker.best")} `, h("span", { class: "marker-x" }, "✕"), ` ${t("chart.marker.stop")}`)),
    h("div", { class: "panel" }, lossEl));
  // A sweep (variants that differ in one number): the lecture's U, loss against that number.
  let sweep = null;
  if (model.meta.sweep) {
    const sweepEl = chartBox("sweep", "chart-tall");
    root.append(h("div", { class: "panel" }, sweepEl,
      h("p", { class: "muted small chart-note" }, banded ? t("exp.sweep.pointSeeds", { n: model.repeats }) : t("exp.sweep.point"), " ", t("exp.sweep.note"))));
    sweep = new SweepChart(sweepEl, { field: model.meta.sweep.field, log: model.meta.sweep.log, repeats: model.repeats, logY: model.logY });
  }
  const grid = h("div", { class: "chart-grid" });
  root.appendChild(grid);

  const xMax = Math.max(...runs.map((r) => r.total || 0));
  const charts = {};
  for (const spec of SERIES_CHARTS) {
    if (spec.task && spec.task !== task) continue;
    const el = spec.key === "loss" ? lossEl : chartBox(spec.key);
    if (spec.key !== "loss") grid.appendChild(h("div", { class: "panel" }, el));
    charts[spec.key] = new LiveChart(el, { title: t(spec.title), yTitle: t(spec.yTitle), xMax, percent: spec.percent, markers: spec.markers,
      logY: spec.logY && (spec.alwaysLog || model.logY), priority: spec.priority ?? 1, minInterval: spec.minInterval ?? 250, syncMs: spec.syncMs ?? 10000,
      series: seriesOf(spec, model) });
    charts[spec.key].spec = spec;
    // Each chart takes its points from the model as it draws: one off screen costs nothing
    // until it comes into view (or the stream pauses).
    charts[spec.key].pull = (chart) => feed(chart, model, view);
  }
  // A comparison still training: the charts on screen make their figure now, before the stream
  // opens. A finished one's make it at their first draw, with every point.
  if (!allFinal(model)) for (const c of Object.values(charts)) if (c.visible) c.prepare();
  const gradEl = chartBox("grads");
  grid.appendChild(h("div", { class: "panel" }, gradEl));
  const bars = new LayerBars(gradEl, { runs: banded ? model.variants.map((v) => ({ id: v.name, name: v.name, color: v.color })) : runs });
  const lineCharts = Object.values(charts);
  seedsToggle?.addEventListener("change", () => {
    model.showReplicates = seedsToggle.checked;
    for (const c of lineCharts) c.hide((s) => s.replicate && !model.showReplicates);
  });
  logToggle.addEventListener("change", () => {
    model.logY = logToggle.checked;
    charts.loss.setLog(model.logY);
    charts.norm.setLog(model.logY);
    sweep?.setLog(model.logY);
  });

  // The lesson's own panels (L1 against L2 by weight size, …): experiment-panels.js.
  const panels = lessonPanels(root, model);

  // ---- snapshots: one epoch slider drives histograms and boundaries ---------------------------
  const slider = h("input", { type: "range", min: 0, max: 0, value: 0, id: "epoch-slider", "aria-label": t("exp.snap.slider") });
  const sliderLabel = h("output", { for: "epoch-slider", class: "slider-label" }, t("exp.snap.none"));
  const follow = h("input", { type: "checkbox", checked: model.follow, id: "follow-live" });
  const snapSection = h("section", { class: "snapshots" },
    h("div", { class: "snap-head" },
      h("h2", {}, t("exp.snap.title")),
      h("label", { class: "slider" }, `${t("table.epoch")} `, slider, sliderLabel),
      h("label", { class: "inline", for: "follow-live" }, follow, ` ${t("exp.snap.follow")}`)));
  root.append(snapSection);

  // With replicates, one network per variant is pictured: its first seed.
  const pictured = picturedRuns(model);
  if (banded) snapSection.append(h("p", { class: "muted small" }, t("exp.snap.firstSeed", { n: model.repeats })));
  const multiples = [];
  const addMultiples = (kind, title, help, figure) => {
    const box = h("div", { class: "multiples" });
    snapSection.append(h("h3", {}, title), h("p", { class: "muted small" }, help), box);
    const sm = new SmallMultiples(box, { runs: pictured, figure });
    box.append(...pictured.map((r) => h("div", { class: "multiple" }, sm.cell(r.id))));
    multiples.push([kind, sm]);
  };
  addMultiples("histogram", t("exp.snap.hist"), t("exp.snap.histHelp"), histogramFigure);
  let curve = null;
  if (PLANE.has(model.kind)) {
    addMultiples("boundary", t("exp.snap.boundary"), t("exp.snap.boundaryHelp"), boundaryFigure);
  } else if (task === "regression") {
    const el = h("div", { class: "chart chart-tall", "data-chart": "curve" });
    snapSection.append(h("h3", {}, t("chart.curve.title")), h("div", { class: "panel" }, el));
    curve = new CurveOverlay(el, { runs: pictured });
  }

  const view = { conn, cancelAll, replayButton, table, diagnosis, panels, charts, lineCharts, bars, slider, sliderLabel, multiples, curve, banded, pictured, sweep, snapSection,
    stale: true, received: [], fed: new Map(), grads: new Map(), gradsChanged: new Set(), meansThrough: new Map(), markersVersion: -1, snapshotsVersion: -1 };
  slider.addEventListener("input", () => {
    model.follow = false;
    follow.checked = false;
    model.sliderEpoch = model.snapshotEpochs[Number(slider.value)];
    drawSnapshots(view, model);
  });
  follow.addEventListener("change", () => ((model.follow = follow.checked), drawSnapshots(view, model)));
  return view;
}
