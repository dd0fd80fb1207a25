#!/bin/sh
# Smoke test of the linux-x64-musl binary in a tiny musl root (no Alpine needed), run as root
# on a Debian/Ubuntu x86_64 machine:
#
#   sudo scripts/release/smoke-musl.sh dist/release/v0.1.0
#
# The root has Debian's musl loader, a static busybox, and — since Debian ships no musl build
# of libstdc++, which Bun needs — Debian's glibc libstdc++/libgcc_s plus a small shim for the
# few glibc-only symbols they use. So this proves that the binary starts under musl, picks the
# embedded musl pty library and runs sessions, and that install.sh detects musl; it does not
# prove compatibility with Alpine's own libstdc++ (close, but not the same file).
#
# Needs: apt-get install musl busybox-static patchelf gcc
set -eu

rel=${1:?usage: smoke-musl.sh RELEASE_DIR}
rel=$(cd "$rel" && pwd)
version=$(cat "$rel/VERSION")
bin="$rel/cw-$version-linux-x64-musl"
[ -f "$bin" ] || { echo "smoke-musl: $bin not found" >&2; exit 1; }
for t in gcc patchelf busybox; do command -v "$t" >/dev/null || { echo "smoke-musl: $t missing (apt-get install musl busybox-static patchelf gcc)" >&2; exit 1; }; done
[ -e /lib/x86_64-linux-musl/libc.so ] || { echo "smoke-musl: musl missing (apt-get install musl)" >&2; exit 1; }

root=$(mktemp -d /tmp/cw-musl-root.XXXXXX)
server=""
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
	umount -R "$root/dev" 2>/dev/null || true
	umount "$root/proc" 2>/dev/null || true
	rm -rf "$root"
}
trap cleanup EXIT

mkdir -p "$root/bin" "$root/lib" "$root/usr/lib" "$root/tmp" "$root/proc" "$root/dev" "$root/root" "$root/srv"
cp /lib/x86_64-linux-musl/libc.so "$root/lib/ld-musl-x86_64.so.1"
for n in libc.musl-x86_64.so.1 libc.so.6 libm.so.6 ld-linux-x86-64.so.2; do ln -s /lib/ld-musl-x86_64.so.1 "$root/usr/lib/$n"; done
cat >"$root/tmp/shim.c" <<'EOF'
/* glibc-only symbols referenced by Debian's libstdc++ and libgcc_s; enough for a smoke test. */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
uint32_t arc4random(void) { uint32_t v = 0; getrandom(&v, sizeof v, 0); return v; }
size_t __strftime_l(char *s, size_t n, const char *f, const struct tm *t, locale_t l) { return strftime_l(s, n, f, t, l); }
extern int __cxa_atexit(void (*)(void *), void *, void *);
int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso) { return __cxa_atexit(fn, obj, dso); }
char __libc_single_threaded = 0;
int _dl_find_object(void *pc, void *res) { (void)pc; (void)res; return -1; }
struct { unsigned a, b, c, d[1]; } __cpu_model;
int __cpu_indicator_init(void) { return 0; }
EOF
gcc -shared -fPIC -nostdlib -o "$root/usr/lib/libglibcshim.so" "$root/tmp/shim.c" -L/lib/x86_64-linux-musl -lc
cp /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libgcc_s.so.1 "$root/usr/lib/"
patchelf --add-needed libglibcshim.so "$root/usr/lib/libstdc++.so.6"
patchelf --add-needed libglibcshim.so "$root/usr/lib/libgcc_s.so.1"
cp "$(command -v busybox)" "$root/bin/busybox"
for c in sh echo cat sleep grep head tr cut awk sed mktemp mkdir rm cp mv chmod uname wget sha256sum ls id pwd tail; do ln -s busybox "$root/bin/$c"; done
cp "$bin" "$root/bin/cw"
mount --bind /proc "$root/proc"
mount --rbind /dev "$root/dev"

echo "== cw in the musl root"
# shellcheck disable=SC2016 # the script runs inside the root, expanded there
chroot "$root" /bin/sh -eu -c '
export PATH=/bin HOME=/root CODEWIRE_HOME=/tmp/cwhome
cw --version
cw launch -- echo hi-from-musl >/dev/null
i=0; until cw list | grep -q "completed (0)"; do i=$((i+1)); [ $i -lt 100 ] || { echo "session did not complete" >&2; exit 1; }; sleep 0.1; done
cw list
cw logs 1 | grep -q hi-from-musl
echo "pty library loaded by the node:"
for f in /tmp/.bun-*.so; do sha256sum "$f"; done
cw stop
'
want=$(sha256sum node_modules/bun-pty/rust-pty/target/release/librust_pty_musl.so | cut -d " " -f 1)
for f in "$root"/tmp/.bun-*.so; do
	[ "$(sha256sum "$f" | cut -d " " -f 1)" = "$want" ] || { echo "smoke-musl: the node loaded $f, not librust_pty_musl.so" >&2; exit 1; }
done
echo "ok: it is librust_pty_musl.so"

echo "== install.sh under busybox in the musl root"
mkdir -p "$root/srv/download/$version" "$root/srv/latest/download"
cp "$bin" "$rel/SHA256SUMS" "$root/srv/download/$version/"
cp "$rel/VERSION" "$root/srv/latest/download/VERSION"
cp install.sh "$root/bin/install.sh"
(cd "$root/srv" && exec busybox httpd -f -p 127.0.0.1:8719) &
server=$!
# shellcheck disable=SC2016 # the script runs inside the root, expanded there
chroot "$root" /bin/sh -eu -c '
export PATH=/bin HOME=/root
i=0; until wget -q -O /dev/null http://127.0.0.1:8719/latest/download/VERSION; do i=$((i+1)); [ $i -lt 50 ] || exit 1; sleep 0.1; done
CW_INSTALL_BASE_URL=http://127.0.0.1:8719 sh /bin/install.sh --prefix /root/.local 2>&1 | tee /tmp/install.log
grep -q "for linux-x64-musl" /tmp/install.log
/root/.local/bin/cw --version
'
echo "ok: install.sh detected musl and installed a working cw"
