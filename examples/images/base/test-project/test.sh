#!/bin/sh
# Runs inside the built image, in a copy of test-project/.
set -eu
grep -q "example base image" /etc/motd
test -x /bin/sh
echo "base: ok on $(uname -m)"
