# HX Pulse: `make demo` runs the product on SQLite with sample data; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint install system-deps browser-sdks clean

# Labelled review sentences and the AFINN-165 lexicon (npm package sentiment 5.0.2, MIT) that the
# text-analysis quality tests and bench/themes.py measure against; not shipped with the product.
REVIEWS := .cache/reviews/node_modules/sentiment/package.json
# The browser SDKs a website pastes (Segment's analytics.js, RudderStack's JavaScript SDK), at
# pinned versions, that the website tests load in chromium; not shipped with the product.
SEGMENT_JS := @segment/analytics-next@1.84.3
RUDDER_JS := @rudderstack/analytics-js@3.34.1
BROWSER_SDKS := .cache/browser-sdks/installed-$(subst /,_,$(SEGMENT_JS))-$(subst /,_,$(RUDDER_JS))

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/hxpulse demo

# Debian packages the tests use, each installed only when missing (a machine may have its own
# Node.js and npm): PostgreSQL server binaries, chromium for the browser tests and
# npm for the test data and browser SDKs below.
system-deps:
	@missing=; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(REVIEWS): | system-deps
	npm install --prefix .cache/reviews --no-save --no-audit --no-fund sentiment@5.0.2

$(BROWSER_SDKS): | system-deps
	npm install --prefix .cache/browser-sdks --no-save --no-audit --no-fund $(SEGMENT_JS) $(RUDDER_JS)
	touch $@

browser-sdks: $(BROWSER_SDKS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: $(STAMP) system-deps lint $(REVIEWS) $(BROWSER_SDKS)
	$(BIN)/pytest -n 2 -q

bench: $(STAMP) system-deps $(REVIEWS)
	@status=0; for b in ingest pulse segments nps themes text tombstones rules outbox actions funnel cli dashboard bands clv offers offers_serving fit; do \
	  $(BIN)/python bench/$$b.py || status=1; echo; done; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache hxpulse.db hxpulse.db-wal hxpulse.db-shm
