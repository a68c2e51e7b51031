// The setup form's fields, read from the server's RunSpec JSON schema so limits and defaults cannot drift.

import { h } from "../dom.js";

const SECTION_TITLES = { data: "Data", model: "Model", optimizer: "Optimizer", regularization: "Regularization", train: "Training" };

// Friendlier names for a few terse keys; every other label comes from the key itself.
const LABELS = {
  "data.kind": "data set",
  "data.n_train": "training examples",
  "data.val_fraction": "validation share",
  "data.test_fraction": "test share",
  "data.label_noise": "label noise",
  "data.seed": "data seed",
  "model.hidden": "hidden layers",
  "model.maxout_pieces": "maxout pieces",
  "model.init_seed": "init seed",
  "optimizer.kind": "optimizer",
  "optimizer.lr": "learning rate η",
  "optimizer.beta1": "β1",
  "optimizer.beta2": "β2",
  "optimizer.alpha": "α (RMSProp)",
  "optimizer.eps": "ε",
  "regularization.l1": "L1 λ",
  "regularization.l1_mode": "L1 mode",
  "regularization.l2": "L2 λ",
  "regularization.weight_decay": "weight decay λ",
  "regularization.early_stopping": "early stopping",
  "regularization.min_delta": "min delta",
  "regularization.restore_best": "restore best weights",
  "regularization.input_dropout": "input dropout",
  "train.batch_size": "batch size",
  "train.seed": "batch-order seed",
  "train.snapshot_every": "snapshot every",
};

function resolve(schema, node) {
  if (node && node.$ref) return schema.$defs[node.$ref.split("/").pop()];
  if (node && node.allOf && node.allOf.length === 1) return resolve(schema, node.allOf[0]);
  return node;
}

function fieldOf(path, key, prop) {
  let type = prop.type;
  if (prop.enum) type = "enum";
  else if (prop.type === "array") type = "intlist";
  return {
    path,
    key,
    type,
    label: LABELS[path] || key.replace(/_/g, " "),
    description: prop.description || "",
    default: prop.default,
    enum: prop.enum,
    min: prop.minimum ?? prop.exclusiveMinimum,
    max: prop.maximum ?? prop.exclusiveMaximum,
    exclusiveMin: prop.exclusiveMinimum !== undefined,
    exclusiveMax: prop.exclusiveMaximum !== undefined,
    maxItems: prop.maxItems,
  };
}

/** [{key, title, description, fields: [field]}] in the schema's own order. */
export function sections(schema) {
  return Object.entries(schema.properties).map(([key, node]) => {
    const section = resolve(schema, node);
    return {
      key,
      title: SECTION_TITLES[key] || key,
      description: section.description || "",
      // A challenge's test splits are set by the teacher's challenge (x-challenge), not in a setup.
      fields: Object.entries(section.properties)
        .filter(([, prop]) => !resolve(schema, prop)["x-challenge"])
        .map(([k, prop]) => fieldOf(`${key}.${k}`, k, resolve(schema, prop))),
    };
  });
}

export function fieldMap(secs) {
  return new Map(secs.flatMap((s) => s.fields.map((f) => [f.path, f])));
}

/** The nested defaults the schema states (a field without one is left to the server). */
export function defaults(secs) {
  const out = {};
  for (const s of secs) {
    out[s.key] = {};
    for (const f of s.fields) if (f.default !== undefined) out[s.key][f.key] = f.default;
  }
  return out;
}

export function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

export function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] ??= {};
  o[keys.at(-1)] = value;
}

export function merge(base, over) {
  const out = structuredClone(base ?? {});
  for (const [k, v] of Object.entries(over ?? {})) {
    out[k] = v && typeof v === "object" && !Array.isArray(v) && out[k] && typeof out[k] === "object" ? merge(out[k], v) : structuredClone(v);
  }
  return out;
}

/** The part of `obj` that differs from `base`: what a share link has to carry. */
export function diff(obj, base) {
  const out = {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    const b = base ? base[k] : undefined;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const d = diff(v, b);
      if (Object.keys(d).length) out[k] = d;
    } else if (JSON.stringify(v) !== JSON.stringify(b)) out[k] = v;
  }
  return out;
}

export function limitsText(f) {
  if (f.type === "enum" || f.type === "boolean") return "";
  if (f.type === "intlist") return f.maxItems ? `up to ${f.maxItems} layers` : "";
  if (f.min === undefined && f.max === undefined) return "";
  const lo = f.min === undefined ? "" : `${f.exclusiveMin ? ">" : "≥"} ${f.min}`;
  const hi = f.max === undefined ? "" : `${f.exclusiveMax ? "<" : "≤"} ${f.max}`;
  return [lo, hi].filter(Boolean).join(", ");
}

/** An input for one field; `onInput` fires on every change. */
export function inputFor(f, value, onInput, { id, disabled = false } = {}) {
  let el;
  if (f.type === "enum") {
    el = h("select", { id, disabled }, f.enum.map((v) => h("option", { value: v }, String(v))));
    el.value = value ?? f.default ?? f.enum[0];
  } else if (f.type === "boolean") {
    el = h("input", { id, type: "checkbox", disabled });
    el.checked = Boolean(value ?? f.default);
  } else if (f.type === "intlist") {
    // Pydantic leaves default_factory values out of the schema: empty means "the server's default".
    el = h("input", { id, type: "text", inputmode: "numeric", disabled,
      placeholder: f.default === undefined ? "default (e.g. 64, 64; “none”: no hidden layer)" : "e.g. 64, 64" });
    el.value = Array.isArray(value) ? value.join(", ") : value ?? "";
  } else if (f.type === "integer" || f.type === "number") {
    el = h("input", {
      id,
      type: "number",
      disabled,
      step: f.type === "integer" ? "1" : "any",
      min: f.min,
      max: f.max,
    });
    el.value = value ?? f.default ?? "";
  } else {
    el = h("input", { id, type: "text", disabled });
    el.value = value ?? f.default ?? "";
  }
  el.dataset.path = f.path;
  el.addEventListener(f.type === "enum" || f.type === "boolean" ? "change" : "input", onInput);
  return el;
}

/**
 * The value an input holds, typed as the schema wants. Text that does not parse is sent as is, so
 * the server's 422 names the field and says what is wrong, in one place and one wording.
 */
export function readInput(f, el) {
  if (f.type === "boolean") return el.checked;
  if (f.type === "enum") return el.value;
  const raw = el.value.trim();
  if (f.type === "intlist") {
    if (raw === "") return f.default === undefined ? undefined : [];
    if (/^none$/i.test(raw)) return [];
    const parts = raw.split(/[\s,]+/).filter(Boolean);
    return parts.every((p) => /^-?\d+$/.test(p)) ? parts.map(Number) : raw;
  }
  if (f.type === "integer" || f.type === "number") {
    if (raw === "" && el.validity && el.validity.badInput) return "not a number";
    if (raw === "") return undefined;
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}

/** Parses a sweep's "0, 0.2, 0.5" into typed values for the field. */
export function parseValues(f, text) {
  const parts = text.split(/[,;]\s*|\s+/).map((s) => s.trim()).filter(Boolean);
  return parts.map((p) => {
    if (f.type === "boolean") return p === "true" || p === "1" || p === "yes";
    if (f.type === "integer" || f.type === "number") {
      const n = Number(p);
      return Number.isFinite(n) ? n : p;
    }
    return p;
  });
}

export function encodeSetup(obj) {
  const bytes = new TextEncoder().encode(JSON.stringify(obj));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeSetup(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}
