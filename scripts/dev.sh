#!/usr/bin/env bash
# One entry point for a fresh machine (Debian/Ubuntu with Node 20+ and npm):
#   bash scripts/dev.sh local   set everything up, then run the factory locally on the example catalogue
#                               (extra arguments go to `dcf local run`, e.g. --keep-running)
#   bash scripts/dev.sh test    set everything up, then run every check and test
#   bash scripts/dev.sh setup   only set up
# Setup is idempotent: what is already there is not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=${NX_SKIP_NX_CACHE:-false}

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
SYSTEM_PACKAGES=(docker-registry buildah podman skopeo busybox-static debootstrap)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup_system() {
  local missing=()
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}. Install them (sudo apt-get install -y ${missing[*]}) and run again." >&2
    exit 1
  fi
  say "Installing ${missing[*]} (local registry and image tools for the integration tests)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# cfn-lint is on PyPI only (Debian's archive has no package): pipx installs it where it is missing.
setup_cfn_lint() {
  command -v cfn-lint >/dev/null 2>&1 && return 0
  export PATH="$HOME/.local/bin:$PATH"
  command -v cfn-lint >/dev/null 2>&1 && return 0
  say "Installing cfn-lint with pipx (the tests lint the synthesized templates with it)"
  if ! command -v pipx >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "cfn-lint is missing, and so is pipx to install it: sudo apt-get install -y pipx, then run again (or pipx install cfn-lint yourself)." >&2
      exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pipx >/dev/null
  fi
  pipx install --quiet cfn-lint >/dev/null \
    || { echo "pipx could not install cfn-lint from PyPI: install it (pipx install cfn-lint) where PyPI is reachable, and run again." >&2; exit 1; }
  command -v cfn-lint >/dev/null 2>&1 \
    || { echo "pipx installed cfn-lint, but it is not on PATH: add $(pipx environment --value PIPX_BIN_DIR 2>/dev/null || echo "$HOME/.local/bin") to PATH." >&2; exit 1; }
}

setup_node() {
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
    say "Installing pnpm $PNPM_VERSION"
    npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
  fi
  say "Installing dependencies"
  pnpm install --frozen-lockfile --reporter=silent
  say "Building the packages"
  pnpm exec nx run-many -t build --output-style=static >/dev/null
}

setup() {
  setup_system
  setup_cfn_lint
  setup_node
}

run_local() {
  say "Running the factory's stages on this machine: dcf local run examples/catalog.yaml (local registry, no AWS)"
  node packages/cli/dist/bin/dcf.js local run examples/catalog.yaml "${@}"
}

run_tests() {
  say "Lint, type check, package checks and tests of every project"
  local log
  log=$(mktemp)
  local status=0
  pnpm exec nx run-many -t lint typecheck test publint --output-style=static 2>&1 | tee "$log" || status=$?
  # Figures, not assertions on time: the peak memory of reading each hostile archive under a 512 MB heap.
  say "Benchmark: peak memory of the archive reader on zip and gzip bombs"
  pnpm --filter @devcontainer-factory/core run --silent bench || status=$?
  say "Benchmark: size and cold require time of each Lambda and CodeBuild bundle"
  pnpm --filter @devcontainer-factory/lambdas run --silent bench || status=$?
  say "Benchmark: a refresh of the example catalogue in which nothing moved (dcf local run, twice more)"
  pnpm --filter @devcontainer-factory/cli run --silent bench || status=$?
  say "Mutation testing of core's rules (StrykerJS, incremental: unchanged mutants are taken from packages/core/stryker-incremental.json)"
  pnpm --filter @devcontainer-factory/core run --silent mutation || status=$?
  node packages/core/scripts/mutation-survivors.mjs --check || status=$?
  say "API reference: each package's API.md is what its declarations give (node scripts/api-docs.mjs writes them)"
  node scripts/api-docs.mjs --check || status=$?
  say "README examples: pack every package, install the tarballs into a fresh CDK app, compile and synth each README's first example"
  node scripts/examples-check.mjs || status=$?
  say "README examples again, on the oldest aws-cdk-lib and constructs the peer ranges admit"
  node scripts/examples-check.mjs --peers minimum || status=$?
  # One closing line over every jest run (cached runs replay their output too).
  sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
    /^Tests:/ { for (i = 2; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^skipped/) s += $i } }
    END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
  rm -f "$log"
  return "$status"
}

case "${1:-}" in
  setup) setup ;;
  local) shift; setup; run_local "$@" ;;
  test) setup; run_tests ;;
  *) echo "usage: bash scripts/dev.sh local|test|setup" >&2; exit 2 ;;
esac
