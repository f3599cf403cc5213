#!/usr/bin/env bash
# Installs (or upgrades in place) Istio and its telemetry add-ons: Prometheus, Grafana, Kiali and Jaeger, which also receives the
# sidecars' Zipkin spans on zipkin.istio-system:9411. Safe to run again: istioctl and kubectl apply converge.
#
#   deploy/istio/install.sh [--dry-run] <IstioOperator file>     e.g. deploy/kind/istio-operator.yaml
#
# Beside the IstioOperator file, telemetry-mesh-tracing.yaml is the mesh-wide tracing (Telemetry API: provider, sampling),
# applied right after the install, once Istio's CRDs exist.
#
# The add-on manifests ship with the Istio release: ISTIO_HOME is the unpacked release (default: two levels above istioctl).
set -euo pipefail
# shellcheck source=deploy/lib/commands.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/commands.sh"

ADDONS=(prometheus grafana kiali jaeger)
ADDON_PATCHES="$(dirname "${BASH_SOURCE[0]}")/addons"

usage() {
  echo "usage: ${0##*/} [--dry-run] <IstioOperator file>" >&2
  exit 2
}

operator=""
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -*) usage ;;
    *) [ -z "$operator" ] || usage; operator="$arg" ;;
  esac
done
[ -n "$operator" ] || usage
[ -f "$operator" ] || die "no IstioOperator file at $operator"
mesh_telemetry="$(dirname "$operator")/telemetry-mesh-tracing.yaml"
[ -f "$mesh_telemetry" ] || die "no mesh-wide Telemetry at $mesh_telemetry (the tracing provider and sampling)"

require_tools istioctl kubectl
if [ -z "${ISTIO_HOME:-}" ]; then
  if istioctl_path="$(command -v istioctl)"; then
    ISTIO_HOME="$(dirname "$(dirname "$istioctl_path")")"
  else
    # Only a dry run gets here (require_tools stops a real one without istioctl).
    ISTIO_HOME=/path/to/istio
  fi
fi
[ "$DRY_RUN" = 1 ] || [ -d "$ISTIO_HOME/samples/addons" ] ||
  die "no add-on manifests in $ISTIO_HOME/samples/addons: set ISTIO_HOME to the unpacked Istio release"

run istioctl install -y -f "$operator"
run kubectl -n istio-system rollout status deployment/istiod --timeout=300s
run kubectl apply -f "$mesh_telemetry"
for addon in "${ADDONS[@]}"; do
  run kubectl apply -f "$ISTIO_HOME/samples/addons/$addon.yaml"
done

# Exemplars, from a latency spike to its trace: the add-on's Prometheus keeps them only with exemplar storage on, and its
# Grafana links them to Jaeger through its Prometheus data source (addons/ says what each patch changes).
prometheus_stores_exemplars() {
  kubectl -n istio-system get deployment prometheus \
    --output 'jsonpath={.spec.template.spec.containers[?(@.name=="prometheus-server")].args}' | grep -q -- --enable-feature=exemplar-storage
}
if ! exists prometheus_stores_exemplars; then
  run kubectl -n istio-system patch deployment prometheus --type json --patch-file "$ADDON_PATCHES/prometheus-exemplar-storage.yaml"
fi
run kubectl -n istio-system patch configmap grafana --type merge --patch-file "$ADDON_PATCHES/grafana-datasources.yaml"
run kubectl -n istio-system rollout restart deployment/grafana
run kubectl -n istio-system rollout status deployment/kiali --timeout=300s
