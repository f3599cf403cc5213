#!/usr/bin/env bash
# Installs what the cluster checks need, and nothing when it is already there: kubectl (for `kubectl kustomize`), the
# ShellCheck linter, and python3 (whose parser checks the Tiltfile's syntax), all from Debian's packages.
# Debian ships kubectl as `kubernetes-client`; its 1.20 build embeds kustomize v2, which cannot read `components:`, so when the
# kubectl found is that old, a current kustomize is built from its Go module (sigs.k8s.io/kustomize) instead, and the tests use
# `kustomize build`.
set -euo pipefail

KUSTOMIZE_MODULE="sigs.k8s.io/kustomize/kustomize/v5@v5.5.0"

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-cluster-tools: need root to apt-get install $*" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# Prints the major version of the kustomize that kubectl embeds, or 0 when kubectl has none.
kubectl_kustomize_major() {
  kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p' | head -n1 | grep . || echo 0
}

command -v shellcheck >/dev/null || apt_install shellcheck
command -v python3 >/dev/null || apt_install python3
command -v kubectl >/dev/null || apt_install kubernetes-client

if [ "$(kubectl_kustomize_major)" -lt 5 ] && ! command -v kustomize >/dev/null; then
  if ! command -v go >/dev/null; then
    echo "install-cluster-tools: kubectl's kustomize is older than v5 and Go is missing to build kustomize" >&2
    exit 1
  fi
  GOBIN=/usr/local/bin go install "$KUSTOMIZE_MODULE"
fi

echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p'), $(kubectl version --client 2>/dev/null | head -n1)"
command -v kustomize >/dev/null && echo "kustomize $(kustomize version)"
exit 0
