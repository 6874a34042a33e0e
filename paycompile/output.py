"""Atomic, all-or-nothing output: a failed command never leaves a half-written file."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from paycompile.errors import BackendError


def write_output(destination: str, text: str) -> None:
    """Write `text` to `destination` ("-" is stdout), replacing any earlier file in one step."""
    if destination == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(destination)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise BackendError(f"cannot write {destination}: {exc.strerror or exc}") from None
