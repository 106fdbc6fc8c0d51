import type { Command } from './command.js';

/**
 * The command table: one line per verb, each loaded only when used so that `spotdiff metrics`
 * does not pay for loading libtorch. Add a verb by adding its file in src/cli/ and a line here.
 */
export const commands: Record<string, () => Promise<Command>> = {
  doctor: async () => (await import('./doctor.js')).command,
  prepare: async () => (await import('./prepare.js')).command,
  split: async () => (await import('./split.js')).command,
  download: async () => (await import('./download.js')).command,
  synth: async () => (await import('./synth.js')).command,
  metrics: async () => (await import('./metrics.js')).command,
  features: async () => (await import('./features.js')).command,
  demo: async () => (await import('./demo.js')).command,
  augment: async () => (await import('./augment.js')).command,
  fit: async () => (await import('./fit.js')).command,
  eval: async () => (await import('./eval.js')).command,
  predict: async () => (await import('./predict.js')).command,
  export: async () => (await import('./export.js')).command,
  serve: async () => (await import('./serve.js')).command,
  benchmark: async () => (await import('./benchmark.js')).command,
  'finetune-fewshot': async () => (await import('./finetune-fewshot.js')).command,
  attention: async () => (await import('./attention.js')).command,
  pretrain: async () => (await import('./pretrain.js')).command,
  ablation: async () => (await import('./ablation.js')).command,
};
