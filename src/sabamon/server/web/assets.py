"""Installs the dashboard's browser libraries from the npm registry.

`web/package.json` (and its lock file) pins them; this copies the built files into
`static/vendor/`, which the server serves from its own origin. Run by `make setup`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_WEB = Path(__file__).resolve().parents[4] / "web"
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
FILES = {
    "uplot/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
    "uplot/dist/uPlot.min.css": "uPlot.min.css",
}


def install(web_dir: Path = REPO_WEB, vendor: Path = VENDOR) -> None:
    modules = web_dir / "node_modules"
    if not all((modules / src).exists() for src in FILES):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install the chart library (apt-get install npm)")
        subprocess.run(
            [
                npm,
                "ci" if (web_dir / "package-lock.json").exists() else "install",
                "--no-audit",
                "--no-fund",
                "--silent",
            ],
            cwd=web_dir,
            check=True,
        )
    vendor.mkdir(parents=True, exist_ok=True)
    for src, dst in FILES.items():
        shutil.copyfile(modules / src, vendor / dst)


if __name__ == "__main__":
    try:
        install()
    except subprocess.CalledProcessError as exc:
        sys.exit(f"npm failed ({exc.returncode}); see its output above")
