#!/usr/bin/env bash
# Execute one notebook top to bottom, in one kernel, on the full data:
#   LUNGSEG_DATA=path/to/chest-xray-masks-and-labels [LUNGSEG_EXTERNAL=path/to/jsrt-scr] experiments/run_notebook.sh nbs/14_error_analysis.ipynb [papermill -p options]
# papermill writes the executed copy to runs/nb/; only a run that finished replaces the notebook (then nbdev-clean cleans it),
# so its stored outputs all come from that one run, and a failed run leaves the notebook as it was. Cached training runs
# (their records under records/) are reused, never cell outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
nb="$1"; shift
: "${LUNGSEG_DATA:?set LUNGSEG_DATA to the training data folder}"
mkdir -p runs/nb; out="runs/nb/$(basename "$nb")"
.venv/bin/papermill "$nb" "$out" -k python3 --cwd nbs --log-output "$@"
cp "$out" "$nb"
.venv/bin/nbdev-clean --fname "$nb"
