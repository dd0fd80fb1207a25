#!/bin/sh
# Installs codewire's two Claude Code skills into ~/.claude/skills/ ($CLAUDE_CONFIG_DIR/skills
# when set): codewire (using cw: launch, monitor and coordinate sessions) and codewire-dev
# (working on the codewire codebase: build, test, benchmark).
#
#   sh .claude/skills/install.sh                 # from a checkout: copies the files beside it
#   curl -fsSL https://raw.githubusercontent.com/codewiresh/codewire/main/.claude/skills/install.sh | bash
#
# Where the skills come from, first that applies:
#   1. the directory of this script, when it is a checkout's .claude/skills/;
#   2. `cw skills install --dev`, when cw is on PATH (the skills embedded in that binary, no network);
#   3. a download from CW_SKILLS_BASE_URL (default: this repository's main branch on GitHub).
#
# Options: --dir DIR installs into DIR instead.
#
# Everything runs inside main, called on the last line, so a truncated download runs nothing.

set -eu

DEFAULT_BASE_URL="https://raw.githubusercontent.com/codewiresh/codewire/main/.claude/skills"
SKILLS="codewire codewire-dev"

say() { printf '%s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# The directory holding this script, when it was run from a file (not piped into sh).
script_dir() {
  case "$0" in
    */install.sh) (cd "$(dirname "$0")" 2>/dev/null && pwd) || true ;;
    *) true ;;
  esac
}

# Writes $2 (a file) to $1/<skill>/SKILL.md whole: a reader sees the old skill or the new one.
put() {
  mkdir -p "$1" || die "cannot create $1"
  cp "$2" "$1/SKILL.md.tmp.$$" || die "cannot write $1/SKILL.md"
  mv "$1/SKILL.md.tmp.$$" "$1/SKILL.md" || die "cannot write $1/SKILL.md"
  say "installed $(basename "$1"): $1/SKILL.md"
}

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$1" -o "$2"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    die "neither curl nor wget is installed; install cw and run: cw skills install --dev"
  fi
}

main() {
  dest="${CLAUDE_CONFIG_DIR:-$HOME/.claude}/skills"
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir)
        [ $# -ge 2 ] || die "--dir needs a directory"
        dest="$2"
        shift 2
        ;;
      -h | --help)
        sed -n '2,16p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//'
        return 0
        ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
  done

  here="$(script_dir)"
  if [ -n "$here" ] && [ -f "$here/codewire/SKILL.md" ] && [ -f "$here/codewire-dev/SKILL.md" ]; then
    for s in $SKILLS; do put "$dest/$s" "$here/$s/SKILL.md"; done
    return 0
  fi

  if command -v cw >/dev/null 2>&1; then
    cw skills install --dev --dir "$dest" >&2 || die "cw skills install failed"
    return 0
  fi

  base="${CW_SKILLS_BASE_URL:-$DEFAULT_BASE_URL}"
  tmp="$(mktemp -d)" || die "cannot make a temporary directory"
  trap 'rm -rf "$tmp"' EXIT
  for s in $SKILLS; do
    fetch "$base/$s/SKILL.md" "$tmp/$s.md" || die "could not download $base/$s/SKILL.md"
    # A proxy's error page is not a skill: a skill starts with its front matter.
    [ "$(head -n 1 "$tmp/$s.md")" = "---" ] || die "$base/$s/SKILL.md is not a skill file"
  done
  for s in $SKILLS; do put "$dest/$s" "$tmp/$s.md"; done
}

main "$@"
