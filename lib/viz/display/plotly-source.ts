/**
 * The plotly.js bundle inlined into notebooks: the npm package plotly.js-cartesian-dist-min
 * (scatter, bar, heatmap, histogram; about 1.5 MB), read once per process from node_modules.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LabError } from '../../errors';

export const PLOTLY_PACKAGE = 'plotly.js-cartesian-dist-min';

export interface PlotlySource {
  version: string;
  /** the minified bundle, safe to place inside a <script> element */
  code: string;
}

let cached: PlotlySource | null = null;

/** The bundle and its version; throws a LabError when the package is not installed. */
export function plotlySource(): PlotlySource {
  if (cached !== null) return cached;
  const from = typeof __filename === 'string' ? __filename : join(process.cwd(), 'index.js');
  let main: string;
  try {
    main = createRequire(from).resolve(PLOTLY_PACKAGE);
  } catch {
    throw new LabError('INVALID_STATE', `the npm package ${PLOTLY_PACKAGE} is not installed next to pvops-lab; run npm ci`);
  }
  const pkg = JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version: string };
  // A literal "</script" inside the bundle would end the element early; the bundle has none
  // today, and if a future one does, `<\/` is the same text inside JS strings and regexps.
  const code = readFileSync(main, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
  cached = { version: pkg.version, code };
  return cached;
}
