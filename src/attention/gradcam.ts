import * as T from '../tensor/index.js';
import { extractFeatures } from '../models/feature-extractor.js';
import { consume } from '../models/resnet-blocks.js';
import type { ResNet } from '../models/resnet.js';
import { SpotdiffError } from '../util/errors.js';
import { ATTENTION_LAYERS, type AttentionLayer } from './layers.js';

/**
 * Attention maps as in the SPD paper's Fig. 11: GradCAM (Selvaraju et al.) on a similarity
 * rather than a class score. For an image x and the pooled embedding e of its nearest normal
 * image, L = −cos(pool(f(x)), e); with A the chosen layer's activations [C, h, w],
 *   w_c = mean over (h, w) of ∂L/∂A_c,   map = ReLU(Σ_c w_c·A_c),
 * i.e. where the activations push the embedding away from the normal one. The grid is then
 * upsampled bilinearly (align_corners false) to the image size and min-max normalised to [0, 1].
 *
 * ∂L/∂A is taken without hooks: the network runs to the layer without gradients, A becomes a
 * leaf that requires one, and the rest of the network runs from it. The parameters' gradients
 * are switched off meanwhile (nothing accumulates on the model).
 */

/** Pooled layer4 embeddings [N, C] of normalised images; puts the model in eval mode (BatchNorm on running statistics), no gradients. */
export function pooledEmbeddings(model: ResNet, x: T.Tensor): T.Tensor {
  model.eval();
  return T.noGrad(() => T.tidy(() => T.flatten(extractFeatures(model, x, ['avgpool']).get('avgpool') as T.Tensor, 1)));
}

/** For each query embedding [N, C], the index of the most cosine-similar normal embedding [M, C] and that similarity. */
export function nearestByCosine(normals: T.Tensor, queries: T.Tensor): { index: number[]; cosine: number[] } {
  if (normals.rank !== 2 || queries.rank !== 2 || normals.shape[1] !== queries.shape[1] || normals.shape[0] === 0) {
    throw new SpotdiffError('ERR_SHAPE', `nearestByCosine: normal [${normals.shape.join(', ')}] and query [${queries.shape.join(', ')}] embeddings must be [M ≥ 1, C] and [N, C]`);
  }
  return T.tidy(() => {
    const sim = T.matmul(T.normalize(queries, 2, 1), T.transpose(T.normalize(normals, 2, 1), 0, 1));
    const [best, arg] = T.max(sim, 1) as [T.Tensor, T.Tensor];
    return { index: Array.from(arg.data() as BigInt64Array, Number), cosine: Array.from(best.toFloat32()) };
  });
}

/** The GradCAM grid [N, h, w] (before upsampling) of images x [N, 3, H, W] against target embeddings [N, C]. */
export function gradCamGrid(model: ResNet, x: T.Tensor, targets: T.Tensor, layer: AttentionLayer): T.Tensor {
  const stage = ATTENTION_LAYERS.indexOf(layer);
  if (stage < 0) throw new SpotdiffError('ERR_BAD_INPUT', `unknown layer "${String(layer)}"; choose one of ${ATTENTION_LAYERS.join(', ')}`);
  if (targets.rank !== 2 || targets.shape[0] !== x.shape[0] || targets.shape[1] !== model.stageChannels[3]) {
    throw new SpotdiffError('ERR_SHAPE', `gradCamGrid: targets must be [${x.shape[0]}, ${model.stageChannels[3]}] (one embedding per image), got [${targets.shape.join(', ')}]`);
  }
  model.eval();
  const params = model.parameters();
  const required = params.map((p) => p.requiresGrad);
  params.forEach((p) => p.setRequiresGrad(false));
  try {
    return T.tidy(() => {
      const activations = T.noGrad(() =>
        T.tidy(() => {
          let a = model.stem(x);
          for (let i = 0; i <= stage; i++) a = consume(a, (t) => model.runStage(i as 0 | 1 | 2 | 3, t));
          return a;
        }),
      );
      activations.setRequiresGrad(true);
      const pooled = T.enableGrad(() =>
        T.tidy(() => {
          let y = activations;
          for (let i = stage + 1; i < 4; i++) y = y === activations ? model.runStage(i as 0 | 1 | 2 | 3, y) : consume(y, (t) => model.runStage(i as 0 | 1 | 2 | 3, t));
          return model.pool(y); // pool() leaves its input alone
        }),
      );
      // Each image's loss depends on its own activations only (BatchNorm in eval mode), so the sum's gradient is each one's.
      const loss = T.enableGrad(() => T.sum(T.neg(T.cosineSimilarity(pooled, T.detach(targets), 1, 1e-8))));
      loss.backward();
      const grad = activations.grad;
      if (grad === null) throw new Error('no gradient reached the layer');
      return T.noGrad(() => {
        const weights = T.mean(grad, [2, 3], true);
        return T.relu(T.sum(T.mul(weights, T.detach(activations)), 1));
      });
    });
  } finally {
    params.forEach((p, i) => p.setRequiresGrad(required[i] as boolean));
  }
}

/** Upsamples grids [N, h, w] bilinearly to [height, width] and min-max normalises each to [0, 1] (a flat map becomes all 0). */
export function camToMaps(cam: T.Tensor, height: number, width: number): T.Tensor {
  return T.noGrad(() =>
    T.tidy(() => {
      const up = T.squeeze(T.interpolate(T.unsqueeze(cam, 1), [height, width], 'bilinear', false), 1);
      const lo = T.amin(up, [1, 2], true);
      const range = T.sub(T.amax(up, [1, 2], true), lo);
      return T.where(T.gt(range, 0), T.div(T.sub(up, lo), range), 0);
    }),
  );
}
