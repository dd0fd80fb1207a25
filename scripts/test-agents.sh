#!/usr/bin/env bash
# Installs the pinned real agents (test/agents/package.json) into a cache outside the checkout,
# once per set of versions, and prints the directory whose node_modules/.bin holds them.
# Tests find it through CW_TEST_AGENTS (test/fixtures/agents.ts); .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=test/agents/package.json
key=$(sha256sum "$spec" | cut -c1-16)
dir="${CW_TEST_AGENTS_CACHE:-$HOME/.cache/codewire/test-agents}/$key"
if [ ! -x "$dir/node_modules/.bin/claude" ] || [ ! -x "$dir/node_modules/.bin/codex" ] || [ ! -e "$dir/node_modules/.bin/gemini" ]; then
  mkdir -p "$dir"
  cp "$spec" "$dir/package.json"
  # Install scripts stay off: the agents' binaries ship inside their packages, and npm 11
  # would only ask about them. The agents must never update themselves (DISABLE_AUTOUPDATER in tests).
  (cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
fi
echo "$dir"
