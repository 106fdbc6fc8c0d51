import { buildConfig, callOp, type NativeHandle } from '../tensor/native.js';
import { Tensor } from '../tensor/tensor.js';
import { SpotdiffError, isSpotdiffError } from '../util/errors.js';

/**
 * A group's collective backends, of libtorch's c10d: 'gloo' for host tensors; 'nccl' adds NCCL
 * for CUDA tensors beside Gloo for host tensors (torch's "cpu:gloo,cuda:nccl"), chosen per
 * collective by where its tensors are.
 */
export type Backend = 'gloo' | 'nccl';
export type Reduction = 'sum' | 'max' | 'min' | 'product';

export interface ProcessGroupOptions {
  /** The store's address: rank 0 listens there, the other ranks connect to it. */
  host: string;
  port: number;
  rank: number;
  worldSize: number;
  /** How long each collective may wait for the other ranks (ms). */
  timeoutMs?: number;
  /**
   * How long joining may wait for the other ranks to start (ms; default: timeoutMs). A job whose
   * collectives may wait for hours (a benchmark's ranks wait for the slowest fit) still learns
   * within minutes that a machine never came.
   */
  joinTimeoutMs?: number;
  backend?: Backend;
  /**
   * The address this rank's Gloo connections bind to. Default: 127.0.0.1 when `host` is a
   * loopback address (every rank on this machine), else this machine's hostname, as torch does.
   */
  bindHost?: string;
  /**
   * Network interfaces for Gloo's connections, by name (e.g. ["eth1"]), as torch's
   * GLOO_SOCKET_IFNAME; when given they take the place of `bindHost`.
   */
  interfaces?: readonly string[];
}

/** torch.distributed's default (30 minutes) is for jobs that wait on slow peers; ours fail sooner. */
export const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;

/** The collective backends this build of the addon has ([] without distributed support). */
export function distributedBackends(): Backend[] {
  return callOp('dist_backends', []) as Backend[];
}

/** Throws a SpotdiffError (ERR_VERSION) saying why when this build cannot run `backend`. */
export function requireBackend(backend: Backend): void {
  const have = distributedBackends();
  if (have.length === 0) throw new SpotdiffError('ERR_VERSION', `this build has no distributed support${missingReason('reason')}`);
  if (!have.includes(backend)) throw new SpotdiffError('ERR_VERSION', `this build has no ${backend} backend (it has ${have.join(', ')})${backend === 'nccl' ? missingReason('ncclReason') : ''}`);
}

