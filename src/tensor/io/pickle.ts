import { SpotdiffError } from '../../util/errors.js';

/**
 * A Python unpickler for data only: it builds values from the opcode stream and never runs
 * anything. Classes and functions (GLOBAL), persistent ids, calls (REDUCE) and BUILD are
 * handed to hooks, which accept the few names they know and refuse the rest. Covers the
 * opcodes of protocols 0-4 that torch.save (protocol 2) and plain containers use.
 */

/** A Python value as the unpickler sees it. Lists are JS arrays; `PyCustom` values come from hooks. */
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyCustom;

/** Dict keys: the hashable primitives (strings, ints, bools, None). */
export type PyKey = string | number | bigint | boolean | null;

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PyDict {
  readonly items = new Map<PyKey, PyValue>();
  /** Instance attributes set by BUILD (an OrderedDict state_dict carries `_metadata`). */
  readonly attributes = new Map<string, PyValue>();
}

/** Anything a hook builds (a class reference, a storage, a tensor). */
export interface PyCustom {
  /** A readable Python-ish description for error messages. */
  readonly pyDescription: string;
}

export interface UnpicklerHooks {
  /** GLOBAL / STACK_GLOBAL: return a value standing for `module.name`, or throw. */
  global(module: string, name: string): PyValue;
  /** BINPERSID: resolve a persistent id. */
  persistentLoad(pid: PyValue): PyValue;
  /** REDUCE: what `callable(*args)` means for an accepted callable. */
  reduce(callable: PyValue, args: readonly PyValue[]): PyValue;
  /** BUILD: apply `state` to `obj` (PyDicts take dict states as attributes before this is asked). */
  build(obj: PyValue, state: PyValue): void;
}

const OPCODE_NAMES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4c: 'LONG',
  0x50: 'PERSID',
  0x53: 'STRING',
  0x56: 'UNICODE',
};

export function describePy(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return `a number (${v})`;
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
  if (v instanceof Uint8Array) return `bytes (${v.byteLength})`;
  if (Array.isArray(v)) return `a list (${v.length} items)`;
  if (v instanceof PyTuple) return `a tuple (${v.items.length} items)`;
  if (v instanceof PyDict) return `a dict (${v.items.size} items)`;
  return v.pyDescription;
}

