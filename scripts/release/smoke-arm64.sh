#!/bin/sh
# Smoke test of the linux-arm64 binary on an x86_64 machine under qemu-user: it starts a node,
# launches and lists a session, and checks that the node loaded librust_pty_arm64.so.
#
#   scripts/release/smoke-arm64.sh dist/release/v0.1.0 [SYSROOT]
#
# SYSROOT holds arm64 glibc (lib/ld-linux-aarch64.so.1, libc, libm, libgcc_s). Without one, the
# script makes one as root from Debian's packages: it enables the arm64 architecture just long
# enough to `apt-get download libc6:arm64 libgcc-s1:arm64`, then removes it again.
# Needs: apt-get install qemu-user-static
#
# Without binfmt_misc (containers), a qemu'd cw cannot start its node by re-executing itself,
# so the node is started here, in the foreground under qemu, and the commands talk to it.
set -eu

rel=${1:?usage: smoke-arm64.sh RELEASE_DIR [SYSROOT]}
rel=$(cd "$rel" && pwd)
version=$(cat "$rel/VERSION")
bin="$rel/cw-$version-linux-arm64"
[ -f "$bin" ] || { echo "smoke-arm64: $bin not found" >&2; exit 1; }
command -v qemu-aarch64-static >/dev/null || { echo "smoke-arm64: qemu-aarch64-static missing (apt-get install qemu-user-static)" >&2; exit 1; }

work=$(mktemp -d /tmp/cw-arm64.XXXXXX)
node=""
cleanup() {
	if [ -n "$node" ]; then kill "$node" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

sysroot=${2:-}
if [ -z "$sysroot" ]; then
	sysroot="$work/sysroot"
	mkdir -p "$sysroot" "$work/debs"
	added=""
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
		added=yes
	fi
	apt-get update -qq
	(cd "$work/debs" && apt-get download -qq libc6:arm64 libgcc-s1:arm64)
	if [ -n "$added" ]; then
		dpkg --remove-architecture arm64
		apt-get update -qq
	fi
	for d in "$work"/debs/*.deb; do dpkg -x "$d" "$sysroot"; done
fi

export QEMU_LD_PREFIX="$sysroot" CODEWIRE_HOME="$work/home" TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"
cw() { qemu-aarch64-static "$bin" "$@"; }

cw --version
cw node 2>"$work/node.err" &
node=$!
i=0
until [ -S "$CODEWIRE_HOME/codewire.sock" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "smoke-arm64: the node did not start:" >&2; cat "$work/node.err" >&2; exit 1; }
	sleep 0.1
done
cw launch -- echo hi-from-arm64 >/dev/null
i=0
until cw list | grep -q "completed (0)"; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "smoke-arm64: the session did not complete" >&2; exit 1; }
	sleep 0.1
done
cw list
cw logs 1 | grep -q hi-from-arm64
want=$(sha256sum node_modules/bun-pty/rust-pty/target/release/librust_pty_arm64.so | cut -d " " -f 1)
found=""
for f in "$TMPDIR"/.bun-*.so; do
	[ -e "$f" ] || continue
	[ "$(sha256sum "$f" | cut -d " " -f 1)" = "$want" ] || { echo "smoke-arm64: the node loaded $f, not librust_pty_arm64.so" >&2; exit 1; }
	found=yes
done
[ -n "$found" ] || { echo "smoke-arm64: found no pty library extracted by the node" >&2; exit 1; }
cw stop
wait "$node" || true
node=""
echo "ok: linux-arm64 cw ran a session under qemu with librust_pty_arm64.so"
