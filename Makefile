# iam-watcher — build, run and test. `make run` and `make test` work on a fresh machine: they
# install npm dependencies, and install/start MariaDB and Redis (Debian packages) when needed.
SHELL := /bin/bash
NODE ?= node
CONFIG ?= configs/iam-watcher.yaml
# Local development database account created by `make run` (least privileges, deploy/mysql-grants.sql).
IAM_MYSQL_PASSWORD ?= iam-dev-only
export IAM_MYSQL_PASSWORD

.PHONY: all deps build run test test-unit test-integration test-e2e test-faults lint typecheck format-check \
        bench bench-startup bench-scheduler bench-watchers bench-status bench-page services iam-db docs install clean

all: deps lint typecheck build test

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed

build: deps
	npm run -s build

services:
	bash test/services/ensure.sh all

iam-db: services
	bash test/services/iam-db.sh

## run: the daemon in the foreground with $(CONFIG) against the local `iam` database
run: build iam-db
	$(NODE) dist/cmd/iam-watcher/main.js -c $(CONFIG)

## test: everything CI runs (static checks, unit, integration, e2e)
test: build services
	npm run -s typecheck
	npm run -s lint
	npm run -s format:check
	npm test
	FAULTS_PROFILE=ci $(NODE) --import tsx test/faults/run.ts

## test-faults: the fault-injection suite in full (SOAK_MINUTES, default 10); prints the table, writes test/faults/results.json
test-faults: build services
	$(NODE) --import tsx test/faults/run.ts

test-unit: deps
	npm run -s test:unit

typecheck: deps
	npm run -s typecheck

lint: deps
	npm run -s lint

format-check: deps
	npm run -s format:check

## bench: the start-up, scheduler, watcher and status-page benchmarks (BENCH_SECONDS, BENCH_WATCHERS, BENCH_ROWS scale them)
bench: build services
	npm run -s bench

bench-startup bench-scheduler bench-watchers bench-page: build services
	BENCH_PART=$(@:bench-%=%) npm run -s bench

## bench-status: status watchers (no-op and 10 ms handlers, 1 and 3 replicas) beside a batched UPDATE loop
bench-status: build services
	BENCH_PART=status npm run -s bench

## docs: rewrite the configuration reference of README.md and README.zh-CN.md from the schema (a unit test checks both)
docs: deps
	$(NODE) --import tsx test/tools/gen-config-reference.ts

## install: lay out PREFIX (default /opt/iam) as the Go iam-watcher's install: PREFIX/bin/iam-watcher (launcher), PREFIX/lib/iam-watcher; CONFIG_DIR=/etc/iam also copies the config when none is there
PREFIX ?= /opt/iam
install: build
	CONFIG_DIR="$(CONFIG_DIR)" bash deploy/install.sh "$(PREFIX)"

clean:
	rm -rf dist coverage node_modules/.installed