/** Why the addon was built without distributed support, or without NCCL, as native/configure.mjs recorded it. */
function missingReason(field: 'reason' | 'ncclReason'): string {
  const config = buildConfig() as { distributed?: Record<string, unknown> } | null;
  const reason = config?.distributed?.[field];
  return typeof reason === 'string' && reason !== '' ? `: ${reason}` : '';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function checkOptions(o: ProcessGroupOptions): void {
  const int = (v: number, min: number, max: number): boolean => Number.isInteger(v) && v >= min && v <= max;
  if (!int(o.worldSize, 1, 65536)) throw new SpotdiffError('ERR_BAD_INPUT', `world size must be an integer in 1..65536, got ${o.worldSize}`);
  if (!int(o.rank, 0, o.worldSize - 1)) throw new SpotdiffError('ERR_BAD_INPUT', `rank must be an integer in 0..${o.worldSize - 1}, got ${o.rank}`);
  if (!int(o.port, 1, 65535)) throw new SpotdiffError('ERR_BAD_INPUT', `port must be an integer in 1..65535, got ${o.port}`);
  if (o.host === '') throw new SpotdiffError('ERR_BAD_INPUT', 'the store host must not be empty');
  for (const name of o.interfaces ?? []) {
    if (!/^[\w.:@-]+$/.test(name)) throw new SpotdiffError('ERR_BAD_INPUT', `"${name}" is not a network interface name`);
  }
  for (const t of [o.timeoutMs ?? DEFAULT_TIMEOUT_MS, o.joinTimeoutMs ?? DEFAULT_TIMEOUT_MS]) {
    if (!int(t, 1, 2 ** 31)) throw new SpotdiffError('ERR_BAD_INPUT', `timeout must be a positive whole number of ms, got ${t}`);
  }
}

// Set by ProcessGroup's static block (the only code that may read its private id): nativeGroupId.
let groupIdOf: (group: ProcessGroup) => number;

/**
 * One rank's membership of a group of processes that compute together, over libtorch's c10d
 * (torch.distributed.init_process_group): every rank calls the same collectives in the same
 * order. Joining blocks until all `worldSize` ranks have joined. A collective that fails (a peer
 * left, or did not take part within the timeout) throws a SpotdiffError (ERR_NETWORK) naming
 * this rank; the group is unusable after that, as in torch.
 */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: Backend;
  #id: number | null;

  private constructor(id: number, o: ProcessGroupOptions, backend: Backend) {
    this.#id = id;
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.backend = backend;
  }

  static join(o: ProcessGroupOptions): ProcessGroup {
    checkOptions(o);
    const backend = o.backend ?? 'gloo';
    requireBackend(backend);
    const bindHost = o.bindHost ?? (isLoopback(o.host) ? '127.0.0.1' : '');
    const interfaces = (o.interfaces ?? []).join(',');
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const id = network(() => callOp('dist_init', [backend, o.host, o.port, o.rank, o.worldSize, timeoutMs, bindHost, interfaces, o.joinTimeoutMs ?? timeoutMs]));
    return new ProcessGroup(id as number, o, backend);
  }

  get isDestroyed(): boolean {
    return this.#id === null;
  }

  #group(): number {
    if (this.#id === null) throw new SpotdiffError('ERR_DISPOSED', `rank ${this.rank}: this process group was destroyed`);
    return this.#id;
  }

  /** Reduces each tensor across ranks, in place (contiguous tensors). */
  allReduce(tensors: readonly Tensor[], reduction: Reduction = 'sum'): void {
    const id = this.#group();
    network(() => callOp('dist_all_reduce', [id, tensors.map((t) => t.handle), reduction]));
  }

  /** Overwrites each tensor with rank `root`'s values, in place. */
  broadcast(tensors: readonly Tensor[], root = 0): void {
    const id = this.#group();
    network(() => callOp('dist_broadcast', [id, tensors.map((t) => t.handle), root]));
  }

  /** Every rank's `t` (same shape and dtype on every rank), in rank order. */
  allGather(t: Tensor): Tensor[] {
    const id = this.#group();
    const handles = network(() => callOp('dist_all_gather', [id, t.handle])) as NativeHandle[];
    return handles.map((h) => new Tensor(h));
  }

  /** Returns once every rank has called it. */
  barrier(): void {
    const id = this.#group();
    network(() => callOp('dist_barrier', [id]));
  }

  /**
   * Adds `delta` to the integer under `key` in the group's store (0 when new) and returns the
   * sum, atomically across ranks (torch's store.add). Not a collective: each rank calls it alone.
   */
  storeAdd(key: string, delta: number): number {
    const id = this.#group();
    if (key === '') throw new SpotdiffError('ERR_BAD_INPUT', 'a store key must not be empty');
    if (!Number.isSafeInteger(delta)) throw new SpotdiffError('ERR_BAD_INPUT', `a store increment must be a safe integer, got ${delta}`);
    return network(() => callOp('dist_store_add', [id, key, delta])) as number;
  }

  static {
    groupIdOf = (group) => group.#group();
  }

  /** Leaves the group (closes its connections; rank 0 stops the store). Safe to call twice. */
  destroy(): void {
    if (this.#id === null) return;
    callOp('dist_destroy', [this.#id]);
    this.#id = null;
  }
}

/**
 * The group's native id, for ops that run collectives of their own on it
 * (native/src/ops/distributed_group.h); ERR_DISPOSED once the group was destroyed.
 */
export function nativeGroupId(group: ProcessGroup): number {
  return groupIdOf(group);
}

/** libtorch's failures of a collective (peer gone, timeout) become ERR_NETWORK; argument errors stay. */
function network<R>(fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    if (isSpotdiffError(e, 'ERR_TORCH')) throw new SpotdiffError('ERR_NETWORK', e.message, { cause: e });
    throw e;
  }
}
