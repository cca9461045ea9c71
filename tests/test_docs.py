"""The documentation: the README opens with the two commands and points into docs/, and the site
builds with MkDocs' --strict (a broken link or a page left out of the navigation fails it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )


def test_the_readme_opens_with_the_two_commands_and_links_the_guides() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = readme.split("```sh\n")[1].split("```")[0].strip().splitlines()
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/kartu run",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    ]
    assert readme.index("```sh") < readme.index("\n## ")  # before any section
    for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", readme):
        assert (ROOT / target).is_file(), target
    assert len(readme) < 8_000  # the reference lives in docs/, not here


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    done = _build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stderr[-3000:]
    built = (tmp_path / "site" / "operators" / "index.html").read_text()
    assert "From a fresh Debian server to a live bot" in built
    assert "kartu restore" in built and "bench/rehearsal.py" in built


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    owners = copy / "docs" / "owners.md"
    owners.write_text(owners.read_text() + "\nSee [the missing page](missing.md).\n")
    done = _build(copy, tmp_path / "site")
    assert done.returncode != 0
    assert "missing.md" in done.stderr
