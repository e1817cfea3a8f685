/**
 * The story's notebook sources (notebooks/src/*.txt) and the .ipynb files built from them: in step
 * with scripts/nbgen.py, free of the word readers must not see, linked to the glossary, and with
 * their import cells tagged 'setup' so the published pages can hide them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/notebook';

const SRC = join(ROOT, 'notebooks', 'src');
const STORY = readdirSync(SRC).filter((f) => /^0\d-.*\.txt$/.test(f)).sort();
interface Cell { cell_type: string; metadata: { tags?: string[] }; source: string[] }
const cells = (ipynb: string): Cell[] => (JSON.parse(readFileSync(ipynb, 'utf8')) as { cells: Cell[] }).cells;

describe('the notebook sources of the story', () => {
  it('has page 0 and the glossary', () => {
    expect(STORY).toContain('00-the-bug-on-one-page.txt');
    expect(STORY).toContain('09-glossary.txt');
  });

  it('each committed .ipynb is exactly what nbgen.py builds from its source', () => {
    const out = mkdtempSync(join(tmpdir(), 'nbgen-'));
    for (const src of STORY) {
      const name = src.replace(/\.txt$/, '.ipynb');
      execFileSync('python3', [join(ROOT, 'scripts', 'nbgen.py'), join(SRC, src), join(out, name)]);
      expect(readFileSync(join(ROOT, 'notebooks', name), 'utf8'), name).toBe(readFileSync(join(out, name), 'utf8'));
    }
  }, 120_000);

  it('never says "seed" to a reader, and links every page to the glossary', () => {
    for (const src of STORY) {
      const text = readFileSync(join(SRC, src), 'utf8');
      expect(text.match(/seed/i), src).toBeNull();
      if (src !== '09-glossary.txt') expect(text, src).toContain('](09-glossary.html)');
    }
  });

  it("tags the import cells 'setup' and leaves the rest untagged", () => {
    for (const src of STORY) {
      const code = cells(join(ROOT, 'notebooks', src.replace(/\.txt$/, '.ipynb'))).filter((c) => c.cell_type === 'code');
      if (code.length === 0) continue; // the glossary
      expect(code[0].metadata.tags, src).toEqual(['setup']);
      expect(code[0].source.join('')).toMatch(/from '\.\.\/dist'/);
      for (const c of code.slice(1)) expect(c.metadata.tags, src).toBeUndefined();
    }
  });

  it('nbgen.py refuses an unknown cell header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nbgen-'));
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '#%% markdown\nhello\n');
    expect(() => execFileSync('python3', [join(ROOT, 'scripts', 'nbgen.py'), bad, join(dir, 'bad.ipynb')], { stdio: 'pipe' })).toThrow(/unknown cell header/);
  }, 60_000);
});
