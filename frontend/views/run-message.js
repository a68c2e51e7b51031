// A run's status message (the API's English sentence) in the page's language, when it is one the page knows.

import { language, msg, t } from "../i18n.js";

// The API's sentences (training/loop.py, jobs/scheduler.py) and the catalog key that says each;
// tests/unit/test_run_messages.py holds these patterns to the sentences the backend writes.
const PATTERNS = [
  [/^Trained all (?<epochs>\d+) epochs\.$/, () => msg("message.completed")],
  [/^Stopped early after epoch (?<epoch>\d+): validation loss had not improved for (?<patience>\d+) epochs since its best at epoch (?<best>\d+) \(whose weights are (?<kept>kept|not kept)\)\.$/,
    (g) => (g.kept === "kept" ? msg("message.stoppedKept") : msg("message.stoppedNotKept"))],
  [/^Diverged in epoch (?<epoch>\d+): the loss became (?<bad>\S+)\. The steps were too large for this setup; try a learning rate below (?<lr>\S+?)\. Reported weights are (?<kept>those of its best epoch|its initial ones)\.$/,
    (g) => (g.kept === "its initial ones" ? msg("message.divergedInitial") : msg("message.divergedBest"))],
  [/^Cancelled on request\.$/, () => msg("message.cancelled")],
  [/^Cancelled before it started\.$/, () => msg("message.cancelledQueued")],
  [/^Cancelled; the identical run it shared goes on for the others\.$/, () => msg("message.cancelledShared")],
];

/** {key, values} of the catalog sentence that says `message`, or null for one the page does not know. */
export function parseRunMessage(message) {
  for (const [pattern, key] of PATTERNS) {
    const found = pattern.exec(message || "");
    if (found) return { key: key(found.groups || {}), values: { ...found.groups } };
  }
  return null;
}

/** The message in the page's language; the API's own words in English, or when the page does not know it. */
export function runMessage(message) {
  if (!message || language() === "en") return message;
  const known = parseRunMessage(message);
  return known ? t(known.key, known.values) : message;
}
