// The live view's lesson panels (L1 against L2 by weight size, dropout's thinned nets): each
// shown only for a comparison that has what it pictures.
//
// A new panel is two lines here: built in `lessonPanels` when the comparison calls for it (its
// own `section.panel` box, placed between the charts and the snapshots) and given `update()`,
// which `updatePanels` calls whenever the model gained a snapshot.

import { h } from "../dom.js";
import { EnsemblePanel, thinnedVariants } from "./ensemble.js";
import { penaltyPair, ShrinkPanel } from "./shrink.js";

/** The panels this comparison calls for, each in its own box appended to `root`. */
export function lessonPanels(root, model) {
  const box = (cls) => root.appendChild(h("section", { class: `panel ${cls}` }));
  const panels = [];
  // L1 against L2 by weight size, when the comparison has an L1 variant and an L2 variant.
  const pair = penaltyPair(model);
  if (pair) panels.push(new ShrinkPanel(box("shrink-panel"), { model, pair }));
  // Dropout's thinned nets against the scaled net, for the variants that asked for them.
  const thinned = thinnedVariants(model);
  if (thinned.length) panels.push(new EnsemblePanel(box("ensemble-panel"), { model, variants: thinned }));
  return panels;
}

/** Brings every lesson panel up to the model (called when the model gained a snapshot). */
export function updatePanels(panels) {
  for (const panel of panels) panel.update();
}
