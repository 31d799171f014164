#!/usr/bin/env bash
# Lays out an install as the Go iam-watcher's (`make install PREFIX=/opt/iam` runs it):
#   <prefix>/bin/iam-watcher            the launcher (bin/iam-watcher of this repository)
#   <prefix>/lib/iam-watcher/           dist/, configs/, package.json, production node_modules/
# so the IAM unit's ExecStart=${IAM_INSTALL_DIR}/bin/iam-watcher --config=${IAM_CONFIG_DIR}/iam-watcher.yaml
# starts this daemon. With CONFIG_DIR set, configs/iam-watcher.yaml is copied there unless a file is
# already in place (an operator's config is never overwritten).
#
# Usage: deploy/install.sh [--deps-from DIR] PREFIX
#   --deps-from DIR  copy node_modules from DIR instead of running `npm ci --omit=dev` (offline)
# Run from a built checkout (npm run build).
set -euo pipefail

deps_from=
if [ "${1:-}" = --deps-from ]; then
  deps_from=$2
  shift 2
fi
prefix=${1:?usage: deploy/install.sh [--deps-from DIR] PREFIX}
root=$(cd -- "$(dirname -- "$0")/.." && pwd)
[ -f "$root/dist/cmd/iam-watcher/main.js" ] || { echo "install: build first (npm run build)" >&2; exit 1; }

app=$prefix/lib/iam-watcher
install -d -m 0755 "$prefix/bin" "$app"
rm -rf "$app/dist" "$app/configs"
cp -R "$root/dist" "$root/configs" "$app/"
install -m 0644 "$root/package.json" "$root/package-lock.json" "$app/"
if [ -n "$deps_from" ]; then
  rm -rf "$app/node_modules"
  cp -R "$deps_from" "$app/node_modules"
else
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
fi
install -m 0755 "$root/cmd/iam-watcher/launcher.sh" "$prefix/bin/iam-watcher"

if [ -n "${CONFIG_DIR:-}" ]; then
  install -d -m 0755 "$CONFIG_DIR"
  [ -e "$CONFIG_DIR/iam-watcher.yaml" ] || install -m 0644 "$root/configs/iam-watcher.yaml" "$CONFIG_DIR/"
fi
echo "installed: $prefix/bin/iam-watcher -> $app"
