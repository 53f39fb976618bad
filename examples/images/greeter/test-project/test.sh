#!/bin/sh
# Runs inside the built image, in a copy of test-project/: the hello feature
# installed /usr/local/bin/hello with the greeting chosen in devcontainer.json.
set -eu
test -x /usr/local/bin/hello
out=$(/usr/local/bin/hello)
echo "hello says: $out"
case "$out" in
  "hello, "*"!") ;;
  *) echo "expected \"hello, <user>!\" from the hello feature, got \"$out\"" >&2; exit 1 ;;
esac
echo "greeter: ok on $(uname -m)"
