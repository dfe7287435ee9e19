#!/usr/bin/env bash
# Execute one experiment notebook top to bottom, in one kernel, in place, on the full data:
#   LUNGSEG_DATA=path/to/chest-xray-masks-and-labels [LUNGSEG_EXTERNAL=path/to/jsrt-scr] experiments/run_notebook.sh nbs/14_error_analysis.ipynb [papermill -p options]
# Its stored outputs then all come from that one run (cached training runs under runs/ are reused, never cell outputs).
set -euo pipefail
cd "$(dirname "$0")/.."
nb="$1"; shift
: "${LUNGSEG_DATA:?set LUNGSEG_DATA to the training data folder}"
.venv/bin/papermill "$nb" "$nb" -k python3 --cwd nbs --log-output "$@"
.venv/bin/nbdev-clean --fname "$nb"
