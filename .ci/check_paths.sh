#!/usr/bin/env bash
# Fail when a tracked file names a path outside the repository (a shared work area, a sibling
# folder or someone's home directory): a fresh clone has none of them, so whatever reads such a
# path breaks on a user's machine. Usage: .ci/check_paths.sh [REPO_DIR] (default: this repo).
set -euo pipefail
repo="${1:-$(dirname "$0")/..}"
# An absolute path under work, root, home or Users (not a path inside a URL), or a "shared"
# folder beside the checkout. Spelled so that this file does not match itself.
pattern='(^|[^A-Za-z0-9_.-])/(work|root|home|Users)/|\.\./shared'
status=0
hits="$(git -C "$repo" grep -nIE -e "$pattern" -- .)" || status=$?
if [ "$status" -gt 1 ]; then
    echo "check_paths: git grep failed in $repo (status $status); is it a git checkout?" >&2
    exit 2
fi
if [ "$status" -eq 0 ]; then
    echo "check_paths: tracked files name paths outside the repository; a fresh clone has none." >&2
    echo "Copy what is needed into the repo (say where it came from) and refer to it relative" >&2
    echo "to the file that reads it. Offending lines:" >&2
    printf '%s\n' "$hits" >&2
    exit 1
fi
