/**
 * Recognises which torchvision ResNet a state dict was saved from, by its names and shapes,
 * so that loading resnet50 weights into a resnet18 says so in plain words instead of only
 * listing a hundred mismatched names.
 */

interface Shaped {
  readonly shape: readonly number[];
}

/** torchvision names for [basic or bottleneck][blocks in layer3][inner width of layer1]. */
const KNOWN: readonly { name: string; bottleneck: boolean; layer3: number; width1: number }[] = [
  { name: 'resnet18', bottleneck: false, layer3: 2, width1: 64 },
  { name: 'resnet34', bottleneck: false, layer3: 6, width1: 64 },
  { name: 'resnet50', bottleneck: true, layer3: 6, width1: 64 },
  { name: 'resnet101', bottleneck: true, layer3: 23, width1: 64 },
  { name: 'resnet152', bottleneck: true, layer3: 36, width1: 64 },
  { name: 'wide_resnet50_2', bottleneck: true, layer3: 6, width1: 128 },
  { name: 'wide_resnet101_2', bottleneck: true, layer3: 23, width1: 128 },
];

/**
 * The torchvision architecture these weights look like ('resnet18', 'resnet50',
 * 'wide_resnet50_2', also 34/101/152 and wide_resnet101_2), or null when they do not look
 * like a torchvision ResNet at all.
 */
export function guessResNetArch(state: ReadonlyMap<string, Shaped>): string | null {
  const first = state.get('layer1.0.conv1.weight');
  if (first === undefined || !state.has('conv1.weight')) return null;
  const bottleneck = state.has('layer1.0.conv3.weight');
  let layer3 = 0;
  while (state.has(`layer3.${layer3}.conv1.weight`)) layer3++;
  const width1 = first.shape[0];
  const hit = KNOWN.find((k) => k.bottleneck === bottleneck && k.layer3 === layer3 && k.width1 === width1);
  if (hit) return hit.name;
  return `a ResNet-like network (${bottleneck ? 'bottleneck' : 'basic'} blocks, ${layer3} blocks in layer3, width ${width1})`;
}

/** The number of classes of the final layer, when the weights have one. */
export function classCountOf(state: ReadonlyMap<string, Shaped>): number | null {
  const fc = state.get('fc.weight');
  return fc === undefined || fc.shape.length !== 2 ? null : (fc.shape[0] as number);
}
