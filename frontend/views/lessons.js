// The lessons gallery: one card per lesson of the lecture; one click launches it.

import { api } from "../api.js";
import { h } from "../dom.js";
import { t, tOr } from "../i18n.js";

const SVG = "http://www.w3.org/2000/svg";

/** A tiny picture of the lecture's story: training loss keeps falling, validation turns back up. */
function thumbnail() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 120 44");
  svg.setAttribute("class", "thumb");
  svg.setAttribute("aria-hidden", "true");
  const path = (d, color, dash) => {
    const p = document.createElementNS(SVG, "path");
    p.setAttribute("d", d);
    p.setAttribute("fill", "none");
    p.setAttribute("stroke", color);
    p.setAttribute("stroke-width", "2.5");
    if (dash) p.setAttribute("stroke-dasharray", "5 4");
    svg.appendChild(p);
  };
  path("M4 6 C 24 30, 50 36, 116 40", "#0072B2", false);
  path("M4 8 C 24 30, 44 32, 60 30 S 100 20, 116 14", "#E69F00", true);
  return svg;
}

function runsOf(spec) {
  if (!spec) return null;
  if (spec.variants && spec.variants.length) return spec.variants.map((v) => v.name);
  if (spec.grid && spec.grid.length) {
    return spec.grid.reduce((names, axis) => names.flatMap((n) => axis.values.map((v) => `${n} ${axis.field.split(".")[1]}=${v}`.trim())), [""]);
  }
  return ["base"];
}

export async function render(root, ctx) {
  const lessons = await ctx.loadLessons();
  if (ctx.signal.aborted) return;
  const grid = h("div", { class: "cards" });
  root.append(
    h("section", { class: "intro" },
      h("h1", {}, t("lessons.title")),
      h("p", { class: "lead" }, t("lessons.lead"))),
    grid,
  );
  for (const lesson of lessons) {
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
    grid.appendChild(
      h("article", { class: "card lesson-card", "data-lesson": lesson.name },
        thumbnail(),
        h("h2", {}, title),
        h("p", {}, tOr(`lesson.${lesson.name}.description`, lesson.description)),
        names && h("ul", { class: "chips", "aria-label": t("lessons.runs") }, names.slice(0, 8).map((n) => h("li", {}, n)),
          names.length > 8 ? h("li", {}, t("lessons.more", { n: names.length - 8 })) : null),
        h("div", { class: "card-actions" },
          launch,
          h("a", { href: `#/new?lesson=${encodeURIComponent(lesson.name)}`, class: "button ghost" }, t("lessons.change"))),
      ),
    );
  }
  if (!lessons.length) grid.appendChild(h("p", {}, t("lessons.none")));
}
