# lungseg: two commands set up and test everything (see README).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install test test-slow docs readme clean-nbs

# torchvision 0.28.0, the only torchvision for torch 2.13.0, is published as a CUDA build. Next to a
# CPU-only torch (what a local wheel cache or config may offer) its C++ ops fail to load
# ("operator torchvision::nms does not exist"). So we install the *matched* pair from the registry
# first, with --isolated so that no local pip config swaps in another torch; both run fine on a CPU.
install:
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --isolated torch==2.13.0 torchvision==0.28.0
	$(BIN)/python -m pip install -e ".[dev]"
	$(BIN)/python -c "import torch, torchvision, fastai; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'fastai', fastai.__version__)"

# Cells marked `#| orthanc` start a local Orthanc PACS: they run where it is installed or LUNGSEG_REQUIRE_ORTHANC=1.
ORTHANC_FLAGS = $$($(BIN)/python -c "import os, sys; sys.path.insert(0, 'tests'); from loopback import orthanc_binary; \
	print('--flags orthanc' if orthanc_binary() or os.environ.get('LUNGSEG_REQUIRE_ORTHANC') == '1' else '')")

# The whole test suite: lint (pyflakes rules), every notebook (cells marked `#| slow` skipped) and the pytest tests.
test:
	$(BIN)/ruff check lungseg
	$(BIN)/nbdev-test --n-workers 2 $(ORTHANC_FLAGS)
	$(BIN)/python -m pytest -q tests

# Also run the `#| slow` cells (full data, full training): hours on a CPU.
test-slow:
	$(BIN)/nbdev-test --flags slow --n-workers 1

clean-nbs:
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean

# README.md from nbs/index.ipynb (nbdev directives and hidden cells dropped; stored outputs kept).
readme:
	$(BIN)/python tools/build_docs.py readme

# The docs site in _site/ without Quarto: nbdev's doc processors + Sphinx/myst-nb, stored outputs only
# (no notebook is executed). Open _site/index.html, or: $(BIN)/python -m http.server -d _site
# The Try-it page (docs/try/) needs npm: the build fetches onnxruntime-web from the npm registry (tools/build_docs.py).
docs: readme
	$(BIN)/python tools/build_docs.py site
