#!/bin/sh
# Installs cw, the Codewire CLI: downloads the release binary for this OS and CPU, checks its
# SHA256 against the release's SHA256SUMS, checks SHA256SUMS.asc against the Codewire release
# key when gpg is installed, and only then moves the binary into place.
#
#   curl -fsSL https://raw.githubusercontent.com/codewiresh/codewire/main/install.sh | sh
#   curl -fsSL .../install.sh | sh -s -- --version v0.1.0 --prefix ~/.local
#
# Options: --version vX.Y.Z (default: the latest release), --prefix DIR (installs DIR/bin/cw;
# default /usr/local), --no-verify-signature (checksum only, even when gpg is installed).
#
# Environment:
#   CW_INSTALL_BASE_URL  where releases live (default https://github.com/codewiresh/codewire/releases).
#                        A mirror needs the same layout: <base>/download/<tag>/<file> and
#                        <base>/latest/download/VERSION (a file holding the latest tag).
#   CW_INSTALL_GPG_KEY   a file holding the armored public key to trust instead of the built-in one.
#   CW_INSTALL_PLATFORM  skip detection: linux-x64, linux-arm64, linux-x64-musl,
#                        linux-arm64-musl, darwin-x64 or darwin-arm64.
#
# The release key is built into this script (release_key below, the same key as
# GPG_PUBLIC_KEY.asc) rather than downloaded beside the release: a key fetched from the same
# server as the binary proves nothing, since whoever can swap the binary can swap the key too.
# Built in, the key comes from where this script came from, a different place than the files.
#
# Everything runs inside main, called on the last line, so a truncated download runs nothing.

set -eu

DEFAULT_BASE_URL="https://github.com/codewiresh/codewire/releases"

say() { printf 'cw-install: %s\n' "$*" >&2; }
die() {
	printf 'cw-install: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	cat <<'EOF'
Install cw, the Codewire CLI.

usage: install.sh [--version vX.Y.Z] [--prefix DIR] [--no-verify-signature]

  --version vX.Y.Z         install this release (default: the latest)
  --prefix DIR             install to DIR/bin/cw (default: /usr/local)
  --no-verify-signature    skip the GPG check even when gpg is installed
  -h, --help               show this help

Environment: CW_INSTALL_BASE_URL (release mirror), CW_INSTALL_GPG_KEY (key file to trust),
CW_INSTALL_PLATFORM (skip OS/CPU detection).
EOF
}

release_key() {
	cat <<'EOF'
-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEawIijBYJKwYBBAHaRw8BAQdAlisJuuAFM6C/jca5wnxR6Bv2bqBHRzxb95Rf
Tq9Fsj60KENvZGV3aXJlIFJlbGVhc2VzIDxyZWxlYXNlc0Bjb2Rld2lyZS5zaD6I
kAQTFggAOBYhBPE5thxRkm54jc1ezXTUkWCJsHkZBQJrAiKMAhsDBQsJCAcCBhUK
CQgLAgQWAgMBAh4BAheAAAoJEHTUkWCJsHkZ1nEBAKDdDGqDatztSCipkgkq0n1K
VVhgI6C2KJygW9k4DzUuAQCv+xb8OHFXGwfNeSeMvSlhLrOF3lIAQO9VCiYDiphI
Cw==
=0zc2
-----END PGP PUBLIC KEY BLOCK-----
EOF
}

# State the cleanup trap needs; set as the install goes.
tmp=""
gnupg=""
staged=""
SUDO=""

cleanup() {
	if [ -n "$staged" ]; then $SUDO rm -f "$staged" 2>/dev/null || true; fi
	if [ -n "$gnupg" ]; then
		# gpg may have started an agent or keyboxd for the throwaway keyring.
		if command -v gpgconf >/dev/null 2>&1; then gpgconf --homedir "$gnupg" --kill all >/dev/null 2>&1 || true; fi
		rm -rf "$gnupg"
	fi
	if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}

is_musl() {
	# glibc answers GNU_LIBC_VERSION; a musl system has no such variable. Fall back to looking
	# for the musl loader only when getconf is missing (minimal containers).
	if command -v getconf >/dev/null 2>&1 && getconf GNU_LIBC_VERSION >/dev/null 2>&1; then return 1; fi
	if command -v ldd >/dev/null 2>&1 && ldd --version 2>&1 | grep -qi musl; then return 0; fi
	for f in /lib/ld-musl-*.so.1; do
		if [ -e "$f" ]; then return 0; fi
	done
	return 1
}

