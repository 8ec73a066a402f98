# claimstance: `make serve` starts the HTTP service (building the default model first if there is none),
# `make test` runs the tests (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(if $(wildcard ../shared/data),../shared/data,data)
RECIPE ?= default
MODEL_DIR ?= artifacts/$(RECIPE)
REPORT_DIR ?= reports/$(RECIPE)
SEEDS ?= 42 43 44
MODEL ?= claimstance:latest
EMBEDDER ?= claimstance-embedder:latest
PORT ?= 3000
HOST ?= 127.0.0.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup java browser postgres qemu data train export model embedder serve score track bench-serve bench-model bench-batch bench-track bench-matching bench-monitor matching rescore monitor chaos eval eval-validation ablation test test-fast test-avx2 lint format clean

setup: $(VENV)/.installed java browser postgres

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -c constraints.txt -r requirements.txt -r requirements-dev.txt
	touch $@

# Spark (the batch job's --engine spark) runs on Java 17 or newer: Debian's OpenJDK headless where there is none.
java:
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); \
	if [ "$${v:-0}" -lt 17 ]; then \
		echo "Spark needs Java 17 or newer (found: $${v:-none}); installing openjdk-17-jre-headless"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; \
	fi

# The tracker page's browser test (tests/serving/test_tracker_page.py) drives Debian's headless Chromium.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "The tracker page's test needs chromium and chromedriver; installing chromium and chromium-driver"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	fi

# The claim monitor's tests run on PostgreSQL too (tests/serving/monitor/conftest.py starts a throwaway server).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "The monitor's PostgreSQL tests need Debian's postgresql; installing it"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; \
	fi

# An emulated CPU for `make test-avx2`: Debian's qemu-user, where there is none.
qemu:
	@if ! command -v qemu-x86_64 >/dev/null; then \
		echo "make test-avx2 emulates an AVX2-only CPU with qemu-user; installing qemu-user"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends qemu-user; \
	fi

data: setup
	$(PY) -m training.fetch --data_dir $(DATA_DIR)

train: data
	$(PY) -m training.train --recipe $(RECIPE) --data_dir $(DATA_DIR) --output_dir $(MODEL_DIR)

$(MODEL_DIR)/model.safetensors:
	$(MAKE) train

# Export an already trained folder to int8 ONNX, choose its runtime on validation, and register it.
export: setup
	$(PY) -m training.export --model $(MODEL_DIR) --data_dir $(DATA_DIR) --register true

# The model the service serves: trained and registered now if the model store has none.
model: setup
	@$(PY) -m models.registry $(MODEL) || $(MAKE) train

# The claim monitor's embedding model (the base model, exported to int8 ONNX), built and registered if missing.
embedder: setup
	@$(PY) -m models.registry $(EMBEDDER) || $(PY) -m training.embedder --output_dir artifacts/embedder

# This machine only unless HOST says otherwise (HOST=0.0.0.0: every interface; set API keys first: docs/operations.md).
serve: model embedder
	CLAIMSTANCE_MODEL=$(MODEL) CLAIMSTANCE_HOST=$(HOST) $(VENV)/bin/bentoml serve serving.service:Claimstance \
		--host $(HOST) --port $(PORT)

# Batch scoring of a file: make score IN=pairs.jsonl OUT=scored.parquet [ARGS="--engine spark ..."]
score: model
	$(if $(and $(IN),$(OUT)),,$(error make score needs IN=<input file> OUT=<output file>))
	$(PY) -m serving.batch --input $(IN) --output $(OUT) --model $(MODEL) $(ARGS)

# One claim across many documents: make track IN=docs.jsonl OUT=tracked.jsonl [ARGS="--engine spark ..."]
# Rows of claim, id, text (title, source, url, published optional): the scored rows, and OUT's .claim_summaries.jsonl.
track: model
	$(if $(and $(IN),$(OUT)),,$(error make track needs IN=<input file> OUT=<output file>))
	$(PY) -m serving.batch --input $(IN) --output $(OUT) --model $(MODEL) --track true --title_column title $(ARGS)

bench-serve: model
	$(PY) -m eval.speed.bench_serve --model $(MODEL)

