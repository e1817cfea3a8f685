/**
 * Provenance of Xen's console lines. Each line is read as Xen's formats print it (the crash
 * messages of xen/arch/x86/traps.c and mm.c, the banner and register dump of x86_64/traps.c,
 * show_guest_stack; Xen 4.2.0) and each figure in it gets a kind: a line is 'derived' when every
 * figure is derived (or it has none), otherwise it takes the kind of its least-real figure, and its
 * reason says which figures those are.
 */
import type { Provenance, ProvenanceEntry, ProvenanceKind, ProvenancePart } from './provenance-kinds';
import { PROVENANCE_KINDS, lessReal } from './provenance-kinds';
import type { ProvenanceInput } from './provenance';
import type { RegisterDump } from './provenance-registers';
import type { SavedRegisterWord } from '../linux/kernel-stack';

type Add = (start: number, text: string, kind: ProvenanceKind, label: string, key?: string) => void;

const WORD = /[0-9a-f]{16}/g;
/** create_bounce_frame's words, from the new rsp up (xen/arch/x86/x86_64/entry.S, Xen 4.2.0) */
const BOUNCE = ['saved rcx', 'saved r11', 'error code', 'saved rip', 'saved cs and upcall mask', 'saved rflags', 'saved rsp', 'saved ss'];
const BOUNCE_KEY: Record<number, string> = { 0: 'registers.rcx', 1: 'registers.r11', 3: 'registers.rip', 5: 'registers.rflags', 6: 'registers.rsp' };

function kindOf(p: Provenance, key: string, fallback: ProvenanceKind): ProvenanceKind {
  return p[key]?.kind ?? fallback;
}

/** The figures of a message line (not the dump, not the stack words). */
function messageParts(line: string, p: Provenance, add: Add): void {
  // the d flag gives each group's place in the line
  const at = (m: RegExpExecArray, group: number): number => (m.indices?.[group]?.[0] ?? m.index);
  let m = /\bd(\d+):v(\d+)\b/d.exec(line);
  if (m !== null) {
    add(at(m, 1), m[1], kindOf(p, 'domid', 'derived'), 'domain id', 'domid');
    add(at(m, 2), m[2], 'derived', 'vCPU id');
  } else if ((m = /:d(\d+) /d.exec(line)) !== null) {
    add(at(m, 1), m[1], kindOf(p, 'domid', 'derived'), 'domain id', 'domid');
  }
  m = /Domain (\d+) \(vcpu#(\d+)\) crashed on cpu#(\d+)/d.exec(line);
  if (m !== null) {
    add(at(m, 1), m[1], kindOf(p, 'domid', 'derived'), 'domain id', 'domid');
    add(at(m, 2), m[2], 'derived', 'vCPU id');
    add(at(m, 3), m[3], kindOf(p, 'pcpu', 'derived'), 'physical CPU', 'pcpu');
  }
  m = /\(ec=([0-9a-f]{4})\)/d.exec(line);
  if (m !== null) add(at(m, 1), m[1], 'derived', 'error code');
  m = /Pagetable walk from ([0-9a-f]{16})/d.exec(line);
  if (m !== null) add(at(m, 1), m[1], 'derived', 'fault address', 'faultAddress');
  m = /\b(L[1-4])\[0x([0-9a-f]{3})\] = ([0-9a-f]{16}) ([0-9a-f]{16})/d.exec(line);
  if (m !== null) {
    add(at(m, 2), m[2], 'derived', `${m[1]} index`, m[1] === 'L4' ? 'l4Index' : undefined);
    add(at(m, 3), m[3], 'derived', `${m[1]} entry`);
    add(at(m, 4), m[4], 'derived', 'its M2P entry');
  }
  // print_xen_info's banner: the release and the debug flag are the run's inputs; the taint state
  // follows from Xen's command line (sync_console taints the console, Xen 4.1/4.2 console.c)
  m = /Xen-(\S+)\s+x86_64\s+debug=([yn])\s+(Not tainted|Tainted: [ A-Z]+?)\s*\]/d.exec(line);
  if (m !== null) {
    add(at(m, 1), m[1], kindOf(p, 'xenRelease', 'report'), 'Xen release', 'xenRelease');
    add(at(m, 2), m[2], kindOf(p, 'xenDebug', 'report'), 'debug build flag', 'xenDebug');
    add(at(m, 3), m[3], 'derived', m[3] === 'Not tainted'
      ? 'taint state: nothing tainted (no sync_console on Xen\'s command line)'
      : 'taint state: C, console_init_preirq taints for sync_console on Xen\'s command line');
  }
  m = /ENTRY ADDRESS: ([0-9a-f]{16})/d.exec(line);
  if (m !== null) add(at(m, 1), m[1], kindOf(p, 'entry', 'derived'), 'the ELF entry, startup_xen', 'entry');
  m = /\)\s+CPU:\s+(\d+)$/.exec(line);
  if (m !== null) add(line.length - m[1].length, m[1], kindOf(p, 'pcpu', 'derived'), 'physical CPU', 'pcpu');
}

/** A word that holds a callee-saved register a prologue pushed: what it is and whether the model computed it. */
function savedRegisterPart(w: SavedRegisterWord): { kind: ProvenanceKind; label: string } {
  // the outermost routine has no caller in the model (startup_xen jumps to xen_start_kernel): the register as the kernel was entered
  const whose = w.of === '' ? `${w.reg} as the kernel was entered, saved by ${w.by}` : `${w.of}'s ${w.reg}, saved by ${w.by}`;
  return w.what === null
    ? { kind: 'invented', label: `${whose}: a register the model never wrote` }
    : { kind: w.kind ?? 'derived', label: `${whose}: ${w.what}` };
}

