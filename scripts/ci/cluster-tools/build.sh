#!/usr/bin/env bash
# Builds the cluster tools the gate (`npm run verify:cluster`) runs into $TOOLS_BIN, from the pinned Go modules beside this file.
# Sourced by scripts/ci/install-cluster-tools.sh after scripts/ci/lib.sh; never run on its own.
#
#   mesh/  kube-apiserver and istioctl in ONE module and ONE `go build`: the pinned Kubernetes is the release whose staging
#          modules (k8s.io/api, apimachinery, client-go, ...) are the versions the pinned Istio requires, so Go compiles the
#          packages both tools share once. kubernetes' own go.mod replaces its staging modules with ./staging, which is why
#          `go install` cannot build it; mesh/go.mod replaces each with its published v0.Y release instead.
#   tilt/  Tilt v0.33.0, with the four substitutions its README explains (tilt/README.md).
#   Gateway API's CRDs (standard channel), from the sigs.k8s.io/gateway-api module at the version mesh/go.mod requires (the
#          one the pinned Istio is built against), into $GATEWAY_API_CRDS: the one place the gate (and any component that
#          needs them: the gateway-api component, an ambient waypoint) gets them from.
#
# A binary is kept only when it runs, reports the pinned version, and was built from the same recipe (a hash of the module
# files and build flags, stored beside it); otherwise it is rebuilt. Builds go to a temporary directory and are moved into
# place at the end, under a lock, so a concurrent run never sees half a binary.

CLUSTER_TOOLS_SRC=$ROOT/scripts/ci/cluster-tools

# The version a go.mod requires of a module.
required_version() { # required_version GO_MOD_DIR MODULE
  awk -v m="$2" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' "$1/go.mod"
}

