// The new-comparison form: base setup from the schema, variants or a sweep, share link, API errors by field.

import { api, ApiError } from "../api.js";
import { clear, h } from "../dom.js";
import { decodeSetup, defaults, diff, encodeSetup, fieldMap, getPath, inputFor, limitsText, merge, parseValues, readInput, sections, setPath } from "./schema.js";
import { showErrors, clearErrors } from "./form-errors.js";
import { t, tOr } from "../i18n.js";

function flatten(obj, prefix = "") {
  return Object.entries(obj ?? {}).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v) ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]);
}

function nest(rows) {
  const out = {};
  for (const [path, value] of rows) if (path) setPath(out, path, value);
  return out;
}

/** Where the form starts: a shared link's setup, a lesson, a cloned experiment, or the defaults. */
async function initialSetup(ctx, params) {
  if (params.get("setup")) return decodeSetup(params.get("setup"));
  if (params.get("lesson")) {
    const lesson = (await ctx.loadLessons()).find((l) => l.name === params.get("lesson"));
    if (lesson) return { ...structuredClone(lesson.spec), lesson: lesson.name, name: tOr(`lesson.${lesson.name}.title`, lesson.spec.name || lesson.title) };
  }
  if (ctx.state.formDraft) {
    const draft = ctx.state.formDraft;
    ctx.state.formDraft = null;
    return draft;
  }
  return { name: t("form.defaultName"), variants: [{ name: t("form.defaultVariant"), override: {} }, { name: "L2 0.01", override: { regularization: { l2: 0.01 } } }] };
}

