"""Backends turn the resource graph into one tool's artifact. Each is one module, loaded on demand.

A backend module defines `BACKEND`, an object with the `Backend` protocol. Registering a new
backend is one entry in `BACKENDS`; nothing else in paycompile changes.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from paycompile.compiler.graph import Graph
from paycompile.errors import BackendError

BACKENDS: dict[str, str] = {
    "cfn": "paycompile.backends.cfn",
    "pulumi": "paycompile.backends.pulumi",
}


class Backend(Protocol):
    name: str
    formats: tuple[str, ...]

    def render(self, graph: Graph, output_format: str) -> str:
        """The artifact for `graph` as text; the same graph always gives the same text."""
        ...


def get_backend(name: str) -> Backend:
    """Import the backend's module only now, so unused backends cost nothing."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    try:
        module = importlib.import_module(BACKENDS[name])
    except ModuleNotFoundError as missing:
        if missing.name and missing.name.startswith("paycompile"):
            raise
        raise BackendError(
            f"the {name} backend needs {missing.name}: pip install 'paycompile[{name}]'"
        ) from None
    backend: Backend = module.BACKEND
    return backend
