// The setup form's fields, read from the server's RunSpec JSON schema so limits and defaults cannot drift.

import { h } from "../dom.js";
import { t, tOr } from "../i18n.js";

// Each section's title and each field's label are the catalog's (section.<key>.title,
// field.<path>.label); the help is the schema's own English description unless the catalog has
// field.<path>.help. A field the catalogs do not know yet shows its key.
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
    label: tOr(`field.${path}.label`, key.replace(/_/g, " ")),
    description: tOr(`field.${path}.help`, prop.description || ""),
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
      title: tOr(`section.${key}.title`, key),
      description: tOr(`section.${key}.help`, section.description || ""),
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
  if (f.type === "intlist") return f.maxItems ? t("form.limits.layers", { n: f.maxItems }) : "";
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
      placeholder: f.default === undefined ? t("form.hidden.placeholderDefault") : t("form.hidden.placeholder") });
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
