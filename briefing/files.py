"""Files: atomic writes, so a crash or a full disk never leaves a half-written result."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import OutputError


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` beside `path` under a temporary name, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise OutputError(describe_write_error(path, exc)) from None


def describe_write_error(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{path}: the disk is full; free some space and run the same command again (finished work is kept)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: no permission to write here; choose another folder with --out"
    return f"{path}: cannot be written ({exc.strerror or exc})"
