// Kept free of the tensor engine, so the CLI can check --kind before loading libtorch.

/** The augmentations `spotdiff augment --kind` shows. */
export const AUGMENT_KINDS = ['smoothblend', 'cutpaste', 'scar', 'weak', 'strong'] as const;
export type AugmentKind = (typeof AUGMENT_KINDS)[number];

export function isAugmentKind(s: string): s is AugmentKind {
  return (AUGMENT_KINDS as readonly string[]).includes(s);
}
