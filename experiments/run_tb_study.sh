#!/usr/bin/env bash
# The TB study (nbs/15_tb_study.ipynb: does the lung mask help a TB classifier?) on the full data, top to bottom, one CPU thread.
#
#   experiments/run_tb_study.sh        # LUNGSEG_DATA defaults to /work/shared/data/chest-xray-masks-and-labels
#
# papermill executes the notebook into runs/tb/15_tb_study.ipynb (so that a failed run never overwrites the source), then the
# executed copy replaces nbs/15_tb_study.ipynb and nbdev-clean cleans it. The settings go in by environment variables, not
# `papermill -p`: the project's nbdev-clean strips the `parameters` tag, and an injected cell would make `nbdev-test` rerun the
# full study. LUNGSEG_TB_QUICK=0 selects the full budget; without it (nbdev-test) the notebook runs quick on the shipped sample.
# Masks, inputs and every trained configuration's predictions are cached in runs/tb/, so a rerun skips finished work; the small
# result files are copied to records/tb_study/ (no weights). About 90 minutes from scratch on one thread; minutes when cached.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
export LUNGSEG_DATA="${LUNGSEG_DATA:-/work/shared/data/chest-xray-masks-and-labels}"
export LUNGSEG_TB_QUICK=0 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p runs/tb
start=$(date +%s)
"$BIN/papermill" nbs/15_tb_study.ipynb runs/tb/15_tb_study.ipynb --cwd nbs -k python3 --log-output
cp runs/tb/15_tb_study.ipynb nbs/15_tb_study.ipynb
"$BIN/nbdev-clean" --fname nbs/15_tb_study.ipynb
echo "TB study finished in $(( ($(date +%s) - start)/60 )) min ($(date))"