detect_platform() {
	os=$(uname -s)
	arch=$(uname -m)
	case "$os" in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	*) die "unsupported operating system \"$os\": cw is built for Linux and macOS" ;;
	esac
	case "$arch" in
	x86_64 | amd64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) die "unsupported CPU architecture \"$arch\": cw is built for x86_64 and arm64" ;;
	esac
	# A shell running under Rosetta reports x86_64 on Apple Silicon; install the native build.
	if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
		arch=arm64
	fi
	if [ "$os" = linux ] && is_musl; then
		echo "linux-$arch-musl"
	else
		echo "$os-$arch"
	fi
}

# fetch URL FILE [progress]: downloads with curl or wget, or says exactly what failed.
fetch() {
	if command -v curl >/dev/null 2>&1; then
		progress="-sS"
		if [ "${3:-}" = progress ] && [ -t 2 ]; then progress="-#"; fi
		if curl -fL "$progress" --connect-timeout 30 --retry 2 -o "$2" "$1"; then return 0; else rc=$?; fi
		if [ "$rc" = 22 ]; then die "download failed: $1 answered with an HTTP error (is that release and file published?)"; fi
		die "download failed: $1 (curl exit status $rc)"
	elif command -v wget >/dev/null 2>&1; then
		if wget -q -O "$2" "$1"; then return 0; else rc=$?; fi
		die "download failed: $1 (wget exit status $rc; an HTTP error or an unreachable server)"
	else
		die "neither curl nor wget is installed; install one of them and run this again"
	fi
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 "$1" | sed 's/^.*= *//'
	else
		die "no SHA-256 tool found (sha256sum, shasum or openssl); install coreutils and run this again"
	fi
}

verify_signature() {
	gpg_cmd=$1
	# A throwaway keyring holding only the release key: the user's own keyring is never read or
	# changed, and a "good signature" can only come from the key we trust. The path is short
	# because gpg puts sockets in it.
	gnupg=$(mktemp -d /tmp/cw-gpg.XXXXXX) || die "could not create a temporary directory for gpg"
	chmod 700 "$gnupg"
	if [ -n "${CW_INSTALL_GPG_KEY:-}" ]; then
		[ -r "$CW_INSTALL_GPG_KEY" ] || die "CW_INSTALL_GPG_KEY=$CW_INSTALL_GPG_KEY is not a readable file"
		keyfile=$CW_INSTALL_GPG_KEY
	else
		keyfile="$tmp/release-key.asc"
		release_key >"$keyfile"
	fi
	if ! "$gpg_cmd" --batch --homedir "$gnupg" --import "$keyfile" >"$tmp/gpg.log" 2>&1; then
		die "gpg could not import the release key from $keyfile: $(tail -n 3 "$tmp/gpg.log")"
	fi
	if ! "$gpg_cmd" --batch --homedir "$gnupg" --status-fd 3 --verify "$tmp/SHA256SUMS.asc" "$tmp/SHA256SUMS" 3>"$tmp/gpg.status" >"$tmp/gpg.log" 2>&1 ||
		! grep -q '^\[GNUPG:\] VALIDSIG ' "$tmp/gpg.status"; then
		why=$(grep -v -e '^gpg: WARNING' -e 'There is no indication' -e '^Primary key' -e 'using .* key' -e 'issuer "' -e 'Signature made' "$tmp/gpg.log" | tail -n 3 | sed 's/^/  /')
		die "the GPG signature SHA256SUMS.asc from $url does not verify against the Codewire release key: the release files may have been tampered with, so nothing was installed
$why"
	fi
	say "verified the GPG signature of SHA256SUMS"
}

# Makes sure DIR exists and is writable, using sudo if that is the only way.
prepare_dir() {
	if mkdir -p "$1" 2>/dev/null && [ -w "$1" ]; then return 0; fi
	if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
		say "$1 is not writable by you; using sudo to install there"
		SUDO=sudo
		sudo mkdir -p "$1" || die "could not create $1, even with sudo"
		return 0
	fi
	die "cannot write to $1: run this as root, or install somewhere you own with --prefix \"\$HOME/.local\""
}

