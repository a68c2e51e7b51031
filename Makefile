# The two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8000
CHROMIUM ?= /usr/bin/chromium
NODE    ?= node

.PHONY: run test test-busy test-js test-cpus test-deploy lint format bench browser node install clean plotly thumbs

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the CPU wheel (torch==2.13.0) in pyproject.toml: never ask for plain `torch`.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p data
	$(BIN)/reglab serve --host $(HOST) --port $(PORT)

# Debian's chromium drives the end-to-end tests (playwright cannot download a browser here).
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get update -q && apt-get install -y -q chromium) >/dev/null || \
	      { echo "Could not install chromium with apt-get; install it and rerun (or set CHROMIUM=/path)."; exit 1; }; \
	  else \
	    echo "End-to-end tests need Chromium at $(CHROMIUM): run 'sudo apt-get install -y chromium' (or set CHROMIUM=/path)."; exit 1; \
	  fi; \
	fi

# The page's pure modules (model, frame scheduler) are unit-tested with node's own test runner.
node:
	@if ! command -v $(NODE) >/dev/null; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get update -q && apt-get install -y -q nodejs) >/dev/null || \
	      { echo "Could not install nodejs with apt-get; install node >= 18 and rerun (or set NODE=/path)."; exit 1; }; \
	  else \
	    echo "The frontend's unit tests need node >= 18: run 'sudo apt-get install -y nodejs' (or set NODE=/path)."; exit 1; \
	  fi; \
	fi

test-js: node
	$(NODE) --test tests/js/*.test.mjs

test: $(STAMP) browser test-js test-cpus
	REGLAB_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

# The whole suite beside HOGS busy processes (one core's worth by default): a student's laptop or
# a shared server is loaded, and every wait in the suite must hold there too. Run it before you stop.
HOGS ?= 1
test-busy: $(STAMP) browser test-js
	sh tests/busy.sh $(HOGS) env REGLAB_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

# The equality tests (our optimizers vs torch.optim, a member alone vs in a group) once more on
# every float path torch has on this CPU: a newcomer's or CI's CPU may take another one.
EQUALITY_TESTS := tests/unit/test_optim.py tests/unit/test_loop.py tests/unit/test_models.py
test-cpus: $(STAMP)
	@for cap in default avx2 avx512; do \
	  case $$cap in \
	    avx2) grep -qw avx2 /proc/cpuinfo || continue ;; \
	    avx512) grep -qw avx512f /proc/cpuinfo || continue ;; \
	  esac; \
	  echo "equality tests on torch's $$cap kernels (ATEN_CPU_CAPABILITY=$$cap)"; \
	  ATEN_CPU_CAPABILITY=$$cap $(BIN)/python -m pytest -q -p no:cacheprovider $(EQUALITY_TESTS) \
	    || exit 1; \
	done

# Every lesson claim on all nine seed settings 0-8 (`make test` checks settings 0, 3 and 6), with
# a table of how many settings each claim held on and the lessons' training times. About 15 min.
science: $(STAMP)
	REGLAB_SCIENCE_SEEDS=0-8 $(BIN)/python -m pytest -q tests/science/test_lessons.py \
	  tests/science/test_lesson_diagnosis.py tests/science/test_l1_l2_by_size.py

# The gallery's thumbnails (frontend/lesson-thumbs.json, committed): every lesson trained as
# shipped, its curves kept small. Run it after changing a lesson (tests/unit/test_thumbs.py says when).
thumbs: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m reglab.thumbs

# The classroom deployment in real containers (tests/containers, the commands of
# docs/classroom.md): installs podman, runc and debootstrap from Debian's packages (as root),
# builds the base and both images without Docker Hub, runs the compose file; ~20 minutes from
# nothing, less once the images are cached. Plain `make test` does not run it.
COMPOSE_TOOL := $(VENV)/.podman-compose
$(COMPOSE_TOOL): $(STAMP)
	$(BIN)/pip install --quiet 'podman-compose==1.6.0'
	touch $(COMPOSE_TOOL)

test-deploy: $(STAMP) $(COMPOSE_TOOL)
	sh tests/containers/install-engine.sh
	REGLAB_CONTAINER_TESTS=1 $(BIN)/python -m pytest -q -s tests/containers

# Rebuilds the plotly.js the package ships (backend/reglab/api/static/plotly.min.js) from the npm
# versions frontend/plotly/package-lock.json pins (frontend/plotly/build.js says why a bundle of
# our own). Needs npm and the registry; neither `make run` nor `make test` calls it.
plotly: node
	cd frontend/plotly && npm ci --no-audit --no-fund && $(NODE) build.js

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) browser
	REGLAB_CHROMIUM=$(CHROMIUM) $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
