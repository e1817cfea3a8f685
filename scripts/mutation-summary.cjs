#!/usr/bin/env node
// Prints the mutation score per folder (lib/x86, lib/xen/mm) from StrykerJS's JSON report(s) in
// test-output/mutation/ (written by `npm run mutation`), with the count of each status, then every
// mutant of lib/xen/mm that survived or had no covering test (file:line, mutator, replacement).
// Usage: node scripts/mutation-summary.cjs [report.json ...]   (default: every *.json report there
// that is not an incremental file; a mutant seen in several reports counts once, the newest wins;
// a report made on another version of a file than the one on disk is left out for that file).
'use strict';
const fs = require('fs');
const path = require('path');

const DIR = path.join(__dirname, '..', 'test-output', 'mutation');
const FOLDERS = ['lib/x86', 'lib/xen/mm'];
const DETAIL_FOLDER = process.env.MUTATION_DETAIL ?? 'lib/xen/mm';

function fail(msg) {
  process.stderr.write(`mutation-summary: ${msg}\n`);
  process.exit(2);
}

let files = process.argv.slice(2);
if (files.length === 0) {
  if (!fs.existsSync(DIR)) fail(`no reports: ${DIR} does not exist (run npm run mutation first)`);
  files = fs.readdirSync(DIR)
    .filter((f) => f.endsWith('.json') && !f.includes('incremental'))
    .map((f) => path.join(DIR, f));
  // oldest first, so a newer report's verdict on the same file replaces an older one's
  files.sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs);
}
if (files.length === 0) fail(`no JSON report in ${DIR} (run npm run mutation first)`);

/**
 * file (relative, forward slashes) -> its source and mutants; a mutant (place, mutator,
 * replacement) seen in several reports keeps the newest report's verdict, so reports of different
 * parts of one file (MUTATION_FILES line ranges) add up.
 */
const byFile = new Map();
const ROOT = path.join(__dirname, '..');
/** file -> reports left out because their copy of the file is not the file as it is now */
const stale = new Map();
for (const f of files) {
  let report;
  try {
    report = JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch (e) {
    fail(`cannot read ${f}: ${e.message}`);
  }
  if (!report || typeof report.files !== 'object') fail(`${f} is not a Stryker mutation report (no "files")`);
  for (const [name, entry] of Object.entries(report.files)) {
    const rel = path.relative(ROOT, path.resolve(ROOT, name)).split(path.sep).join('/');
    // A report of an older version of the file says nothing about the file now: leave it out.
    let now = null;
    try { now = fs.readFileSync(path.join(ROOT, rel), 'utf8'); } catch { /* file gone */ }
    if (now !== entry.source) {
      stale.set(rel, [...(stale.get(rel) ?? []), path.basename(f)]);
      continue;
    }
    const known = byFile.get(rel) ?? { source: entry.source, mutants: new Map() };
    known.source = entry.source;
    for (const m of entry.mutants) {
      const l = m.location;
      known.mutants.set(`${l.start.line}:${l.start.column}-${l.end.line}:${l.end.column} ${m.mutatorName} ${m.replacement ?? ''}`, m);
    }
    byFile.set(rel, known);
  }
}

const STATUSES = ['Killed', 'Survived', 'NoCoverage', 'Timeout', 'CompileError', 'RuntimeError', 'Ignored', 'Pending'];
function tally(filter) {
  const t = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const [file, { mutants }] of byFile) {
    if (!filter(file)) continue;
    for (const m of mutants.values()) t[m.status] = (t[m.status] ?? 0) + 1;
  }
  // Stryker's mutation score: detected (killed + timeout) over valid (detected + survived + no coverage)
  const detected = t.Killed + t.Timeout;
  const valid = detected + t.Survived + t.NoCoverage;
  const covered = detected + t.Survived;
  return { ...t, score: valid === 0 ? NaN : (100 * detected) / valid, covScore: covered === 0 ? NaN : (100 * detected) / covered, valid };
}

const pct = (x) => (Number.isNaN(x) ? '   n/a' : `${x.toFixed(2).padStart(6)}%`);
const rows = [];
for (const folder of FOLDERS) {
  const t = tally((f) => f.startsWith(`${folder}/`));
  if (t.valid === 0 && t.Ignored === 0) { rows.push(`${folder.padEnd(11)}  not in the reports`); continue; }
  rows.push(`${folder.padEnd(11)} score ${pct(t.score)} (of covered ${pct(t.covScore)})  killed ${t.Killed}, timeout ${t.Timeout}, survived ${t.Survived}, no coverage ${t.NoCoverage}; not counted: ignored ${t.Ignored}, compile/runtime error ${t.CompileError + t.RuntimeError}`);
}
process.stdout.write(`Mutation score per folder (killed + timeout over killed + timeout + survived + no coverage)\n${rows.join('\n')}\n`);
// The files each folder's run mutates (stryker.config.mjs: lib/x86 without index.ts, all of lib/xen/mm)
// that no report measured as they are now: the folder's score leaves them out.
function tsFiles(dir) {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : []);
}
for (const folder of FOLDERS) {
  const missing = tsFiles(folder).filter((f) => f !== 'lib/x86/index.ts' && !byFile.has(f));
  for (const file of missing) {
    const older = stale.get(file);
    process.stdout.write(`  not measured as it is now: ${file}${older ? ` (only an older version, in ${older.join(', ')})` : ''}\n`);
  }
}

// Per file, for the detail folder, and the mutants it still lets live.
const live = [];
const perFile = [];
for (const [file, { source, mutants }] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
  if (!file.startsWith(`${DETAIL_FOLDER}/`)) continue;
  const t = tally((f) => f === file);
  perFile.push(`  ${file.padEnd(30)} ${pct(t.score)}  (${t.Killed + t.Timeout}/${t.valid})`);
  const lines = source.split('\n');
  for (const m of mutants.values()) {
    if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
    const l = m.location.start.line;
    const original = lines[l - 1].slice(m.location.start.column - 1, m.location.start.line === m.location.end.line ? m.location.end.column - 1 : undefined);
    live.push({ file, line: l, col: m.location.start.column, text: `${file}:${l}:${m.location.start.column} ${m.status === 'NoCoverage' ? '[no coverage] ' : ''}${m.mutatorName}: ${oneLine(original)} -> ${oneLine(m.replacement ?? '')}` });
  }
}
function oneLine(s) {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 90 ? `${t.slice(0, 87)}...` : t;
}
if (perFile.length > 0) process.stdout.write(`\n${DETAIL_FOLDER} per file\n${perFile.join('\n')}\n`);
live.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
process.stdout.write(`\nSurviving mutants in ${DETAIL_FOLDER}: ${live.length}\n${live.map((m) => `  ${m.text}`).join('\n')}\n`);
