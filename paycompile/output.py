"""Atomic, all-or-nothing output: a failed command never leaves a half-written file.

Every artifact is scanned for literal secrets first (paycompile.scan): a template or plan that
would carry a password is refused before a single byte is written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from paycompile.errors import BackendError
from paycompile.scan import find_secrets


def write_output(destination: str, text: str) -> None:
    """Write `text` to `destination` ("-" is stdout), replacing any earlier file in one step."""
    refuse_secrets(destination, text)
    _write_checked(destination, text)


def _write_checked(destination: str, text: str) -> None:
    """Write text already scanned for secrets (scanning a nested set twice was a sixth of its
    build)."""
    if destination == "-":
        _write_in_slices(sys.stdout, text)
        sys.stdout.flush()
        return
    path = Path(destination)
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            _write_in_slices(stream, text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        temporary = None  # it is the output now
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BackendError(f"cannot write {destination}: {reason}") from None
    finally:
        # Whatever went wrong (even Ctrl-C), no half-written temp file is left behind.
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


WRITE_SLICE = 1 << 20  # characters


def _write_in_slices(stream: TextIO, text: str) -> None:
    """A text stream encodes what it is given whole: a 13 MB plan written at once would be
    copied into 13 MB of bytes at the process's peak; a slice at a time costs one slice."""
    for start in range(0, len(text), WRITE_SLICE):
        stream.write(text[start : start + WRITE_SLICE])


def refuse_secrets(destination: str, text: str) -> None:
    """Raise BackendError (exit 3) if `text` holds a literal secret; the message never shows it."""
    findings = find_secrets(text)
    if findings:
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        where = "stdout" if destination == "-" else destination
        raise BackendError(
            f"refusing to write {where}: the artifact contains what looks like a secret: "
            f"{findings[0]}{more}; keep secrets in Secrets Manager"
        )


def write_directory(directory: str, files: dict[str, str], stale: Callable[[str], bool]) -> None:
    """Write a set of files into `directory` (created if need be): every file is checked for
    secrets before any is written, each replaces its earlier version in one step, and files of
    an earlier set that this one no longer has (`stale` names them) are removed."""
    for name, text in files.items():
        refuse_secrets(str(Path(directory) / name), text)
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise BackendError(f"cannot write {directory}: it is a file, not a directory")
    for name, text in files.items():
        _write_checked(str(path / name), text)
    for earlier in sorted(path.iterdir()):
        if earlier.name not in files and stale(earlier.name):
            earlier.unlink(missing_ok=True)
