// One challenge (#/challenges/{id}): the task, the open fields as a small form, entries left, the
// board live (its websocket), the class picture, and after the reveal the private ranks and shake-up.

import { api, boardSocketUrl, pageUrl } from "../api.js";
import { clear, fmt, h } from "../dom.js";
import { t } from "../i18n.js";
import { report } from "../probe.js";
import { challengeStatusText, drawBoard, drawClass, drawShakeUp, metricText } from "./challenge-plots.js";
import { fieldMap, getPath, inputFor, readInput, sections, setPath } from "./schema.js";

const RETRY_MS = 2000; // a dropped board stream is opened again after this

function stat(s) {
  if (!s) return "—";
  const ci = s.low === null || s.high === null ? "" : ` [${fmt(s.low, 3)}, ${fmt(s.high, 3)}]`;
  return `${fmt(s.mean, 4)} ± ${fmt(s.sd, 2)}${ci} (n = ${s.n})`;
}

function changedText(changed) {
  const parts = Object.entries(changed || {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`);
  return parts.length ? parts.join(", ") : t("challenge.changed.none");
}

function moveText(change) {
  if (change === null || change === undefined) return "—";
  if (change > 0) return `▲ ${change}`;
  return change < 0 ? `▼ ${-change}` : "=";
}

function boardTable(board) {
  const revealed = board.revealed;
  const metric = metricText(board.metric);
  const head = ["#", t("challenge.col.student"), t("challenge.col.entry"), t("challenge.col.changed"), t("challenge.public", { metric }), t("challenge.col.beats"), t("challenge.col.left"), t("challenge.col.runs")];
  if (revealed) head.splice(5, 0, t("challenge.private", { metric }), t("challenge.col.privateRank"), t("challenge.col.move"));
  const rows = board.rows.map((r) => {
    const base = r.kind === "baseline";
    const cells = [
      base ? "—" : r.rank === null ? "…" : `${r.rank}${r.tied ? " ≈" : ""}`,
      base ? t("challenge.baseline") : r.owner,
      r.name,
      changedText(r.changed),
      stat(r.public),
      base ? "" : (r.beats || []).join(t("list.sep")) || t("challenge.beats.none"),
      base ? "" : String(r.entries_left),
      h("a", { href: pageUrl.experiment(r.experiment_id) }, r.status === "finished" ? t("challenge.link.curves") : t("challenge.link.live")),
    ];
    if (revealed) cells.splice(5, 0, stat(r.private), base ? "—" : r.private_rank ?? "…", base ? "" : moveText(r.rank_change));
    return h("tr", { class: base ? "baseline-row" : "entry-row", "data-kind": r.kind, "data-owner": r.owner, "data-rank": r.rank ?? "" },
      cells.map((c) => h("td", {}, c)));
  });
  return h("table", { class: "summary", id: "board-table" },
    h("thead", {}, h("tr", {}, head.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows));
}

function entryForm(ctx, challenge, schema, onEntered) {
  const fields = fieldMap(sections(schema));
  const inputs = new Map();
  const name = h("input", { id: "entry-name", type: "text", maxlength: 40, value: t("challenge.entry.defaultName") });
  const rows = challenge.open.filter((p) => fields.has(p)).map((path) => {
    const f = fields.get(path);
    const id = `open-${path.replace(/\./g, "-")}`;
    const input = inputFor(f, getPath(challenge.base, path), () => {}, { id });
    inputs.set(path, input);
    return h("div", { class: "field", "data-field": `override.${path}` }, h("label", { for: id, title: f.description }, path), input);
  });
  const left = h("p", { id: "entries-left", class: "notice" });
  const showLeft = (n) => (left.textContent = n === null || n === undefined ? t("challenge.entry.needName") : t("challenge.entry.left", { n, max: challenge.max_entries }));
  showLeft(challenge.entries_left);
  const error = h("p", { class: "form-error", id: "entry-error", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "submit-entry", disabled: challenge.status !== "open" }, t("challenge.entry.submit"));
  const form = h("form", { class: "panel setup-form", id: "entry-form" },
    h("h2", {}, t("challenge.entry.title")),
    h("p", { class: "muted" }, t("challenge.entry.lead", { repeats: challenge.repeats })),
    h("div", { class: "field" }, h("label", { for: "entry-name" }, t("challenge.entry.name")), name),
    rows, left, error, h("div", { class: "form-actions" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await ctx.ensureUser(t("challenge.entry.why"));
    const override = {};
    for (const [path, input] of inputs) {
      const value = readInput(fields.get(path), input);
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(getPath(challenge.base, path))) setPath(override, path, value);
    }
    submit.disabled = true;
    error.hidden = true;
    try {
      await api.enterChallenge(challenge.id, { name: name.value.trim(), override });
      ctx.toast(t("challenge.entry.submitted"));
      const fresh = await api.challenge(challenge.id);
      showLeft(fresh.entries_left);
      onEntered();
    } catch (err) {
      error.textContent = Array.isArray(err.detail) ? err.detail.map((d) => `${d.field}: ${d.msg}`).join("; ") : err.message;
      error.hidden = false;
    } finally {
      submit.disabled = challenge.status !== "open";
    }
  });
  return form;
}

function teacherControls(ctx, challenge) {
  if (!ctx.state.teacher) return null;
  const act = (label, id, call) => {
    const b = h("button", { type: "button", class: "ghost", id }, label);
    b.addEventListener("click", async () => {
      try {
        await call(challenge.id);
        ctx.navigate(pageUrl.challenge(challenge.id));
      } catch (err) {
        ctx.toast(err.message, "error");
      }
    });
    return b;
  };
  return h("div", { class: "toolbar", id: "teacher-controls" },
    challenge.status === "open" ? act(t("challenge.close"), "close-challenge", api.closeChallenge) : null,
    challenge.status !== "revealed" ? act(t("challenge.reveal"), "reveal-challenge", api.revealChallenge) : null);
}

export async function render(root, ctx) {
  const id = ctx.route.id;
  const [challenge, schema, session] = await Promise.all([
    api.challenge(id), ctx.loadSchema(), api.session().catch(() => ({ teacher: false }))]);
  if (ctx.signal?.aborted) return;
  ctx.setTeacher(session.teacher);
  const data = challenge.base.data;
  const tableBox = h("div", { class: "panel table-panel", id: "board" }, h("p", { class: "loading" }, t("challenge.loading")));
  const boardPlot = h("div", { class: "chart", id: "board-plot" });
  const classPlot = h("div", { class: "chart chart-tall", id: "class-plot" });
  const shakePlot = h("div", { class: "chart chart-tall", id: "shake-up" });
  root.append(
    h("section", { class: "intro" },
      h("h1", {}, challenge.title, " ", h("span", { class: `badge status-${challenge.status}`, id: "challenge-status", "data-status": challenge.status }, challengeStatusText(challenge.status))),
      challenge.description ? h("p", { class: "lead" }, challenge.description) : null,
      h("p", { class: "muted", id: "challenge-task" },
        t("challenge.task", {
          setup: challenge.lesson ? t("challenge.task.lesson", { lesson: challenge.lesson }) : t("challenge.task.teacher"),
          kind: data.kind, n: data.n_train, epochs: challenge.base.train.epochs, max: challenge.max_epochs,
          metric: metricText(challenge.metric), public: challenge.public_test, repeats: challenge.repeats, private: challenge.private_test,
        }))),
    teacherControls(ctx, challenge),
    h("div", { class: "chart-grid" }, entryForm(ctx, challenge, schema, () => {}), h("div", { class: "panel" }, boardPlot)),
    tableBox,
    h("div", { class: "panel" }, classPlot),
    h("div", { class: "panel", id: "shake-up-panel", hidden: true }, shakePlot),
  );

  const show = (board) => {
    clear(tableBox).append(h("h2", {}, board.revealed ? t("challenge.board.both") : t("challenge.board.public")),
      h("p", { class: "muted" }, t("challenge.board.note")),
      boardTable(board));
    drawBoard(boardPlot, board);
    drawClass(classPlot, board, challenge.base);
    const shake = document.getElementById("shake-up-panel");
    if (board.revealed && shake) {
      shake.hidden = false;
      drawShakeUp(shakePlot, board);
    }
  };

  // The board live: each message is the whole board; a dropped stream resumes with what it had.
  let socket = null;
  let retry = null;
  let stopped = false;
  let seen = { since: 0, status: "" };
  const open = () => {
    if (ctx.signal?.aborted) return;
    socket = new WebSocket(boardSocketUrl(id, seen.since, seen.status));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      seen = { since: message.cursor, status: message.status };
      report("board", message.board); // tests read the board the page shows
      show(message.board);
    });
    socket.addEventListener("close", () => {
      socket = null;
      if (!ctx.signal?.aborted && !stopped) retry = setTimeout(open, RETRY_MS);
    });
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(retry);
    if (socket) socket.close();
  };
}
