/** Exporting an executed notebook to HTML with nbconvert, as a user publishing it would. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { JUPYTER, ROOT } from '../../support/notebook';

export const VIZ_OUTPUT = join(ROOT, 'test-output', 'viz');

/** Runs `jupyter nbconvert --to html` on an executed notebook; returns the HTML file's path. */
export function exportHtml(executedNotebook: string): string {
  mkdirSync(VIZ_OUTPUT, { recursive: true });
  execFileSync(JUPYTER, ['nbconvert', '--to', 'html', '--output-dir', VIZ_OUTPUT, executedNotebook], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
  });
  return join(VIZ_OUTPUT, basename(executedNotebook).replace(/\.ipynb$/, '.html'));
}

/** How many copies of plotly.js a text holds (its banner comment opens each copy). */
export function plotlyCopies(text: string): number {
  return (text.match(/plotly\.js \(cartesian - minified\) v\d/g) ?? []).length;
}
