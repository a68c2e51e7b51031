// The lessons gallery in the lecture's order: its recipe's two branches, each lesson under the
// cause or remedy it shows, each card with a thumbnail of its own shipped result; one click launches it.

import { api } from "../api.js";
import { PALETTE } from "../charts.js";
import { h } from "../dom.js";
import { msg, t, tOr } from "../i18n.js";

const SVG = "http://www.w3.org/2000/svg";

// The lecture's recipe (LECTURE.md): first ask whether the net is good on its training data.
// `lessons` name the lessons that show each cause or remedy; a lesson shown under an earlier
// heading is referred to, not repeated.
export const RECIPE = [
  {
    branch: "training",
    title: msg("recipe.training.title"),
    lead: msg("recipe.training.lead"),
    groups: [
      { cause: "vanishing-gradients", title: msg("recipe.cause.vanishing-gradients"), lessons: ["vanishing-gradients"] },
      { cause: "learning-rate", title: msg("recipe.cause.learning-rate"), lessons: ["optimizers"] },
      { cause: "plateau", title: msg("recipe.cause.plateau"), lessons: ["optimizers"], note: msg("recipe.note.plateau") },
    ],
  },
  {
    branch: "overfitting",
    title: msg("recipe.overfitting.title"),
    lead: msg("recipe.overfitting.lead"),
    groups: [
      { cause: "early-stopping", title: msg("recipe.cause.early-stopping"), lessons: ["overfitting"] },
      { cause: "regularization", title: msg("recipe.cause.regularization"), lessons: ["l1-vs-l2", "adamw-vs-l2", "l2-sweep"] },
      { cause: "dropout", title: msg("recipe.cause.dropout"), lessons: ["dropout-sweep", "dropout-ensemble"] },
    ],
  },
];

// What each thumbnail draws, for its caption.
const METRIC_TEXT = { train_loss: msg("thumb.metric.train_loss"), val_loss: msg("thumb.metric.val_loss"), sparsity: msg("thumb.metric.sparsity"), weight_l2: msg("thumb.metric.weight_l2") };
const W = 120;
const H = 44;

function svgEl(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** A polyline through `ys` (x evenly spread over [x0, x1]) scaled to [lo, hi] on the thumbnail. */
function path(xs, ys, lo, hi) {
  const span = hi - lo || 1;
  return ys.map((y, i) => `${i ? "L" : "M"}${(4 + (xs[i] * (W - 8))).toFixed(1)} ${(H - 4 - ((y - lo) / span) * (H - 8)).toFixed(1)}`).join(" ");
}

/** The lesson's own result at seed setting 0 (frontend/lesson-thumbs.json), or null without one. */
export function thumbnail(thumb) {
  if (!thumb) return null;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "thumb", role: "img" });
  let caption;
  if (thumb.kind === "sweep") {
    const ys = thumb.val_loss;
    const xs = ys.map((_, i) => i / Math.max(1, ys.length - 1));
    svg.appendChild(svgEl("path", { d: path(xs, ys, Math.min(...ys), Math.max(...ys)), fill: "none", stroke: PALETTE[0], "stroke-width": 2, "stroke-dasharray": "4 3" }));
    ys.forEach((y, i) => svg.appendChild(svgEl("circle", { cx: 4 + xs[i] * (W - 8), cy: H - 4 - ((y - Math.min(...ys)) / (Math.max(...ys) - Math.min(...ys) || 1)) * (H - 8), r: 2, fill: PALETTE[0] })));
    caption = t("thumb.sweep", { field: thumb.field.split(".")[1], from: String(thumb.values[0]), to: String(thumb.values.at(-1)) });
  } else {
    const curves = Object.entries(thumb.curves);
    const all = curves.flatMap(([, ys]) => ys);
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    curves.forEach(([, ys], i) => {
      const xs = ys.map((_, j) => j / Math.max(1, ys.length - 1));
      svg.appendChild(svgEl("path", { d: path(xs, ys, lo, hi), fill: "none", stroke: PALETTE[i % PALETTE.length], "stroke-width": 1.8 }));
    });
    const metric = METRIC_TEXT[thumb.metric] ? t(METRIC_TEXT[thumb.metric]) : thumb.metric;
    caption = t("thumb.curves", { metric, epochs: thumb.epochs, names: curves.map(([name]) => name).join(t("list.sep")) });
  }
  svg.setAttribute("aria-label", caption);
  const title = svgEl("title", {});
  title.textContent = caption;
  svg.appendChild(title);
  return h("figure", { class: "thumb-figure" }, svg, h("figcaption", { class: "muted small" }, caption));
}