/** The figures of one line of show_guest_stack's words; `first` is the index of its first word. */
function stackWordParts(
  line: string, first: number, rsp: number, input: ProvenanceInput, p: Provenance, bounce: boolean, add: Add,
): number {
  const frames = new Map<string, string>();
  for (const f of input.guestStack) if (!f.isRip) frames.set(f.address, f.symbol);
  let i = first;
  // the words start after the "(XEN)" prefix
  const body = line.indexOf(')') + 1;
  WORD.lastIndex = body;
  for (let m = WORD.exec(line); m !== null; m = WORD.exec(line), i++) {
    const word = m[0];
    const value = BigInt(`0x${word}`);
    const va48 = Number(value & 0xffffffffffffn);
    if (bounce && i < BOUNCE.length) {
      const key = BOUNCE_KEY[i];
      add(m.index, word, key === undefined ? 'derived' : kindOf(p, key, 'invented'), `${BOUNCE[i]} (Xen's bounce frame)`, key);
      continue;
    }
    const symbol = frames.get(word);
    const saved = input.savedRegisterWords?.get(rsp + i * 8);
    if (symbol !== undefined) {
      add(m.index, word, kindOf(p, `stack.${symbol}`, 'invented'), `return address into ${symbol}`, `stack.${symbol}`);
    } else if (saved !== undefined) {
      const part = savedRegisterPart(saved);
      add(m.index, word, part.kind, part.label);
    } else if (value >> 48n === 0xffffn && va48 >= input.bootStack[0] && va48 < input.bootStack[1]) {
      add(m.index, word, 'fitted', 'saved frame pointer (frame shapes fitted)');
    } else {
      add(m.index, word, 'invented', 'saved register or untouched local');
    }
  }
  return i;
}

/** Is the start of the dumped stack create_bounce_frame's frame? Its rip, cs and ss words say so. */
function startsWithBounceFrame(lines: readonly string[], dump: RegisterDump): boolean {
  if (dump.stackLine < 0) return false;
  const words = lines.slice(dump.stackLine + 1, dump.stackLine + 3).join(' ').match(WORD) ?? [];
  if (words.length < BOUNCE.length) return false;
  const rip = dump.values.get('rip');
  const cs = dump.values.get('cs');
  const ss = dump.values.get('ss');
  const w = words.map((x) => BigInt(`0x${x}`));
  return rip !== undefined && cs !== undefined && ss !== undefined && w[3] === rip && (w[4] & 0xfffcn) === (cs & 0xfffcn) && w[7] === ss;
}

function lineEntry(parts: ProvenancePart[]): ProvenanceEntry {
  if (parts.length === 0) {
    return { kind: 'derived', reason: 'printed by the model\'s Xen at this point of the crash; it holds no figure', parts };
  }
  let kind: ProvenanceKind = 'report';
  for (const part of parts) kind = lessReal(kind, part.kind);
  const byKind = (k: ProvenanceKind): string => {
    const counts = new Map<string, number>();
    for (const part of parts) if (part.kind === k) counts.set(part.label, (counts.get(part.label) ?? 0) + 1);
    return [...counts].map(([label, n]) => (n > 1 ? `${label} ×${n}` : label)).join(', ');
  };
  const others = [...PROVENANCE_KINDS].reverse().filter((k) => k !== kind && parts.some((x) => x.kind === k))
    .map((k) => `${k}: ${byKind(k)}`);
  const reason = others.length === 0
    ? `every figure is ${kind === 'report' ? 'from the report' : kind}: ${byKind(kind)}`
    : `least real: ${byKind(kind)} (${kind}); also ${others.join('; ')}`;
  return { kind, reason, parts };
}

/** console.<n> for each of Xen's console lines. */
export function consoleProvenance(input: ProvenanceInput, p: Provenance, dump: RegisterDump): ProvenanceEntry[] {
  const lines = input.xenConsole;
  const bounce = startsWithBounceFrame(lines, dump);
  const rsp48 = Number((dump.values.get('rsp') ?? 0n) & 0xffffffffffffn);
  let word = 0;
  let inStack = false;
  return lines.map((line, n) => {
    const parts: ProvenancePart[] = [];
    const add: Add = (start, text, kind, label, key) => {
      parts.push(key === undefined ? { start, end: start + text.length, kind, label } : { start, end: start + text.length, kind, label, key });
    };
    const registers = dump.spans.filter((s) => s.line === n);
    for (const s of registers) {
      const key = `registers.${s.name}`;
      add(s.start, line.slice(s.start, s.end), kindOf(p, key, 'invented'), s.name, key);
    }
    const em = /\bEM: (\d)/.exec(line);
    if (em !== null && registers.length > 0) add(em.index + 4, em[1], 'derived', 'event-channel upcall mask');
    if (n === dump.stackLine) {
      inStack = true;
    } else if (inStack && /^\(XEN\)\s{4}(\s?[0-9a-f]{16})+\s*$/.test(line)) {
      word = stackWordParts(line, word, rsp48, input, p, bounce, add);
    } else {
      inStack = false;
      if (registers.length === 0) messageParts(line, p, add);
    }
    parts.sort((a, b) => a.start - b.start);
    return lineEntry(parts);
  });
}
