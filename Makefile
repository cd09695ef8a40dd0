# `make install` builds the environment (.venv) from nothing; `make test` installs, lints and runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Third-party files that are not Python packages (ssdlite.assets.shared_file finds them here).
SHARE := $(VENV)/share/ssdlite
OBJECTRON := @mediapipe/objectron@0.4.1675468480
OPENCV_DOC := opencv-doc=4.6.0+dfsg-12

.PHONY: install test test-fast lint format demo demo-real clean-venv

$(STAMP): requirements.txt requirements-no-deps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-no-deps.txt
	$(PY) -m pip install --quiet --no-deps -e .
	mkdir -p $(SHARE)
	@# Optional: the tests that need them skip, and say so, where npm or apt cannot fetch them.
	-cd $(SHARE) && npm pack --silent $(OBJECTRON) > /dev/null
	-cd $(SHARE) && apt-get download --quiet $(OPENCV_DOC) > /dev/null && \
		dpkg-deb --fsys-tarfile opencv-doc_*.deb | tar -xO ./usr/share/doc/opencv-doc/examples/data/vtest.avi > vtest.avi.part && \
		mv vtest.avi.part vtest.avi; rm -f opencv-doc_*.deb vtest.avi.part
	touch $(STAMP)

install: $(STAMP)
	@echo "installed into $(VENV): activate it with 'source $(VENV)/bin/activate', then run 'ssdlite --help'"

test: lint
	$(PY) -m pytest -q

test-fast: lint
	$(PY) -m pytest -q -m "not slow"

# ruff: rules and line length in pyproject.toml; the tree must pass both checks.
lint: install
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

REAL := runs/demo_real
ROAD_USERS := person car vehicle bicycle

# Real detectors on real footage: TF's SSDLite person detector and MediaPipe's Open Images
# SSD-MobileNetV2, converted from the registry packages, tracking the 1906 Market Street clip
# (a moving camera) and, where Debian's opencv-doc could be fetched, vtest.avi (a fixed one).
demo-real: $(STAMP)
	$(PY) tools/convert/tf_ssdlite_to_ckpt.py --out $(REAL)/person_ssdlite.ckpt
	$(PY) tools/convert/oidv4_tflite_to_ckpt.py --out $(REAL)/road_users_ssd.ckpt
	$(PY) tools/track.py --checkpoint $(REAL)/road_users_ssd.ckpt --source "$$($(PY) -m ssdlite.samples market-street)" \
		--out $(REAL)/market_street --classes $(ROAD_USERS)
	$(PY) tools/frames.py $(REAL)/market_street/sample.mp4 --every 300 --val-fraction 0 --out $(REAL)/market_street/stills
	@if $(PY) -m ssdlite.samples vtest > /dev/null 2>&1; then \
		$(PY) tools/track.py --checkpoint $(REAL)/person_ssdlite.ckpt --source "$$($(PY) -m ssdlite.samples vtest)" \
			--out $(REAL)/vtest --count-line 0,330,768,330 && \
		$(PY) tools/frames.py $(REAL)/vtest/vtest.mp4 --every 200 --val-fraction 0 --out $(REAL)/vtest/stills; \
	else echo "vtest.avi not fetched (apt-get download opencv-doc failed): skipped"; fi
	@echo
	@echo "market street (road users, moving camera): $(REAL)/market_street  (sample.mp4, tracks.csv, summary.json, stills/train/)"
	@echo "vtest (people, fixed camera):              $(REAL)/vtest"
