#!/usr/bin/env bash
# Smoke-test an installed Findling: packaging/smoke.sh CLI GUI
# Indexes a small folder, searches it, asks a question with the packaged LLM, prints status,
# and opens the main window offscreen (FINDLING_SMOKE_TEST, see packaging/entry_gui.py).
# Used by .github/workflows/release.yml on macOS and Windows; Linux runs
# tests/packaging/test_linux_package.py, which checks more.
# SPDX-License-Identifier: AGPL-3.0-or-later
set -euo pipefail
cli="$1"; gui="$2"
work="$(mktemp -d)"
export FINDLING_HOME="$work/data"
mkdir -p "$work/docs"
echo "The rudder bearing must be greased every forty engine hours." > "$work/docs/boat.txt"
echo "Buy oat milk, lentils and a new kettle descaler." > "$work/docs/shopping.txt"
cd "$work"
"$cli" --version
"$cli" index "$work/docs" --json
"$cli" search "how often should the rudder be lubricated" --json | head -1 | grep -q 'boat.txt'
"$cli" ask "How often must the rudder bearing be greased?" --json | tail -1 | grep -q '"found": true'
"$cli" status --json | tail -1 | grep -q '"indexed": 2'
export FINDLING_HOME="$work/gui-data" QT_QPA_PLATFORM=offscreen FINDLING_SMOKE_TEST=1
export FINDLING_SMOKE_FILE="$work/smoke.log"
"$gui" || true
cat "$FINDLING_SMOKE_FILE"
grep -q "window-shown" "$FINDLING_SMOKE_FILE"
echo "smoke test passed"
