"""Values as both readers write them: a reference to a resource is `<Name>`, wherever it sits
(a CloudFormation `Ref`, `Fn::GetAtt` or `${Name}`, or a Pulumi input that holds the ID, ARN or
physical name the mocks answered for that resource), and the deploying account, the region, the
partition and the URL suffix are placeholders. Written from the CloudFormation intrinsic
function reference and the plan's documented shape (docs/pulumi.md); shares no code with
paycompile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from tests.checkers.model import token

# The account the Pulumi mocks answer with (docs/pulumi.md); the reference specs use it too.
DEPLOY_ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Partition": "{partition}",
    "AWS::Region": "{region}",
    "AWS::AccountId": "{account}",
    "AWS::URLSuffix": "{urlsuffix}",
    "AWS::StackName": "{stack}",
    "AWS::StackId": "{stack-id}",
}
PARTITION = re.compile(r"\barn:aws(?:-cn|-us-gov)?:")
SUBSTITUTION = re.compile(r"\$\{([^}!][^}]*)\}")
# What may follow an ARN inside a longer ARN-like string; a match must end there.
ARN_END = r"(?![A-Za-z0-9_.\-/])"


def generalise(text: str, region: str) -> str:
    """Account, region, partition and URL suffix as placeholders."""
    text = PARTITION.sub("arn:{partition}:", text)
    text = text.replace("amazonaws.com.cn", "{urlsuffix}").replace("amazonaws.com", "{urlsuffix}")
    if region:
        text = text.replace(region, "{region}")
    return text.replace(DEPLOY_ACCOUNT, "{account}")


def unique_index(
    pairs: Iterable[tuple[str, str]], rank: Iterable[int] | None = None
) -> dict[str, str]:
    """value -> resource. A value two resources claim goes to the one that claims it first in
    rank (lower first: its ARN before its ID before its name); claimed alike, it is dropped."""
    ranks = list(rank) if rank is not None else None
    best: dict[str, tuple[int, str]] = {}
    clashes: set[str] = set()
    for position, (value, name) in enumerate(pairs):
        level = ranks[position] if ranks is not None else 0
        known = best.get(value)
        if known is None or level < known[0]:
            best[value] = (level, name)
            clashes.discard(value)
        elif level == known[0] and known[1] != name:
            clashes.add(value)
    return {value: name for value, (_, name) in best.items() if value not in clashes}


class Normaliser:
    """Turns one artifact's values into normalised ones (see the module's doc)."""

    def __init__(
        self,
        region: str,
        names: dict[str, str],
        arns: dict[str, str] | None = None,
        general_arns: dict[str, str] | None = None,
    ):
        self.region = region
        self.names = names  # whole-string value (ID or physical name) -> resource
        self.arns = arns or {}  # ARN -> resource, matched inside longer strings too
        # ARNs known only in their general form (placeholders), matched after generalising.
        self.general_arns = general_arns or {}
        self._arn = _alternation(self.arns)
        self._general = _alternation(self.general_arns)

    def text(self, value: str) -> str:
        if value in self.names:
            return token(self.names[value])
        if "," in value:
            pieces = value.split(",")
            if all(piece in self.names for piece in pieces):
                return ",".join(token(self.names[piece]) for piece in pieces)
        if self._arn is not None:
            value = self._arn.sub(lambda match: token(self.arns[match.group(0)]), value)
        value = generalise(value, self.region)
        if self._general is not None:
            value = self._general.sub(lambda match: token(self.general_arns[match.group(0)]), value)
        return value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        return value


def _alternation(values: dict[str, str]) -> re.Pattern[str] | None:
    ordered = sorted(values, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) + ARN_END for v in ordered)) if ordered else None


class CfnNormaliser(Normaliser):
    """A template's values, with intrinsic functions read (parameters already resolved)."""

    def __init__(
        self,
        region: str,
        names: dict[str, str],
        resources: Iterable[str],
        general_arns: dict[str, str] | None = None,
    ):
        super().__init__(region, names, general_arns=general_arns)
        self.resources = set(resources)
        self.functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._getatt,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::GetAZs": lambda _: "{azs}",
        }

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            if function in self.functions:
                return self.functions[function](argument)
            if function.startswith("Fn::"):
                return "{" + function + "}"
        return super().__call__(value)

    def _name(self, logical: str) -> str:
        if logical in PSEUDO:
            return PSEUDO[logical]
        if logical in self.resources:
            return token(logical)
        return "{missing:" + logical + "}"

    def _ref(self, argument: Any) -> str:
        return self._name(str(argument))

    def _getatt(self, argument: Any) -> str:
        logical = argument[0] if isinstance(argument, list) else str(argument).split(".", 1)[0]
        return self._name(str(logical))

    def _join(self, argument: Any) -> str:
        delimiter, parts = argument
        return self.text(str(delimiter).join(_as_text(self(part)) for part in parts))

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: _as_text(self(item)) for key, item in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            return self._name(name.split(".", 1)[0])

        return self.text(SUBSTITUTION.sub(substitute, text))

    def _select(self, argument: Any) -> Any:
        index, source = argument
        if isinstance(source, dict) and "Fn::GetAZs" in source:
            return "{az" + str(index) + "}"
        chosen = self(source)
        if isinstance(chosen, list) and isinstance(index, int) and index < len(chosen):
            return chosen[index]
        return "{Fn::Select}"


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
