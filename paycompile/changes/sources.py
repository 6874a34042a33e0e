"""The two sides of a diff: a spec file, `git-rev:path`, or an already built template.

A side is read once, as text, and recognised by its content: a CloudFormation template has a
`Resources` mapping (JSON or YAML, short-form tags such as `!Ref` included), an offline Pulumi
plan has a `resources` list, anything else is read as a spec (and validated as one).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from paycompile.changes.template import normalised

Form = Literal["spec", "template", "plan"]
# Templates may be larger than specs (CloudFormation takes up to 1 MB through S3).
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
# A revision never starts with "-": git would read it as an option (`--output=...`).
_GIT_SIDE = re.compile(r"^(?P<rev>[^:\s-][^:\s]*):(?P<path>.+)$")
_YAML_TEMPLATE = re.compile(r"^(Resources|AWSTemplateFormatVersion)\s*:", re.MULTILINE)


class SourceError(ValueError):
    """A side cannot be read: a missing file, an unknown revision, a malformed template."""


@dataclass(frozen=True)
class Side:
    label: str  # as given on the command line
    text: str
    form: Form


def read_side(argument: str, cwd: Path | None = None) -> Side:
    """Read one side: a file if one exists at `argument`, else `git show REV:PATH`."""
    path = Path(cwd or ".") / argument
    if path.is_file():
        text = _read_file(path, argument)
    elif path.is_dir():
        raise SourceError(f"{argument} is a directory, not a spec or template file")
    else:
        match = _GIT_SIDE.match(argument)
        if match is None:
            raise SourceError(f"no such file: {argument} (or give git-rev:path)")
        text = _git_show(match["rev"], match["path"], cwd)
    return Side(argument, text, _form(text))


def _read_file(path: Path, label: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {label}: {exc.strerror}") from None
    return _decoded(data, label)


def _git_show(revision: str, path: str, cwd: Path | None) -> str:
    try:
        done = subprocess.run(
            ["git", "show", f"{revision}:{path}"],
            cwd=cwd,
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"cannot run git to read {revision}:{path}: {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else f"git exited with {done.returncode}"
        raise SourceError(f"cannot read {revision}:{path} from git: {reason}")
    return _decoded(done.stdout, f"{revision}:{path}")


def _decoded(data: bytes, label: str) -> str:
    if len(data) > MAX_TEMPLATE_BYTES:
        raise SourceError(f"{label} is larger than {MAX_TEMPLATE_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{label} is not UTF-8 text") from None


def _form(text: str) -> Form:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            return "spec"  # let the spec loader say what is wrong, with a position
        if isinstance(document, dict) and isinstance(document.get("resources"), list):
            return "plan"
        if isinstance(document, dict) and "Resources" in document:
            return "template"
        return "spec"
    return "template" if _YAML_TEMPLATE.search(text) else "spec"


def parse_template(side: Side) -> dict[str, Any]:
    """A template side as data, YAML short forms turned into their long form."""
    if side.text.lstrip().startswith("{"):
        document: Any = json.loads(side.text)
    else:
        document = _parse_yaml_template(side)
    resources = document.get("Resources") if isinstance(document, dict) else None
    if not isinstance(resources, dict):
        raise SourceError(f"{side.label}: not a CloudFormation template (no Resources mapping)")
    return normalised(document)


def _parse_yaml_template(side: Side) -> Any:
    import yaml
    from cfn_flip import load_yaml

    try:
        # Aliases could expand a small file into a huge one; CloudFormation templates need none.
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(side.text)):
            raise SourceError(f"{side.label}: YAML aliases are not supported in templates")
        return json.loads(json.dumps(load_yaml(side.text)))
    except yaml.YAMLError as exc:
        raise SourceError(f"{side.label}: not a readable YAML template: {exc}") from None


def parse_plan(side: Side) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(side.text)
    return document
