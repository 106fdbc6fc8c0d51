import { SpotdiffError } from '../../util/errors.js';
import { memorySource, withFileSource, type ByteSource } from './byte-source.js';
import { ITEMSIZE } from './host-tensor.js';
import { PyDict, describePy, unpickle, type PyValue } from './pickle.js';
import type { StateDict } from './state-dict.js';
import { GatherBudget, contiguousBytes } from './strided.js';
import { StorageRef, TensorRef, torchPickleHooks } from './torch-pickle.js';
import { openZip, type ZipArchive } from './zip.js';

/**
 * Reads the state dicts PyTorch writes with `torch.save(model.state_dict(), path)` (the zip
 * format, the default since torch 1.6): `<archive>/data.pkl` holds the pickled dict, whose
 * tensors point at storages stored as `<archive>/data/<key>`.
 */

export interface ReadPthOptions {
  /**
   * The file may hold a training checkpoint wrapping the state dict: `true` takes its
   * 'state_dict' entry, else its 'model' entry (a plain state dict is taken as it is);
   * a string names the entry to take.
   */
  unwrap?: boolean | string;
  /** Removes this prefix from names that start with it (`'module.'` for DataParallel checkpoints). */
  stripPrefix?: string;
}

export async function readPth(path: string, opts: ReadPthOptions = {}): Promise<StateDict> {
  return withFileSource(path, (src) => readPthFrom(src, opts, path));
}

/** The same, for a checkpoint already in memory (tensors may be views into `bytes`). */
export async function decodePth(bytes: Uint8Array, opts: ReadPthOptions = {}): Promise<StateDict> {
  return readPthFrom(memorySource(bytes), opts, 'the checkpoint');
}

async function readPthFrom(src: ByteSource, opts: ReadPthOptions, label: string): Promise<StateDict> {
  await checkFormat(src, label);
  const zip = await openZip(src);
  const prefix = archivePrefix(zip, label);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder !== undefined && new TextDecoder().decode(await zip.read(byteorder)).trim() !== 'little') {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label} was saved on a big-endian machine, which spotdiff does not read`);
  }
  const root = unpickle(await zip.read(zip.entries.get(`${prefix}data.pkl`)!), torchPickleHooks, `${label} (data.pkl)`);
  const refs = selectStateDict(root, opts, label);

  const storages = await readStorages(zip, prefix, refs, label);
  return decodeTensors(refs, storages);
}

/** Each storage the chosen tensors use, read once: tensors sharing one storage share its bytes. */
async function readStorages(zip: ZipArchive, prefix: string, refs: Map<string, TensorRef>, label: string): Promise<Map<string, Uint8Array>> {
  const storages = new Map<string, Uint8Array>();
  for (const ref of refs.values()) {
    if (!storages.has(ref.storage.key)) storages.set(ref.storage.key, await readStorage(zip, prefix, ref.storage, label));
  }
  return storages;
}

/**
 * Every tensor's C-contiguous bytes. Strided views gather into fresh memory within a budget of
 * the storages' size (see GatherBudget); the same view under several names (tied weights) is
 * gathered once and shared, as contiguous views share their storage.
 */
function decodeTensors(refs: Map<string, TensorRef>, storages: Map<string, Uint8Array>): StateDict {
  let storageBytes = 0;
  for (const bytes of storages.values()) storageBytes += bytes.byteLength;
  const budget = new GatherBudget(storageBytes);
  const byView = new Map<string, Uint8Array>();
  const out: StateDict = new Map();
  for (const [name, ref] of refs) {
    const viewKey = `${ref.storage.key}|${ref.dtype}|${ref.offset}|${ref.size}|${ref.stride}`;
    let data = byView.get(viewKey);
    if (data === undefined) {
      data = contiguousBytes(storages.get(ref.storage.key)!, ITEMSIZE[ref.dtype], ref, name, budget);
      byView.set(viewKey, data);
    }
    out.set(name, { dtype: ref.dtype, shape: [...ref.size], data });
  }
  return out;
}

/** Tells zip archives from the legacy format and from files that are not checkpoints at all. */
async function checkFormat(src: ByteSource, label: string): Promise<void> {
  const head = await src.read(0, Math.min(src.size, 512));
  const isZip = head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5);
  if (isZip) return;
  const legacyPickle = head[0] === 0x80 && head.byteLength >= 2 && head[1]! <= 5;
  const legacyTar = head.byteLength >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === 'ustar';
  if (legacyPickle || legacyTar) {
    throw new SpotdiffError(
      'ERR_BAD_CHECKPOINT',
      `${label} is in PyTorch's legacy (pre-1.6) format, which spotdiff does not read; re-save it with a newer torch: ` +
        `torch.save(torch.load(path), path)`,
    );
  }
  if (head.byteLength >= 9 && head[8] === 0x7b) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label} looks like a safetensors file, not a PyTorch .pth; read it as safetensors`);
  }
  throw new SpotdiffError(
    'ERR_BAD_CHECKPOINT',
    head.byteLength === 0 ? `${label} is empty` : `${label} is not a PyTorch checkpoint (no zip signature)`,
  );
}

/** The archive's top folder (torch names it after the file, or 'archive'), with a trailing slash. */
function archivePrefix(zip: ZipArchive, label: string): string {
  const pickles = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new SpotdiffError(
      'ERR_BAD_CHECKPOINT',
      pickles.length === 0
        ? `${label} is a zip archive but not a torch.save checkpoint (no <archive>/data.pkl)`
        : `${label} has several data.pkl entries`,
    );
  }
  const prefix = pickles[0]!.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}constants.pkl`) || [...zip.entries.keys()].some((n) => n.startsWith(`${prefix}code/`))) {
    throw new SpotdiffError(
      'ERR_BAD_CHECKPOINT',
      `${label} is a TorchScript archive (torch.jit.save); spotdiff reads state dicts: torch.save(model.state_dict(), path)`,
    );
  }
  return prefix;
}

