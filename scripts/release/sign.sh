#!/bin/sh
# Signs a release's SHA256SUMS as SHA256SUMS.asc (armored, detached) and checks the result.
#
#   scripts/release/sign.sh --key <key id or fingerprint> [--homedir DIR] dist/release/v0.1.0
#
# The private key never lives in this repository: it is in the maintainer's keyring (or the
# GNUPGHOME given with --homedir). For unattended signing, put the passphrase in a file and set
# GPG_PASSPHRASE_FILE; otherwise gpg asks through its agent as usual.
set -eu

usage() {
	echo "usage: $0 --key KEYID [--homedir DIR] RELEASE_DIR" >&2
	exit 2
}

key=""
homedir=""
dir=""
while [ $# -gt 0 ]; do
	case "$1" in
	--key) [ $# -ge 2 ] || usage; key=$2; shift 2 ;;
	--homedir) [ $# -ge 2 ] || usage; homedir=$2; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "sign.sh: unknown option $1" >&2; usage ;;
	*) [ -z "$dir" ] || usage; dir=$1; shift ;;
	esac
done
if [ -z "$key" ] || [ -z "$dir" ]; then usage; fi
[ -f "$dir/SHA256SUMS" ] || { echo "sign.sh: $dir/SHA256SUMS not found (run scripts/release/build-all.ts first)" >&2; exit 1; }

set -- --batch --yes
[ -n "$homedir" ] && set -- "$@" --homedir "$homedir"
if [ -n "${GPG_PASSPHRASE_FILE:-}" ]; then
	set -- "$@" --pinentry-mode loopback --passphrase-file "$GPG_PASSPHRASE_FILE"
fi

# Every listed file must still match before we vouch for the list (shasum on macOS).
if command -v sha256sum >/dev/null 2>&1; then check="sha256sum --check --quiet"; else check="shasum -a 256 --check --quiet"; fi
(cd "$dir" && $check SHA256SUMS) || { echo "sign.sh: SHA256SUMS does not match the files in $dir" >&2; exit 1; }

rm -f "$dir/SHA256SUMS.asc"
gpg "$@" --local-user "$key" --armor --detach-sign --output "$dir/SHA256SUMS.asc" "$dir/SHA256SUMS"
gpg "$@" --verify "$dir/SHA256SUMS.asc" "$dir/SHA256SUMS" 2>/dev/null || { echo "sign.sh: the new signature does not verify" >&2; exit 1; }
echo "signed $dir/SHA256SUMS with $key -> $dir/SHA256SUMS.asc"
