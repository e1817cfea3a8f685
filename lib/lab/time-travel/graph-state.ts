/**
 * The state of a run's object graph at one moment, kept apart from it and written back into the
 * same objects later ("restore in place"). A run's machine is a graph of objects (the kernel, its
 * globals and stack, Xen's host, domain and vCPU, machine memory, the trace) tied together by
 * references and by closures (pv ops, the hypercall page, trap handlers) that capture those very
 * objects. Copying the graph into new objects would leave the closures pointing at the old ones;
 * writing saved contents back into the same objects keeps every closure right.
 *
 * What is saved, per object reached from the roots: an array's items, a Map's entries, a Set's
 * values, an object's own data properties (accessors are left alone: they compute from other
 * state), and the bytes of every ArrayBuffer a typed array views (once per buffer, so the frames
 * carved from one slab cost one copy). Functions and frozen objects are kept by reference and not
 * entered; so are the objects `skip` names (immutable data such as the kernel variant's tables).
 * Objects reachable only through a closure are not saved: their owners must also hold them in a
 * property (the lab's machines do: lib/lab/machine.ts).
 *
 * Buffers are saved in chunks of CHUNK bytes. Given an earlier state of the same graph (`prev`), a
 * chunk whose bytes are the same as there is shared with it instead of copied: a page-sized
 * copy-on-write found by comparison. So a state costs a shallow copy of every object reached plus
 * the chunks that changed since `prev` (for a 64 GiB Xen boot the first state holds some 0.2 GB,
 * nearly all of it machine memory and Xen's frame table; later ones mostly the page-table pages
 * written since).
 */

/** Bytes per saved chunk of a buffer (a slab of 64 frames of machine memory is one chunk). */
export const CHUNK = 256 * 1024;

type Saved =
  | { kind: 0; obj: unknown[]; items: unknown[] }
  | { kind: 1; obj: Map<unknown, unknown>; entries: unknown[] }
  | { kind: 2; obj: Set<unknown>; values: unknown[] }
  | { kind: 3; obj: Record<PropertyKey, unknown>; keys: PropertyKey[]; values: unknown[] };

export interface GraphState {
  readonly saved: Saved[];
  /** each buffer's bytes, chunk by chunk */
  readonly buffers: Map<ArrayBufferLike, ArrayBuffer[]>;
  /** bytes of chunks this state copied (not shared with `prev`) */
  readonly bytes: number;
}

const same = (a: ArrayBuffer, aOff: number, b: ArrayBuffer, len: number): boolean =>
  typeof Buffer !== 'undefined'
    ? Buffer.from(a, aOff, len).equals(Buffer.from(b, 0, len))
    : sameWords(new Uint8Array(a, aOff, len), new Uint8Array(b, 0, len));

function sameWords(x: Uint8Array, y: Uint8Array): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * The own data properties of an object (accessors left out). Objects of one prototype with the
 * same own keys and no accessors share a shape, looked up once, not per object. (An object with
 * accessors whose keys match a remembered shape would have them read and written as data; the
 * model's only accessors, the registers' rsp and rbp, read and write the kernel stack's numbers,
 * so that round trip gives the same state.)
 */
const shapes = new WeakMap<object, Map<string, PropertyKey[]>>();
const NO_PROTO = {};

function dataKeys(o: object): PropertyKey[] {
  const names = Object.getOwnPropertyNames(o);
  const symbols = Object.getOwnPropertySymbols(o);
  const proto = (Object.getPrototypeOf(o) as object | null) ?? NO_PROTO;
  let byKeys = shapes.get(proto);
  if (byKeys === undefined) { byKeys = new Map(); shapes.set(proto, byKeys); }
  // small fixed shapes only (class instances, literals): a dictionary's keys are looked at each time
  const id = symbols.length === 0 && names.length <= 32 ? names.join('\u0000') : null;
  const known = id === null ? undefined : byKeys.get(id);
  if (known !== undefined) return known;
  const keys: PropertyKey[] = [];
  let accessors = false;
  for (const key of [...names, ...symbols]) {
    const d = Object.getOwnPropertyDescriptor(o, key) as PropertyDescriptor;
    if ('value' in d) keys.push(key); else accessors = true; // an accessor computes from other state
  }
  // only shapes without accessors are remembered: an object with accessors (the CPU's registers,
  // whose rsp and rbp read the kernel stack) is looked at each time, and a copy of it made with
  // the same keys as data is not mistaken for it
  if (id !== null && !accessors) {
    if (byKeys.size >= 4096) byKeys.clear(); // bounded
    byKeys.set(id, keys);
  }
  return keys;
}

