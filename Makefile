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

.PHONY: all setup demo test test-android test-slow clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,all]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/imse demo --out demo_out

test: $(STAMP)
	$(BIN)/python -m pytest
	bash android_demo/run_jvm_tests.sh

# The Android demo's signal path (plain Java) on the JVM with Debian's junit4.
test-android:
	bash android_demo/run_jvm_tests.sh

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) demo_out .pytest_cache
