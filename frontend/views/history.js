// Past comparisons: filter by owner and lesson, open, clone into the form, delete, export.

import { api, exportUrl } from "../api.js";
import { clear, h } from "../dom.js";

const PAGE = 20;

function when(value) {
  if (!value) return "—";
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

export async function render(root, ctx) {
  const params = ctx.route.params;
  const filters = { owner: params.get("owner") || "", lesson: params.get("lesson") || "", page: Number(params.get("page") || 1) };
  // The filter still works without lesson titles, so a lesson catalogue error does not hide history.
  const lessons = await ctx.loadLessons().catch(() => []);
  if (ctx.signal.aborted) return;

  const owner = h("input", { type: "search", id: "filter-owner", value: filters.owner, placeholder: "anyone" });
  const mine = h("button", { type: "button", class: "ghost small" }, "Only mine");
  mine.addEventListener("click", () => go({ owner: ctx.state.user, page: 1 }));
  const lesson = h("select", { id: "filter-lesson" }, h("option", { value: "" }, "any lesson"), lessons.map((l) => h("option", { value: l.name }, l.title)));
  lesson.value = filters.lesson;
  const go = (change) => {
    const f = { ...filters, ...change };
    const q = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== "" && v !== 1 && v !== null));
    ctx.navigate(`#/history${q.toString() ? `?${q}` : ""}`);
  };
  owner.addEventListener("change", () => go({ owner: owner.value.trim(), page: 1 }));
  lesson.addEventListener("change", () => go({ lesson: lesson.value, page: 1 }));

  // The teacher's emergency stop: every queued and running run of every student.
  const stopAll = h("button", { type: "button", class: "ghost small danger", id: "cancel-everything" }, "Cancel everything (teacher)");
  stopAll.addEventListener("click", async () => {
    if (!window.confirm("Cancel every queued and running run of every user?")) return;
    try {
      const done = await api.cancelEverything();
      ctx.toast(`Cancelled ${done.cancelled.length} runs.`);
      go({});
    } catch (err) {
      // The teacher signs in on the class page (an HttpOnly cookie); the page keeps no token.
      ctx.toast(`Could not cancel everything: ${err.message}`, "error");
    }
  });
  const list = h("div", { class: "panel table-panel" }, h("p", { class: "muted" }, "Loading…"));
  root.append(
    h("section", { class: "intro" }, h("h1", {}, "History"), h("p", { class: "lead" }, "Every comparison launched on this server. Open one to see its curves again, or clone it to change a field and run it once more.")),
    h("div", { class: "filters" },
      h("label", { for: "filter-owner" }, "Owner "), owner, mine,
      h("label", { for: "filter-lesson" }, "Lesson "), lesson, stopAll),
    list,
  );

  const page = await api.listExperiments({ owner: filters.owner, lesson: filters.lesson, offset: (filters.page - 1) * PAGE, limit: PAGE });
  if (ctx.signal.aborted) return;
  const items = page.items;
  clear(list);
  if (!items.length) {
    list.appendChild(h("p", { class: "muted empty" }, "No comparisons match. Launch one from the lessons."));
    return;
  }
  const rows = items.map((e) => {
    const open = h("a", { href: `#/experiments/${e.id}`, class: "exp-link" }, e.name || `Experiment ${e.id}`);
    const clone = h("button", { type: "button", class: "ghost small" }, "Clone");
    clone.addEventListener("click", async () => {
      const spec = await api.cloneExperiment(e.id);
      ctx.state.formDraft = { ...spec, name: `${e.name} (copy)` };
      ctx.navigate("#/new");
    });
    const del = h("button", { type: "button", class: "ghost small danger" }, "Delete");
    del.addEventListener("click", async () => {
      if (!window.confirm(`Delete “${e.name}” and all its runs? This cannot be undone.`)) return;
      try {
        await api.deleteExperiment(e.id);
        tr.remove();
        ctx.toast(`Deleted “${e.name}”.`);
      } catch (err) {
        ctx.toast(`Could not delete: ${err.message}`, "error");
      }
    });
    const runs = e.runs.length;
    const tr = h("tr", { "data-experiment": e.id },
      h("td", {}, open),
      h("td", {}, e.lesson || "—"),
      h("td", {}, e.owner || "—"),
      h("td", {}, when(e.created_at)),
      h("td", { class: "num" }, String(runs)),
      h("td", {}, e.status ? h("span", { class: `badge status-${e.status}` }, e.status) : "—"),
      h("td", { class: "actions" },
        h("a", { class: "button ghost small", href: exportUrl.csv(e.id), download: "", "data-export": "csv" }, "CSV"),
        h("a", { class: "button ghost small", href: exportUrl.json(e.id), download: "", "data-export": "json" }, "JSON"),
        h("a", { class: "button ghost small", href: exportUrl.html(e.id), target: "_blank", rel: "noopener", "data-export": "html" }, "Report"),
        clone, del));
    return tr;
  });
  list.appendChild(h("table", { class: "history" },
    h("thead", {}, h("tr", {}, ["Name", "Lesson", "Owner", "Started", "Runs", "Status", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
  const total = page.total;
  const prev = h("button", { type: "button", class: "ghost small", disabled: filters.page <= 1 }, "← Newer");
  const next = h("button", { type: "button", class: "ghost small", disabled: filters.page * PAGE >= total }, "Older →");
  prev.addEventListener("click", () => go({ page: filters.page - 1 }));
  next.addEventListener("click", () => go({ page: filters.page + 1 }));
  list.appendChild(h("div", { class: "pager" }, prev, h("span", { class: "muted" }, `page ${filters.page} of ${Math.max(1, Math.ceil(total / PAGE))} · ${total} in all`), next));
}
