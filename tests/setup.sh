#!/bin/bash
# Prepare this machine for snakescope's test suite (Debian 12, run as root).
#
#   bash tests/setup.sh
#
# 1. Host packages: the build and test prerequisites (apt).
# 2. A Debian sid chroot with the newest CPythons (python3.13 .. 3.15 as sid
#    ships them, their -dbg and -nopie builds, libpython3.X-dev headers) and
#    austin unpacked under /opt/austin.  Default location
#    /var/cache/snakescope/sid, override with SNAKESCOPE_CHROOT.
#
# Idempotent and cached: the chroot is built in DIR.tmp and renamed into place
# only when complete, with a stamp file recording what it holds; a second run
# checks the stamp and returns at once.  Quiet unless something fails, then
# the log of the failing step is printed.  SNAKESCOPE_SETUP_VERBOSE=1 shows
# every step as it runs.  SNAKESCOPE_NO_CHROOT=1 skips step 2 (the sid tests
# then skip, naming this script).
set -euo pipefail

CHROOT=${SNAKESCOPE_CHROOT:-/var/cache/snakescope/sid}
CHROOT=${CHROOT%/}
TMP=$CHROOT.tmp
MIRROR=${SNAKESCOPE_MIRROR:-http://deb.debian.org/debian}
VERBOSE=${SNAKESCOPE_SETUP_VERBOSE:-0}
# Bump when the recipe below changes in a way the package list does not show.
RECIPE=1

# What the build needs (tools/build-deps, shared with demo/run.sh), then
# what the tests need.
mapfile -t HOST_PKGS < <(grep -v '^#' "$(dirname "$0")/../tools/build-deps")
HOST_PKGS+=(libcmocka-dev
	python3-pytest python3-pytest-xdist debootstrap python3.11-dev python3.11-dbg gdb
	util-linux clang zstd lz4 xz-utils protobuf-c-compiler
	golang-go chromium python3-jsonschema tmux libc6-dbg)
# record's speedscope output is checked against the schema speedscope
# publishes in its npm package.
SPEEDSCOPE_VERSION=1.25.0
SPEEDSCOPE_SCHEMA=/var/cache/snakescope/speedscope/file-format-schema.json
# Wanted in the chroot for each minor version sid has.
SID_MINORS=(13 14 15)
# Tools run inside the chroot: sid's gdb (18) writes correct gcores of
# sid's pythons, whose glibc guards thread stacks with MADV_GUARD_INSTALL
# (bookworm's gdb 13 zero-fills those stacks).
CHROOT_TOOLS=(gdb)
# Runtime libraries austin 3.7 links against (it is unpacked, not installed).
AUSTIN_LIBS=(libunwind8 libsframe3 libzstd1 zlib1g)

LOG=$(mktemp /tmp/snakescope-setup.XXXXXX.log)
KEEP_LOG=0
cleanup_log() { [ "$KEEP_LOG" = 1 ] || rm -f "$LOG"; }
trap cleanup_log EXIT

say() { if [ "$VERBOSE" = 1 ]; then echo "setup: $*" >&2; fi; }
die() {
	echo "tests/setup.sh: $*" >&2
	if [ -s "$LOG" ]; then
		echo "---- log of the failing step (last 60 lines of $LOG) ----" >&2
		tail -n 60 "$LOG" >&2
		KEEP_LOG=1
	fi
	exit 1
}
# run DESCRIPTION CMD...: run quietly into the log; on failure show the log.
run() {
	local what=$1
	shift
	say "$what"
	if [ "$VERBOSE" = 1 ]; then
		"$@" 2>&1 | tee -a "$LOG"
		[ "${PIPESTATUS[0]}" = 0 ] || die "failed: $what"
	else
		"$@" >>"$LOG" 2>&1 || die "failed: $what"
	fi
}

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and builds a chroot)"
export DEBIAN_FRONTEND=noninteractive

# ---- 1. host packages ------------------------------------------------------
missing=()
for p in "${HOST_PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
# npm only fetches speedscope's schema; a machine with Node.js from another
# source (whose nodejs package conflicts with Debian's npm) already has it.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	run "apt-get update (host)" apt-get -q update
	run "apt-get install ${missing[*]}" \
		apt-get -q -y install --no-install-recommends "${missing[@]}"
fi

if [ ! -s "$SPEEDSCOPE_SCHEMA" ]; then
	sdir=$(mktemp -d)
	run "npm pack speedscope@$SPEEDSCOPE_VERSION" \
		sh -c "cd '$sdir' && npm pack --silent speedscope@$SPEEDSCOPE_VERSION"
	run "extract speedscope's file-format schema" \
		tar -xzf "$sdir/speedscope-$SPEEDSCOPE_VERSION.tgz" -C "$sdir" \
		package/dist/release/file-format-schema.json
	mkdir -p "$(dirname "$SPEEDSCOPE_SCHEMA")"
	cp "$sdir/package/dist/release/file-format-schema.json" "$SPEEDSCOPE_SCHEMA"
	rm -rf "$sdir"
fi

[ "${SNAKESCOPE_NO_CHROOT:-0}" = 1 ] && exit 0

# ---- 2. the sid chroot -----------------------------------------------------
STAMP_NAME=.snakescope-stamp
want_stamp() {
	local m
	echo "recipe $RECIPE"
	for m in "${SID_MINORS[@]}"; do echo "minor 3.$m"; done
	echo "austin-libs ${AUSTIN_LIBS[*]}"
	echo "tools ${CHROOT_TOOLS[*]}"
}
WANT=$(want_stamp)
# A complete chroot's stamp starts with the wanted lines (what was found
# follows them).
stamp_ok() {
	[ -f "$1/$STAMP_NAME" ] &&
		[ "$(head -n "$(printf '%s\n' "$WANT" | wc -l)" "$1/$STAMP_NAME")" = "$WANT" ]
}
stamp_ok "$CHROOT" && exit 0

