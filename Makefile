# `make test` builds the environment from nothing, lints and runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test test-fast lint format demo clean-venv

$(STAMP): requirements.txt requirements-no-deps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-no-deps.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: lint
	$(PY) -m pytest -q

test-fast: lint
	$(PY) -m pytest -q -m "not slow"

# ruff: rules and line length in pyproject.toml; the tree must pass both checks.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean-venv:
	rm -rf $(VENV)

DEMO := runs/demo
DEMO_DATA := data/synthetic_driving

# Built-in driving data -> train -> evaluate -> annotated images and clip.
demo: $(STAMP)
	rm -rf $(DEMO)
	$(PY) tools/train.py configs/synthetic_driving.py --work-dir $(DEMO)
	$(PY) tools/eval.py --checkpoint $(DEMO)/best.ckpt --out $(DEMO)/eval
	$(PY) tools/infer.py --checkpoint $(DEMO)/best.ckpt --source $(DEMO_DATA)/val --out $(DEMO)/predictions/images
	$(PY) tools/infer.py --checkpoint $(DEMO)/best.ckpt --source $(DEMO_DATA)/clip.mp4 --out $(DEMO)/predictions/clip
	@echo
	@echo "run directory:     $(DEMO)  (best.ckpt, last.ckpt, metrics.csv, tensorboard/)"
	@echo "plots:             $(DEMO)/plots"
	@echo "metrics:           $(DEMO)/eval/metrics.json"
	@echo "annotated images:  $(DEMO)/predictions/images"
	@echo "annotated clip:    $(DEMO)/predictions/clip"
