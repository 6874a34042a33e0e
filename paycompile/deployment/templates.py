"""A template about to be deployed: its bytes, and what CloudFormation must be told about it.

The capabilities, the parameters and what a delete keeps are read from the template itself,
so they hold for a template paycompile rendered and for one handed in already built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from paycompile.errors import BackendError

# CloudFormation's limits on a template's size: inline (TemplateBody), and from S3 (TemplateURL).
INLINE_LIMIT = 51_200
URL_LIMIT = 1_000_000

# The IAM resource types that need CAPABILITY_IAM, and the properties that give one a custom
# name (which needs CAPABILITY_NAMED_IAM instead).
IAM_TYPES = frozenset(
    {
        "AWS::IAM::AccessKey",
        "AWS::IAM::Group",
        "AWS::IAM::GroupPolicy",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::User",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::UserToGroupAddition",
    }
)
IAM_NAME_PROPERTIES = (
    "GroupName",
    "InstanceProfileName",
    "ManagedPolicyName",
    "RoleName",
    "UserName",
)
# Deletion policies under which a deleted stack leaves the resource (or a snapshot of it).
KEEPING_POLICIES = frozenset({"Retain", "RetainExceptOnCreate", "Snapshot"})


@dataclass(frozen=True)
class StackTemplate:
    body: str
    document: dict[str, Any]

    @classmethod
    def of(cls, template: str | Mapping[str, Any]) -> StackTemplate:
        """From template text (JSON or YAML) or an already parsed document."""
        if isinstance(template, str):
            return cls(template, parse_template(template))
        document = json.loads(json.dumps(template))
        return cls(json.dumps(document, indent=2) + "\n", document)

    @property
    def size(self) -> int:
        return len(self.body.encode("utf-8"))

    @property
    def fits_inline(self) -> bool:
        return self.size <= INLINE_LIMIT

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.document.get("Resources") or {}
        return resources

    @property
    def parameters(self) -> list[str]:
        return list(self.document.get("Parameters") or {})

    def nested_stacks(self) -> dict[str, str]:
        """Logical id -> TemplateURL of every nested stack the template declares."""
        return {
            logical_id: str((body.get("Properties") or {}).get("TemplateURL", ""))
            for logical_id, body in self.resources.items()
            if body.get("Type") == NESTED_STACK
        }

    def check_size(self) -> None:
        if self.size > URL_LIMIT:
            raise BackendError(
                f"the template is {self.size} bytes, over CloudFormation's limit of {URL_LIMIT} "
                "bytes even from S3; nothing was changed"
            )

    def capabilities(self) -> list[str]:
        """What CreateChangeSet must acknowledge: IAM (named or not) and macro expansion."""
        iam = [body for body in self.resources.values() if body.get("Type") in IAM_TYPES]
        named = any(
            name in (body.get("Properties") or {}) for body in iam for name in IAM_NAME_PROPERTIES
        )
        expands = "Transform" in self.document or _mentions(self.document, "Fn::Transform")
        found = []
        if named:
            found.append("CAPABILITY_NAMED_IAM")
        elif iam or expands:
            # A transform (the Secrets Manager rotation, SAM) expands into IAM roles of its own.
            found.append("CAPABILITY_IAM")
        if expands:
            found.append("CAPABILITY_AUTO_EXPAND")
        return found

    def parameter_values(
        self, given: Mapping[str, str], previous: Collection[str]
    ) -> list[dict[str, Any]]:
        """The change set's Parameters: those given, else the stack's previous value if any."""
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            raise BackendError(
                f"the template has no parameter {', '.join(unknown)}; it declares "
                f"{', '.join(self.parameters) or 'none'}"
            )
        values: list[dict[str, Any]] = [
            {"ParameterKey": key, "ParameterValue": given[key]} for key in sorted(given)
        ]
        values += [
            {"ParameterKey": key, "UsePreviousValue": True}
            for key in self.parameters
            if key not in given and key in previous
        ]
        return values

    def deletion_policy(self, logical_id: str) -> str:
        """What deleting the stack does to the resource: Delete, Retain or Snapshot."""
        body = self.resources.get(logical_id) or {}
        policy = body.get("DeletionPolicy")
        if isinstance(policy, str):
            return policy
        # CloudFormation's default is Delete, except for RDS clusters and stand-alone instances.
        kind = body.get("Type")
        standalone_instance = kind == "AWS::RDS::DBInstance" and "DBClusterIdentifier" not in (
            body.get("Properties") or {}
        )
        if kind == "AWS::RDS::DBCluster" or standalone_instance:
            return "Snapshot"
        return "Delete"


def parse_template(text: str) -> dict[str, Any]:
    """A JSON or YAML template (short-form intrinsics such as `!Ref` included) as a document."""
    from cfn_flip import load  # troposphere's own dependency; only deployments need it

    try:
        document, _ = load(text)
    except Exception as error:  # cfn_flip raises whatever its JSON or YAML parser raised
        raise BackendError(f"the template is neither JSON nor YAML: {error}") from None
    if not isinstance(document, Mapping):
        raise BackendError("the template is not a JSON or YAML mapping")
    # YAML may hold dates (an unquoted AWSTemplateFormatVersion); CloudFormation reads text.
    parsed: dict[str, Any] = json.loads(json.dumps(document, default=str))
    return parsed


def _mentions(value: Any, key: str) -> bool:
    if isinstance(value, Mapping):
        return key in value or any(_mentions(item, key) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, key) for item in value)
    return False


NESTED_STACK = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class TemplateSet:
    """A platform's templates as `build -o DIR` writes them: a root, and the child templates
    its nested stacks name by file (`TemplateURL: services-01.json`), which `deploy` uploads
    and replaces with their S3 URLs. One stack is a set with no children."""

    root: StackTemplate
    children: dict[str, StackTemplate]

    @classmethod
    def of(cls, files: Mapping[str, str | Mapping[str, Any]]) -> TemplateSet:
        """From file name -> template (text or document): one file, or `root.*` and children."""
        if len(files) == 1:
            return cls(StackTemplate.of(next(iter(files.values()))), {})
        roots = [name for name in files if name.rsplit(".", 1)[0] == "root"]
        if len(roots) != 1:
            raise BackendError(
                f"a set of {len(files)} templates needs one root (root.json or root.yaml); "
                f"found {', '.join(sorted(files))}"
            )
        root = StackTemplate.of(files[roots[0]])
        children = {
            name: StackTemplate.of(text) for name, text in files.items() if name != roots[0]
        }
        named = set(root.nested_stacks().values())
        if named != set(children):
            raise BackendError(
                f"the root's nested stacks name {', '.join(sorted(named)) or 'no file'}, "
                f"the set holds {', '.join(sorted(children))}"
            )
        return cls(root, children)

    @property
    def templates(self) -> list[StackTemplate]:
        return [self.root, *self.children.values()]

    @property
    def parameters(self) -> set[str]:
        """Every parameter of every template of the set."""
        return {name for template in self.templates for name in template.parameters}

    def check_size(self) -> None:
        for template in self.templates:
            template.check_size()

    def capabilities(self) -> list[str]:
        """What the root's change set must acknowledge for the whole set: a nested stack's
        IAM resources and transforms need the root to say so."""
        found = {name for template in self.templates for name in template.capabilities()}
        if "CAPABILITY_NAMED_IAM" in found:
            found.discard("CAPABILITY_IAM")
        order = ("CAPABILITY_NAMED_IAM", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")
        return [name for name in order if name in found]

    def packaged(self, urls: Mapping[str, str], inputs: Mapping[str, str]) -> StackTemplate:
        """The root with each nested stack's `TemplateURL` replaced by its uploaded child's URL,
        and each deploy-time input it passes as a value (not as its own parameter) set to
        `inputs`' value: so a deployment writes the live colours and images it read."""
        document = json.loads(json.dumps(self.root.document))
        for logical_id, file in self.root.nested_stacks().items():
            properties = document["Resources"][logical_id]["Properties"]
            properties["TemplateURL"] = urls[file]
            passed = properties.get("Parameters") or {}
            for name, value in passed.items():
                if name in inputs and not isinstance(value, Mapping):
                    passed[name] = inputs[name]
        return StackTemplate.of(document)