function runsOf(spec) {
  if (!spec) return null;
  if (spec.variants && spec.variants.length) return spec.variants.map((v) => v.name);
  if (spec.grid && spec.grid.length) {
    return spec.grid.reduce((names, axis) => names.flatMap((n) => axis.values.map((v) => `${n} ${axis.field.split(".")[1]}=${v}`.trim())), [""]);
  }
  return ["base"];
}

function card(lesson, thumb, ctx) {
  const names = runsOf(lesson.spec);
  const title = tOr(`lesson.${lesson.name}.title`, lesson.title);
  const launch = h("button", { type: "button", class: "primary", "data-lesson": lesson.name }, t("lessons.run"));
  launch.addEventListener("click", async () => {
    await ctx.ensureUser();
    launch.disabled = true;
    launch.textContent = t("form.starting");
    try {
      const created = await api.createExperiment({ lesson: lesson.name });
      ctx.navigate(`#/experiments/${created.id}`);
    } catch (err) {
      ctx.toast(t("lessons.error.start", { lesson: title, error: err.message }), "error");
      launch.disabled = false;
      launch.textContent = t("lessons.run");
    }
  });
  return h("article", { class: "card lesson-card", "data-lesson": lesson.name, id: `lesson-${lesson.name}` },
    thumbnail(thumb),
    h("h2", {}, title),
    h("p", {}, tOr(`lesson.${lesson.name}.description`, lesson.description)),
    names && h("ul", { class: "chips", "aria-label": t("lessons.runs") }, names.slice(0, 8).map((n) => h("li", {}, n)),
      names.length > 8 ? h("li", {}, t("lessons.more", { n: names.length - 8 })) : null),
    h("div", { class: "card-actions" },
      launch,
      h("a", { href: `#/new?lesson=${encodeURIComponent(lesson.name)}`, class: "button ghost" }, t("lessons.change"))));
}

/** The thumbnails file, once per page; the gallery draws without them if it cannot be read. */
let thumbsOnce = null;
function loadThumbs() {
  thumbsOnce ??= fetch("lesson-thumbs.json").then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  return thumbsOnce;
}

export async function render(root, ctx) {
  const [lessons, thumbs] = await Promise.all([ctx.loadLessons(), loadThumbs()]);
  if (ctx.signal.aborted) return null;
  const byName = new Map(lessons.map((l) => [l.name, l]));
  const placed = new Set();
  root.append(
    h("section", { class: "intro" },
      h("h1", {}, t("lessons.title")),
      h("p", { class: "lead" }, t("lessons.lead"))));
  for (const branch of RECIPE) {
    const section = h("section", { class: `recipe-branch branch-${branch.branch}`, "data-branch": branch.branch },
      h("h2", { class: "branch-title" }, t(branch.title)), h("p", { class: "muted" }, t(branch.lead)));
    // The causes (or remedies) side by side, as the recipe's tree: each a column of its lessons.
    const groups = h("div", { class: "recipe-groups" });
    for (const group of branch.groups) {
      const column = h("div", { class: "recipe-group", "data-cause": group.cause }, h("h3", { class: "recipe-cause", "data-cause": group.cause }, t(group.title)));
      for (const name of group.lessons) {
        const lesson = byName.get(name);
        if (!lesson) continue;
        if (placed.has(name)) {
          column.appendChild(h("p", { class: "see-above" }, (group.note ? t(group.note) : t("recipe.note.shown")), " ", h("a", { href: `#/lessons?lesson=${name}` }, tOr(`lesson.${lesson.name}.title`, lesson.title)), t("recipe.note.end")));
          continue;
        }
        placed.add(name);
        column.appendChild(card(lesson, thumbs[name], ctx));
      }
      groups.appendChild(column);
    }
    section.appendChild(groups);
    root.appendChild(section);
  }
  // A lesson the recipe does not place yet still gets a card, after the recipe.
  const rest = lessons.filter((l) => !placed.has(l.name));
  if (rest.length) root.appendChild(h("section", { class: "recipe-branch" }, h("h2", {}, t("recipe.more")), h("div", { class: "cards" }, rest.map((l) => card(l, thumbs[l.name], ctx)))));
  if (!lessons.length) root.appendChild(h("p", {}, t("lessons.none")));
  // A diagnosis's link (#/lessons?lesson=NAME) brings its lesson's card into view.
  const focus = ctx.route.params.get("lesson");
  const target = focus && root.querySelector(`#lesson-${CSS.escape(focus)}`);
  if (target) {
    target.classList.add("focused");
    target.scrollIntoView({ block: "center" });
  }
}
