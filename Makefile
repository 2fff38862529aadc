# 代表连心 — `make run` serves the demo county; `make test` runs every test. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000
export PORT

.PHONY: run test test-sqlite test-mariadb test-miniprogram bench deps system cluster cluster-stop clean

## Python packages in a virtual environment (re-installed when a requirements file changes); after the Debian
## packages, since mysqlclient compiles against libmariadb
$(VENV)/.installed: requirements.txt requirements-dev.txt | system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

## Debian packages: MariaDB (tests), Chromium (browser tests), Noto CJK + cairo (printables), wrk (benchmarks),
## Galera + rsync + HAProxy + Redis (the cluster, the failure drill and the Redis tests), and what mysqlclient
## (the C MySQL driver) is built with: libmariadb-dev, pkg-config, a C compiler and Python's headers
system:
	@missing=""; \
	command -v mariadbd >/dev/null || missing="$$missing mariadb-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	[ -e /usr/lib/galera/libgalera_smm.so ] || missing="$$missing galera-4"; \
	command -v rsync >/dev/null || missing="$$missing rsync"; \
	command -v haproxy >/dev/null || missing="$$missing haproxy"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	ldconfig -p 2>/dev/null | grep -q "libcairo.so.2 " || missing="$$missing libcairo2"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	[ -e /usr/include/mariadb/mysql.h ] || missing="$$missing libmariadb-dev"; \
	command -v gcc >/dev/null || missing="$$missing gcc"; \
	$(PYTHON) -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' \
	  || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## Browser libraries for the console (ECharts, Leaflet) from their npm packages into static/vendor (not in git)
VENDOR := static/vendor/.installed
$(VENDOR): vendor/package.json vendor/package-lock.json
	cd vendor && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp vendor/node_modules/echarts/dist/echarts.min.js static/vendor/
	cp vendor/node_modules/leaflet/dist/leaflet.js vendor/node_modules/leaflet/dist/leaflet.css static/vendor/
	cp -r vendor/node_modules/leaflet/dist/images static/vendor/
	touch $@

deps: system $(VENV)/.installed $(VENDOR)

miniprogram/node_modules/.installed: miniprogram/package.json miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: deps
	$(FLASK) migrate
	$(FLASK) seed-demo
	@bash scripts/run.sh

## pytest-xdist: one test process per core (each with its own database and WeChat stand-in)
JOBS ?= $(shell nproc)
test: deps miniprogram/node_modules/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(JOBS) tests
	TEST_DATABASE=mariadb $(BIN)/python -m pytest -q -p no:cacheprovider -n $(JOBS) -m "not browser" tests
	cd miniprogram && npx jest --ci

test-sqlite: deps
	$(BIN)/python -m pytest -q tests

test-mariadb: deps
	TEST_DATABASE=mariadb $(BIN)/python -m pytest -q -m "not browser" tests

test-miniprogram: miniprogram/node_modules/.installed
	cd miniprogram && npx jest --ci

bench: deps
	$(BIN)/python -m bench

## A 3-node Galera cluster, HAProxy, Redis, 2 app nodes and 2 schedulers on 127.0.0.1 (docs/deployment.md)
cluster: deps
	$(BIN)/python -m bench.cluster start

cluster-stop:
	$(BIN)/python -m bench.cluster stop

clean:
	rm -rf $(VENV) miniprogram/node_modules vendor/node_modules static/vendor .pytest_cache
