#!/usr/bin/env bash
# Deploys the platform to GKE, or tears it down.
#
#   deploy/gke/deploy.sh [--dry-run] [--platform P] up   create the cluster and registry, install Istio and its telemetry
#                                           add-ons, build and push the image, create the backends' Secret, apply deploy/gke,
#                                           print the address
#   deploy/gke/deploy.sh [--dry-run] down   delete the application and the gateway's load balancer, then the cluster
#
# --dry-run prints every command instead of running it (and needs none of the tools).
# --platform is the image's: linux/amd64 (the default; GKE's usual nodes), linux/arm64 (T2A or C4A nodes: set MACHINE_TYPE
#   too, e.g. t2a-standard-4), or linux/amd64,linux/arm64 for one multi-platform image (built and pushed by docker buildx),
#   whatever the machine that builds it. Settings, from the environment:
#   PROJECT_ID      Google Cloud project (required)
#   REGION          region of the cluster and the registry (us-central1)
#   CLUSTER         cluster name (greeting-mesh)
#   REPOSITORY      Artifact Registry repository (greeting-mesh)
#   TAG             image tag (the current git commit, with -dirty when the work tree has changes)
#   MACHINE_TYPE    node machine type (e2-standard-4); NODES_PER_ZONE (1) nodes in each of the region's zones
#   MONGO_CONN      connection string of the hosted MongoDB (required by up; never printed, never written to the repository)
#   RABBITMQ_CONN   connection string of the hosted RabbitMQ (required by up; idem)
#   ISTIO_HOME      the unpacked Istio release (default: two levels above istioctl)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=deploy/lib/commands.sh
. deploy/lib/commands.sh

NAMESPACE=dev
SECRET=greeting-mesh-backends
IMAGE_NAME=greeting-mesh
RELEASE_DIR=deploy/.release

usage() {
  sed -n '2,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

action=""
PLATFORM=linux/amd64
while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --platform) [ "$#" -ge 2 ] || usage; PLATFORM="$2"; shift ;;
    --platform=*) PLATFORM="${1#--platform=}" ;;
    up | down) [ -z "$action" ] || usage; action="$1" ;;
    *) usage ;;
  esac
  shift
done
[ -n "$action" ] || usage
# Each platform one the image is built for (the Dockerfile cross-compiles the binary for linux/amd64 and linux/arm64).
IFS=, read -r -a platforms <<<"$PLATFORM"
[ "${#platforms[@]}" -gt 0 ] || usage
for platform in "${platforms[@]}"; do
  case "$platform" in
    linux/amd64 | linux/arm64) ;;
    *) printf '%s: --platform %s: each platform must be linux/amd64 or linux/arm64\n' "${0##*/}" "$PLATFORM" >&2; exit 2 ;;
  esac
done
# deploy/istio/install.sh, run from here, reads it too.
export DRY_RUN

: "${PROJECT_ID:?set PROJECT_ID to the Google Cloud project}"
REGION="${REGION:-us-central1}"
CLUSTER="${CLUSTER:-greeting-mesh}"
REPOSITORY="${REPOSITORY:-greeting-mesh}"
MACHINE_TYPE="${MACHINE_TYPE:-e2-standard-4}"
NODES_PER_ZONE="${NODES_PER_ZONE:-1}"
if [ -z "${TAG:-}" ]; then
  TAG="$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)"
  [ -z "$(git status --porcelain 2>/dev/null)" ] || TAG="$TAG-dirty"
fi
REGISTRY="$REGION-docker.pkg.dev"
IMAGE="$REGISTRY/$PROJECT_ID/$REPOSITORY/$IMAGE_NAME"

gcloud_project() {
  run gcloud --project "$PROJECT_ID" "$@"
}

create_cluster() {
  gcloud_project services enable container.googleapis.com artifactregistry.googleapis.com
  if ! exists gcloud --project "$PROJECT_ID" artifacts repositories describe "$REPOSITORY" --location "$REGION"; then
    gcloud_project artifacts repositories create "$REPOSITORY" --repository-format docker --location "$REGION" \
      --description "greeting-mesh images"
  fi
  if ! exists gcloud --project "$PROJECT_ID" container clusters describe "$CLUSTER" --region "$REGION"; then
    gcloud_project container clusters create "$CLUSTER" --region "$REGION" \
      --machine-type "$MACHINE_TYPE" --num-nodes "$NODES_PER_ZONE" \
      --enable-autoscaling --min-nodes 1 --max-nodes 3 \
      --release-channel regular --enable-ip-alias \
      --workload-pool "$PROJECT_ID.svc.id.goog" \
      --shielded-secure-boot --shielded-integrity-monitoring
  fi
  gcloud_project container clusters get-credentials "$CLUSTER" --region "$REGION"
}

build_and_push() {
  run gcloud auth configure-docker "$REGISTRY" --quiet
  # The nodes' platform, whatever the machine building the image: Bun cross-compiles, so no emulation is needed.
  if [ "${#platforms[@]}" -gt 1 ]; then
    # A multi-platform image is one manifest list, which buildx builds and pushes in one step; each node pulls its own.
    run docker buildx build --platform "$PLATFORM" --tag "$IMAGE:$TAG" --push .
  else
    run docker build --platform "$PLATFORM" --tag "$IMAGE:$TAG" .
    run docker push "$IMAGE:$TAG"
  fi
}

