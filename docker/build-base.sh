#!/usr/bin/env bash
# Build a minimal local base image, convgrade-base:<suite>, from Debian's packages.
#
# Used when the default base (python:3.11-slim) cannot be had: no image registry is
# reachable, but Debian's package mirror is. The rootfs is made by mmdebstrap
# (minbase: Essential + apt, plus python3) and imported with `docker import`.
# merged-/usr is set up by mmdebstrap's merged-usr hook: otherwise apt satisfies
# init-system-helpers' "usrmerge | usr-is-merged" with usrmerge, which pulls perl (~50 MB).
# pip is not installed here: the Dockerfile runs pip from its wheel in the build
# context, so the image holds neither pip's cache nor Debian's python3-pip stack.
#
# The mirrors are the host's own: read from apt's configuration (sources.list and
# sources.list.d, one-line and deb822 alike) via `apt-get indextargets`, keeping the
# Debian archive entries of the suite (SUITE, SUITE-updates, SUITE-security).
#
# Idempotent: does nothing when the image already exists (FORCE=1 rebuilds).
#
# Usage: docker/build-base.sh [SUITE]          (default bookworm; needs root)
#   env: IMAGE=convgrade-base:<suite>  FORCE=1  DOCKER=docker
set -euo pipefail

SUITE="${1:-bookworm}"
IMAGE="${IMAGE:-convgrade-base:${SUITE}}"
DOCKER="${DOCKER:-docker}"

log() { printf 'build-base: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ "${FORCE:-0}" != 1 ]] && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    log "image $IMAGE already exists; nothing to do (FORCE=1 rebuilds)"
    exit 0
fi

command -v apt-get >/dev/null || die "apt-get is needed to read the host's mirrors"
[[ "$(id -u)" == 0 ]] || die "run as root (mmdebstrap's root mode; docker import)"
if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null ||
        die "mmdebstrap is not installed and apt-get install mmdebstrap failed"
fi

# One "deb URI SUITE COMPONENTS" line per Debian archive entry the host's apt uses.
# indextargets lists only what `apt-get update` fetched: run that first if empty.
mapfile -t MIRRORS < <(
    apt-get indextargets --format '$(ORIGIN)|$(REPO_URI)|$(RELEASE)|$(COMPONENT)' \
        'Created-By: Packages' 2>/dev/null |
    awk -F'|' -v s="$SUITE" '
        $1 == "Debian" && ($3 == s || $3 == s "-updates" || $3 == s "-security") {
            key = $2 " " $3
            if (!(key in comps)) { order[++n] = key; comps[key] = $4 }
            else if (index(" " comps[key] " ", " " $4 " ") == 0) { comps[key] = comps[key] " " $4 }
        }
        END { for (i = 1; i <= n; i++) print "deb " order[i] " " comps[order[i]] }'
)
if [[ ${#MIRRORS[@]} -eq 0 ]]; then
    die "no Debian '$SUITE' entry in the host's apt sources (run apt-get update, or check /etc/apt/sources.list*)"
fi
log "mirrors (from the host's apt sources):"
for m in "${MIRRORS[@]}"; do log "  $m"; done

# Keep the image small: no docs, man pages, locales; no recommends (mmdebstrap's default).
DPKG_OPTS=(
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
)

HOOKS=()
if [[ -d /usr/share/mmdebstrap/hooks/merged-usr ]]; then
    HOOKS=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
fi

log "building $IMAGE with mmdebstrap (minbase + python3) ..."
# mmdebstrap writes a tarball to stdout ("-"); docker import reads it from stdin.
# pipefail makes a failed mmdebstrap fail the script even though import ran.
mmdebstrap --variant=minbase --include=python3 --quiet \
    "${HOOKS[@]}" "${DPKG_OPTS[@]}" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/var/log/apt/*' \
    "$SUITE" - "${MIRRORS[@]}" |
    "$DOCKER" import \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        --message "convgrade base: Debian $SUITE minbase + python3 (mmdebstrap)" \
        - "$IMAGE" >/dev/null

"$DOCKER" run --rm --network none "$IMAGE" python3 -c 'import sys; print(sys.version)' >&2 ||
    die "imported $IMAGE but its python3 does not run"
log "built $IMAGE"