/** Saves the state of everything reachable from `roots`, sharing unchanged chunks with `prev`. */
export function captureGraph(roots: readonly object[], skip: ReadonlySet<object> = new Set(), prev: GraphState | null = null): GraphState {
  const seen = new Set<object>();
  const saved: Saved[] = [];
  const buffers = new Map<ArrayBufferLike, ArrayBuffer[]>();
  let bytes = 0;
  const saveBuffer = (buf: ArrayBuffer): void => {
    if (buffers.has(buf)) return;
    const old = prev === null ? undefined : prev.buffers.get(buf);
    const chunks: ArrayBuffer[] = [];
    for (let off = 0, i = 0; off < buf.byteLength; off += CHUNK, i++) {
      const len = Math.min(CHUNK, buf.byteLength - off);
      const o = old === undefined ? undefined : old[i];
      if (o !== undefined && o.byteLength === len && same(buf, off, o, len)) { chunks.push(o); continue; }
      chunks.push(buf.slice(off, off + len));
      bytes += len;
    }
    buffers.set(buf, chunks);
  };
  const todo: unknown[] = [...roots];
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    // a typed array only points at its buffer (views of a slab of frames are many; their buffers few)
    if (ArrayBuffer.isView(v)) saveBuffer(v.buffer as ArrayBuffer);
    else if (!seen.has(v)) todo.push(v);
  };
  while (todo.length > 0) {
    const o = todo.pop() as object;
    if (seen.has(o)) continue;
    seen.add(o);
    if (skip.has(o) || Object.isFrozen(o)) continue;
    if (ArrayBuffer.isView(o)) { saveBuffer(o.buffer as ArrayBuffer); continue; }
    if (o instanceof ArrayBuffer) { saveBuffer(o); continue; }
    if (Array.isArray(o)) {
      const items = o.slice();
      for (let i = 0; i < items.length; i++) visit(items[i]);
      saved.push({ kind: 0, obj: o, items });
      continue;
    }
    if (o instanceof Map) {
      const entries: unknown[] = [];
      for (const [k, v] of o) { entries.push(k, v); visit(k); visit(v); }
      saved.push({ kind: 1, obj: o, entries });
      continue;
    }
    if (o instanceof Set) {
      const values = [...o];
      for (const v of values) visit(v);
      saved.push({ kind: 2, obj: o, values });
      continue;
    }
    const rec = o as Record<PropertyKey, unknown>;
    const keys = dataKeys(o);
    const values: unknown[] = new Array<unknown>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const v = rec[keys[i] as string];
      values[i] = v;
      visit(v);
    }
    saved.push({ kind: 3, obj: rec, keys, values });
  }
  return { saved, buffers, bytes };
}

/** Writes a saved state back into the objects it was taken from (the state itself is unchanged). */
export function restoreGraph(state: GraphState): void {
  for (const [buf, chunks] of state.buffers) {
    const to = new Uint8Array(buf as ArrayBuffer);
    // most chunks are as they were (older page tables, the image): compare before writing
    for (let i = 0; i < chunks.length; i++) {
      if (!same(buf as ArrayBuffer, i * CHUNK, chunks[i], chunks[i].byteLength)) to.set(new Uint8Array(chunks[i]), i * CHUNK);
    }
  }
  for (const s of state.saved) {
    switch (s.kind) {
      case 0: {
        const a = s.obj;
        a.length = s.items.length;
        for (let i = 0; i < s.items.length; i++) a[i] = s.items[i];
        break;
      }
      case 1: {
        const m = s.obj;
        m.clear();
        for (let i = 0; i < s.entries.length; i += 2) m.set(s.entries[i], s.entries[i + 1]);
        break;
      }
      case 2: {
        s.obj.clear();
        for (const v of s.values) s.obj.add(v);
        break;
      }
      default: {
        const o = s.obj;
        const now = dataKeys(o);
        if (now !== s.keys && !sameKeys(now, s.keys)) {
          const keep = new Set(s.keys);
          for (const key of now) if (!keep.has(key)) delete o[key as string];
        }
        for (let i = 0; i < s.keys.length; i++) o[s.keys[i] as string] = s.values[i];
      }
    }
  }
}

function sameKeys(a: PropertyKey[], b: PropertyKey[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A deep copy of the graph under `root` in new objects (same prototypes; typed arrays with their
 * own buffers; functions, frozen objects and those in `keep` shared). For data without closures
 * over other state, such as a trace.
 */
export function cloneGraph<T>(root: T, keep: ReadonlySet<object> = new Set()): T {
  const copies = new Map<unknown, unknown>();
  for (const k of keep) copies.set(k, k); // immutable data: shared, not copied
  const buffers = new Map<ArrayBufferLike, ArrayBuffer>();
  const copy = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const done = copies.get(v);
    if (done !== undefined) return done;
    if (Object.isFrozen(v)) return v;
    if (ArrayBuffer.isView(v)) {
      let b = buffers.get(v.buffer);
      if (b === undefined) { b = (v.buffer as ArrayBuffer).slice(0); buffers.set(v.buffer, b); }
      const C = v.constructor as new (b: ArrayBuffer, off: number, len: number) => ArrayBufferView;
      const per = (v as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const out = new C(b, v.byteOffset, v.byteLength / per);
      copies.set(v, out);
      return out;
    }
    if (Array.isArray(v)) {
      const out: unknown[] = new Array<unknown>(v.length);
      copies.set(v, out);
      for (let i = 0; i < v.length; i++) out[i] = copy(v[i]);
      return out;
    }
    if (v instanceof Map) {
      const out = new Map<unknown, unknown>();
      copies.set(v, out);
      for (const [k, x] of v) out.set(copy(k), copy(x));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set<unknown>();
      copies.set(v, out);
      for (const x of v) out.add(copy(x));
      return out;
    }
    const out = Object.create(Object.getPrototypeOf(v) as object) as Record<PropertyKey, unknown>;
    copies.set(v, out);
    const descs = Object.getOwnPropertyDescriptors(v) as Record<PropertyKey, PropertyDescriptor>;
    for (const key of Reflect.ownKeys(descs)) {
      const d = descs[key as string];
      if ('value' in d) d.value = copy(d.value);
      Object.defineProperty(out, key, d);
    }
    return out;
  };
  return copy(root) as T;
}
