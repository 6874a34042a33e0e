"""moto as the local AWS: an in-process server on 127.0.0.1, with the few moto bugs the platform
trips over patched in this process only, and the Step Functions interpreter switched on.

In process (moto's `ThreadedMotoServer`, not a `moto_server` subprocess) because two of moto's
gaps can only be closed from inside it (docs/e2e.md lists them with the version they were found in):

* its CloudFormation model of `AWS::ElasticLoadBalancingV2::Listener` reads a forward default
  action's `TargetGroupArn` only and fails on a weighted `ForwardConfig` (its API, and its
  `ListenerRule` model, take `ForwardConfig`): the patch passes such an action through as the
  API would;
* its Step Functions interpreter has no name mapping from the SDK integration's service name
  `elasticloadbalancingv2` to boto3's `elbv2`;
* its interpreter passes an aws-sdk task's parameters to boto3 as written (`Cluster`), where
  Step Functions renames them to the API's members (`cluster`) from the service model: the
  patch does that renaming with botocore's model, as Step Functions documents it;
* its CloudWatch `DescribeAlarms` applies only one of `AlarmNames` and `StateValue`; CloudWatch
  applies both.

The interpreter sends its SDK calls to `localhost:$MOTO_PORT`, so the server's port is exported
as MOTO_PORT. State is process-wide in moto, so `start` resets it first.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.ecs.models import TaskDefinition
from moto.elbv2.models import ELBv2Backend
from moto.server import ThreadedMotoServer
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (  # noqa: E501
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.responses import get_backend as stepfunctions_backend
from moto.stepfunctions.utils import cfn_to_api_tags

REGION = "us-east-1"
STACK_CREATE_SECONDS = 60
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

_original_listener_actions = ELBv2Backend.convert_and_validate_properties


def _listener_actions(self: ELBv2Backend, properties: dict[str, Any]) -> list[dict[str, Any]]:
    """A weighted forward passes through whole; everything else as moto does it."""
    weighted = [a for a in properties["DefaultActions"] if "ForwardConfig" in a]
    if not weighted:
        return _original_listener_actions(self, properties)
    return [dict(action) for action in properties["DefaultActions"]]


def _sdk_request(
    self: StateTaskService,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    """The aws-sdk integration's parameters (the API's member names, first letter capitalised:
    `Cluster`, `DesiredCount`) renamed to the members of the operation's input shape, as
    Step Functions does before it calls the API."""
    service = self._get_boto_service_name(boto_service_name)
    action = self._get_boto_service_action(service_action_name)
    model = botocore.session.get_session().get_service_model(service)
    name = next(op for op in model.operation_names if xform_name(op) == action)
    shape = model.operation_model(name).input_shape
    if shape is not None:
        self._to_boto_request(parameters, shape)


_original_describe_alarms = CloudWatchResponse.describe_alarms


def _describe_alarms(self: CloudWatchResponse) -> Any:
    """AlarmNames and StateValue together: the named alarms in that state, as CloudWatch does
    (moto applies only the first filter it finds)."""
    names, state = self._get_param("AlarmNames", []), self._get_param("StateValue")
    if not (names and state):
        return _original_describe_alarms(self)
    alarms = [a for a in self.cloudwatch_backend.get_alarms_by_alarm_names(names)]
    found = [a for a in alarms if a.state_value == state and a.rule is None]
    return ActionResult({"MetricAlarms": found, "CompositeAlarms": []})


def _machine_from_template(
    cls: type[StateMachine],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> StateMachine:
    """A machine a stack creates, in the backend the API serves: with execution on, moto's API
    serves (and runs) the interpreter's machines, while its CloudFormation would create them in
    the plain backend, where nothing runs."""
    properties = cloudformation_json["Properties"]
    backend = stepfunctions_backend(account_id, region_name)
    machine: StateMachine = backend.create_state_machine(
        properties.get("StateMachineName", resource_name),
        properties.get("DefinitionString", ""),
        properties.get("RoleArn", ""),
        tags=cfn_to_api_tags(properties.get("Tags", [])),
    )
    return machine


def _delete_machine(
    cls: type[StateMachine],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> None:
    stepfunctions_backend(account_id, region_name).delete_state_machine(resource_name)


_original_task_definition_update = TaskDefinition.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _task_definition_update(
    cls: type[TaskDefinition],
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> TaskDefinition:
    """A task definition a stack update changes keeps the API's member names (`image`), as
    one the stack creates does (moto registers the template's `Image` keys as they are)."""
    properties = dict(cloudformation_json["Properties"])
    for key in ("ContainerDefinitions", "Volumes"):
        properties[key] = remap_nested_keys(properties.get(key, []), pascal_to_camelcase)
    updated: TaskDefinition = _original_task_definition_update(
        cls,
        original_resource,
        new_resource_name,
        {**cloudformation_json, "Properties": properties},
        account_id,
        region_name,
    )
    return updated


def _patch_moto() -> None:
    patches: list[tuple[type, str, Any]] = [
        (TaskDefinition, "update_from_cloudformation_json", _task_definition_update),
        (StateMachine, "create_from_cloudformation_json", _machine_from_template),
        (StateMachine, "delete_from_cloudformation_json", _delete_machine),
    ]
    for model, name, replacement in patches:
        setattr(model, name, classmethod(replacement))
    ELBv2Backend.convert_and_validate_properties = _listener_actions  # type: ignore[method-assign]
    overrides = StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES
    overrides["elasticloadbalancingv2"] = "elbv2"
    StateTaskServiceAwsSdk._normalise_parameters = _sdk_request  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarms = _describe_alarms  # type: ignore[method-assign]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _post(url: str, body: dict[str, Any] | None = None) -> None:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@dataclass(frozen=True)
class Moto:
    url: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, **CREDENTIALS)

    def run_state_machines(self) -> None:
        """From now on Step Functions executes state machines, those stacks create included
        (a stack created before this call keeps machines that never run)."""
        _post(f"{self.url}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})


@contextmanager
def moto() -> Iterator[Moto]:
    """A fresh moto on 127.0.0.1, stopped on exit."""
    _patch_moto()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    previous = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)
    url = f"http://127.0.0.1:{port}"
    try:
        _post(f"{url}/moto-api/reset")
        _post(f"{url}/moto-api/config", {"stepfunctions": {"execute_state_machine": False}})
        yield Moto(url)
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = previous


