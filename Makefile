# The two commands: `make run` and `make test`. Everything they need installs from here.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
RUN := .run
GATEWAY_URL ?= http://127.0.0.1:8000
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: lock install assets browser deps broker run stop status test test-unit test-integration bench lint codegen clean faust-trial

WEB := services/gateway/web
VENDOR := $(WEB)/static/vendor

install: $(VENV)/.installed assets

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv==0.13.8
	$(UV) pip sync -q -p $(PY) requirements.lock
	$(UV) pip install -q -p $(PY) --no-deps -e .
	touch $@

# The web app's assets from the npm registry (never a CDN at run time), served by the gateway.
assets: $(VENDOR)/.built

$(VENDOR)/.built: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp $(WEB)/node_modules/htmx.org/dist/htmx.min.js $(WEB)/node_modules/sortablejs/Sortable.min.js $(VENDOR)/
	touch $@

# Headless Chromium for the browser tests, from Debian (Playwright drives it; it downloads nothing).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null; }
	@chromium --version

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(UV) pip compile -q pyproject.toml --extra dev -o requirements.lock

deps: install
	$(PY) -m common.localstack deps

broker: deps
	$(PY) -m common.localstack broker-start

run: broker
	@if [ -f $(RUN)/honcho.pid ] && kill -0 $$(cat $(RUN)/honcho.pid) 2>/dev/null; then \
	  echo "already running (make stop first)"; exit 1; fi
	$(PY) -m common.localstack init
	PAYER_COMMS_TWILIO_BASE_URL=http://127.0.0.1:8090 PAYER_COMMS_SMTP_PORT=2526 \
	  PAYER_COMMS_INBOUND_DEFAULT_ORG=demo-clinic \
	  setsid $(VENV)/bin/honcho start -f Procfile > $(RUN)/services.log 2>&1 & echo $$! > $(RUN)/honcho.pid
	$(PY) -m common.localstack wait
	$(PY) scripts/demo_org.py
	@echo ""
	@echo "  The work queue is up:  $(GATEWAY_URL)   (open it in a browser; API: $(GATEWAY_URL)/api/v1/queue, FHIR: $(GATEWAY_URL)/fhir/Task)"
	@echo "  API docs:              $(GATEWAY_URL)/docs   (intake: http://127.0.0.1:8001/docs)"
	@echo "  Logs:                  $(RUN)/services.log    Stop with: make stop"

stop:
	@if [ -f $(RUN)/honcho.pid ]; then \
	  pid=$$(cat $(RUN)/honcho.pid); \
	  kill -TERM -- -$$pid 2>/dev/null || true; \
	  for i in $$(seq 50); do kill -0 -- -$$pid 2>/dev/null || break; sleep 0.2; done; \
	  kill -KILL -- -$$pid 2>/dev/null || true; rm -f $(RUN)/honcho.pid; echo "services stopped"; fi
	@$(PY) -m common.localstack broker-stop && echo "broker stopped"

test: deps browser
	$(VENV)/bin/ruff check -q libs services tests bench scripts conftest.py
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q

test-unit: install
	$(PY) -m pytest -q -m "not integration"

bench: deps browser
	$(PY) bench/pipeline.py
	$(PY) bench/queue_page.py
	$(PY) bench/routing.py
	$(PY) -m bench.ui_queue
	$(PY) bench/sla.py
	$(PY) bench/nba.py

lint: install
	$(VENV)/bin/ruff check libs services tests bench scripts
	$(VENV)/bin/lint-imports --no-cache

codegen: install
	$(PY) -m common.codegen

clean: stop
	rm -rf $(RUN) .pytest_cache

faust-trial: deps  ## the faust-streaming trial (bench/faust_trial.py), faust in a venv of its own
	test -x $(RUN)/faust-venv/bin/python || $(UV) venv -q -p 3.11 $(RUN)/faust-venv
	grep -v '^click==' requirements.lock > $(RUN)/faust-requirements.txt
	$(UV) pip install -q --python $(RUN)/faust-venv/bin/python -r $(RUN)/faust-requirements.txt faust-streaming==0.15.3
	$(PY) bench/faust_trial.py
