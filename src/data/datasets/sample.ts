/** One image of a dataset, whatever layout it came from. Paths are absolute. */
export type Label = 'normal' | 'anomaly';
export type Split = 'train' | 'test';

export interface Sample {
  /** Absolute path of the image file. */
  image: string;
  label: Label;
  /** Absolute path of the defect mask; null for normal images and datasets without masks. */
  mask: string | null;
  /** Product name (VisA "object", MVTec AD "category"). */
  object: string;
  /** Defect class name when the layout says it (MVTec AD folder, folder layout subfolder); null otherwise. */
  defect: string | null;
  /** The split the layout assigns; null when it assigns none (folder layout, raw VisA without a split file). */
  split: Split | null;
}

/** Names of the layouts `openDataset` recognises. */
export type LayoutName = 'raw-visa' | 'prepared' | 'folder';

export interface Dataset {
  layout: LayoutName;
  root: string;
  objects: string[];
  samples: Sample[];
}

export interface ReadOptions {
  /** Only these objects (error if one is not there). */
  objects?: readonly string[];
  /** Every anomalous image must have a mask (default true; the folder layout without masks/ needs none). */
  requireMasks?: boolean;
}