# The connection strings go from the environment to files readable only by this user, then into the Secret; the command line
# and the dry-run output only ever show the directory.
create_backends_secret() {
  : "${MONGO_CONN:?set MONGO_CONN to the hosted MongoDB connection string}"
  : "${RABBITMQ_CONN:?set RABBITMQ_CONN to the hosted RabbitMQ connection string}"
  SECRET_DIR=/tmp/greeting-mesh-secret
  if [ "$DRY_RUN" != 1 ]; then
    SECRET_DIR="$(mktemp -d)"
    trap 'rm -rf "$SECRET_DIR"' EXIT
    (
      umask 077
      mkdir "$SECRET_DIR/keys"
      printf '%s' "$MONGO_CONN" >"$SECRET_DIR/keys/mongodb.conn"
      printf '%s' "$RABBITMQ_CONN" >"$SECRET_DIR/keys/rabbitmq.conn"
    )
  fi
  run_to "$SECRET_DIR/secret.yaml" kubectl -n "$NAMESPACE" create secret generic "$SECRET" --from-file "$SECRET_DIR/keys" \
    --dry-run=client --output yaml
  run kubectl apply -f "$SECRET_DIR/secret.yaml"
  [ "$DRY_RUN" = 1 ] || rm -rf "$SECRET_DIR"
}

# An overlay of deploy/gke that only points the image at the one just pushed, so no committed file holds a project or a tag.
# A version whose config pins a `tag` runs that tag of the same repository: a build pushed before (deploy/README.md).
apply_manifests() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ write %s/kustomization.yaml: resources [../gke], image %s -> %s:%s\n' "$RELEASE_DIR" "$IMAGE_NAME" "$IMAGE" "$TAG"
  else
    mkdir -p "$RELEASE_DIR"
    cat >"$RELEASE_DIR/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../gke
images:
  - name: $IMAGE_NAME
    newName: $IMAGE
    newTag: "$TAG"
  - name: $IMAGE_NAME-pinned
    newName: $IMAGE
YAML
  fi
  run kubectl apply -f deploy/gke/namespace.yaml
  create_backends_secret
  # Server-side apply, as `npm run verify:cluster` proves it against a real API server (same field manager): the
  # HorizontalPodAutoscalers keep owning `replicas` across upgrades, and an immutable-field change is refused, not half-applied.
  run kubectl apply --server-side --field-manager=greeting-mesh --force-conflicts -k "$RELEASE_DIR"
  run kubectl -n "$NAMESPACE" wait deployment -l component=service --for condition=Available --timeout 600s
  remove_unversioned_workloads
}

# Before versions, a role's Deployment, PodDisruptionBudget and HorizontalPodAutoscaler were all named service-<id>; now each
# version has its own, service-<id>-<version>. An apply creates the new ones and leaves the old, whose selector (no version)
# takes every version's pods: two Deployments and two budgets on each pod, an autoscaler averaging the wrong pods. Once the
# new Deployments are available, the old objects go. Nothing rendered is named service-<id> but the role's Service and the
# default version's ServiceAccount (role ids have no '-'), so this deletes only what an older release left; on a cluster
# that never ran one it finds nothing. The role names are the render's one file per role in deploy/base/generated.
remove_unversioned_workloads() {
  local roles kind
  roles=$(sed -n 's/^  - \(service-[a-z0-9]*\)\.yaml$/\1/p' deploy/base/generated/kustomization.yaml)
  [ -n "$roles" ] || die "no roles in deploy/base/generated/kustomization.yaml: run npm run render"
  for kind in deployment poddisruptionbudget horizontalpodautoscaler; do
    # shellcheck disable=SC2086 # one name per word
    run kubectl -n "$NAMESPACE" delete "$kind" --ignore-not-found $roles
  done
}

print_address() {
  local address=""
  if [ "$DRY_RUN" = 1 ]; then
    run kubectl -n istio-system get service istio-ingressgateway --output 'jsonpath={.status.loadBalancer.ingress[0].ip}'
    return
  fi
  for _ in $(seq 60); do
    address="$(kubectl -n istio-system get service istio-ingressgateway --output 'jsonpath={.status.loadBalancer.ingress[0].ip}')"
    [ -z "$address" ] || break
    sleep 5
  done
  [ -n "$address" ] || die "the ingress gateway has no external address after 5 minutes"
  printf 'greeting-mesh is up: http://%s/ (API: http://%s/api/greeting)\n' "$address" "$address"
}

up() {
  require_tools gcloud kubectl docker istioctl git
  create_cluster
  deploy/istio/install.sh deploy/gke/istio-operator.yaml
  build_and_push
  apply_manifests
  print_address
}

down() {
  require_tools gcloud kubectl
  gcloud_project container clusters get-credentials "$CLUSTER" --region "$REGION"
  run kubectl delete namespace "$NAMESPACE" --ignore-not-found --wait
  # Deleting the gateway's Service first releases its load balancer; deleting the cluster alone can leave it behind.
  run kubectl -n istio-system delete service istio-ingressgateway --ignore-not-found --wait
  gcloud_project container clusters delete "$CLUSTER" --region "$REGION" --quiet
  printf 'The image repository is kept; delete it with: gcloud --project %s artifacts repositories delete %s --location %s\n' \
    "$PROJECT_ID" "$REPOSITORY" "$REGION"
}

"$action"
