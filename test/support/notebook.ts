/**
 * Executes a notebook headless with nbconvert and the tslab kernel, the way a user's "Run all"
 * would, and returns each code cell's outputs as text.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
/** the jupyter to run: the checkout's .venv if there is one (scripts/jupyter-path.cjs) */
export const JUPYTER: string = (require(resolve(ROOT, 'scripts', 'jupyter-path.cjs')) as { jupyterCommand: (root: string) => string }).jupyterCommand(ROOT);
export const OUTPUT_DIR = join(ROOT, 'test-output', 'notebooks');

export interface CellRun {
  index: number;
  source: string;
  /** stream text and text/plain or text/html payloads, joined */
  text: string;
  /** output types seen: stream, display_data, execute_result, error */
  outputTypes: string[];
  /** stderr stream text (tslab prints type errors there) */
  stderr: string;
  /** MIME types of the display outputs */
  mimeTypes: string[];
}

export interface NotebookRun {
  path: string;
  cells: CellRun[];
  /** every error: error outputs and stderr text */
  errors: string[];
}

interface NbOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[] | object>;
  ename?: string;
  evalue?: string;
}

const joinText = (t: string | string[] | undefined): string => (Array.isArray(t) ? t.join('') : (t ?? ''));

/** Runs the notebook (timeout per cell in seconds) and parses the executed copy. */
export function executeNotebook(notebook: string, timeoutSeconds = 300): NotebookRun {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const path = resolve(ROOT, notebook);
  execFileSync(JUPYTER, [
    'nbconvert', '--to', 'notebook', '--execute', '--allow-errors',
    '--ExecutePreprocessor.kernel_name=tslab', `--ExecutePreprocessor.timeout=${timeoutSeconds}`,
    '--output-dir', OUTPUT_DIR, path,
  ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' } });
  const executed = JSON.parse(readFileSync(join(OUTPUT_DIR, basename(path)), 'utf8')) as {
    cells: { cell_type: string; source: string | string[]; outputs?: NbOutput[] }[];
  };
  const cells: CellRun[] = [];
  const errors: string[] = [];
  executed.cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const outputs = cell.outputs ?? [];
    let text = '';
    let stderr = '';
    const mimeTypes: string[] = [];
    for (const o of outputs) {
      if (o.output_type === 'stream') {
        if (o.name === 'stderr') stderr += joinText(o.text);
        else text += joinText(o.text);
      } else if (o.output_type === 'error') {
        errors.push(`cell ${index}: ${o.ename}: ${o.evalue}`);
      } else if (o.data !== undefined) {
        for (const [mime, payload] of Object.entries(o.data)) {
          mimeTypes.push(mime);
          if (typeof payload === 'string' || Array.isArray(payload)) text += joinText(payload as string | string[]);
        }
      }
    }
    if (stderr !== '') errors.push(`cell ${index} stderr: ${stderr}`);
    cells.push({ index, source: joinText(cell.source), text, stderr, outputTypes: outputs.map((o) => o.output_type), mimeTypes });
  });
  return { path, cells, errors };
}
