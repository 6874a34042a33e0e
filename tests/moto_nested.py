"""moto's gaps around nested stacks, patched in this process only (docs/e2e.md lists them).

Found with moto 5.2.5; each patch does what CloudFormation's documentation says it does:

* `Fn::GetAtt [Child, Outputs.Name]` (how a root reads a nested stack's output) fails: moto's
  `Stack` model has no attribute lookup. The patch answers it from the child's outputs.
* Its `Fn::Sub` splits `${Child.Outputs.Name}` at every dot and asks for the attribute
  `Outputs`; CloudFormation reads the attribute `Outputs.Name`. The patch joins it again.
* A nested stack whose `TemplateURL` or `Parameters` change is deleted and created again (a new
  stack, new resources); CloudFormation updates it in place. The patch updates it in place
  with the template read from S3 and the resolved parameters.
* `IncludeNestedStacks` is ignored: the root's change set shows an `AWS::CloudFormation::Stack`
  row and nothing about what changes inside. The patch makes a change set for each added or
  modified nested stack (moto's own diff of the child's template against the child stack, or
  every resource an add for a new child) and names it in the row's `ChangeSetId`, as
  CloudFormation does. Like moto's other change sets, its rows say nothing on replacement.

* A stack created or updated through a change set shows no outputs (moto rebuilds its output
  map on CreateStack and UpdateStack only): the patch rebuilds it once a change set is executed,
  so a root's outputs, read from its children, can be seen.
* `Fn::GetAtt` of a target group's `TargetGroupFullName` fails (moto's target group has no
  attribute lookup at all), and a load balancer's `LoadBalancerFullName` is left unresolved. In
  one stack only the stand-in alarms and the dashboard read them; a root passes them to its
  children as parameters, so they must resolve. The patch answers both from the ARN, as AWS
  defines them (`targetgroup/<name>/<id>`, `app/<name>/<id>`).

The patches hold while `nested_stacks_patched()` is entered, and are undone after, so the other
moto tests of the same worker see moto as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import (
    ChangeSet,
    CloudFormationBackend,
    Stack,
    cloudformation_backends,
)
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudformation.utils import (
    generate_changeset_id,
    generate_stack_id,
    get_stack_from_s3_url,
)
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup
from moto.utilities.utils import get_partition

NESTED = "AWS::CloudFormation::Stack"


def _stack_output(self: Stack, attribute: str) -> Any:
    """`Outputs.Name` of a nested stack: the value of its output `Name`."""
    name = attribute.removeprefix("Outputs.")
    for output in self.output_map.values():
        if output.key == name:
            return output.value
    raise KeyError(f"stack {self.name} has no output {name}")


_original_clean_json = parsing.clean_json


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    """`{"Fn::GetAtt": [Child, "Outputs", Name]}`, as moto's `Fn::Sub` splits it, read as
    `[Child, "Outputs.Name"]`."""
    if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
        argument = resource_json["Fn::GetAtt"]
        if isinstance(argument, list) and len(argument) == 3 and argument[1] == "Outputs":
            resource_json = {"Fn::GetAtt": [argument[0], f"Outputs.{argument[2]}"]}
    return _original_clean_json(resource_json, resources_map)


def _update_in_place(
    cls: type[Stack],
    original_resource: Stack,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Stack:
    """The nested stack updated with its new template and parameters, as CloudFormation does."""
    properties = cloudformation_json["Properties"]
    template = get_stack_from_s3_url(
        properties["TemplateURL"], account_id=account_id, partition=get_partition(region_name)
    )
    original_resource.update(template, parameters=properties.get("Parameters", {}))
    return original_resource


_original_create_change_set = CloudFormationResponse.create_change_set


def _create_change_set(self: CloudFormationResponse) -> Any:
    """With IncludeNestedStacks, a change set for each added or modified nested stack, named
    in the root's row by `ChangeSetId`."""
    answer = _original_create_change_set(self)
    if self._get_bool_param("IncludeNestedStacks", False):
        backend = self.cloudformation_backend
        root = list(backend.change_sets.values())[-1]  # the one just made (tests run serially)
        _nest(backend, root)
    return answer