def _self_signed_certificate() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pay.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), private


def import_certificate(client: Callable[[str], Any]) -> str:
    """A certificate moto's ACM knows: a spec's certificate ARN does not exist there."""
    certificate, key = _self_signed_certificate()
    response = client("acm").import_certificate(Certificate=certificate, PrivateKey=key)
    return str(response["CertificateArn"])


def stack_events(cloudformation: Any, stack: str) -> str:
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    return "\n".join(
        f"{e['LogicalResourceId']} {e['ResourceType']} {e['ResourceStatus']} "
        f"{e.get('ResourceStatusReason', '')}"
        for e in events
    )


def wait_for_stack(cloudformation: Any, stack: str, seconds: float) -> str:
    """The stack's status once no longer in progress (moto can hang in progress: bounded)."""
    deadline = time.monotonic() + seconds
    status = "UNKNOWN"
    while time.monotonic() < deadline:
        status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            return str(status)
        time.sleep(0.5)
    return f"{status} after {seconds}s"


def deploy_stack(client: Callable[[str], Any], stack: str, template: dict[str, Any]) -> None:
    """Create the stack and wait for CREATE_COMPLETE; fail the test with its events otherwise."""
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    status = wait_for_stack(cloudformation, stack, STACK_CREATE_SECONDS)
    if status != "CREATE_COMPLETE":
        pytest.fail(f"stack ended {status}; events:\n{stack_events(cloudformation, stack)}")
