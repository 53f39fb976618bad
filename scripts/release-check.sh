#!/usr/bin/env bash
# Can a release be cut, and does every package install from what was published?
#   bash scripts/release-check.sh
# In a scratch copy of the repository (the work tree is never touched): `changeset version`,
# build, publish every public package with `changeset publish` (the release workflow's command,
# authenticated by a token) to a throwaway verdaccio on localhost (third-party
# packages are proxied from registry.npmjs.org), then install the packages into an empty
# npm project and load each one, and run `dcf --version`. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
VERDACCIO_VERSION=6.8.0
# Every publishable package of packages/ (its folder name is its name after the scope).
mapfile -t PACKAGES < <(node -e "for (const d of require('fs').readdirSync('packages')) { const p = require('./packages/' + d + '/package.json'); if (!p.private) console.log(p.name.split('/')[1]); }")
export NX_DAEMON=false NX_NO_CLOUD=true

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf '\033[31mrelease-check failed: %s\033[0m\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dcf-release-check.XXXXXX")
VERDACCIO_PID=
cleanup() {
  if [ -n "$VERDACCIO_PID" ]; then kill "$VERDACCIO_PID" 2>/dev/null || true; wait "$VERDACCIO_PID" 2>/dev/null || true; fi
  if [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi
}
trap cleanup EXIT
trap 'fail "a step exited with status $? (line $LINENO); run with KEEP_WORK=1 to keep $WORK"' ERR
START=$SECONDS

say "Copying the repository (tracked and new, non-ignored files) to $WORK/repo"
mkdir -p "$WORK/repo"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar -c --null -T - | tar -x -C "$WORK/repo"
ls "$REPO"/.changeset/*.md >/dev/null 2>&1 || fail "no changesets in .changeset/*.md: nothing to release"

cd "$WORK/repo"
say "Installing dependencies"
pnpm install --frozen-lockfile --prefer-offline --reporter=silent || fail "pnpm install --frozen-lockfile failed in the copy"
say "pnpm changeset version"
pnpm changeset version >"$WORK/changeset.log" 2>&1 || { cat "$WORK/changeset.log" >&2; fail "changeset version failed"; }
say "Building every package"
pnpm exec nx run-many -t build --skip-nx-cache --output-style=static >"$WORK/build.log" 2>&1 || { tail -50 "$WORK/build.log" >&2; fail "build failed"; }

say "Starting verdaccio $VERDACCIO_VERSION (node-fetch pinned to 2.7.0)"
mkdir -p "$WORK/verdaccio"
cat >"$WORK/verdaccio/package.json" <<EOF
{ "private": true, "dependencies": { "verdaccio": "$VERDACCIO_VERSION" }, "overrides": { "node-fetch": "2.7.0" } }
EOF
(cd "$WORK/verdaccio" && npm install --silent --no-audit --no-fund --registry https://registry.npmjs.org >/dev/null) \
  || fail "could not install verdaccio@$VERDACCIO_VERSION from registry.npmjs.org"
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
REGISTRY="http://localhost:$PORT"
cat >"$WORK/verdaccio/config.yaml" <<EOF
storage: $WORK/verdaccio/storage
auth:
  htpasswd:
    file: $WORK/verdaccio/htpasswd
    max_users: 10
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
packages:
  '@devcontainer-factory/*':
    access: \$all
    publish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
    proxy: npmjs
log: { type: file, path: $WORK/verdaccio/verdaccio.log, level: warn }
EOF
"$WORK/verdaccio/node_modules/.bin/verdaccio" -c "$WORK/verdaccio/config.yaml" -l "127.0.0.1:$PORT" >"$WORK/verdaccio/stdout.log" 2>&1 &
VERDACCIO_PID=$!
for _ in $(seq 1 60); do curl -fsS "$REGISTRY/-/ping" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "$REGISTRY/-/ping" >/dev/null 2>&1 || { cat "$WORK/verdaccio/stdout.log" >&2; fail "verdaccio did not start on $REGISTRY"; }

# A throwaway user: npm and pnpm refuse to publish without a token.
TOKEN=$(curl -fsS -X PUT -H 'content-type: application/json' \
  -d '{"name":"release-check","password":"release-check"}' "$REGISTRY/-/user/org.couchdb.user:release-check" \
  | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).token') || fail "could not create a user on verdaccio"
export NPM_CONFIG_USERCONFIG="$WORK/npmrc"
printf '//localhost:%s/:_authToken=%s\n' "$PORT" "$TOKEN" >"$NPM_CONFIG_USERCONFIG"

# The command the release workflow runs (`pnpm changeset publish`), with the same auth shape: a
# token in the user's npmrc, as NODE_AUTH_TOKEN is there. Provenance is left out: it needs the
# OIDC token of a CI run, which only GitHub Actions has.
say "Publishing to $REGISTRY (pnpm changeset publish, as the release workflow does)"
git init -q && git add -A && git -c user.email=release-check@localhost -c user.name=release-check commit -qm "release-check" \
  || fail "could not make the copy a git repository (changeset publish tags each release)"
npm_config_registry="$REGISTRY" pnpm changeset publish >"$WORK/publish.log" 2>&1 || { cat "$WORK/publish.log" >&2; fail "pnpm changeset publish failed"; }
for p in "${PACKAGES[@]}"; do
  v=$(node -p "require('./packages/$p/package.json').version")
  git rev-parse -q --verify "refs/tags/@devcontainer-factory/$p@$v" >/dev/null || { cat "$WORK/publish.log" >&2; fail "changeset publish made no tag @devcontainer-factory/$p@$v: it did not publish $p"; }
  tarball=$(npm view --registry "$REGISTRY" "@devcontainer-factory/$p@$v" dist.tarball 2>/dev/null) || fail "@devcontainer-factory/$p@$v is not on $REGISTRY after changeset publish"
  listing=$(curl -fsS "$tarball" | tar -tz) || fail "cannot read the published tarball $tarball"
  for f in CHANGELOG.md LICENSE README.md; do
    grep -qx "package/$f" <<<"$listing" || fail "@devcontainer-factory/$p@$v was published without its $f"
  done
done

say "Installing what was published into an empty npm project"
mkdir -p "$WORK/consumer"
cd "$WORK/consumer"
npm init -y >/dev/null
npm install --no-audit --no-fund --registry "$REGISTRY" \
  @devcontainer-factory/warehouse @devcontainer-factory/image-pipeline @devcontainer-factory/feature-pipeline \
  @devcontainer-factory/cli aws-cdk-lib constructs >"$WORK/install.log" 2>&1 \
  || { tail -40 "$WORK/install.log" >&2; fail "npm install of the published packages failed"; }
for p in "${PACKAGES[@]}"; do
  node -e "require('@devcontainer-factory/$p')" || fail "require('@devcontainer-factory/$p') failed in a fresh install"
done
DCF_VERSION=$(npx --no-install dcf --version) || fail "npx dcf --version failed in a fresh install"

say "Published (in $((SECONDS - START)) s)"
for p in "${PACKAGES[@]}"; do
  printf '  @devcontainer-factory/%-17s %s\n' "$p" "$(node -p "require('@devcontainer-factory/$p/package.json').version")"
done
echo "  dcf --version: $DCF_VERSION"
echo "release-check: OK"