class Reader {
  pos = 0;
  private readonly dv: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) throw new Error('the pickle ends early (truncated)');
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.bytes.byteLength)) throw new Error('a length runs past the end of the pickle');
    return Number(v);
  }
  f64be(): number {
    this.need(8);
    const v = this.dv.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new Error('the pickle ends early (truncated)');
    const s = latin1(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/**
 * The widest LONG1 / LONG4 integer read. torch.save's pickles hold small ints only (sizes,
 * offsets, a version); 16 bytes (128 bits) is ample, and a bound keeps a hostile megabyte-long
 * integer from costing anything.
 */
const MAX_LONG_BYTES = 16;

/** A LONG1 / LONG4 integer of `length` bytes; the length is checked before any byte is read. */
function readLong(r: Reader, length: number): number | bigint {
  if (length > MAX_LONG_BYTES) throw new Error(`an integer of ${length} bytes (at most ${MAX_LONG_BYTES} are read)`);
  return decodeLong(r.take(length));
}

/** Two's-complement little-endian integer, parsed in one go (linear in its length). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.byteLength === 0) return 0;
  let hex = '';
  for (let i = b.byteLength - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (b[b.byteLength - 1]! & 0x80) v -= 1n << BigInt(8 * b.byteLength);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function asKey(k: PyValue): PyKey {
  if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
  throw new Error(`unsupported dict key: ${describePy(k)}`);
}

/** Unpickles `bytes`. Any malformation or refusal becomes ERR_BAD_CHECKPOINT naming `what`. */
export function unpickle(bytes: Uint8Array, hooks: UnpicklerHooks, what = 'pickle'): PyValue {
  const r = new Reader(bytes);
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) throw new Error('stack underflow');
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw new Error('stack underflow');
    return stack[stack.length - 1]!;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new Error('no MARK on the stack');
    return stack.splice(m);
  };
  const getMemo = (i: number): PyValue => {
    if (!memo.has(i)) throw new Error(`memo key ${i} was never stored`);
    return memo.get(i)!;
  };
  const setItems = (d: PyValue, kv: PyValue[]): void => {
    if (!(d instanceof PyDict)) throw new Error(`SETITEM on ${describePy(d)}`);
    if (kv.length % 2) throw new Error('SETITEMS with an odd number of values');
    for (let i = 0; i < kv.length; i += 2) d.items.set(asKey(kv[i]!), kv[i + 1]!);
  };
  const append = (l: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(l)) throw new Error(`APPEND on ${describePy(l)}`);
    // A loop, not push(...items): a long APPENDS would overflow the call's argument limit.
    for (const item of items) l.push(item);
  };

  try {
    for (;;) {
      const at = r.pos;
      const op = r.u8();
      switch (op) {
        case 0x80: // PROTO
          if (r.u8() > 5) throw new Error('pickle protocol newer than 5');
          break;
        case 0x95: // FRAME: a length prefix only
          r.take(8);
          break;
        case 0x2e: // STOP
          if (stack.length !== 1 || marks.length) throw new Error('STOP with a malformed stack');
          return stack[0]!;
        case 0x28: // MARK
          marks.push(stack.length);
          break;
        case 0x30: // POP
          pop();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: // DUP
          stack.push(top());
          break;
        case 0x4e: // NONE
          stack.push(null);
          break;
        case 0x88: // NEWTRUE
          stack.push(true);
          break;
        case 0x89: // NEWFALSE
          stack.push(false);
          break;
        case 0x4a: // BININT
          stack.push(r.i32());
          break;
        case 0x4b: // BININT1
          stack.push(r.u8());
          break;
        case 0x4d: // BININT2
          stack.push(r.u16());
          break;
        case 0x8a: // LONG1
          stack.push(readLong(r, r.u8()));
          break;
        case 0x8b: // LONG4
          stack.push(readLong(r, r.u32()));
          break;
        case 0x47: // BINFLOAT
          stack.push(r.f64be());
          break;
        case 0x58: // BINUNICODE
          stack.push(utf8.decode(r.take(r.u32())));
          break;
        case 0x8c: // SHORT_BINUNICODE
          stack.push(utf8.decode(r.take(r.u8())));
          break;
        case 0x8d: // BINUNICODE8
          stack.push(utf8.decode(r.take(r.u64())));
          break;
        case 0x54: // BINSTRING (a Python 2 str)
          stack.push(latin1(r.take(r.u32())));
          break;
        case 0x55: // SHORT_BINSTRING
          stack.push(latin1(r.take(r.u8())));
          break;
        case 0x42: // BINBYTES
          stack.push(r.take(r.u32()));
          break;
        case 0x43: // SHORT_BINBYTES
          stack.push(r.take(r.u8()));
          break;
        case 0x8e: // BINBYTES8
          stack.push(r.take(r.u64()));
          break;
        case 0x29: // EMPTY_TUPLE
          stack.push(new PyTuple([]));
          break;
        case 0x85: // TUPLE1
          stack.push(new PyTuple([pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = pop();
          stack.push(new PyTuple([pop(), b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = pop();
          const b = pop();
          stack.push(new PyTuple([pop(), b, c]));
          break;
        }
        case 0x74: // TUPLE
          stack.push(new PyTuple(popMark()));
          break;
        case 0x5d: // EMPTY_LIST
          stack.push([]);
          break;
        case 0x6c: // LIST
          stack.push(popMark());
          break;
        case 0x61: {
          // APPEND
          const v = pop();
          append(top(), [v]);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = popMark();
          append(top(), items);
          break;
        }
        case 0x7d: // EMPTY_DICT
          stack.push(new PyDict());
          break;
        case 0x64: {
          // DICT
          const d = new PyDict();
          setItems(d, popMark());
          stack.push(d);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = pop();
          const k = pop();
          setItems(top(), [k, v]);
          break;
        }
        case 0x75: {
          // SETITEMS
          const kv = popMark();
          setItems(top(), kv);
          break;
        }
        case 0x71: // BINPUT
          memo.set(r.u8(), top());
          break;
        case 0x72: // LONG_BINPUT
          memo.set(r.u32(), top());
          break;
        case 0x70: // PUT (text)
          memo.set(Number.parseInt(r.line(), 10), top());
          break;
        case 0x94: // MEMOIZE
          memo.set(memo.size, top());
          break;
        case 0x68: // BINGET
          stack.push(getMemo(r.u8()));
          break;
        case 0x6a: // LONG_BINGET
          stack.push(getMemo(r.u32()));
          break;
        case 0x67: // GET (text)
          stack.push(getMemo(Number.parseInt(r.line(), 10)));
          break;
        case 0x63: {
          // GLOBAL
          const module = r.line();
          const name = r.line();
          stack.push(hooks.global(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw new Error('STACK_GLOBAL without strings');
          stack.push(hooks.global(module, name));
          break;
        }
        case 0x51: // BINPERSID
          stack.push(hooks.persistentLoad(pop()));
          break;
        case 0x52: {
          // REDUCE
          const args = pop();
          const callable = pop();
          if (!(args instanceof PyTuple)) throw new Error(`REDUCE with ${describePy(args)} as arguments`);
          stack.push(hooks.reduce(callable, args.items));
          break;
        }
        case 0x62: {
          // BUILD
          const state = pop();
          const obj = top();
          if (obj instanceof PyDict && state instanceof PyDict) {
            for (const [k, v] of state.items) obj.attributes.set(String(k), v);
          } else {
            hooks.build(obj, state);
          }
          break;
        }
        default: {
          const name = OPCODE_NAMES[op];
          throw new Error(
            name ? `opcode ${name} is not supported` : `unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`,
          );
        }
      }
    }
  } catch (e) {
    if (e instanceof SpotdiffError) throw e;
    throw new SpotdiffError('ERR_BAD_CHECKPOINT', `cannot read ${what}: ${(e as Error).message} (at byte ${r.pos})`, { cause: e });
  }
}
