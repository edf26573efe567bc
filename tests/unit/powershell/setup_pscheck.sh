#!/bin/sh
# CTest fixture `pscheck`: makes pscheck runnable from the build tree on a plain
# clone (npm install of its two modules into HOME when they are missing). Every
# PowerShell check requires this fixture, so a machine that cannot run pscheck
# fails those checks here, loudly, instead of skipping them.
# usage: setup_pscheck.sh SHARED_DIR PSCHECK_HOME
set -eu
shared=$1 home=$2
if [ ! -f "$shared/tools/pscheck/pscheck.mjs" ] || [ ! -f "$shared/ps-schema/cmdlets.json" ]; then
  echo "setup_pscheck: $shared/tools/pscheck and $shared/ps-schema are missing; netdsl's PowerShell checks need" \
       "the shared tools beside the checkout (../shared)" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "setup_pscheck: node is not installed; install nodejs and npm (./bootstrap.sh does)" >&2
  exit 1
fi
if [ ! -d "$home/node_modules/web-tree-sitter" ] || [ ! -d "$home/node_modules/tree-sitter-powershell" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup_pscheck: pscheck's node modules are not in $home and npm is not installed to fetch them" >&2
    exit 1
  fi
  mkdir -p "$home"
  cp "$shared/tools/pscheck/package.json" "$home/"
  (cd "$home" && npm install --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "setup_pscheck: npm install in $home failed; pscheck cannot run" >&2
    exit 1
  }
fi
echo "setup_pscheck: pscheck ready in $home"
