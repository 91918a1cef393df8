#!/bin/sh
# with-plugins.sh DIR COMMAND [ARG...]
#
# Runs COMMAND with GATHER_PLUGIN_PATH set to a private copy (mode 0700) of
# the plugins in DIR, so that the registry's security checks pass whatever
# the permissions of the build directory. Exits with COMMAND's status.

src=$1
shift
dir=$(mktemp -d) || exit 99
trap 'rm -rf "$dir"' EXIT
cp "$src"/gather-*.so "$dir"/ && chmod 0644 "$dir"/gather-*.so || exit 99
GATHER_PLUGIN_PATH=$dir "$@"
