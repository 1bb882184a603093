"""The work tree a bench script belongs to: the code it measures is this tree's.

The venv's editable install points at one work tree; a script run from another (a `git
worktree` of a change, say) would otherwise import, and start servers from, that one.
Importing this module puts `SRC` first on `sys.path`; `child_env` gives the processes a
script starts the same code (or another tree's, for a `--baseline`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TREE = Path(__file__).resolve().parents[1]
SRC = TREE / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))


def child_env(tree: Path | None = None, **extra: str) -> dict[str, str]:
    """This process' environment with `extra` and `PYTHONPATH` set to `tree`'s `src`
    (default this tree's), for a `sabamon` subprocess."""
    return {**os.environ, **extra, "PYTHONPATH": str((tree or TREE) / "src")}