export async function render(root, ctx) {
  const params = ctx.route.params;
  const schema = await ctx.loadSchema();
  if (ctx.signal.aborted) return null;
  const secs = sections(schema);
  const fields = fieldMap(secs);
  const base0 = defaults(secs);
  const setup = await initialSetup(ctx, params);
  if (ctx.signal.aborted) return null;
  const locks = new Set((params.get("lock") || "").split(",").filter((p) => fields.has(p)));
  const lockedByLink = locks.size > 0;
  let editingLocks = false;

  const model = {
    name: setup.name || t("form.defaultName"),
    description: setup.description || "",
    lesson: setup.lesson || null,
    base: merge(base0, setup.base),
    mode: setup.grid && setup.grid.length ? "sweep" : setup.variants && setup.variants.length ? "variants" : "base",
    variants: (setup.variants || []).map((v) => ({ name: v.name, rows: flatten(v.override) })),
    grid: (setup.grid || []).map((a) => ({ field: a.field, text: a.values.join(", ") })),
  };
  if (!model.grid.length) model.grid = [{ field: "regularization.dropout", text: "0, 0.2, 0.5" }];

  const inputs = new Map(); // path → input element of the base form
  const editable = () => [...fields.values()].filter((f) => !locks.has(f.path));

  function readBase() {
    const base = {};
    for (const [path, el] of inputs) {
      const v = readInput(fields.get(path), el);
      if (v !== undefined) setPath(base, path, v);
    }
    return base;
  }

  function body() {
    const out = { name: model.name, description: model.description, base: readBase() };
    if (model.lesson) out.lesson = model.lesson;
    if (model.mode === "variants") {
      out.variants = model.variants.map((v) => ({ name: v.name, override: nest(v.rows) }));
    } else if (model.mode === "sweep") {
      out.grid = model.grid.map((a) => ({ field: a.field, values: parseValues(fields.get(a.field), a.text) }));
    }
    return out;
  }

  function shareHash() {
    const b = body();
    const compact = { ...b, base: diff(b.base, base0) };
    const lock = locks.size ? `&lock=${[...locks].join(",")}` : "";
    return `#/new?setup=${encodeSetup(compact)}${lock}`;
  }

  // The URL always carries the setup, so copying the address bar shares exactly what is on screen.
  function syncUrl() {
    if (ctx.signal.aborted) return; // the address bar is another page's now
    history.replaceState(null, "", shareHash());
  }

  const errorBox = h("div", { class: "form-error", role: "alert", hidden: true });

  function baseFieldset(sec) {
    const lockAll = h("button", { type: "button", class: "lock-toggle section-lock", title: t("form.lock.allTitle") }, t("form.lock.all"));
    lockAll.addEventListener("click", () => {
      const all = sec.fields.every((f) => locks.has(f.path));
      for (const f of sec.fields) all ? locks.delete(f.path) : locks.add(f.path);
      redraw();
    });
    return h("fieldset", { class: "section", "data-section": sec.key },
      h("legend", {}, sec.title, editingLocks ? lockAll : null),
      h("p", { class: "section-help" }, sec.description),
      sec.fields.map((f) => {
        const id = `f-${f.path.replace(/\./g, "-")}`;
        const locked = locks.has(f.path);
        const input = inputFor(f, getPath(model.base, f.path), () => {
          setPath(model.base, f.path, readInput(f, input));
          syncUrl();
        }, { id, disabled: locked && !editingLocks });
        inputs.set(f.path, input);
        const lockButton = editingLocks
          ? h("button", { type: "button", class: `lock-toggle${locked ? " on" : ""}`, "aria-pressed": String(locked), title: locked ? t("form.lock.unlock") : t("form.lock.forStudents") }, locked ? t("form.lock.locked") : t("form.lock.lock"))
          : null;
        if (lockButton) lockButton.addEventListener("click", () => (locks.has(f.path) ? locks.delete(f.path) : locks.add(f.path), redraw()));
        return h("div", { class: `field field-${f.type}${locked ? " locked" : ""}`, "data-field": `base.${f.path}` },
          h("label", { for: id, title: f.description }, f.label, locked && !editingLocks ? h("span", { class: "lock-badge", title: t("form.lock.byLink") }, t("form.lock.locked")) : null, lockButton),
          input,
          h("small", { class: "help" }, f.description, limitsText(f) ? h("span", { class: "limits" }, ` (${limitsText(f)})`) : null),
          h("div", { class: "field-error", role: "alert" }));
      }));
  }

  function fieldSelect(value, onChange) {
    const options = editable();
    const sel = h("select", { class: "field-select", "aria-label": t("form.fieldToChange") },
      secs.map((s) => h("optgroup", { label: s.title }, s.fields.filter((f) => options.includes(f)).map((f) => h("option", { value: f.path }, f.label)))));
    sel.value = value && options.some((f) => f.path === value) ? value : options[0]?.path ?? "";
    sel.addEventListener("change", () => onChange(sel.value));
    return sel;
  }

  function variantCard(v, i) {
    const name = h("input", { type: "text", value: v.name, maxlength: 40, "aria-label": t("form.variantName"), "data-path": `variants.${i}.name`, class: "variant-name" });
    name.addEventListener("input", () => ((v.name = name.value), syncUrl()));
    const remove = h("button", { type: "button", class: "ghost small", title: t("form.removeTitle") }, t("form.remove"));
    remove.addEventListener("click", () => (model.variants.splice(i, 1), redraw()));
    const add = h("button", { type: "button", class: "ghost small" }, t("form.changeField"));
    add.addEventListener("click", () => {
      const f = editable().find((x) => !v.rows.some(([p]) => p === x.path)) || editable()[0];
      v.rows.push([f.path, getPath(model.base, f.path)]);
      redraw();
    });
    return h("div", { class: "variant", "data-variant": i },
      h("div", { class: "variant-head", "data-field": `variants.${i}.name` }, h("span", { class: "swatch-index" }, `${i + 1}`), name, h("div", { class: "field-error", role: "alert" }), remove),
      v.rows.length ? null : h("p", { class: "muted small" }, t("form.sameAsBase")),
      v.rows.map((row, j) => {
        const f = fields.get(row[0]);
        const sel = fieldSelect(row[0], (path) => ((row[0] = path), (row[1] = getPath(model.base, path)), redraw()));
        const input = f ? inputFor(f, row[1], () => ((row[1] = readInput(f, input)), syncUrl())) : h("span", {}, "?");
        if (f) input.dataset.path = `variants.${i}.override.${f.path}`;
        const del = h("button", { type: "button", class: "ghost small", title: t("form.keepBase") }, "✕");
        del.addEventListener("click", () => (v.rows.splice(j, 1), redraw()));
        return h("div", { class: "override-row", "data-field": `variants.${i}.override.${row[0]}` }, sel, h("span", { class: "arrow" }, "="), input, del,
          h("div", { class: "field-error", role: "alert" }));
      }),
      h("div", { class: "variant-actions" }, add));
  }

  function sweepEditor() {
    return h("div", { class: "sweep" },
      model.grid.map((axis, i) => {
        const values = h("input", { type: "text", value: axis.text, "aria-label": t("form.values"), "data-path": `grid.${i}.values`, placeholder: t("form.valuesPlaceholder") });
        values.addEventListener("input", () => ((axis.text = values.value), syncUrl(), preview()));
        const del = model.grid.length > 1 ? h("button", { type: "button", class: "ghost small" }, "✕") : null;
        if (del) del.addEventListener("click", () => (model.grid.splice(i, 1), redraw()));
        return h("div", { class: "override-row", "data-field": `grid.${i}.values` },
          fieldSelect(axis.field, (path) => ((axis.field = path), syncUrl(), preview())), h("span", { class: "arrow" }, "∈"), values, del,
          h("div", { class: "field-error", role: "alert" }));
      }),
      model.grid.length < 2 ? (() => {
        const b = h("button", { type: "button", class: "ghost small" }, t("form.sweepSecond"));
        b.addEventListener("click", () => (model.grid.push({ field: "regularization.l2", text: "0, 0.001, 0.01" }), redraw()));
        return b;
      })() : null,
      h("p", { class: "muted small sweep-preview" }));
  }

  function preview() {
    const el = root.querySelector(".sweep-preview");
    if (!el) return;
    const names = model.grid.reduce((acc, a) => acc.flatMap((n) => parseValues(fields.get(a.field), a.text).map((v) => `${n} ${a.field.split(".")[1]}=${v}`.trim())), [""]);
    el.textContent = t("form.sweepPreview", { n: names.length, runs: names.join(" · ") });
  }

  function redraw() {
    const scroll = window.scrollY;
    inputs.clear();
    clear(root);
    const modes = [["variants", t("form.mode.variants")], ["sweep", t("form.mode.sweep")], ["base", t("form.mode.base")]];
    const tabs = h("div", { class: "tabs", role: "tablist" }, modes.map(([m, label]) => {
      const t = h("button", { type: "button", role: "tab", "aria-selected": String(model.mode === m), class: model.mode === m ? "tab active" : "tab" }, label);
      t.addEventListener("click", () => ((model.mode = m), redraw()));
      return t;
    }));
    const addVariant = h("button", { type: "button", class: "ghost" }, t("form.addVariant"));
    addVariant.addEventListener("click", () => (model.variants.push({ name: t("form.newVariant", { n: model.variants.length + 1 }), rows: [] }), redraw()));
    const nameInput = h("input", { id: "exp-name", type: "text", value: model.name, maxlength: 80, "data-path": "name" });
    nameInput.addEventListener("input", () => ((model.name = nameInput.value), syncUrl()));
    const descInput = h("textarea", { id: "exp-desc", rows: 2, maxlength: 2000, "data-path": "description", placeholder: t("form.notesPlaceholder") });
    descInput.value = model.description;
    descInput.addEventListener("input", () => ((model.description = descInput.value), syncUrl()));
    const launch = h("button", { type: "submit", class: "primary big", id: "launch" }, t("form.launch"));
    const share = h("button", { type: "button", class: "ghost" }, t("form.share"));
    share.addEventListener("click", async () => {
      const url = `${location.origin}${location.pathname}${shareHash()}`;
      try {
        await navigator.clipboard.writeText(url);
        ctx.toast(t("form.copied"));
      } catch {
        window.prompt(t("form.copyPrompt"), url);
      }
    });
    const lockMode = h("label", { class: "inline" }, h("input", { type: "checkbox", checked: editingLocks }), ` ${t("form.lock.choose")}`);
    lockMode.firstChild.addEventListener("change", (e) => ((editingLocks = e.target.checked), redraw()));

    const form = h("form", { class: "setup-form", novalidate: true },
      h("section", { class: "intro" },
        h("h1", {}, t("nav.new")),
        h("p", { class: "lead" }, t("form.lead")),
        lockedByLink ? h("p", { class: "notice" }, (locks.size > 1 ? t("form.lockedByLink", { n: locks.size }) : t("form.lockedOneByLink", { n: 1 }))) : null),
      errorBox,
      h("div", { class: "panel meta-fields" },
        h("div", { class: "field", "data-field": "name" }, h("label", { for: "exp-name" }, t("form.name")), nameInput, h("div", { class: "field-error", role: "alert" })),
        h("div", { class: "field", "data-field": "description" }, h("label", { for: "exp-desc" }, t("form.notes")), descInput, h("div", { class: "field-error", role: "alert" }))),
      h("h2", {}, t("form.base")),
      h("div", { class: "sections" }, secs.map(baseFieldset)),
      h("h2", {}, t("form.compare")),
      h("div", { class: "panel compare" }, tabs,
        model.mode === "variants" ? h("div", { "data-field": "variants" }, h("div", { class: "field-error", role: "alert" }),
          h("div", { class: "variants" }, model.variants.map(variantCard), addVariant)) : null,
        model.mode === "sweep" ? h("div", { "data-field": "grid" }, h("div", { class: "field-error", role: "alert" }), sweepEditor()) : null,
        model.mode === "base" ? h("p", { class: "muted" }, t("form.oneRun")) : null),
      h("div", { class: "form-actions" }, launch, share, lockedByLink ? null : lockMode));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await ctx.ensureUser();
      clearErrors(root, errorBox);
      launch.disabled = true;
      launch.textContent = t("form.starting");
      try {
        const created = await api.createExperiment(body());
        ctx.navigate(`#/experiments/${created.id}`);
      } catch (err) {
        launch.disabled = false;
        launch.textContent = t("form.launch");
        if (err instanceof ApiError && err.status === 422) showErrors(root, errorBox, err.detail);
        else showErrors(root, errorBox, err.message);
      }
    });
    root.appendChild(form);
    preview();
    syncUrl();
    window.scrollTo(0, scroll);
  }

  redraw();
}
