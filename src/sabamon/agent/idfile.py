"""The host id file, `<root>/id`: the id the server gave this host, plain, no newline."""

from __future__ import annotations

from pathlib import Path


class IdFileError(Exception):
    pass


def id_path(root: Path) -> Path:
    return root / "id"


def load_host_id(root: Path) -> str | None:
    """The saved id, None when there is no id file; IdFileError when it is empty."""
    path = id_path(root)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    host_id = text.strip("\r\n")
    if not host_id:
        raise IdFileError(f"the id file {path} is empty: delete it to register this host again")
    return host_id


def save_host_id(root: Path, host_id: str) -> None:
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    temporary = id_path(root).with_suffix(".tmp")
    temporary.write_text(host_id)
    temporary.replace(id_path(root))


def remove_host_id(root: Path) -> None:
    id_path(root).unlink(missing_ok=True)
