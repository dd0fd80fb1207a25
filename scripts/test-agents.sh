#!/usr/bin/env bash
# Installs the pinned real agents (test/agents/package.json) into a cache outside the checkout,
# once per set of versions, and prints the directory whose node_modules/.bin holds them.
# Tests find it through CW_TEST_AGENTS (test/fixtures/agents.ts); .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=test/agents/package.json
key=$(sha256sum "$spec" | cut -c1-16)
dir="${CW_TEST_AGENTS_CACHE:-$HOME/.cache/codewire/test-agents}/$key"
ready() {
  "$dir/node_modules/.bin/claude" --version >/dev/null 2>&1 &&
    "$dir/node_modules/.bin/codex" --version >/dev/null 2>&1 &&
    "$dir/node_modules/.bin/gemini" --version >/dev/null 2>&1
}
if ! ready; then
  mkdir -p "$dir"
  cp "$spec" "$dir/package.json"
  # Install scripts stay off (native rebuilds of optional helpers Gemini CLI does without), but
  # Claude Code's own: it copies the native binary of this platform over its placeholder.
  # The agents must never update themselves (DISABLE_AUTOUPDATER in tests).
  (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2 &&
    cd node_modules/@anthropic-ai/claude-code && node install.cjs >&2)
  ready || { echo "test-agents: the agents did not install in $dir" >&2; exit 1; }
fi
echo "$dir"