# A short hash of every file of a module directory (by relative path, so every clone agrees) and of the given build flags.
recipe_of() { # recipe_of DIR FLAGS...
  local dir=$1
  shift
  {
    printf '%s\n' "$@"
    (cd "$dir" && find . -type f ! -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

# Succeeds when TOOLS_BIN/NAME was built from RECIPE and its version command prints a line containing EXPECTED.
tool_current() { # tool_current NAME RECIPE EXPECTED VERSION_ARGS...
  local name=$1 recipe=$2 expected=$3
  shift 3
  local bin=$TOOLS_BIN/$name
  [ -x "$bin" ] && [ "$(cat "$bin.recipe" 2>/dev/null)" = "$recipe" ] || return 1
  local said
  # Tilt sets up usage analytics for every command, `version` included: told not to, it sends nothing.
  said=$(TILT_DISABLE_ANALYTICS=1 DO_NOT_TRACK=1 timeout 60 "$bin" "$@" 2>/dev/null) || return 1
  grep -qF -- "$expected" <<<"$said"
}

# Installs built binaries from DIR into TOOLS_BIN with their recipe stamp.
install_built() { # install_built DIR RECIPE NAME...
  local dir=$1 recipe=$2
  shift 2
  local name
  for name in "$@"; do
    mv -f "$dir/$name" "$TOOLS_BIN/$name"
    echo "$recipe" >"$TOOLS_BIN/$name.recipe"
  done
}

# Go must never fetch another toolchain or stamp this repository's VCS state into the tools; CGO is not needed by any of them.
go_build() { # go_build MODULE_DIR OUT_DIR LDFLAGS PACKAGE...
  local dir=$1 out=$2 ldflags=$3
  shift 3
  (cd "$dir" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    "$GO" build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out/" "$@")
}

elapsed_since() { # elapsed_since START_SECONDS
  local s=$((SECONDS - $1))
  echo "$((s / 60)) min $((s % 60)) s"
}

MESH_PACKAGES=(k8s.io/kubernetes/cmd/kube-apiserver istio.io/istio/istioctl/cmd/istioctl)

build_mesh_tools() {
  local dir=$CLUSTER_TOOLS_SRC/mesh
  local k8s istio_pseudo istio_revision istio_version ldflags recipe
  k8s=$(required_version "$dir" k8s.io/kubernetes)
  istio_pseudo=$(required_version "$dir" istio.io/istio)
  istio_revision=${istio_pseudo##*-}
  istio_version=$(cat "$dir/ISTIO_VERSION")
  # The API server derives its compatibility version from gitVersion (the default, v0.0.0-master, breaks it); istioctl writes
  # its version into the manifests it generates (image tags) and reports it.
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=$(echo "$k8s" | cut -d. -f1 | tr -d v)"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$k8s" | cut -d. -f2) -X k8s.io/component-base/version.gitTreeState=clean"
  ldflags+=" -X istio.io/istio/pkg/version.buildVersion=$istio_version -X istio.io/istio/pkg/version.buildTag=$istio_version"
  ldflags+=" -X istio.io/istio/pkg/version.buildGitRevision=$istio_revision -X istio.io/istio/pkg/version.buildStatus=Clean"
  ldflags+=" -X istio.io/istio/pkg/version.buildHub=docker.io/istio"
  recipe=$(recipe_of "$dir" "$ldflags" "${MESH_PACKAGES[@]}")
  if tool_current kube-apiserver "$recipe" "Kubernetes $k8s" --version &&
    tool_current istioctl "$recipe" "$istio_revision" version --remote=false -o json; then
    log cluster-tools "kube-apiserver $k8s and istioctl $istio_version ($istio_pseudo) already in $TOOLS_BIN"
    return 0
  fi
  log cluster-tools "building kube-apiserver $k8s and istioctl $istio_version ($istio_pseudo) with $("$GO" version)"
  local start=$SECONDS out
  out=$(mktemp -d "$TOOLS_DIR/build.XXXXXX")
  go_build "$dir" "$out" "$ldflags" "${MESH_PACKAGES[@]}" || { rm -rf "$out"; return 1; }
  install_built "$out" "$recipe" kube-apiserver istioctl
  rm -rf "$out"
  log cluster-tools "built kube-apiserver and istioctl in $(elapsed_since "$start")"
  tool_current kube-apiserver "$recipe" "Kubernetes $k8s" --version &&
    tool_current istioctl "$recipe" "$istio_revision" version --remote=false -o json
}

# Tilt's forks the checksum database refuses, replaced by the upstream release they fork plus the fork's change as a patch
# (module version patch-file). The upstream release is downloaded by `go mod download` (verified against the checksum database)
# and must also match the hash tilt/go.sum records for it.
TILT_PATCHED=(
  "github.com/moby/buildkit v0.10.6 buildkit-fsutil-mapresult.patch"
  "k8s.io/apimachinery v0.27.2 apimachinery-time-jsonpb.patch"
)

# Copies MODULE@VERSION into DIR and applies PATCH to it.
patched_module() { # patched_module SRC_DIR WORK MODULE VERSION PATCH DIR
  local src=$1 work=$2 module=$3 version=$4 patch=$5 dir=$6
  local json from sum want
  mkdir -p "$work/outside-any-module"
  json=$(cd "$work/outside-any-module" && GOTOOLCHAIN=local GOFLAGS='' "$GO" mod download -json "$module@$version") || return 1
  from=$(echo "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  sum=$(echo "$json" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p')
  want=$(awk -v m="$module" -v v="$version" '$1 == m && $2 == v { print $3 }' "$src/go.sum")
  if [ -z "$want" ] || [ "$sum" != "$want" ]; then
    log cluster-tools "$module@$version: downloaded hash '$sum' is not the one tilt/go.sum pins ('$want')"
    return 1
  fi
  mkdir -p "$(dirname "$dir")"
  cp -r "$from" "$dir"
  chmod -R u+w "$dir"
  # The ceiling keeps git from taking a repository around the work directory for the one to patch in.
  (cd "$dir" && GIT_CEILING_DIRECTORIES=$work git apply "$src/$patch")
}

build_tilt() {
  local src=$CLUSTER_TOOLS_SRC/tilt
  local version ldflags recipe
  version=$(required_version "$src" github.com/tilt-dev/tilt)
  # The release's own stamp (goreleaser sets main.version and main.date); the date is the tag's, so builds are reproducible.
  ldflags="-s -w -X main.version=${version#v} -X main.date=2023-06-27"
  recipe=$(recipe_of "$src" "$ldflags")
  if tool_current tilt "$recipe" "$version" version; then
    log cluster-tools "tilt $version already in $TOOLS_BIN"
    return 0
  fi
  log cluster-tools "building tilt $version with $("$GO" version)"
  local start=$SECONDS work entry module mversion patch
  work=$(mktemp -d "$TOOLS_DIR/build.XXXXXX")
  cp -r "$src" "$work/tilt"
  for entry in "${TILT_PATCHED[@]}"; do
    read -r module mversion patch <<<"$entry"
    patched_module "$src" "$work" "$module" "$mversion" "$patch" "$work/tilt/patched/${module##*/}" || { rm -rf "$work"; return 1; }
  done
  mkdir -p "$work/out"
  go_build "$work/tilt" "$work/out" "$ldflags" github.com/tilt-dev/tilt/cmd/tilt || { rm -rf "$work"; return 1; }
  install_built "$work/out" "$recipe" tilt
  rm -rf "$work"
  log cluster-tools "built tilt in $(elapsed_since "$start")"
  tool_current tilt "$recipe" "$version" version
}

# Gateway API's standard-channel CRDs, one file, verified against the hash mesh/go.sum records for the module. Only the CRDs:
# the channel's ValidatingAdmissionPolicy guards CRD upgrades on a real cluster and says nothing about the objects checked.
GATEWAY_API_MODULE=sigs.k8s.io/gateway-api
gateway_api_crds_file() { # gateway_api_crds_file VERSION
  echo "$TOOLS_DIR/crds/gateway-api-$1-standard.yaml"
}

install_gateway_api_crds() {
  local dir=$CLUSTER_TOOLS_SRC/mesh version out json from
  version=$(required_version "$dir" "$GATEWAY_API_MODULE")
  out=$(gateway_api_crds_file "$version")
  if [ -s "$out" ]; then
    log cluster-tools "Gateway API $version CRDs already in $out"
    return 0
  fi
  # In the mesh module, so the download is checked against its go.sum (and the module cache is shared with its build).
  json=$(cd "$dir" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly "$GO" mod download -json "$GATEWAY_API_MODULE@$version") || return 1
  from=$(echo "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$from/config/crd/standard" ] || {
    log cluster-tools "$GATEWAY_API_MODULE@$version has no config/crd/standard"
    return 1
  }
  mkdir -p "$(dirname "$out")"
  local tmp=$out.tmp.$$ crd
  : >"$tmp"
  for crd in "$from"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
    case "$crd" in *_vap_*) continue ;; esac
    { echo '---'; cat "$crd"; } >>"$tmp"
  done
  mv -f "$tmp" "$out"
  log cluster-tools "Gateway API $version CRDs (standard channel) written to $out"
}

build_cluster_tools() {
  GO=$(find_go) || {
    log cluster-tools "Go 1.26 or later is needed to build kube-apiserver, istioctl and Tilt (none found on PATH or in /usr/local/go)"
    return 1
  }
  mkdir -p "$TOOLS_BIN"
  local status=0
  # One build at a time per machine: a second CI run waits, then finds the tools current.
  exec {lock}>"$TOOLS_DIR/.cluster-tools.lock"
  flock "$lock"
  build_mesh_tools || status=1
  build_tilt || status=1
  install_gateway_api_crds || status=1
  flock -u "$lock"
  return "$status"
}
