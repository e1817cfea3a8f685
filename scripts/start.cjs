#!/usr/bin/env node
// The main job: Jupyter Notebook on loopback, serving notebooks/ with the tslab kernel of this
// checkout (scripts/setup.sh registered it). Prints the URL to open; Ctrl-C stops it.
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { jupyterCommand, jupyterMissing } = require('./jupyter-path.cjs');

const port = process.env.PVOPS_PORT || '8888';
const args = ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, `--notebook-dir=${join(__dirname, '..', 'notebooks')}`];
if (typeof process.getuid === 'function' && process.getuid() === 0) args.push('--allow-root');
console.log(`pvops-lab: starting Jupyter Notebook on http://127.0.0.1:${port}/ (notebooks/, kernel "TypeScript" = tslab)`);
console.log('pvops-lab: open the URL with the token that Jupyter prints below; start with 00-the-bug-on-one-page.ipynb');
const child = spawn(jupyterCommand(), args, { stdio: 'inherit', env: { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' } });
child.on('error', (err) => { console.error(`pvops-lab: ${jupyterMissing(err)}`); process.exit(1); });
child.on('exit', (code) => process.exit(code === null ? 1 : code));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
