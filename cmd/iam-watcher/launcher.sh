#!/bin/sh
# Launcher of iam-watcher, at the path the Go iam-watcher had: ${IAM_INSTALL_DIR}/bin/iam-watcher
# (the IAM systemd unit and Helm chart start /opt/iam/bin/iam-watcher --config=...).
#
# It runs the daemon of the install it belongs to: <prefix>/bin/iam-watcher runs
# <prefix>/lib/iam-watcher/dist/cmd/iam-watcher/main.js (laid out by `make install PREFIX=<prefix>`,
# and in the image, where /opt/iam/lib/iam-watcher is /opt/iam-watcher). A symlink to this file
# works too: the link is resolved first. `exec`: Node replaces the shell, so it receives the stop
# and reload signals itself and its exit code is the caller's. IAM_NODE names another Node binary.
set -eu
self=$(readlink -f -- "$0")
app=$(dirname -- "$(dirname -- "$self")")/lib/iam-watcher
if [ ! -f "$app/dist/cmd/iam-watcher/main.js" ]; then
  echo "iam-watcher: $app/dist/cmd/iam-watcher/main.js is missing (install with make install PREFIX=...)" >&2
  exit 1
fi
exec "${IAM_NODE:-node}" "$app/dist/cmd/iam-watcher/main.js" "$@"
