# claimstance: `make serve` starts the HTTP service (building the default model first if there is none),
# `make test` runs the tests (see README.md). `make help` lists every target; `## ` comments are its text.
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(if $(wildcard ../shared/data),../shared/data,data)
RECIPE ?= default
MODEL_DIR ?= artifacts/$(RECIPE)
REPORT_DIR ?= reports/eval_$(RECIPE)_recipe
SEEDS ?= 42 43 44
MODEL ?= claimstance:latest
EMBEDDER ?= claimstance-embedder:latest
PORT ?= 3000
HOST ?= 127.0.0.1
MODEL_ARCHIVE ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CLAIMSTANCE := $(VENV)/bin/claimstance

.PHONY: help venv setup java browser postgres qemu data train export model embedder export-model docs serve score track bench-serve bench-model bench-batch bench-track bench-matching bench-monitor matching rescore monitor chaos eval eval-validation ablation test test-fast test-avx2 lint format clean
.DEFAULT_GOAL := help

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: venv java browser postgres ## The virtualenv, the `claimstance` command, and what the tests drive (Java, Chromium, PostgreSQL)

venv: $(VENV)/.installed ## The virtualenv and the `claimstance` command alone (pip install -e .)

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -c constraints.txt -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

java: ## Java 17 or newer for Spark (the batch job's --engine spark): Debian's OpenJDK headless where there is none
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	if [ "$${v:-0}" -lt 17 ]; then \
		echo "Spark needs Java 17 or newer (found: $${v:-none}); installing openjdk-17-jre-headless"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; \
	fi

browser: ## Debian's headless Chromium for the tracker page's browser test
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "The tracker page's test needs chromium and chromedriver; installing chromium and chromium-driver"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	fi

postgres: ## Debian's PostgreSQL: the claim monitor's tests run on it too (a throwaway server each run)
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "The monitor's PostgreSQL tests need Debian's postgresql; installing it"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; \
	fi

qemu: ## Debian's qemu-user: an emulated AVX2-only CPU for make test-avx2
	@if ! command -v qemu-x86_64 >/dev/null; then \
		echo "make test-avx2 emulates an AVX2-only CPU with qemu-user; installing qemu-user"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends qemu-user; \
	fi

data: venv ## The corpora (../shared/data where it exists; else fetched to ./data)
	$(PY) -m training.fetch --data_dir $(DATA_DIR)

train: data ## Train RECIPE (default: default, about 24 minutes on 2 cores) to MODEL_DIR and register it
	$(CLAIMSTANCE) train --recipe $(RECIPE) --data_dir $(DATA_DIR) --output_dir $(MODEL_DIR)

$(MODEL_DIR)/model.safetensors:
	$(MAKE) train

export: venv ## Export a trained MODEL_DIR to int8 ONNX, choose its runtime on validation, register it
	$(CLAIMSTANCE) export --model $(MODEL_DIR) --data_dir $(DATA_DIR) --register true

# With MODEL_ARCHIVE (a folder or URL that `make export-model` wrote), the models are imported instead of trained.
model: venv ## The model the service serves: imported from MODEL_ARCHIVE, or trained, if the model store has none
	@$(PY) -m models.registry $(MODEL) || $(if $(MODEL_ARCHIVE),$(CLAIMSTANCE) import-model --input $(MODEL_ARCHIVE),\
		$(MAKE) data && $(CLAIMSTANCE) build --recipe $(RECIPE) --data_dir $(DATA_DIR) --model $(MODEL) --embedder $(EMBEDDER))

embedder: venv ## The claim monitor's embedder (the base model in int8 ONNX), built and registered if missing
	@$(PY) -m models.registry $(EMBEDDER) || $(PY) -m training.embedder --output_dir artifacts/embedder

export-model: model embedder ## Write the served models as BentoML archives: make export-model MODEL_ARCHIVE=<folder or s3://...>
	$(if $(MODEL_ARCHIVE),,$(error make export-model needs MODEL_ARCHIVE=<folder or URL>))
	$(CLAIMSTANCE) export-model --output $(MODEL_ARCHIVE) --model $(MODEL) --embedder $(EMBEDDER)

docs: venv ## docs/settings.md, written from the service's settings class
	$(PY) -m serving.settings_reference

# This machine only unless HOST says otherwise (HOST=0.0.0.0: every interface; set API keys first: docs/operations.md).
serve: model embedder ## Start the HTTP service on PORT (3000), building the models first if the store has none
	$(CLAIMSTANCE) serve --model $(MODEL) --embedder $(EMBEDDER) --host $(HOST) --port $(PORT)

score: model ## Score a file: make score IN=pairs.jsonl OUT=scored.parquet [ARGS="--engine spark ..."]
	$(if $(and $(IN),$(OUT)),,$(error make score needs IN=<input file> OUT=<output file>))
	$(CLAIMSTANCE) score --input $(IN) --output $(OUT) --model $(MODEL) $(ARGS)