mkdir -p "$(dirname "$CHROOT")"
# One setup at a time (two test runs started together, say).
exec 9>"$CHROOT.lock"
flock 9
stamp_ok "$CHROOT" && exit 0

# A debootstrap of $TMP still running (started by hand, or by another setup
# that predates the lock): wait for it rather than racing it.
running_debootstrap() {
	local p a args is_db has_tmp
	for p in /proc/[0-9]*; do
		mapfile -d '' -t args <"$p/cmdline" 2>/dev/null || continue
		is_db=0 has_tmp=0
		for a in "${args[@]:0:2}"; do
			[ "${a##*/}" = debootstrap ] && is_db=1
		done
		for a in "${args[@]}"; do
			[ "${a%/}" = "$TMP" ] && has_tmp=1
		done
		[ $is_db = 1 ] && [ $has_tmp = 1 ] && return 0
	done
	return 1
}
if running_debootstrap; then
	say "waiting for the running debootstrap of $TMP"
	for _ in $(seq 1 1800); do
		running_debootstrap || break
		sleep 1
	done
	running_debootstrap && die "a debootstrap of $TMP has been running for 30 minutes"
fi

# An existing chroot with an older stamp is updated in place, via $TMP.
if [ -d "$CHROOT" ] && [ ! -e "$TMP" ]; then
	say "updating $CHROOT (stamp differs)"
	mv "$CHROOT" "$TMP"
fi

# A finished debootstrap leaves no $TMP/debootstrap directory and has apt.
if [ -d "$TMP" ] && { [ -d "$TMP/debootstrap" ] || [ ! -x "$TMP/usr/bin/apt-get" ]; }; then
	say "removing the unfinished debootstrap in $TMP"
	rm -rf --one-file-system "$TMP"
fi
if [ ! -d "$TMP" ]; then
	run "debootstrap sid into $TMP (a few minutes)" \
		debootstrap --variant=minbase sid "$TMP" "$MIRROR"
fi

# /proc only while installing; always unmounted again.
PROC_MOUNTED=0
unmount_proc() {
	if [ "$PROC_MOUNTED" = 1 ]; then
		umount "$TMP/proc" 2>/dev/null || umount -l "$TMP/proc" 2>/dev/null || true
		PROC_MOUNTED=0
	fi
}
trap 'unmount_proc; cleanup_log' EXIT
if ! mountpoint -q "$TMP/proc"; then
	mount -t proc proc "$TMP/proc"
	PROC_MOUNTED=1
fi

in_chroot() { chroot "$TMP" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
APT_OPTS=(-q -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false)

[ -s "$TMP/etc/resolv.conf" ] || cp /etc/resolv.conf "$TMP/etc/resolv.conf"
# Services must not start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
chmod 755 "$TMP/usr/sbin/policy-rc.d"

run "apt-get update (sid chroot)" in_chroot apt-get "${APT_OPTS[@]}" update

# What sid has: each wanted minor and its variants, as far as they exist.
pkgs=()
found=()
for m in "${SID_MINORS[@]}"; do
	v=3.$m
	for p in "python$v" "python$v-dbg" "python$v-nopie" "libpython$v-dev"; do
		cand=$(in_chroot apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
		if [ -n "$cand" ] && [ "$cand" != "(none)" ]; then
			pkgs+=("$p")
			found+=("$p=$cand")
		fi
	done
done
[ ${#pkgs[@]} -gt 0 ] || die "sid offers none of python3.${SID_MINORS[*]}"
run "apt-get install in the chroot: ${pkgs[*]} ${AUSTIN_LIBS[*]} ${CHROOT_TOOLS[*]}" \
	in_chroot apt-get "${APT_OPTS[@]}" -y install "${pkgs[@]}" "${AUSTIN_LIBS[@]}" \
	"${CHROOT_TOOLS[@]}"

# austin: sid's package pins python3 << 3.14, so unpack it instead of
# installing it.
run "apt-get download austin" in_chroot sh -c \
	'rm -rf /tmp/austin-deb && mkdir /tmp/austin-deb && cd /tmp/austin-deb && apt-get -q -o Acquire::Check-Valid-Until=false download austin'
deb=$(ls "$TMP"/tmp/austin-deb/austin_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "apt-get download austin left no .deb"
rm -rf "$TMP/opt/austin"
run "dpkg -x austin into /opt/austin" dpkg -x "$deb" "$TMP/opt/austin"
austin_ver=$(dpkg-deb -f "$deb" Version)
rm -rf "$TMP/tmp/austin-deb"
run "austin runs in the chroot" in_chroot /opt/austin/usr/bin/austin --version

run "apt-get clean (sid chroot)" in_chroot apt-get clean
unmount_proc

# Exact versions of what was installed, for the record (and the tests' ids).
{
	printf '%s\n' "$WANT"
	for p in "${pkgs[@]}"; do
		printf 'installed %s %s\n' "$p" \
			"$(chroot "$TMP" dpkg-query -W -f='${Version}' "$p")"
	done
	echo "austin $austin_ver /opt/austin/usr/bin/austin"
	date -u +'built %Y-%m-%dT%H:%M:%SZ'
} >"$TMP/$STAMP_NAME"

rm -rf --one-file-system "$CHROOT"
mv "$TMP" "$CHROOT"
say "sid chroot ready in $CHROOT"
