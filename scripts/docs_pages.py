"""Pages of the documentation site made at build time (mkdocs-gen-files runs this; see mkdocs.yml).

- filter-options.md: the salcrop filter's options as the FFmpeg build prints them (``ffmpeg -h filter=salcrop``),
  so the page cannot drift from the filter; ``SALCROP_FFMPEG`` names another ffmpeg than build/bin/ffmpeg.
- evaluation.md, benchmarks.md: EVALUATION.md and BENCHMARKS.md, which stay at the repository root where the
  measurements are appended; links into docs/ are made relative to the site.
- index.md: the README, the site's home page, its links turned into the site's.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import mkdocs_gen_files

REPO = Path(__file__).resolve().parent.parent
FFMPEG = Path(os.environ.get("SALCROP_FFMPEG", REPO / "build" / "bin" / "ffmpeg"))


def filter_options() -> str:
    if not FFMPEG.exists():
        raise SystemExit(f"docs: {FFMPEG} is missing: run scripts/setup.sh (or set SALCROP_FFMPEG)")
    help_text = subprocess.run([str(FFMPEG), "-hide_banner", "-h", "filter=salcrop"], capture_output=True, text=True,
                               check=True, timeout=60).stdout
    return ("# Filter options\n\n"
            "The `salcrop` filter's options, as `ffmpeg -h filter=salcrop` prints them (this page is made from "
            "that output when the site is built). Options are `name=value` pairs joined with `:`, e.g. "
            "`-vf salcrop=ratio=9/16:smoothing=0.8`; the [command line](commands.md) and `reframe()` take the "
            "same options under the same names.\n\n"
            "```text\n" + help_text.strip() + "\n```\n")


def root_page(name: str) -> str:
    text = (REPO / name).read_text()
    text = re.sub(r"\]\(docs/", "](", text)
    return text.replace("](EVALUATION.md", "](evaluation.md").replace("](BENCHMARKS.md", "](benchmarks.md")


with mkdocs_gen_files.open("filter-options.md", "w") as f:
    f.write(filter_options())
for src, page in (("EVALUATION.md", "evaluation.md"), ("BENCHMARKS.md", "benchmarks.md"), ("README.md", "index.md")):
    with mkdocs_gen_files.open(page, "w") as f:
        f.write(root_page(src))
    mkdocs_gen_files.set_edit_path(page, f"../{src}")
