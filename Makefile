# imse-keras: `make demo` and `make test` each set up .venv from scratch when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Use the official checkpoints beside the checkout when they are there
# (no download needed); otherwise they are downloaded once into the cache.
SHARED_OFFICIAL := $(wildcard ../shared/official/g_best_pesq_3.399)
ifneq ($(SHARED_OFFICIAL),)
export IMSE_WEIGHTS ?= $(abspath ../shared/official)
endif
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: all setup demo test test-all test-android android-model test-slow clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,all]"
	touch $(STAMP)

setup: $(STAMP)

# The demo caches the checkpoint it used (SHA-256 checked); the last line checks,
# offline and without IMSE_WEIGHTS, that the README's commands will find it.
demo: $(STAMP)
	$(BIN)/imse demo -o demo_out
	env -u IMSE_WEIGHTS $(BIN)/python -c "from imse_keras.weights.pretrained import \
	resolve_checkpoint as r; print('weights for imse enhance (offline):', r(allow_download=False))"

# pytest-xdist workers: each test file runs whole in one worker (its module
# fixtures, e.g. the tiny model's conversions, are built once). TEST_WORKERS=0
# runs in this process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Fast tier (CI): every module with small cases; pytest's `-m 'not slow'` is in pyproject.toml.
test: $(STAMP)
	$(PYTEST)
	bash android_demo/run_jvm_tests.sh

# Everything: the fast tier plus the tests marked slow (full vb_dev evaluation,
# long training, official-size export, ...).
test-all: $(STAMP)
	$(PYTEST) -m "slow or not slow"
	bash android_demo/run_jvm_tests.sh

# The Android demo: fixture freshness, the plain-Java core's JUnit tests (Debian's junit4) and
# the compile check of :app against the real LiteRT API in ../shared/litert-java.
test-android:
	bash android_demo/run_jvm_tests.sh

# The models the Android app bundles (android_demo/README.md): int8 and float32 exports of the
# official weights into tflite/, int8 calibrated on synthetic noisy speech.
android-model: $(STAMP)
	$(BIN)/imse export --mode int8 --mode float32 --calib synth -o tflite/

# Only the slow tier.
test-slow: $(STAMP)
	$(PYTEST) -m slow

clean:
	rm -rf $(VENV) demo_out .pytest_cache
