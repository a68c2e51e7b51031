// A class poll's words in the page's language, from the poll's fields (reglab/polls.py writes them
// in English): its question, its state, a claim's answers and the sureness of the outcome.

import { msg, t, tOr } from "../i18n.js";

const QUESTIONS = {
  "lowest-final-val-loss": msg("poll.q.lowest-final-val-loss"),
  "most-zero-weights": msg("poll.q.most-zero-weights"),
};
const WHAT = { final_val_loss: msg("poll.what.final_val_loss"), sparsity: msg("poll.what.sparsity") };
const STATES = { open: msg("poll.state.open"), running: msg("poll.state.running"), done: msg("poll.state.done") };
const CLAIM_CHOICES = { holds: msg("poll.choice.holds"), fails: msg("poll.choice.fails") };
const CLAIM = /^claim:(\d+)$/;
const CLAIM_PREFIX = "Will this claim hold? "; // polls.question_text's English, before the claim

/** The poll's question: a known one in the page's language; a claim's from the lesson's catalog. */
export function questionText(poll) {
  if (QUESTIONS[poll.question]) return t(QUESTIONS[poll.question]);
  const found = CLAIM.exec(poll.question || "");
  if (!found || !poll.text?.startsWith(CLAIM_PREFIX)) return poll.text;
  const i = Number(found[1]) - 1;
  const lesson = poll.lesson;
  return t("poll.q.claim", { claim: tOr(`lesson.${lesson}.claim.${i}`, poll.text.slice(CLAIM_PREFIX.length)) });
}

export const pollStateText = (state) => (STATES[state] ? t(STATES[state]) : state);

/** A choice as shown: a claim's holds / fails in words, a variant's name as it is. */
export const choiceText = (choice) => (CLAIM_CHOICES[choice] ? t(CLAIM_CHOICES[choice]) : choice);

/** The number the question compares (the outcome's `what`), in the page's language. */
export const whatText = (o) => (WHAT[o.metric] ? t(WHAT[o.metric]) : o.what || o.metric);

/** How sure the outcome is, from its fields; the API's sentence where they do not say it. */
export function surenessText(o) {
  if (o.held !== undefined && o.seeds !== undefined) return t("poll.sure.claim", { n: o.seeds, held: o.held });
  if (o.runner_up !== undefined && o.choice) {
    const values = { winner: o.choice, other: o.runner_up, what: whatText(o), won: o.won, n: o.seeds };
    if (o.clear) return t("poll.sure.clear", values);
    return o.seeds < 2 ? t("poll.sure.won", values) : t("poll.sure.unclear", values);
  }
  if (o.tied) return t("poll.sure.tie", { names: o.tied.join(t("list.sep")), what: whatText(o) });
  return o.sureness;
}