# Rows of claim, id, text (title, source, url, published optional): the scored rows, and OUT's .claim_summaries.jsonl.
track: model ## One claim across many documents: make track IN=docs.jsonl OUT=tracked.jsonl [ARGS=...]
	$(if $(and $(IN),$(OUT)),,$(error make track needs IN=<input file> OUT=<output file>))
	$(CLAIMSTANCE) track --input $(IN) --output $(OUT) --model $(MODEL) $(ARGS)

bench-serve: model ## The HTTP service under load, against a naive server
	$(CLAIMSTANCE) bench serve --model $(MODEL) $(ARGS)

bench-model: model ## The model alone: pairs/s by runtime, batch size and threads
	$(CLAIMSTANCE) bench model --model $(MODEL) $(ARGS)

bench-batch: model ## The batch job: rows/s of each engine
	$(CLAIMSTANCE) bench batch --model $(MODEL) $(ARGS)

bench-track: model ## The claim tracker: /track calls and the batch job's --track
	$(CLAIMSTANCE) bench track --model $(MODEL) $(ARGS)

# ARGS="--engine spark": matching and stance on Spark's executors, answers stored once by the driver.
monitor: model embedder ## Check a file against every watched claim (resumable): make monitor IN=documents.jsonl
	$(if $(IN),,$(error make monitor needs IN=<documents.jsonl>))
	$(CLAIMSTANCE) monitor --input $(IN) --model $(MODEL) --embedder $(EMBEDDER) $(ARGS)

rescore: model ## The monitor's stored pairs answered again by MODEL (resumable)
	$(CLAIMSTANCE) rescore --model $(MODEL) $(ARGS)

bench-matching: venv ## Matching one document against up to 100,000 watched claims
	$(CLAIMSTANCE) bench matching $(ARGS)

bench-monitor: model embedder ## The monitor's file job against make score's, on FNC-1 bodies
	$(CLAIMSTANCE) bench monitor --model $(MODEL) --embedder $(EMBEDDER) --data_dir $(DATA_DIR) $(ARGS)

matching: embedder data ## How well the embedder picks a body's headlines on FNC-1 (threshold chosen on validation)
	$(PY) -m eval.matching_quality --embedder $(EMBEDDER) --runtime onnx --data_dir $(DATA_DIR) $(ARGS)

chaos: model embedder ## Faults a deployment meets: the service, the batch job and the monitor under them
	$(PY) -m eval.chaos.service --model $(MODEL) --output_dir reports/chaos
	$(PY) -m eval.chaos.batch --model $(MODEL) --output reports/chaos/chaos_batch.json
	$(PY) -m eval.chaos.monitor_service --model $(MODEL) --embedder $(EMBEDDER) --output_dir reports/chaos
	$(PY) -m eval.chaos.monitor_store --output_dir reports/monitor_scale

eval: data $(MODEL_DIR)/model.safetensors ## Score MODEL_DIR and the baselines on the test sets, to REPORT_DIR
	$(CLAIMSTANCE) evaluate --model $(MODEL_DIR) --data_dir $(DATA_DIR) --output_dir $(REPORT_DIR)

eval-validation: data $(MODEL_DIR)/model.safetensors ## The same on validation claims: what recipes are chosen on
	$(CLAIMSTANCE) evaluate --split validation --model $(MODEL_DIR) --data_dir $(DATA_DIR) --output_dir $(REPORT_DIR)_validation

ablation: data ## Train and score each recipe step over SEEDS: make ablation [STEPS="no_counterfactuals ..."] [ARGS=...]
	$(PY) -m eval.ablation --data_dir $(DATA_DIR) --seeds $(SEEDS) $(if $(STEPS),--steps $(STEPS)) $(ARGS)

test: setup ## Every test; what CI runs (.ci/run)
	$(PY) -m pytest

# The slow end-to-end tests start a real server, Spark, the browser or a training run (marked e2e).
test-fast: setup ## Every test but the slow end-to-end ones: the inner loop
	$(PY) -m pytest -m "not e2e"

# The tests as a CPU without AVX-512 runs them: every test on PyTorch's AVX2 kernels, then the in-process int8 tests
# on ONNX Runtime's AVX2 kernel, whose u8×s8 products saturate, under an emulated Haswell (about 15 minutes; qemu
# warns of CPU features it leaves out, which these tests do not need).
INT8_TESTS := tests/training/test_export.py tests/training/test_embedder.py tests/models \
	tests/serving/batch/test_local_engine.py tests/serving/batch/test_scoring.py tests/serving/batch/test_batch_tracking.py \
	tests/serving/monitor
test-avx2: setup qemu ## The tests as an AVX2-only CPU runs them (about 15 minutes more)
	ATEN_CPU_CAPABILITY=avx2 $(PY) -m pytest
	qemu-x86_64 -cpu Haswell $(PY) -m pytest -p no:cacheprovider $(INT8_TESTS) \
		-k "not kill and not two_worker and not postgres"

lint: venv ## ruff: the checks and the format, changing nothing
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv ## ruff: fix what it can and format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## Remove the trained models and caches (not the model store)
	rm -rf artifacts .pytest_cache
