#!/usr/bin/env bash
# Installs what pvops-lab needs, skipping what is already there, so it is cheap to run again:
#   1. the npm dependencies (npm ci), 2. Jupyter (Debian packages as root, else pip --user) and
#   Debian's Chromium for the browser tests, 3. the compiled library (dist/), 4. the tslab
#   kernel registered for this checkout. Prints one line per step; exits non-zero with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
say() { printf 'setup: %s\n' "$*"; }

# --- Node.js -----------------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or later is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# --- npm packages ------------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm packages present"
fi

# --- system packages: Jupyter and Chromium -----------------------------------------------------
apt_packages=()
/usr/bin/python3 -c 'import nbconvert, notebook, ipykernel, jupyter_client' 2>/dev/null \
  || apt_packages+=(jupyter-notebook jupyter-nbconvert jupyter-client python3-ipykernel)
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${apt_packages[@]}" >/dev/null
  else
    if ! python3 -c 'import nbconvert, notebook, ipykernel, jupyter_client' 2>/dev/null && [ ! -x .venv/bin/jupyter ]; then
      say "not root: installing Jupyter with pip into .venv (see environment.md)"
      if ! python3 -m venv .venv 2>/dev/null; then
        echo "setup: python3 -m venv failed (Debian needs the python3-venv package); ask an administrator for: apt-get install ${apt_packages[*]}" >&2
        exit 1
      fi
      .venv/bin/pip install --quiet notebook nbconvert ipykernel jupyter_client
    fi
    [ -x /usr/bin/chromium ] || say "Chromium is missing: the browser tests need /usr/bin/chromium (sudo apt-get install chromium)"
  fi
else
  say "Jupyter and Chromium present"
fi

# The Python that runs Jupyter: Debian's, else the checkout's .venv, else the first python3 on PATH.
if /usr/bin/python3 -c 'import jupyter_client' 2>/dev/null; then jupyter_python=/usr/bin/python3
elif [ -x .venv/bin/python ]; then jupyter_python=$root/.venv/bin/python
else jupyter_python=$(command -v python3); fi

# --- the library -------------------------------------------------------------------------------
if [ ! -f dist/index.js ] || [ -n "$(find lib tsconfig.json tsconfig.build.json -newer dist/index.js -print -quit)" ]; then
  say "building lib/ to dist/"
  npm run --silent build
else
  say "dist/ is up to date"
fi

# --- the tslab kernel --------------------------------------------------------------------------
tslab_bin="$root/node_modules/.bin/tslab"
spec=$("$jupyter_python" -c 'from jupyter_client.kernelspec import KernelSpecManager as K; print(K().get_kernel_spec("tslab").resource_dir)' 2>/dev/null || true)
if [ -z "$spec" ] || ! grep -q "\"$tslab_bin\"" "$spec/kernel.json" 2>/dev/null; then
  say "registering the tslab kernel for this checkout"
  user_flag=(); [ "$(id -u)" = 0 ] || user_flag=(--user)
  "$tslab_bin" install --python="$jupyter_python" --binary="$tslab_bin" "${user_flag[@]}" >/dev/null
else
  say "tslab kernel registered ($spec)"
fi
# The kernel's node starts with glibc's huge-page tunable: a big boot's state is new memory, and
# with huge pages it takes about half the page faults (a 64 GiB boot: 0.5 s less on the machine
# measured, bench/boot.ts). glibc reads it only at process start; older glibc ignores it.
"$jupyter_python" - <<'PY' || say "could not add GLIBC_TUNABLES to the tslab kernel's environment (not needed to run)"
import json, os
from jupyter_client.kernelspec import KernelSpecManager
path = os.path.join(KernelSpecManager().get_kernel_spec("tslab").resource_dir, "kernel.json")
spec = json.load(open(path))
env = spec.setdefault("env", {})
if "hugetlb" not in env.get("GLIBC_TUNABLES", ""):
    env["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1"
    json.dump(spec, open(path, "w"), indent=1)
PY
