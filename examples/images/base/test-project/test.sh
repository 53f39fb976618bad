#!/bin/sh
# Runs inside the built image, in a copy of test-project/.
set -eu
grep -q "example base image" /etc/motd
test -x /bin/sh
# What features and tests need of a devcontainer base: root in the user database, /tmp.
test "$(whoami)" = root
test -d /tmp -a -w /tmp
echo "base: ok on $(uname -m)"
