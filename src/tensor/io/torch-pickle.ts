import type { DType } from '../dtype.js';
import { SpotdiffError } from '../../util/errors.js';
import { PyDict, PyTuple, describePy, type PyCustom, type PyValue, type UnpicklerHooks } from './pickle.js';

/**
 * What torch.save's pickle means, without torch: the handful of globals a saved state dict
 * refers to (OrderedDict, the tensor rebuild functions, storage classes, dtypes) become
 * plain records; every other global is refused by name. Storages stay references to archive
 * entries (`data/<key>`) until the caller reads the ones it needs.
 */

/** A reference to one of the accepted torch / collections globals. */
export class TorchGlobal implements PyCustom {
  constructor(
    readonly module: string,
    readonly name: string,
    /** For storage classes and dtypes, the element type they stand for. */
    readonly dtype?: DType,
  ) {}
  get pyDescription(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage: the archive entry `data/<key>` holding `numel` elements of `dtype`. */
export class StorageRef implements PyCustom {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    readonly location: string,
  ) {}
  get pyDescription(): string {
    return `a ${this.dtype} storage`;
  }
}

/** A tensor: a strided view (in elements) into a storage. */
export class TensorRef implements PyCustom {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: DType,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
  get pyDescription(): string {
    return `a ${this.dtype} tensor [${this.size.join(', ')}]`;
  }
}

// Names from the file index these tables, so they are Maps: a plain object would also answer
// 'constructor', '__proto__', 'toString' and the rest of Object.prototype.
const STORAGE_DTYPES: ReadonlyMap<string, DType> = new Map([
  ['DoubleStorage', 'float64'],
  ['FloatStorage', 'float32'],
  ['HalfStorage', 'float16'],
  ['BFloat16Storage', 'bfloat16'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
  // An untyped storage counts bytes; a tensor over it names its dtype (_rebuild_tensor_v3).
  ['UntypedStorage', 'uint8'],
]);

const TORCH_DTYPES: ReadonlyMap<string, DType> = new Map([
  ['float64', 'float64'],
  ['double', 'float64'],
  ['float32', 'float32'],
  ['float', 'float32'],
  ['float16', 'float16'],
  ['half', 'float16'],
  ['bfloat16', 'bfloat16'],
  ['int64', 'int64'],
  ['long', 'int64'],
  ['int32', 'int32'],
  ['int', 'int32'],
  ['int16', 'int16'],
  ['short', 'int16'],
  ['int8', 'int8'],
  ['uint8', 'uint8'],
  ['bool', 'bool'],
]);

const REBUILD_FUNCTIONS = new Set([
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor_v3',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
]);
const CLASSES = new Set(['collections.OrderedDict', 'torch.Size', 'torch.Tensor', 'torch.nn.parameter.Parameter']);
// Protocol 2 has no bytes opcode: Python writes bytes as _codecs.encode(str, 'latin1'), b'' as bytes().
const BYTES_BUILDERS = new Set(['_codecs.encode', '__builtin__.bytes', 'builtins.bytes']);

function fail(message: string): SpotdiffError {
  return new SpotdiffError('ERR_BAD_CHECKPOINT', message);
}

function int(v: PyValue, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw fail(`bad ${what} in a saved tensor: ${describePy(v)}`);
  return v;
}

function intTuple(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw fail(`bad ${what} in a saved tensor: ${describePy(v)}`);
  const items = v instanceof PyTuple ? v.items : v;
  return items.map((x) => int(x, what));
}

function resolveGlobal(module: string, name: string): TorchGlobal {
  const full = `${module}.${name}`;
  if (REBUILD_FUNCTIONS.has(full) || CLASSES.has(full) || BYTES_BUILDERS.has(full)) return new TorchGlobal(module, name);
  if (module === 'torch' || module === 'torch.storage') {
    const storageDtype = STORAGE_DTYPES.get(name);
    if (storageDtype !== undefined) return new TorchGlobal(module, name, storageDtype);
    if (name.endsWith('Storage')) throw fail(`the checkpoint holds a tensor stored as ${full}, a dtype spotdiff does not read`);
  }
  if (module === 'torch') {
    const dtype = TORCH_DTYPES.get(name);
    if (dtype !== undefined) return new TorchGlobal(module, name, dtype);
  }
  throw fail(
    `the checkpoint refers to the Python object ${full}, which spotdiff does not load: it reads tensors and ` +
      `plain containers only and never runs code from a checkpoint. Save just the weights: torch.save(model.state_dict(), path)`,
  );
}

function persistentLoad(pid: PyValue): StorageRef {
  const items = pid instanceof PyTuple ? pid.items : null;
  if (items === null || items[0] !== 'storage' || items.length < 5) throw fail(`unknown persistent id in the checkpoint: ${describePy(pid)}`);
  const [, type, key, location, numel] = items as [PyValue, PyValue, PyValue, PyValue, PyValue];
  if (!(type instanceof TorchGlobal) || type.dtype === undefined || !type.name.endsWith('Storage')) {
    throw fail(`a storage in the checkpoint has an unknown type: ${describePy(type)}`);
  }
  if (typeof key !== 'string') throw fail(`a storage in the checkpoint has a bad key: ${describePy(key)}`);
  return new StorageRef(key, type.dtype, int(numel, 'storage size'), typeof location === 'string' ? location : 'cpu');
}

function rebuildTensor(args: readonly PyValue[], dtypeArgIndex?: number): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) throw fail(`a saved tensor has no storage (got ${describePy(storage ?? null)})`);
  let dtype = storage.dtype;
  if (dtypeArgIndex !== undefined) {
    const d = args[dtypeArgIndex];
    if (!(d instanceof TorchGlobal) || d.dtype === undefined || d.name.endsWith('Storage')) {
      throw fail(`a saved tensor has a bad dtype: ${describePy(d ?? null)}`);
    }
    dtype = d.dtype;
  }
  return new TensorRef(storage, dtype, int(offset ?? null, 'storage offset'), intTuple(size ?? null, 'size'), intTuple(stride ?? null, 'stride'));
}

