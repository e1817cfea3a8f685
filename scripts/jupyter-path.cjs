// Which `jupyter` to run: the checkout's .venv (a non-root install, see environment.md) if there
// is one, else the one on PATH (Debian's packages).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

function jupyterCommand(root = join(__dirname, '..')) {
  const venv = join(root, '.venv', 'bin', 'jupyter');
  return existsSync(venv) ? venv : 'jupyter';
}

/** A clear message when jupyter cannot be started at all. */
function jupyterMissing(err) {
  return `cannot run ${jupyterCommand()}: ${err.code || err.message}. Run scripts/setup.sh (as root it installs Debian's ` +
    'jupyter-notebook; without root see environment.md).';
}

module.exports = { jupyterCommand, jupyterMissing };
