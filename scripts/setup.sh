#!/usr/bin/env bash
# Installs what doc-transcribe needs on this machine: Debian packages (when root), npm
# dependencies, the compiled program, and a local Redis when none answers at REDIS_URL.
# Sourced by ./dt; every function is safe to run again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# qpdf lays OCR text layers over PDF pages (searchable PDF); libtiff-tools splits multi-page TIFFs.
RUNTIME_PACKAGES=(redis-server redis-tools tesseract-ocr tesseract-ocr-eng tesseract-ocr-hin poppler-utils ffmpeg pocketsphinx pocketsphinx-en-us qpdf libtiff-tools)
# Tests make their own fixtures: spoken audio with flite, PDFs with Noto fonts; the page is
# tested in Debian's Chromium (/usr/bin/chromium) driven by playwright-core; deploy/nginx.conf
# (the load balancer of compose.yaml) is run by the tests in their own nginx processes.
TEST_PACKAGES=(flite fonts-noto-core chromium nginx-light)

# V8 flags of every service process, the same as the shebang of src/cli/main.ts, the Dockerfile's
# ENTRYPOINT and `npm start` (test/integration/deployment-files.test.ts keeps them equal): a young
# generation of 2 × 8 MB instead of Node's 2 × 16 MB keeps an API replica streaming a 2 GB upload
# under 150 MB resident, for a few per cent of request throughput (docs/benchmarks.md).
SERVICE_NODE_FLAGS=(--max-semi-space-size=8)

say() { printf '\033[1m[doc-transcribe]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
  done
}

ensure_packages() {
  command -v dpkg-query >/dev/null || die "this setup script supports Debian/Ubuntu; install by hand: $*"
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  install_packages "${missing[@]}"
  # Debian starts nginx on port 80 once installed; the tests only need its binary.
  if printf '%s\n' "${missing[@]}" | grep -qx nginx-light; then stop_system_nginx; fi
}

stop_system_nginx() {
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now nginx >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/nginx ]; then
    as_root /etc/init.d/nginx stop >/dev/null 2>&1 || true
  fi
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

install_packages() {
  local missing=("$@")
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    say "installing Debian packages with sudo: ${missing[*]}"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    die "missing Debian packages: ${missing[*]}
  run: sudo apt-get install ${missing[*]}
  then run this command again."
  fi
}

ensure_node() {
  command -v node >/dev/null || die "Node.js >= 20.19 is required (https://nodejs.org or NodeSource packages)."
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js >= 20.19 is required; found $(node --version)."
}

ensure_npm_dependencies() {
  cd "$ROOT"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm dependencies"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

build_program() {
  cd "$ROOT"
  say "compiling TypeScript"
  npm run --silent build
}

# REDIS_URL's host and port, for a local Redis we may start ourselves.
redis_endpoint() {
  local url="${REDIS_URL:-redis://127.0.0.1:6379}"
  [[ "$url" =~ ^rediss?://([^@/]*@)?([^:/]+)(:([0-9]+))? ]] || die "cannot parse REDIS_URL"
  REDIS_HOST="${BASH_REMATCH[2]}"
  REDIS_PORT="${BASH_REMATCH[4]:-6379}"
}

ensure_redis() {
  redis_endpoint
  if redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" ping 2>/dev/null | grep -q PONG; then
    return 0
  fi
  case "$REDIS_HOST" in
    127.0.0.1 | localhost | ::1) ;;
    *) die "Redis at $REDIS_HOST:$REDIS_PORT does not answer; start it or fix REDIS_URL." ;;
  esac
  local dir
  dir="$(realpath -m "${DATA_DIR:-$ROOT/data}")/redis"
  mkdir -p "$dir"
  say "starting Redis on 127.0.0.1:$REDIS_PORT (append-only file in $dir)"
  # AOF and noeviction: queued jobs and records must survive a restart and never be evicted.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
  local i
  for i in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  die "Redis did not start; see $dir/redis.log"
}
