/**
 * Memory scopes for native tensors (tfjs-style). Every tensor made while a `tidy` runs
 * belongs to that innermost scope and is freed when it ends, except what the function returns
 * (which moves to the enclosing scope) and what was `keep`-ed. Outside any scope a tensor
 * belongs to no one: its owner must dispose it (parameters, memory banks). GC frees forgotten
 * tensors eventually, but never promptly: native bytes are invisible to it.
 */
export const tracked: unique symbol = Symbol('spotdiff.tracked');

export interface Tracked {
  [tracked]: Scope | null;
  dispose(): void;
  readonly isDisposed: boolean;
}

export type Scope = Set<Tracked>;

const stack: Scope[] = [];

/** Called by every new tensor. */
export function adopt(t: Tracked): void {
  const top = stack[stack.length - 1];
  if (top !== undefined) {
    top.add(t);
    t[tracked] = top;
  } else {
    t[tracked] = null;
  }
}

/** Called when a tensor is disposed by hand. */
export function release(t: Tracked): void {
  t[tracked]?.delete(t);
  t[tracked] = null;
}

/** Takes a tensor out of scope management: it lives until disposed by hand. */
export function keep<T extends Tracked>(t: T): T {
  release(t);
  return t;
}

function isTracked(x: unknown): x is Tracked {
  return typeof x === 'object' && x !== null && tracked in x;
}

function collect(value: unknown, out: Set<Tracked>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isTracked(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, depth + 1);
}

/**
 * Runs fn in a new scope; frees every tensor made inside except those in its result (found in
 * arrays, Maps and plain objects), which move to the enclosing scope. Synchronous on purpose:
 * an async function would let unrelated work create tensors in the same scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = new Set();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of scope) {
      t[tracked] = null;
      t.dispose();
    }
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) throw new Error('tidy() takes a synchronous function');
  const survivors = new Set<Tracked>();
  collect(result, survivors);
  for (const t of scope) {
    if (survivors.has(t)) continue;
    t[tracked] = null;
    t.dispose();
  }
  for (const t of survivors) {
    if (t.isDisposed) continue;
    if (t[tracked] === scope) adopt(t);
  }
  return result;
}

/** Disposes every tensor in a value (arrays, Maps, plain objects). */
export function dispose(value: unknown): void {
  const all = new Set<Tracked>();
  collect(value, all);
  for (const t of all) t.dispose();
}
