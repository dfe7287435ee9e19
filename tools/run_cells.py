"""Execute some cells of a notebook, in order, in one fresh kernel, and store their outputs; other cells keep theirs.

    LUNGSEG_DATA=path/to/data .venv/bin/python tools/run_cells.py nbs/03_train.ipynb CELL_ID [CELL_ID ...]

For a notebook whose expensive cells reuse cached runs under `runs/` (git-ignored): on a fresh clone those caches
are gone, and running the notebook top to bottom retrains everything (hours on a CPU). This runs just the cells
named by their cell ids (the set-up cells they depend on must be named too), in notebook order, in the notebook's
folder, and stops at the first error without writing anything. Every output it stores comes from this run.
"""
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

def main(fn, *ids):
    fn, ids = Path(fn), list(ids)
    nb = nbformat.read(fn, as_version=4)
    known = {c.get('id') for c in nb.cells}
    if missing := [i for i in ids if i not in known]: sys.exit(f"{fn}: no cell with id {', '.join(missing)}")
    client = NotebookClient(nb, timeout=7200, kernel_name='python3', resources={'metadata': {'path': str(fn.parent)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.get('id') in ids and cell.cell_type == 'code':
                print(f"running cell {i} ({cell.id})", flush=True)
                client.execute_cell(cell, i)
    nbformat.write(nb, fn)
    print(f"{fn}: {len(ids)} cells executed and stored")

if __name__ == '__main__': main(*sys.argv[1:])