def _nest(backend: CloudFormationBackend, root: ChangeSet) -> None:
    for change in root.changes:
        if change.resource_type != NESTED or change.action not in ("Add", "Modify"):
            continue
        logical_id = change.logical_resource_id
        properties = root.template_dict["Resources"][logical_id]["Properties"]
        template = get_stack_from_s3_url(
            properties["TemplateURL"],
            account_id=backend.account_id,
            partition=get_partition(backend.region_name),
        )
        child = _child_stack(backend, root.stack, logical_id, change.action)
        nested = ChangeSet(
            change_set_type="UPDATE" if change.action == "Modify" else "CREATE",
            change_set_id=generate_changeset_id(
                root.change_set_name, backend.region_name, backend.account_id
            ),
            change_set_name=f"{root.change_set_name}-{logical_id}",
            stack=child,
            template=template,
            parameters={},
            description=root.description,
        )
        nested.status, nested.execution_status = "CREATE_COMPLETE", "AVAILABLE"
        backend.change_sets[nested.change_set_id] = nested
        change.change_set_id = nested.change_set_id
        _nest(backend, nested)


def _child_stack(
    backend: CloudFormationBackend, parent: Stack, logical_id: str, action: str
) -> Stack:
    """The nested stack as it is (a modification), or an empty one to compare with (an add)."""
    if action == "Modify":
        existing = parent.resource_map._parsed_resources.get(logical_id)
        if isinstance(existing, Stack):
            return existing
    name = f"{parent.name}-{logical_id}"
    return Stack(
        stack_id=generate_stack_id(name, backend.region_name, backend.account_id),
        name=name,
        template={},  # type: ignore[arg-type]
        parameters={},
        account_id=backend.account_id,
        region_name=backend.region_name,
    )


_original_execute = CloudFormationBackend.execute_change_set


def _execute_change_set(
    self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    _original_execute(self, change_set_name, stack_name)
    change_set = self.describe_change_set(change_set_name)
    assert change_set is not None
    stack = self.stacks[change_set.stack_id]
    stack._parse_template()  # moto set the new template's text only
    stack.output_map = stack._create_output_map()


def _target_group_attribute(self: FakeTargetGroup, attribute: str) -> Any:
    if attribute == "TargetGroupFullName":
        return self.arn.split(":")[-1]
    if attribute == "TargetGroupName":
        return self.name
    raise NotImplementedError(f'"Fn::GetAtt" : [ "{{0}}" , "{attribute}" ]"')


_original_balancer_attribute = FakeLoadBalancer.get_cfn_attribute


def _balancer_attribute(self: FakeLoadBalancer, attribute: str) -> Any:
    if attribute == "LoadBalancerFullName":
        return self.arn.split(":loadbalancer/")[-1]
    return _original_balancer_attribute(self, attribute)


@contextmanager
def nested_stacks_patched() -> Iterator[None]:
    """moto with the patches above, restored on exit."""
    patches: list[tuple[Any, str, Any]] = [
        (parsing, "clean_json", _clean_json),
        (Stack, "get_cfn_attribute", _stack_output),
        (Stack, "update_from_cloudformation_json", classmethod(_update_in_place)),
        (CloudFormationResponse, "create_change_set", _create_change_set),
        (CloudFormationBackend, "execute_change_set", _execute_change_set),
        (FakeTargetGroup, "get_cfn_attribute", _target_group_attribute),
        (FakeLoadBalancer, "get_cfn_attribute", _balancer_attribute),
    ]
    saved = [(owner, name, vars(owner).get(name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in saved:
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def child_stacks(account_id: str, region: str) -> list[Stack]:
    """Every stack moto holds in that account and region, nested ones included."""
    return list(cloudformation_backends[account_id][region].stacks.values())
