// The challenges of this server, and the teacher's form that sets one (admin token only).

import { api, pageUrl } from "../api.js";
import { h } from "../dom.js";
import { t, tOr } from "../i18n.js";
import { challengeStatusText, metricText } from "./challenge-plots.js";

// The fields a teacher most often opens: the lecture's remedies and the step size.
const SUGGESTED = ["regularization.l2", "regularization.l1", "regularization.dropout", "regularization.early_stopping", "optimizer.lr", "train.epochs"];

function teacherForm(ctx, lessons) {
  const field = (id, labelText, input) => h("div", { class: "field" }, h("label", { for: id }, labelText), input);
  const title = h("input", { id: "ch-title", type: "text", value: t("challenges.form.defaultTitle") });
  const lesson = h("select", { id: "ch-lesson" }, lessons.map((l) => h("option", { value: l.name }, tOr(`lesson.${l.name}.title`, l.title))));
  lesson.value = lessons.some((l) => l.name === "overfitting") ? "overfitting" : lessons[0]?.name ?? "";
  const epochs = h("input", { id: "ch-epochs", type: "number", min: 1, step: 1, placeholder: t("challenges.form.epochsPlaceholder") });
  const repeats = h("input", { id: "ch-repeats", type: "number", min: 1, max: 10, value: 3 });
  const maxEntries = h("input", { id: "ch-max-entries", type: "number", min: 1, max: 50, value: 3 });
  const metric = h("select", { id: "ch-metric" }, h("option", { value: "accuracy" }, metricText("accuracy")), h("option", { value: "loss" }, metricText("loss")));
  const boxes = SUGGESTED.map((path) => h("label", { class: "inline" }, h("input", { type: "checkbox", value: path, checked: path !== "train.epochs" && path !== "regularization.l1", "data-open": path }), ` ${path} `));
  const error = h("p", { class: "form-error", hidden: true });
  const create = h("button", { type: "submit", class: "primary", id: "create-challenge" }, t("challenges.form.create"));
  const form = h("form", { class: "panel setup-form", id: "challenge-form" },
    h("h2", {}, t("challenges.form.title")),
    h("p", { class: "muted" }, t("challenges.form.lead")),
    field("ch-title", t("challenges.form.titleLabel"), title),
    field("ch-lesson", t("challenges.form.lesson"), lesson),
    field("ch-epochs", t("challenges.form.epochs"), epochs),
    field("ch-repeats", t("challenges.form.repeats"), repeats),
    field("ch-max-entries", t("challenges.form.maxEntries"), maxEntries),
    field("ch-metric", t("challenges.form.metric"), metric),
    h("fieldset", {}, h("legend", {}, t("challenges.form.open")), boxes),
    error,
    h("div", { class: "form-actions" }, create));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      title: title.value.trim(),
      lesson: lesson.value,
      open: boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => b.value),
      repeats: Number(repeats.value),
      max_entries: Number(maxEntries.value),
      metric: metric.value,
    };
    if (epochs.value) body.base = { train: { epochs: Number(epochs.value) } };
    create.disabled = true;
    try {
      const made = await api.createChallenge(body);
      ctx.navigate(pageUrl.challenge(made.id));
    } catch (err) {
      const detail = Array.isArray(err.detail) ? err.detail.map((d) => `${d.field}: ${d.msg}`).join("; ") : err.message;
      error.textContent = detail;
      error.hidden = false;
      create.disabled = false;
    }
  });
  return form;
}

export async function render(root, ctx) {
  const [found, lessons, session] = await Promise.all([
    api.challenges(), ctx.loadLessons().catch(() => []), api.session().catch(() => ({ teacher: false }))]);
  if (ctx.signal?.aborted) return;
  ctx.setTeacher(session.teacher);
  const list = found.length
    ? h("ul", { class: "history", id: "challenge-list" }, found.map((c) => h("li", {},
        h("a", { href: pageUrl.challenge(c.id), class: "exp-link" }, c.title), " ",
        h("span", { class: `badge status-${c.status}`, "data-status": c.status }, challengeStatusText(c.status)), " ",
        h("span", { class: "muted" }, t("challenges.item", { lesson: c.lesson || t("challenges.ownSetup"), repeats: c.repeats, max: c.max_entries, metric: metricText(c.metric) })))))
    : h("p", { class: "muted" }, t("challenges.none"));
  root.append(
    h("section", { class: "intro" }, h("h1", {}, t("nav.challenges")),
      h("p", { class: "lead" }, t("challenges.lead"))),
    h("div", { class: "panel" }, list),
    // Only the teacher sets a challenge: signed in on the class page (an HttpOnly cookie).
    session.teacher
      ? teacherForm(ctx, lessons)
      : h("p", { class: "muted", id: "teacher-hint" }, t("challenges.hint.before"), h("a", { href: "#/class" }, t("challenges.hint.link")), t("challenges.hint.after")),
  );
}
