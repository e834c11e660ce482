#!/usr/bin/env bash
# Installs the real third-party clients the tests drive Corvo with, pinned, into a per-user
# cache (idempotent; a second run does nothing): grpcurl (operators' admin calls),
# grpc-health-probe (what Kubernetes-style probes run), and kubeconform with the Kubernetes
# schemas it checks docs/deploy/kubernetes/ against offline (in ../k8s-schemas beside the bin
# directory). Prints the bin directory.
set -euo pipefail
bin="${CORVO_TOOLS_CACHE:-$HOME/.cache/corvo-tools}/bin"
mkdir -p "$bin"
install_go() { # install_go <binary> <module@version>
  local name=$1 module=$2 stamp="$bin/.$1.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module" ]; then return; fi
  command -v go >/dev/null || { echo "tests/tools.sh: Go is needed to install $name" >&2; exit 1; }
  echo "tests/tools.sh: installing $module" >&2
  GOBIN="$bin" go install "$module"
  echo "$module" >"$stamp"
}
install_go grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
install_go grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe@v0.4.62
install_go kubeconform github.com/yannh/kubeconform/cmd/kubeconform@v0.7.0
# The Kubernetes JSON schemas kubeconform validates against, offline: kubeconform downloads
# them from the internet by default, so they come from a PyPI package that ships them
# (kubernetes-validate), unpacked into a folder kubeconform reads with -schema-location
# "<dir>/{{.ResourceKind}}{{.KindSuffix}}.json". Its schemas refer to a shared
# _definitions.json through an absolute https $id; the unpacking makes those refs relative so
# that nothing is fetched.
k8s_schemas() {
  local package=kubernetes-validate==1.37.0 k8s=v1.33.0
  local dir="$bin/../k8s-schemas" stamp="$bin/.k8s-schemas.version"
  if [ -f "$dir/_definitions.json" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$package $k8s" ]; then return; fi
  command -v python3 >/dev/null || { echo "tests/tools.sh: python3 is needed to unpack the Kubernetes schemas" >&2; exit 1; }
  echo "tests/tools.sh: installing the Kubernetes $k8s schemas from $package" >&2
  local tmp
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: "$package" -d "$tmp" >&2
  rm -rf "$dir" && mkdir -p "$dir"
  python3 - "$tmp"/kubernetes_validate-*.whl "$k8s" "$dir" <<'PY'
import json, sys, zipfile
wheel, version, out = sys.argv[1:]
prefix = f"kubernetes_validate/kubernetes-json-schema/{version}-local-strict/"
def relative(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("/api/_definitions.json#"):
            node["$ref"] = ref[len("/api/"):]
        for v in node.values():
            relative(v)
    elif isinstance(node, list):
        for v in node:
            relative(v)
n = 0
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(".json"):
            schema = json.loads(z.read(name))
            relative(schema)
            with open(f"{out}/{name[len(prefix):]}", "w") as f:
                json.dump(schema, f)
            n += 1
if n == 0:
    sys.exit(f"no {version} schemas in {wheel}")
PY
  rm -rf "$tmp"
  echo "$package $k8s" >"$stamp"
}
k8s_schemas
echo "$bin"