bench-model: model
	$(PY) -m eval.speed.bench_model --model $(MODEL)

bench-batch: model
	$(PY) -m eval.speed.bench_batch --model $(MODEL) $(ARGS)

bench-track: model
	$(PY) -m eval.speed.bench_track --model $(MODEL) $(ARGS)

# A file of documents checked against every watched claim (resumable, exactly once): make monitor IN=documents.jsonl
# [ARGS="--engine spark"] (matching and stance on Spark's executors, answers stored once by the driver)
monitor: model embedder
	$(if $(IN),,$(error make monitor needs IN=<documents.jsonl>))
	$(PY) -m serving.monitor.ingest_file --input $(IN) --model $(MODEL) --embedder $(EMBEDDER) $(ARGS)

# The claim monitor's stored pairs answered again by a new model (resumable): make rescore [MODEL=claimstance:<v>]
rescore: model
	$(PY) -m serving.monitor.rescore --model $(MODEL) $(ARGS)

# The claim monitor: matching one document against up to 100,000 claims (reports/matching_speed/), and how well the
# embedder picks a body's headlines on FNC-1, threshold chosen on validation (reports/matching/).
bench-matching: setup
	$(PY) -m eval.speed.bench_matching $(ARGS)

# The monitor's ingest (make monitor's command) against make score's, on FNC-1 bodies (reports/monitor_speed/).
bench-monitor: model embedder
	$(PY) -m eval.speed.bench_monitor --model $(MODEL) --embedder $(EMBEDDER) --data_dir $(DATA_DIR) $(ARGS)

matching: embedder data
	$(PY) -m eval.matching_quality --embedder $(EMBEDDER) --runtime onnx --data_dir $(DATA_DIR) $(ARGS)

chaos: model embedder
	$(PY) -m eval.chaos.service --model $(MODEL) --output_dir reports/chaos
	$(PY) -m eval.chaos.batch --model $(MODEL) --output reports/chaos/chaos_batch.json
	$(PY) -m eval.chaos.monitor_service --model $(MODEL) --embedder $(EMBEDDER) --output_dir reports/chaos
	$(PY) -m eval.chaos.monitor_store --output_dir reports/monitor_scale

eval: data $(MODEL_DIR)/model.safetensors
	$(PY) -m eval.evaluate --model $(MODEL_DIR) --data_dir $(DATA_DIR) --output_dir $(REPORT_DIR)

# The same on each source's validation claims, with the relevance designs compared: what recipes are chosen on.
eval-validation: data $(MODEL_DIR)/model.safetensors
	$(PY) -m eval.evaluate --split validation --model $(MODEL_DIR) --data_dir $(DATA_DIR) --output_dir $(REPORT_DIR)_validation

# make ablation [STEPS="default balanced"] [ARGS="--readings false"]: every step unless STEPS names some.
ablation: data
	$(PY) -m eval.ablation --data_dir $(DATA_DIR) --seeds $(SEEDS) $(if $(STEPS),--steps $(STEPS)) $(ARGS)

# Every test; what CI runs (.ci/run).
test: setup
	$(PY) -m pytest

# The inner loop: every test but the slow end-to-end ones (a real server, Spark, the browser, training: marked e2e).
test-fast: setup
	$(PY) -m pytest -m "not e2e"

# The tests as a CPU without AVX-512 runs them: every test on PyTorch's AVX2 kernels, then the in-process int8 tests
# on ONNX Runtime's AVX2 kernel, whose u8×s8 products saturate, under an emulated Haswell (about 15 minutes; qemu
# warns of CPU features it leaves out, which these tests do not need).
INT8_TESTS := tests/training/test_export.py tests/training/test_embedder.py tests/models \
	tests/serving/batch/test_local_engine.py tests/serving/batch/test_scoring.py tests/serving/batch/test_batch_tracking.py \
	tests/serving/monitor
test-avx2: setup qemu
	ATEN_CPU_CAPABILITY=avx2 $(PY) -m pytest
	qemu-x86_64 -cpu Haswell $(PY) -m pytest -p no:cacheprovider $(INT8_TESTS) \
		-k "not kill and not two_worker and not postgres"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf artifacts .pytest_cache
