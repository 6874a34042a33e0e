"""The spec: model (what a platform is), loader (YAML with positions), policy (the rules' data)."""

from paycompile.spec.loader import load_spec, load_spec_text
from paycompile.spec.model import PlatformSpec

__all__ = ["PlatformSpec", "load_spec", "load_spec_text"]
