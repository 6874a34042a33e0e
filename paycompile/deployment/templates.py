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
