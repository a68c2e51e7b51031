// Past comparisons: filter by owner and lesson, open, clone into the form, delete, export.

import { api, exportUrl } from "../api.js";
import { clear, h } from "../dom.js";
import { language, t, tOr } from "../i18n.js";
import { statusText } from "./summary.js";

const PAGE = 20;

function when(value) {
  if (!value) return "—";
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString(language());
}

export async function render(root, ctx) {
  const params = ctx.route.params;
  const filters = { owner: params.get("owner") || "", lesson: params.get("lesson") || "", page: Number(params.get("page") || 1) };
  // The filter still works without lesson titles, so a lesson catalogue error does not hide history.
  const lessons = await ctx.loadLessons().catch(() => []);
  if (ctx.signal.aborted) return;

  const owner = h("input", { type: "search", id: "filter-owner", value: filters.owner, placeholder: t("history.anyone") });
  const mine = h("button", { type: "button", class: "ghost small" }, t("history.mine"));
  mine.addEventListener("click", () => go({ owner: ctx.state.user, page: 1 }));
  const lesson = h("select", { id: "filter-lesson" }, h("option", { value: "" }, t("history.anyLesson")), lessons.map((l) => h("option", { value: l.name }, tOr(`lesson.${l.name}.title`, l.title))));
  lesson.value = filters.lesson;
  const go = (change) => {
    const f = { ...filters, ...change };
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== "" && v !== 1 && v !== null));
    ctx.navigate(`#/history${q.toString() ? `?${q}` : ""}`);
  };
  owner.addEventListener("change", () => go({ owner: owner.value.trim(), page: 1 }));
  lesson.addEventListener("change", () => go({ lesson: lesson.value, page: 1 }));

  // The teacher's emergency stop: every queued and running run of every student.
  const stopAll = h("button", { type: "button", class: "ghost small danger", id: "cancel-everything" }, t("history.cancelEverything"));
  stopAll.addEventListener("click", async () => {
    if (!window.confirm(t("history.confirmCancel"))) return;
    try {
      const done = await api.cancelEverything();
      ctx.toast(t("history.cancelled", { n: done.cancelled.length }));
      go({});
    } catch (err) {
      // The teacher signs in on the class page (an HttpOnly cookie); the page keeps no token.
      ctx.toast(t("history.error.cancel", { error: err.message }), "error");
    }
  });
  const list = h("div", { class: "panel table-panel" }, h("p", { class: "muted" }, t("app.loading")));
  root.append(
    h("section", { class: "intro" }, h("h1", {}, t("nav.history")), h("p", { class: "lead" }, t("history.lead"))),
    h("div", { class: "filters" },
      h("label", { for: "filter-owner" }, `${t("history.owner")} `), owner, mine,
      h("label", { for: "filter-lesson" }, `${t("history.lesson")} `), lesson, stopAll),
    list,
  );

  const page = await api.listExperiments({ owner: filters.owner, lesson: filters.lesson, offset: (filters.page - 1) * PAGE, limit: PAGE });
  if (ctx.signal.aborted) return;
  const items = page.items;
  clear(list);
  if (!items.length) {
    list.appendChild(h("p", { class: "muted empty" }, t("history.empty")));
    return;
  }
  const rows = items.map((e) => {
    const open = h("a", { href: `#/experiments/${e.id}`, class: "exp-link" }, e.name || t("exp.untitled", { id: String(e.id) }));
    const clone = h("button", { type: "button", class: "ghost small" }, t("history.clone"));
    clone.addEventListener("click", async () => {
      const spec = await api.cloneExperiment(e.id);
      ctx.state.formDraft = { ...spec, name: t("exp.copyName", { name: e.name }) };
      ctx.navigate("#/new");
    });
    const del = h("button", { type: "button", class: "ghost small danger" }, t("history.delete"));
    del.addEventListener("click", async () => {
      if (!window.confirm(t("history.confirmDelete", { name: e.name }))) return;
      try {
        await api.deleteExperiment(e.id);
        tr.remove();
        ctx.toast(t("history.deleted", { name: e.name }));
      } catch (err) {
        ctx.toast(t("history.error.delete", { error: err.message }), "error");
      }
    });
    const runs = e.runs.length;
    const tr = h("tr", { "data-experiment": e.id },
      h("td", {}, open),
      h("td", {}, e.lesson || "—"),
      h("td", {}, e.owner || "—"),
      h("td", {}, when(e.created_at)),
      h("td", { class: "num" }, String(runs)),
      h("td", {}, e.status ? h("span", { class: `badge status-${e.status}` }, statusText(e.status)) : "—"),
      h("td", { class: "actions" },
        h("a", { class: "button ghost small", href: exportUrl.csv(e.id), download: "", "data-export": "csv" }, "CSV"),
        h("a", { class: "button ghost small", href: exportUrl.json(e.id), download: "", "data-export": "json" }, "JSON"),
        h("a", { class: "button ghost small", href: exportUrl.html(e.id), target: "_blank", rel: "noopener", "data-export": "html" }, t("exp.report")),
        clone, del));
    return tr;
  });
  list.appendChild(h("table", { class: "history" },
    h("thead", {}, h("tr", {}, [t("history.name"), t("history.lesson"), t("history.owner"), t("history.started"), t("history.runs"), t("table.status"), ""].map((label) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, rows)));
  const total = page.total;
  const prev = h("button", { type: "button", class: "ghost small", disabled: filters.page <= 1 }, t("history.newer"));
  const next = h("button", { type: "button", class: "ghost small", disabled: filters.page * PAGE >= total }, t("history.older"));
  prev.addEventListener("click", () => go({ page: filters.page - 1 }));
  next.addEventListener("click", () => go({ page: filters.page + 1 }));
  list.appendChild(h("div", { class: "pager" }, prev, h("span", { class: "muted" }, t("history.page", { page: filters.page, pages: Math.max(1, Math.ceil(total / PAGE)), total })), next));
}
