# wicked's developer contract. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
TSX := node_modules/.bin/tsx
VITEST := node_modules/.bin/vitest
# Node.js at the version pinned in .node-version (or the machine's own when it is at least that major):
# hack/node.sh fetches it once into the cache and every recipe finds it first on PATH.
NODE_BIN := $(shell hack/node.sh)
ifeq ($(NODE_BIN),)
$(error hack/node.sh found no Node.js; see its message above)
endif
export PATH := $(NODE_BIN):$(PATH)

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-22s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: runtime node_modules/.package-lock.json ## Install the pinned npm dependencies.

.PHONY: runtime
runtime: ## Print the Node.js every target runs on.
	@echo "Node.js $$(node --version) from $(NODE_BIN)"

##@ Development
.PHONY: dev
dev: deps controlplane ## Run wicked locally: control plane, Postgres, CRDs, samples.
	$(TSX) hack/dev.ts

.PHONY: dev-reset
dev-reset: deps ## Forget make dev's state: stop its control plane and empty its database and inbox (.dev/).
	@$(TSX) hack/controlplane/cli.ts down
	rm -rf .dev/postgres .dev/mail

.PHONY: crds
crds: deps ## Generate crds/ from the types in api/v1alpha1, copy them into the chart, regenerate docs/reference.md.
	$(TSX) hack/crdgen/main.ts
	rm -f charts/wicked/crds/*.yaml && cp crds/*.yaml charts/wicked/crds/
	$(TSX) hack/reference/main.ts

.PHONY: openapi
openapi: deps ## Generate portal-ui/api-schema.generated.ts (the UI's API types) from the portal API's OpenAPI document.
	$(TSX) hack/openapi/main.ts

.PHONY: fmt
fmt: deps ## Format the code.
	node_modules/.bin/biome check --write .

.PHONY: controlplane
controlplane: ## Build (once, cached by version) etcd, kube-apiserver, kube-controller-manager, kubectl and helm.
	@hack/controlplane/build.sh >/dev/null

.PHONY: controlplane-up
controlplane-up: deps controlplane ## Start a local control plane in .dev/controlplane and print its kubeconfig.
	@$(TSX) hack/controlplane/cli.ts up

.PHONY: controlplane-down
controlplane-down: deps ## Stop the local control plane.
	@$(TSX) hack/controlplane/cli.ts down

.PHONY: node
node: ## Build (once, cached by version) the node: kubelet, kube-scheduler, kube-proxy, CoreDNS and crictl.
	@hack/cluster/build.sh >/dev/null

.PHONY: cluster-up
cluster-up: deps controlplane node ## Start a real single-node cluster (root; containerd, runc, CNI from Debian) in .dev/cluster; prints its kubeconfig.
	@$(TSX) hack/cluster/cli.ts up

.PHONY: cluster-down
cluster-down: deps ## Stop the single-node cluster and remove what it left on the machine.
	@$(TSX) hack/cluster/cli.ts down

.PHONY: chart
chart: deps controlplane ## Lint the Helm chart (pinned helm) and package it into dist/.
	hack/helm.sh package

##@ Measurements
.PHONY: bench
bench: deps controlplane ## Benchmarks (measure only): prints a table, writes bench/results/bench.json and bench.md (BENCH_* settings: bench/main.ts).
	$(TSX) bench/main.ts

##@ Checks
.PHONY: test
test: check test-unit test-integration test-resilience test-node ## Run every check and test (what CI runs).

.PHONY: check
check: deps ## Format check, lint, typecheck, stale-CRD and stale-API-types check.
	node_modules/.bin/biome ci .
	node_modules/.bin/tsc --noEmit
	$(TSX) hack/crdgen/main.ts --check
	$(TSX) hack/openapi/main.ts --check

.PHONY: test-unit
test-unit: deps ## Unit tests (pure, no cluster).
	$(VITEST) run --project unit

.PHONY: test-integration
test-integration: deps controlplane ## Integration tests against a real control plane and Postgres (KUBECONFIG/DATABASE_URL override).
	$(VITEST) run --project integration

.PHONY: test-security
test-security: deps controlplane ## The security suite alone: one or more tests per finding of the security review, named "security #N" (all run in make test too).
	$(VITEST) run --project unit --project integration -t "security #"

.PHONY: test-rbac
test-rbac: deps controlplane ## The operator's integration suite again as the chart's ServiceAccount (RBAC audit), and the namespace-scoped install.
	WICKED_RBAC_SUITE=1 $(VITEST) run --project integration charts/wicked/operator-rbac.int.test.ts charts/wicked/operator-namespaced.int.test.ts

.PHONY: test-node
test-node: deps controlplane node ## wicked on a real node: image built with podman, chart installed, journey through the pods (root; KUBECONFIG and WICKED_E2E_* for another cluster).
	$(VITEST) run --project node

.PHONY: test-resilience
test-resilience: deps controlplane ## Resilience suite: operator kills, Kong faults, Postgres and apiserver restarts (bounded).
	$(VITEST) run --project resilience