function reduce(callable: PyValue, args: readonly PyValue[]): PyValue {
  if (!(callable instanceof TorchGlobal)) throw fail(`the checkpoint calls ${describePy(callable)}, which is not callable`);
  switch (callable.pyDescription) {
    case 'collections.OrderedDict': {
      const d = new PyDict();
      const pairs = args[0];
      if (pairs !== undefined && pairs !== null) {
        if (!Array.isArray(pairs)) throw fail(`OrderedDict built from ${describePy(pairs)}`);
        for (const p of pairs) {
          const kv = p instanceof PyTuple ? p.items : Array.isArray(p) ? p : [];
          const k = kv[0];
          if (kv.length !== 2 || k === undefined || !(typeof k === 'string' || typeof k === 'number')) {
            throw fail('OrderedDict built from malformed pairs');
          }
          d.items.set(k, kv[1]!);
        }
      }
      return d;
    }
    case '_codecs.encode': {
      const [text, encoding] = args;
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1') || /[^\u0000-\u00ff]/.test(text)) throw fail('the checkpoint encodes bytes in an unexpected way');
      return Uint8Array.from(text, (c) => c.charCodeAt(0));
    }
    case '__builtin__.bytes':
    case 'builtins.bytes':
      if (args.length !== 0) throw fail('the checkpoint builds bytes in an unexpected way');
      return new Uint8Array(0);
    case 'torch.Size':
      return new PyTuple(intTuple(args[0] ?? null, 'torch.Size'));
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      return rebuildTensor(args);
    case 'torch._utils._rebuild_tensor_v3':
      return rebuildTensor(args, 6);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      const data = args[0];
      if (!(data instanceof TensorRef)) throw fail(`a saved parameter holds ${describePy(data ?? null)}, not a tensor`);
      return data;
    }
    case 'torch._tensor._rebuild_from_type_v2': {
      // (func, type, args, state): a tensor subclass; only Tensor and Parameter are accepted.
      const [func, type, innerArgs] = args;
      if (!(type instanceof TorchGlobal) || !['torch.Tensor', 'torch.nn.parameter.Parameter'].includes(type.pyDescription)) {
        throw fail(`the checkpoint holds a tensor of class ${describePy(type ?? null)}, which spotdiff does not load`);
      }
      if (!(innerArgs instanceof PyTuple)) throw fail('a saved tensor subclass has malformed arguments');
      return reduce(func ?? null, innerArgs.items);
    }
    default:
      throw fail(`the checkpoint calls ${callable.pyDescription}, which spotdiff does not do`);
  }
}

function build(obj: PyValue, state: PyValue): void {
  // Tensors may carry an empty state; anything substantive would need code to apply it.
  const empty = state === null || (state instanceof PyDict && state.items.size === 0) || (state instanceof PyTuple && state.items.length === 0);
  if (!empty && !(obj instanceof TensorRef)) throw fail(`the checkpoint sets the state of ${describePy(obj)}, which spotdiff does not do`);
}

export const torchPickleHooks: UnpicklerHooks = { global: resolveGlobal, persistentLoad, reduce, build };
