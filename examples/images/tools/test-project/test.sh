#!/bin/sh
set -eu
grep -q "example base image" /etc/motd
test "$(greet)" = "hello from tools"
echo "tools: ok on $(uname -m)"
