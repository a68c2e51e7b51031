// A run's diagnosis said in the page's language from its fields (branch, cause, numbers), as
// backend/reglab/diagnosis.py says it in English: the same rules, the same number formats.

import { msg, t as translate } from "../i18n.js";
import { STATUS } from "../statuses.js";

// diagnosis.py's thresholds, for choosing which of its sentences a diagnosis carries.
const ABOVE_MIN = 1.3;
const EXCESS = 0.1;

/** Python's `{:.{p}g}`: p significant digits, trailing zeros dropped, e-notation as Python writes it. */
export function pyG(x, p = 3) {
  if (x === 0) return "0";
  const [mantissa, e] = x.toExponential(p - 1).split("e");
  const exp = Number(e);
  if (exp < -4 || exp >= p) {
    const m = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const fixed = x.toFixed(Math.max(0, p - 1 - exp));
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

/** Python's `{:.0%}`. */
const pyPct = (x) => `${(x * 100).toFixed(0)}%`;

const TRAINING = {
  "vanishing-gradients": msg("diag.training.vanishing"),
  "learning-rate": msg("diag.training.learningRate"),
  plateau: msg("diag.training.plateau"),
};

/**
 * The diagnosis `d` of `run` (its status and spec) in the page's language, or the API's own
 * sentence when its numbers do not say which sentence it is. `t` is i18n.js's t() (a test passes its own).
 */
export function diagnosisText(d, run, t = translate) {
  const n = d.numbers || {};
  const has = (...keys) => keys.every((k) => typeof n[k] === "number");
  if (d.branch === "training") {
    if (run?.status === STATUS.diverged) {
      const lr = run.spec?.optimizer?.lr;
      const rate = typeof lr === "number" ? t("diag.diverged.rate", { lr: pyG(lr, 6) }) : "";
      return t("diag.diverged", { rate });
    }
    if (!has("final_train_loss", "baseline_loss")) return d.sentence;
    const train = n.final_train_loss;
    const baseline = n.baseline_loss;
    const share = t("diag.share", { train: pyG(train), share: pyPct(train / baseline), baseline: pyG(baseline) });
    if (d.cause === "vanishing-gradients" && has("grad_ratio")) return t(TRAINING[d.cause], { share, ratio: (1 / n.grad_ratio).toFixed(0) });
    if (d.cause === "learning-rate" && has("step_early", "step_late")) return t(TRAINING[d.cause], { share, ratio: pyPct(n.step_late / n.step_early) });
    if (d.cause === "plateau" && has("early_train_loss")) return t(TRAINING[d.cause], { share, flat: pyG(n.early_train_loss) });
    if (!d.cause) return t("diag.training.unknown", { share });
    return d.sentence;
  }
  if (d.branch === "overfitting") {
    if (!has("final_train_loss", "reported_val_loss", "best_val_loss", "baseline_loss")) return d.sentence;
    const [train, val, best, baseline] = [n.final_train_loss, n.reported_val_loss, n.best_val_loss, n.baseline_loss];
    const atBest = n.train_loss_at_best;
    const stillFalling = typeof atBest !== "number" || train < atBest;
    if (val >= ABOVE_MIN * best && val - best > EXCESS * baseline && stillFalling) {
      return t("diag.overfitting.ratio", { train: pyG(train), val: pyG(val), ratio: (val / best).toFixed(1), best: pyG(best) });
    }
    const reported = n.reported_train_loss ?? train;
    return t("diag.overfitting.gap", { train: pyG(reported), val: pyG(val), gap: pyG(val - reported), baseline: pyG(baseline) });
  }
  if (d.branch === "fine") {
    if (!has("final_train_loss", "reported_val_loss", "best_val_loss", "baseline_loss")) return d.sentence;
    const [train, val, best, baseline] = [n.final_train_loss, n.reported_val_loss, n.best_val_loss, n.baseline_loss];
    const unsteady = val >= ABOVE_MIN * best ? t("diag.fine.unsteady", { ratio: (val / best).toFixed(1) }) : "";
    return t("diag.fine", { train: pyG(train), share: pyPct(train / baseline), baseline: pyG(baseline), val: pyG(val), best: pyG(best), unsteady });
  }
  return d.sentence;
}