async function readStorage(zip: ZipArchive, prefix: string, s: StorageRef, label: string): Promise<Uint8Array> {
  const entry = zip.entries.get(`${prefix}data/${s.key}`);
  if (entry === undefined) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label} lacks the storage data/${s.key}`);
  const need = s.numel * ITEMSIZE[s.dtype];
  if (entry.size < need) {
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label}: storage data/${s.key} has ${entry.size} bytes, its tensors need ${need}`);
  }
  return (await zip.read(entry)).subarray(0, need);
}

/** Finds the name -> tensor dict the options ask for, with names as they will be returned. */
function selectStateDict(root: PyValue, opts: ReadPthOptions, label: string): Map<string, TensorRef> {
  let dict = root;
  const plain = root instanceof PyDict && [...root.items.values()].every((v) => v instanceof TensorRef);
  if (opts.unwrap === true && plain) {
    // Already a plain state dict: nothing to unwrap.
  } else if (opts.unwrap !== undefined && opts.unwrap !== false) {
    if (!(root instanceof PyDict)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label} holds ${describePy(root)}, not a checkpoint dict`);
    const keys = typeof opts.unwrap === 'string' ? [opts.unwrap] : ['state_dict', 'model'];
    const key = keys.find((k) => root.items.get(k) instanceof PyDict);
    if (key === undefined) {
      throw new SpotdiffError(
        'ERR_BAD_CHECKPOINT',
        `${label} has no state dict under ${keys.map((k) => `'${k}'`).join(' or ')}; its entries are: ${listKeys(root)}`,
      );
    }
    dict = root.items.get(key)!;
  }
  if (!(dict instanceof PyDict)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label} holds ${describePy(dict)}, not a state dict`);

  const out = new Map<string, TensorRef>();
  for (const [key, value] of dict.items) {
    if (!(value instanceof TensorRef)) {
      const hint = dict === root && (root.items.has('state_dict') || root.items.has('model'))
        ? ` It looks like a training checkpoint (entries: ${listKeys(root)}): read it with the unwrap option.`
        : '';
      throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label}: entry '${String(key)}' is ${describePy(value)}, not a tensor.${hint}`);
    }
    if (typeof key !== 'string') throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label}: a tensor is named by ${describePy(key)}, not a string`);
    const name = opts.stripPrefix && key.startsWith(opts.stripPrefix) ? key.slice(opts.stripPrefix.length) : key;
    if (out.has(name)) throw new SpotdiffError('ERR_BAD_CHECKPOINT', `${label}: two tensors are named '${name}' once '${opts.stripPrefix}' is stripped`);
    out.set(name, value);
  }
  return out;
}

function listKeys(d: PyDict): string {
  return [...d.items.keys()].map((k) => String(k)).join(', ');
}
