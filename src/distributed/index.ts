// Data-parallel training across processes over libtorch's c10d: import * as D from '../distributed/index.js'.
export { ProcessGroup, distributedBackends, requireBackend, DEFAULT_TIMEOUT_MS, type Backend, type Reduction, type ProcessGroupOptions } from './process-group.js';
export { averageGradients, broadcastState } from './grad-average.js';
export { GradientReducer, type GradientReducerOptions, type GradientReducerStats } from './grad-reducer.js';
export { tensorBuckets, throughBuckets, DEFAULT_BUCKET_BYTES } from './buckets.js';
export { DistributedSampler, type DistributedSamplerOptions } from './sampler.js';
export { launchWorkers, workerEnv, type LaunchOptions, type LaunchResult } from './launch.js';
export { oneGpuPerWorker, workerDevice, workerPlaceFromEnv, type WorkerPlace } from './env.js';
export { gatherRows, shuffleRows, unshuffleRows, type ShuffledRows } from './batch-shuffle.js';
export { SyncBatchNorm, convertSyncBatchNorm, type SyncBatchNormOptions } from './sync-batchnorm.js';
