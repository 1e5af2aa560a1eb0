#!/usr/bin/env bash
# Builds the documentation site into site/ (git-ignored) with MkDocs, --strict: a broken link, a page missing
# from the site or a Python name mkdocstrings cannot resolve fails the build. The tools live in a virtualenv of
# their own, cached by requirements-docs.txt's hash; the filter's options page needs build/bin/ffmpeg (setup.sh).
#   bash scripts/docs.sh           # build site/
#   bash scripts/docs.sh serve     # preview at http://127.0.0.1:8000 while editing docs/
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cache=${SALCROP_CACHE:-$HOME/.cache/salcrop}
python=${SALCROP_PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
venv=$cache/docs-venv-$(sha256sum requirements-docs.txt | cut -c1-16)
if [[ ! -f $venv/.complete ]]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q -r requirements-docs.txt
    touch "$venv/.complete"
fi
if [[ ${1:-build} == serve ]]; then
    NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true exec "$venv/bin/mkdocs" serve
fi
NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true "$venv/bin/mkdocs" build --strict --clean --site-dir "$repo/site"
echo "$repo/site/index.html"
