"""Files: atomic writes, so a crash or a full disk never leaves a half-written result."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError, OutputBusy, OutputError


@lru_cache(maxsize=1)
def source_digest() -> bytes:
    """A hash of briefing's own source: what it made is made again by a changed briefing. Read once
    a process: a run's fingerprint and each publish use it."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.digest()


LOCK_FILE = ".briefing.lock"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp and mkdtemp make private files (0600) and folders (0700); what briefing writes is meant to
# be served, so it gets the modes the user's umask gives any new file (typically 0644 and 0755).
# Read once: changing the umask to read it is not safe while other threads create files.
UMASK = _umask()
FILE_MODE = 0o666 & ~UMASK
FOLDER_MODE = 0o777 & ~UMASK


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` beside `path` under a temporary name, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise OutputError(describe_write_error(path, exc)) from None


def make_staging_folder(parent: Path, name: str) -> Path:
    """A hidden folder in `parent` to build `name` in, with the modes of an ordinary folder."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{name}-{os.getpid()}-", dir=parent))
        folder.chmod(FOLDER_MODE)
    except OSError as exc:
        raise OutputError(describe_write_error(parent, exc)) from None
    return folder


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove the hidden build folders that killed runs left in `parent`. Call it holding the
    folder's lock: no other run is building there, so every one of them is stale."""
    removed = []
    for path in parent.glob(".*"):
        if path.is_dir() and not path.is_symlink() and path.name[1:5].isdigit():  # .2026-11-26-<pid>-…
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        elif path.is_file() and path.name.endswith(".part"):  # a write_atomically that never finished
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold `folder`'s lock for one run. A second run is told who holds it; a lock left by a killed
    run is free again (the kernel releases it with the process), so the next run simply takes it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_FILE, "a+")  # noqa: SIM115  (held for the whole run)
    except OSError as exc:
        raise OutputError(describe_write_error(folder, exc)) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise OutputBusy(
                f"{folder}: another briefing run (pid {holder}) is writing this output folder; "
                "wait for it to finish or stop it, then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def describe_write_error(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{path}: the disk is full; free some space and run the same command again (finished work is kept)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: no permission to write here; choose another folder with --out"
    return f"{path}: cannot be written ({exc.strerror or exc})"


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; an unreadable or invalid one is a ConfigError naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: {what} is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
