// The challenges of this server, and the teacher's form that sets one (admin token only).

import { api, pageUrl } from "../api.js";
import { h } from "../dom.js";

// The fields a teacher most often opens: the lecture's remedies and the step size.
const SUGGESTED = ["regularization.l2", "regularization.l1", "regularization.dropout", "regularization.early_stopping", "optimizer.lr", "train.epochs"];

function teacherForm(ctx, lessons) {
  const field = (id, labelText, input) => h("div", { class: "field" }, h("label", { for: id }, labelText), input);
  const title = h("input", { id: "ch-title", type: "text", value: "Beat the overfitting net" });
  const lesson = h("select", { id: "ch-lesson" }, lessons.map((l) => h("option", { value: l.name }, l.title)));
  lesson.value = lessons.some((l) => l.name === "overfitting") ? "overfitting" : lessons[0]?.name ?? "";
  const epochs = h("input", { id: "ch-epochs", type: "number", min: 1, step: 1, placeholder: "the lesson's" });
  const repeats = h("input", { id: "ch-repeats", type: "number", min: 1, max: 10, value: 3 });
  const maxEntries = h("input", { id: "ch-max-entries", type: "number", min: 1, max: 50, value: 3 });
  const metric = h("select", { id: "ch-metric" }, h("option", { value: "accuracy" }, "accuracy"), h("option", { value: "loss" }, "loss"));
  const boxes = SUGGESTED.map((path) => h("label", { class: "inline" }, h("input", { type: "checkbox", value: path, checked: path !== "train.epochs" && path !== "regularization.l1", "data-open": path }), ` ${path} `));
  const error = h("p", { class: "form-error", hidden: true });
  const create = h("button", { type: "submit", class: "primary", id: "create-challenge" }, "Set this challenge");
  const form = h("form", { class: "panel setup-form", id: "challenge-form" },
    h("h2", {}, "Set a challenge (teacher)"),
    h("p", { class: "muted" }, "The task is the lesson's setup, fixed for everyone; students may change only the fields ticked below. The server trains three baselines at once: simple (no remedy), medium (L2 λ = 0.01) and strong (the best of a small sweep)."),
    field("ch-title", "Title", title),
    field("ch-lesson", "Task from lesson", lesson),
    field("ch-epochs", "Epochs (also each entry's most)", epochs),
    field("ch-repeats", "Seeds per entry R", repeats),
    field("ch-max-entries", "Entries per student", maxEntries),
    field("ch-metric", "Scored by", metric),
    h("fieldset", {}, h("legend", {}, "Fields students may change"), boxes),
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
        h("span", { class: `badge status-${c.status}` }, c.status), " ",
        h("span", { class: "muted" }, `${c.lesson || "own setup"} · R = ${c.repeats} · ${c.max_entries} entries each · by ${c.metric}`))))
    : h("p", { class: "muted" }, "No challenge yet.");
  root.append(
    h("section", { class: "intro" }, h("h1", {}, "Challenges"),
      h("p", { class: "lead" }, "A task set by the teacher: change the open fields, submit an entry, and see where it lands on the board. The board ranks by the mean over several seeds, on a small public test set; a large private test set decides at the end.")),
    h("div", { class: "panel" }, list),
    // Only the teacher sets a challenge: signed in on the class page (an HttpOnly cookie).
    session.teacher
      ? teacherForm(ctx, lessons)
      : h("p", { class: "muted", id: "teacher-hint" }, "Teachers: ", h("a", { href: "#/class" }, "sign in on the class page"), " to set a challenge."),
  );
}
