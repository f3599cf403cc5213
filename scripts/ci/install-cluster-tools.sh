#!/usr/bin/env bash
# Installs what the cluster checks need, and nothing that is already there at the pinned version:
#   - from Debian: kubectl (for `kubectl kustomize`), ShellCheck, python3 (the Tiltfile syntax test), iproute2, and etcd (the
#     API server's storage; installed without starting a system etcd);
#   - built from the Go module proxy into $TOOLS_BIN (scripts/ci/lib.sh, outside the clone so the next run finds them):
#     kube-apiserver and istioctl from one module (cluster-tools/mesh), Tilt from another (cluster-tools/tilt).
# The Go modules' go.mod and go.sum pin every version and checksum (scripts/ci/cluster-tools/README.md: versions, build times).
# Debian ships kubectl as `kubernetes-client`; its 1.20 build embeds kustomize v2, which cannot read `components:`, so when the
# kubectl found is that old, a current kustomize is built from its Go module (sigs.k8s.io/kustomize) instead.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/ci/lib.sh
. "$ROOT/scripts/ci/lib.sh"
# shellcheck source=scripts/ci/cluster-tools/build.sh
. "$ROOT/scripts/ci/cluster-tools/build.sh"

KUSTOMIZE_MODULE="sigs.k8s.io/kustomize/kustomize/v5@v5.5.0"
NAME=install-cluster-tools

# Prints the major version of the kustomize that kubectl embeds, or 0 when kubectl has none.
kubectl_kustomize_major() {
  kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p' | head -n1 | grep . || echo 0
}

install_debian_tools() {
  command -v shellcheck >/dev/null || apt_install shellcheck
  command -v python3 >/dev/null || apt_install python3
  command -v kubectl >/dev/null || apt_install kubernetes-client
  # `ip` brings up loopback in the network namespace the gate runs in (scripts/verify-cluster/isolate.ts).
  command -v ip >/dev/null || apt_install iproute2
  if ! command -v etcd >/dev/null; then
    apt_install_no_start etcd-server
    # On a machine booted with systemd the unit would still start at the next boot; the checks run private instances.
    if [ -d /run/systemd/system ]; then systemctl disable --now etcd >/dev/null 2>&1 || true; fi
  fi
}

install_kustomize() {
  [ "$(kubectl_kustomize_major)" -lt 5 ] || return 0
  command -v kustomize >/dev/null && return 0
  local go
  go=$(find_go) || {
    log "$NAME" "kubectl's kustomize is older than v5 and Go is missing to build kustomize"
    return 1
  }
  GOBIN=/usr/local/bin "$go" install "$KUSTOMIZE_MODULE"
}

status=0
install_debian_tools || status=1
install_kustomize || status=1
build_cluster_tools || status=1

log "$NAME" "shellcheck $(shellcheck --version | sed -n 's/^version: //p'), $(kubectl version --client 2>/dev/null | head -n1)"
command -v kustomize >/dev/null && log "$NAME" "kustomize $(kustomize version)"
command -v etcd >/dev/null && log "$NAME" "$(etcd --version | head -n1)"
exit "$status"