main() {
	version=""
	prefix="/usr/local"
	verify_sig=yes
	while [ $# -gt 0 ]; do
		case "$1" in
		--version)
			[ $# -ge 2 ] || die "--version needs a value, like --version v0.1.0"
			version=$2
			shift 2
			;;
		--version=*)
			version=${1#--version=}
			shift
			;;
		--prefix)
			[ $# -ge 2 ] || die "--prefix needs a directory, like --prefix \"\$HOME/.local\""
			prefix=$2
			shift 2
			;;
		--prefix=*)
			prefix=${1#--prefix=}
			shift
			;;
		--no-verify-signature)
			verify_sig=no
			shift
			;;
		-h | --help)
			usage
			exit 0
			;;
		*) die "unknown option \"$1\" (see --help)" ;;
		esac
	done
	[ -n "$prefix" ] || die "--prefix cannot be empty"
	case "$prefix" in
	/*) ;;
	*) prefix="$(pwd)/$prefix" ;;
	esac
	base=${CW_INSTALL_BASE_URL:-$DEFAULT_BASE_URL}
	base=${base%/}

	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/cw-install.XXXXXX") || die "could not create a temporary directory"

	if [ -n "${CW_INSTALL_PLATFORM:-}" ]; then
		platform=$CW_INSTALL_PLATFORM
	else
		platform=$(detect_platform) || exit 1
	fi
	case "$platform" in
	linux-x64 | linux-arm64 | linux-x64-musl | linux-arm64-musl | darwin-x64 | darwin-arm64) ;;
	*) die "unknown platform \"$platform\"" ;;
	esac

	if [ -z "$version" ]; then
		fetch "$base/latest/download/VERSION" "$tmp/VERSION"
		version=$(head -n 1 "$tmp/VERSION" | tr -d '[:space:]')
		[ -n "$version" ] || die "$base/latest/download/VERSION is empty; cannot tell which release is the latest"
	fi
	# Tags look like v1.2.3 or v1.2.3-rc.1; anything else never reaches a URL or a file name.
	case "$version" in
	v[0-9]*.[0-9]*.[0-9]*) ;;
	*) die "\"$version\" is not a release version; expected something like v0.1.0" ;;
	esac
	case "$version" in
	*[!0-9A-Za-z.+-]*) die "\"$version\" is not a release version; expected something like v0.1.0" ;;
	esac

	asset="cw-$version-$platform"
	url="$base/download/$version"
	say "installing cw $version for $platform from $url"

	fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS"
	gpg_cmd=""
	if [ "$verify_sig" = yes ]; then
		if command -v gpg >/dev/null 2>&1; then gpg_cmd=gpg; elif command -v gpg2 >/dev/null 2>&1; then gpg_cmd=gpg2; fi
	fi
	if [ -n "$gpg_cmd" ]; then
		fetch "$url/SHA256SUMS.asc" "$tmp/SHA256SUMS.asc"
		verify_signature "$gpg_cmd"
	elif [ "$verify_sig" = yes ]; then
		say "gpg is not installed: checking the SHA256 checksum only, which catches a damaged download but not a tampered release (install gnupg to verify the signature too)"
	else
		say "skipping the GPG signature check (--no-verify-signature)"
	fi

	expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$tmp/SHA256SUMS")
	case "$expected" in
	"") die "SHA256SUMS for $version lists no $asset: this release has no build for $platform" ;;
	*[!0-9a-fA-F]*) die "SHA256SUMS for $version has a malformed entry for $asset" ;;
	esac
	[ "${#expected}" = 64 ] || die "SHA256SUMS for $version has a malformed entry for $asset"

	fetch "$url/$asset" "$tmp/cw" progress
	actual=$(sha256_of "$tmp/cw")
	expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
	if [ "$actual" != "$expected" ]; then
		die "checksum mismatch for $asset: expected $expected from SHA256SUMS but the download is $actual; the file is damaged or was tampered with, so nothing was installed"
	fi
	say "verified the SHA256 checksum of $asset"

	# Stage the binary beside its destination, check that it runs here, then rename it over the
	# old one: a rename within a directory is atomic, so cw is always the old or the new binary.
	bindir="$prefix/bin"
	prepare_dir "$bindir"
	if [ -d "$bindir/cw" ]; then die "$bindir/cw is a directory; remove it or choose another --prefix"; fi
	staged="$bindir/.cw.install.$$"
	$SUDO cp "$tmp/cw" "$staged" || die "could not write $staged (is the disk full?)"
	$SUDO chmod 755 "$staged" || die "could not make $staged executable"
	if ! ran=$("$staged" --version 2>&1); then
		die "the downloaded cw does not run on this system (platform $platform): $ran"
	fi
	$SUDO mv -f "$staged" "$bindir/cw" || die "could not move the new binary to $bindir/cw"
	staged=""

	say "installed $ran to $bindir/cw"
	case ":${PATH:-}:" in
	*":$bindir:"*) ;;
	*) say "$bindir is not on your PATH; add it, e.g.: export PATH=\"$bindir:\$PATH\"" ;;
	esac
}

main "$@"
