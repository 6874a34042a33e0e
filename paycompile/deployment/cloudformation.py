"""`plan`, `deploy` and `destroy` one platform's CloudFormation stack through boto3 change sets.

Each command first shows what it would do, as CloudFormation itself computes it: `plan` and
`deploy` create a change set (CREATE for a new stack, UPDATE otherwise) and print its rows,
classified by `paycompile.changes`; `destroy` lists every resource of the stack with what its
DeletionPolicy keeps. `plan` then deletes the change set. `deploy` and `destroy` go on only once
`paycompile.deployment.approval` says so, and otherwise delete the change set (and the empty stack
record a CREATE change set makes) so that a refusal changes nothing.

These are the library's entry points (`paycompile.plan`, `paycompile.deploy`,
`paycompile.destroy`). Importing this module is cheap: boto3 and rich load only when a command
runs, so `import paycompile` stays light.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

from paycompile.compiler.graph import Graph
from paycompile.deployment.approval import Guard, authorise
from paycompile.deployment.result import PlannedChange, StackAction, StackResult
from paycompile.deployment.templates import NESTED_STACK, StackTemplate, TemplateSet
from paycompile.errors import BackendError
from paycompile.output import refuse_secrets

if TYPE_CHECKING:
    from paycompile.deployment import changesets
    from paycompile.deployment.changesets import ChangeSet, ChangeSetType
    from paycompile.deployment.cutover import CutoverResult
    from paycompile.deployment.events import EventReader, SetReader, StackEvent
    from paycompile.deployment.progress import Progress
    from paycompile.deployment.release import ServiceRelease
    from paycompile.spec.model import PlatformSpec

OnOutput = Callable[[str], None]
Template = str | Mapping[str, Any]
STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")
# How often a running operation's status and events are read (CloudFormation's console: 5 s).
POLL_SECONDS = 5.0
DEPLOYED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})


def open_session(profile: str | None, region: str) -> Any:
    """A boto3 session in `region`, with the named AWS profile if one is given."""
    return _aws().open_session(profile, region)


def configured_region(profile: str | None) -> str | None:
    """The region the AWS settings name, which the spec's region overrides."""
    region: str | None = _aws().configured_region(profile)
    return region


def stack_name(graph: Graph, stack: str | None = None) -> str:
    """`stack`, or `<name>-<environment>`; ValueError if CloudFormation would refuse it."""
    name = stack or f"{graph.platform}-{graph.environment}"
    if not STACK_NAME.fullmatch(name):
        raise ValueError(
            f"invalid stack name {name!r}: a letter, then letters, digits and hyphens "
            "(128 characters at most)"
        )
    return name


def plan(
    platform: PlatformSpec | Graph,
    *,
    template: Template | TemplateSet | None = None,
    parameters: Mapping[str, str] | None = None,
    stack: str | None = None,
    template_bucket: str | None = None,
    images: Mapping[str, str] | None = None,
    session: Any = None,
    on_output: OnOutput = print,
) -> StackResult:
    """Show what `deploy` would change: create a change set, print it, delete it.

    `template` replaces the one rendered from the graph (text or a parsed document, or a
    `TemplateSet`: a root and its children as `build -o DIR` writes them);
    `parameters` are template parameter values (on an update, parameters not given keep their
    previous value; the release inputs are read from the running platform, see
    `paycompile.deployment.release`); `images` maps services to the image to release to their idle
    colour (default: the spec's); `session` is a boto3 session (default: one in the spec's
    region). Nothing is executed; a template over 51,200 bytes is still staged in S3, because
    CloudFormation only reads large templates from there.
    """
    run = _Run(platform, stack, session, on_output)
    with run.errors("planning"):
        proposal = run.propose(
            template_of(run.graph, template), parameters or {}, template_bucket, images or {}
        )
        if proposal.change_set is not None:
            run.discard(proposal.change_set)
        return run.result("plan", proposal)


def deploy(
    platform: PlatformSpec | Graph,
    *,
    template: Template | TemplateSet | None = None,
    parameters: Mapping[str, str] | None = None,
    stack: str | None = None,
    template_bucket: str | None = None,
    images: Mapping[str, str] | None = None,
    cutover: bool = False,
    guard: Guard | None = None,
    session: Any = None,
    on_output: OnOutput = print,
    progress: Progress | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> StackResult:
    """Create or update the stack: change set, table, approval, execution, events, outputs.

    Arguments as for `plan`, and: `cutover` then runs the cutover of every service whose idle
    colour runs the release, one after the other, following each execution; `guard` says what
    is approved in advance and how to ask (default: nothing approved, nobody to ask, so any
    change is refused); `progress` shows the stack's events while it runs. Raises ChangeRefused
    (exit 4) when not approved, having changed nothing, and BackendError (exit 3) with the
    first failing event's reason when CloudFormation fails, or with the machine's reason when a
    cutover fails. A `retained` platform's stack gets termination protection.
    """
    run = _Run(platform, stack, session, on_output)
    with run.errors("deploying"):
        proposal = run.propose(
            template_of(run.graph, template), parameters or {}, template_bucket, images or {}
        )
        if proposal.change_set is not None:
            run.apply(proposal, guard or Guard(), progress, poll_seconds)
        run.protect()
        result = run.result("deploy", proposal, executed=proposal.change_set is not None)
        on_output(outputs_text(result))
    if cutover:
        with run.errors("cutting over"):
            cutovers = run.cut_over(proposal.releases, poll_seconds)
        result = replace(result, cutovers=cutovers)
    return result


def destroy(
    platform: PlatformSpec | Graph,
    *,
    stack: str | None = None,
    guard: Guard | None = None,
    session: Any = None,
    on_output: OnOutput = print,
    progress: Progress | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> StackResult:
    """Delete the stack once approved, naming first what its deletion policies keep.

    Data loss needs `guard.allow_data_loss`; termination protection is turned off only after
    approval. A stack that does not exist is nothing to do.
    """
    run = _Run(platform, stack, session, on_output)
    with run.errors("destroying"):
        return run.destroy(guard or Guard(), progress, poll_seconds)


def outputs_text(result: StackResult) -> str:
    if not result.outputs:
        return f"stack {result.stack_name} has no outputs"
    lines = [f"  {key} = {value}" for key, value in sorted(result.outputs.items())]
    return "\n".join([f"outputs of stack {result.stack_name}:", *lines])


def template_of(graph: Graph, template: Template | TemplateSet | None) -> TemplateSet:
    """The template (or set) handed in, or the graph's; the graph's is refused if it holds a
    secret.

    paycompile vouches for what it renders, as `build` does before writing a file; a template
    handed in is the caller's, sent as it is. A platform past one stack renders as a root and
    its children (`build -o DIR`), which `deploy` uploads (docs/deploy.md).
    """
    if isinstance(template, TemplateSet):
        return template
    if template is not None:
        return TemplateSet(StackTemplate.of(template), {})
    from paycompile.backends.cfn.template import BACKEND
    from paycompile.compiler.rules import violations
    from paycompile.errors import RuleViolation

    failures = violations(graph)  # a graph changed after compile_spec is checked again
    if failures:
        raise RuleViolation(failures)
    files = BACKEND.render_set(graph, "json")
    for name, text in files.items():
        which = "the template" if len(files) == 1 else f"the template {name}"
        refuse_secrets(f"{which} of {graph.platform} ({graph.environment})", text)
    return TemplateSet.of(files)


def _aws() -> ModuleType:
    """paycompile's boto3 module, or the install hint when boto3 is missing (exit 3)."""
    try:
        from paycompile.deployment import aws
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] not in ("boto3", "botocore"):
            raise
        raise BackendError(
            f"the CloudFormation commands need {missing.name}: pip install 'paycompile[aws]'"
        ) from None
    return aws


def _graph(platform: PlatformSpec | Graph) -> Graph:
    if isinstance(platform, Graph):
        return platform
    from paycompile import compile_spec

    return compile_spec(platform)


@dataclass(frozen=True)
class _Proposal:
    """A change set ready to execute (or None: nothing to change) and what it would do."""

    change_set: ChangeSet | None
    planned: list[PlannedChange]
    template_url: str | None
    releases: tuple[ServiceRelease, ...] = field(default=())


class _Run:
    """One command against one stack: the clients, the account, and the stack as it is."""

    def __init__(
        self, platform: PlatformSpec | Graph, stack: str | None, session: Any, say: OnOutput
    ) -> None:
        aws = _aws()
        self.graph = _graph(platform)
        self.name = stack_name(self.graph, stack)
        self.say = say
        self.session = session or aws.open_session(None, self.graph.region)
        with aws.aws_errors("connecting to AWS"):
            self.cfn = aws.client(self.session, "cloudformation")
        self.account = aws.account_of(self.session)
        self.stack_id: str | None = None
        # The stack holds nested stacks: their change sets, events, resources and parameters
        # are read with the root's.
        self.nested = False
        say(f"stack {self.name} in account {self.account}, region {self.graph.region}")

    def errors(self, doing: str) -> Any:
        from paycompile.deployment.aws import aws_errors

        return aws_errors(f"{doing} stack {self.name}")

    def live(self) -> dict[str, Any] | None:
        """The stack as DescribeStacks shows it, or None if there is none."""
        from botocore.exceptions import ClientError

        try:
            described = self.cfn.describe_stacks(StackName=self.stack_id or self.name)
        except ClientError as error:
            if "does not exist" in str(error):
                return None
            raise
        stack: dict[str, Any] = described["Stacks"][0]
        if stack["StackStatus"] == "DELETE_COMPLETE":
            return None
        self.stack_id = stack["StackId"]
        return stack

    def propose(
        self,
        templates: TemplateSet,
        parameters: Mapping[str, str],
        bucket: str | None,
        images: Mapping[str, str],
    ) -> _Proposal:
        """Create the change set and show it; a CREATE one for a stack that does not exist."""
        from paycompile.deployment import changesets

        templates.check_size()
        self.nested = bool(templates.children)
        live = self.live()
        change_type = _change_type(self.name, live)
        releases, inputs = self.releases(
            templates, live if change_type == "UPDATE" else None, images
        )
        request, url = self._request(templates, inputs, parameters, live, bucket)
        change_set = changesets.create(
            self.cfn, self.name, change_type, request, made_stack=live is None
        )
        if change_set is None:
            self.say("no changes")
            return _Proposal(None, [], url, releases)
        self.stack_id = change_set.stack_id
        return _Proposal(change_set, self._classified(change_set), url, releases)

    def releases(
        self, templates: TemplateSet, live: Mapping[str, Any] | None, images: Mapping[str, str]
    ) -> tuple[tuple[ServiceRelease, ...], dict[str, str]]:
        """Each service's colours and images after the deployment, and the inputs for them.

        A deployed stack's live colours are read from its load balancer, and the images each
        colour runs from its parameters (a nested stack's from its own), so the update keeps
        both (`paycompile.deployment.release`).
        """
        from paycompile.deployment.live import live_colors
        from paycompile.deployment.release import as_inputs, check_images, plan_releases

        check_images(self.graph, images)
        declared = templates.parameters
        if not any(each.live_color in declared for each in self.graph.releases.values()):
            if images:
                raise BackendError("the template has no release parameters: --image needs them")
            return (), {}
        colors, previous = None, {}
        if live is not None:
            elbv2 = _aws().client(self.session, "elbv2")
            colors = live_colors(self.graph, self.physical_ids(), elbv2)
            previous = self.previous_parameters(live)
        releases = tuple(plan_releases(self.graph, colors, previous, images))
        for each in releases:
            self.say(each.describe())
        inputs = as_inputs(self.graph, list(releases))
        return releases, {key: value for key, value in inputs.items() if key in declared}

    def cut_over(
        self, releases: tuple[ServiceRelease, ...], poll: float
    ) -> tuple[CutoverResult, ...]:
        """Run the cutover of each service whose idle colour runs the release, in turn."""
        from paycompile.deployment.cutover import cut_over

        due = [each for each in releases if each.released]
        if not due:
            self.say("nothing to cut over: no idle colour runs a release the live one does not")
            return ()
        physical = self.physical_ids()
        sfn = _aws().client(self.session, "stepfunctions")
        return tuple(
            cut_over(
                sfn,
                each.service,
                physical[self.graph.releases[each.service].cutover],
                self.say,
                poll,
            )
            for each in due
        )

    def physical_ids(self) -> dict[str, str]:
        """Logical id -> physical id of every resource of the stack and its nested stacks
        (one graph's logical ids, unique across the set)."""
        stacks = [self.stack_id, *self.children().values()]
        return {
            str(r["LogicalResourceId"]): str(r.get("PhysicalResourceId", ""))
            for stack_id in stacks
            for r in self.resources(stack_id)
        }

    def children(self) -> dict[str, str]:
        """Logical id -> stack id of each nested stack (none when the set has no children)."""
        from paycompile.deployment.events import nested_stacks

        if not self.nested or self.stack_id is None:
            return {}
        return nested_stacks(self.cfn, self.stack_id)

    def previous_parameters(self, live: Mapping[str, Any]) -> dict[str, str]:
        """The parameter values of the last deployment: the root's, and each child's."""
        described = [live]
        for child in self.children().values():
            with _aws().aws_errors(f"reading the nested stack {child}"):
                described += self.cfn.describe_stacks(StackName=child)["Stacks"]
        return {
            str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
            for stack in described
            for p in stack.get("Parameters") or []
        }

    def children_outputs(self) -> dict[str, str]:
        """The platform's outputs a nested stack declares (those it exports; the others only
        carry values between the stacks of the set)."""
        found: dict[str, str] = {}
        for child in self.children().values():
            with _aws().aws_errors(f"reading the nested stack {child}"):
                (stack,) = self.cfn.describe_stacks(StackName=child)["Stacks"]
            for output in stack.get("Outputs") or []:
                if output.get("ExportName"):
                    found[str(output["OutputKey"])] = str(output.get("OutputValue", ""))
        return found

    def resources(self, stack_id: str | None = None) -> list[dict[str, Any]]:
        pages = self.cfn.get_paginator("list_stack_resources").paginate(
            StackName=stack_id or self.stack_id
        )
        return [r for page in pages for r in page.get("StackResourceSummaries", [])]

    def _request(
        self,
        templates: TemplateSet,
        inputs: Mapping[str, str],
        parameters: Mapping[str, str],
        live: Mapping[str, Any] | None,
        bucket: str | None,
    ) -> tuple[changesets.Request, str | None]:
        """What CreateChangeSet is sent, and the root template's S3 URL if it was staged there.

        The children are uploaded first; the root then names their URLs and carries the inputs
        it passes to them as values.
        """
        from paycompile.deployment.changesets import Request

        previous = [p["ParameterKey"] for p in (live or {}).get("Parameters", [])]
        given = {key: value for key, value in inputs.items() if key in templates.root.parameters}
        # checked before any upload
        values = templates.root.parameter_values({**given, **parameters}, previous)
        root = templates.root
        if templates.children:
            root = templates.packaged(self._stage_children(templates, bucket), inputs)
            root.check_size()
        source, url = self._source(root, bucket)
        request = Request(
            template=source,
            parameters=values,
            capabilities=templates.capabilities(),
            tags=self.graph.tags,
            description=f"paycompile: {self.graph.platform} ({self.graph.environment})",
            include_nested=bool(templates.children),
        )
        return request, url

    def _stage_children(self, templates: TemplateSet, bucket: str | None) -> dict[str, str]:
        """File name -> S3 URL of each child template, uploaded under its content's hash."""
        from paycompile.deployment.staging import stage_templates

        files = sorted(templates.children)
        urls = stage_templates(
            self.session,
            [templates.children[file] for file in files],
            self.name,
            self.account,
            self.graph.region,
            bucket,
        )
        return dict(zip(files, urls, strict=True))

    def _classified(self, change_set: ChangeSet) -> list[PlannedChange]:
        """The change set's rows, judged and shown; the change set is discarded on failure."""
        from paycompile.deployment import changesets

        with ExitStack() as on_error:
            on_error.callback(self.discard, change_set)
            if self.nested:
                planned = self._classified_set(change_set)
            else:
                rows = list(changesets.rows(self.cfn, change_set))
                update = change_set.change_type == "UPDATE"
                deployed = self.deployed_template() if update else None
                planned = [changesets.classify(row, deployed) for row in rows]
            self.say(changesets.change_table(planned).rstrip("\n"))
            on_error.pop_all()
        return planned

    def _classified_set(self, change_set: ChangeSet) -> list[PlannedChange]:
        """The root's rows and, after each nested stack's row, its own change set's rows
        (named `Child/Resource`), each judged against its own stack's template."""
        from paycompile.deployment.changesets import classify, set_rows

        deployed: dict[str, StackTemplate | None] = {}
        planned = []
        for each in set_rows(self.cfn, change_set.id):
            template = None
            removed = each.row.get("Action") == "Remove"
            if removed:  # only a removal reads the deletion policy
                if each.stack_id not in deployed:
                    deployed[each.stack_id] = self.deployed_template(each.stack_id)
                template = deployed[each.stack_id]
            planned.append(_in_stack(each.stack, classify(each.row, template)))
            nested = each.row.get("ResourceType") == NESTED_STACK
            if removed and nested and not each.stack and not each.row.get("ChangeSetId"):
                planned += self._removed_child(each.row)
        return planned

    def _removed_child(self, row: Mapping[str, Any]) -> list[PlannedChange]:
        """A nested stack the update removes deletes all it holds (a group emptied): each of
        its resources, as a removal judged by the child's own deletion policies."""
        logical_id = str(row["LogicalResourceId"])
        child = row.get("PhysicalResourceId") or self.children().get(logical_id)
        return self._removals_of(logical_id, str(child)) if child else []

    def _removals_of(self, stack: str, stack_id: str | None) -> list[PlannedChange]:
        """Every resource of one stack of the set as a removal, kept or not by its policy."""
        from paycompile.deployment.changesets import classify

        deployed = self.deployed_template(stack_id)
        return [
            _in_stack(stack, classify({"Action": "Remove", **resource}, deployed))
            for resource in self.resources(stack_id)
            if resource.get("ResourceStatus") != "DELETE_COMPLETE"
        ]

    def _source(
        self, template: StackTemplate, bucket: str | None
    ) -> tuple[dict[str, str], str | None]:
        if template.fits_inline and bucket is None:
            return {"TemplateBody": template.body}, None
        from paycompile.deployment.staging import stage_template

        url = stage_template(
            self.session, template, self.name, self.account, self.graph.region, bucket
        )
        return {"TemplateURL": url}, url

    def deployed_template(self, stack_id: str | None = None) -> StackTemplate:
        body = self.cfn.get_template(StackName=stack_id or self.stack_id, TemplateStage="Processed")
        return StackTemplate.of(body["TemplateBody"])

    def discard(self, change_set: ChangeSet) -> None:
        from paycompile.deployment.changesets import discard

        discard(self.cfn, change_set)

    def apply(
        self, proposal: _Proposal, guard: Guard, progress: Progress | None, poll: float
    ) -> None:
        """Execute the change set once approved and follow it; refused or failed: exit 4 or 3."""
        from paycompile.deployment.aws import aws_errors

        change_set = proposal.change_set
        assert change_set is not None
        verb = "create" if change_set.change_type == "CREATE" else "update"
        with ExitStack() as undo:
            undo.callback(self.discard, change_set)
            authorise([row.change for row in proposal.planned], guard, f"{verb} stack {self.name}")
            reader = self.reader()
            with aws_errors(f"executing the change set of stack {self.name}"):
                self.cfn.execute_change_set(ChangeSetName=change_set.id)
            undo.pop_all()  # it runs now: the change set is no longer ours to delete
        status, events = self.watch(
            f"{verb} stack {self.name}", proposal.planned, reader, progress, poll
        )
        if status not in DEPLOYED:
            raise BackendError(_failure("deploy", self.name, status, events))

    def reader(self) -> EventReader | SetReader:
        """An event reader (of the nested stacks too) that ignores every event written so far."""
        from paycompile.deployment.events import EventReader, SetReader

        assert self.stack_id is not None
        reader = (SetReader if self.nested else EventReader)(self.cfn, self.stack_id)
        reader.skip_existing()
        return reader

    def watch(
        self,
        title: str,
        planned: list[PlannedChange],
        reader: EventReader | SetReader,
        progress: Progress | None,
        poll: float,
    ) -> tuple[str, list[StackEvent]]:
        """Show the running operation's events until the stack's status is final."""
        from paycompile.deployment.events import follow
        from paycompile.deployment.progress import QuietProgress

        assert self.stack_id is not None
        shown = progress or QuietProgress()
        # A nested stack's own row is done when its resources are: they count, not it.
        shown.start(title, sum(row.change.resource_type != NESTED_STACK for row in planned))
        succeeded = False
        try:
            status, events = follow(self.cfn, self.stack_id, reader, shown.event, poll)
            succeeded = status in DEPLOYED or status == "DELETE_COMPLETE"
            return status, events
        finally:
            shown.finish(succeeded)

    def protect(self) -> None:
        """Termination protection for a retained platform's stack, once it exists."""
        if self.graph.lifecycle != "retained":
            return
        live = self.live()
        if live is None or live.get("EnableTerminationProtection"):
            return
        self.cfn.update_termination_protection(
            StackName=live["StackId"], EnableTerminationProtection=True
        )
        self.say("termination protection: on (lifecycle: retained)")

    def unprotect(self, live: Mapping[str, Any]) -> None:
        """Turn termination protection off (called only once the deletion is approved)."""
        if live.get("EnableTerminationProtection"):
            self.cfn.update_termination_protection(
                StackName=live["StackId"], EnableTerminationProtection=False
            )
            self.say("termination protection: off")

    def destroy(self, guard: Guard, progress: Progress | None, poll: float) -> StackResult:
        from paycompile.deployment.aws import aws_errors
        from paycompile.deployment.changesets import change_table

        live = self.live()
        if live is None:
            self.say(f"stack {self.name} does not exist: nothing to destroy")
            return StackResult("destroy", self.name, self.graph.region, None, None)
        status = str(live["StackStatus"])
        _refuse_busy(self.name, status, allowed=("REVIEW_IN_PROGRESS",))
        planned = [] if status == "REVIEW_IN_PROGRESS" else self.removals()
        self.say(change_table(planned).rstrip("\n"))
        authorise([row.change for row in planned], guard, f"destroy stack {self.name}")
        self.unprotect(live)
        reader = self.reader()
        with aws_errors(f"deleting stack {self.name}"):
            self.cfn.delete_stack(StackName=live["StackId"])
        status, events = self.watch(f"delete stack {self.name}", planned, reader, progress, poll)
        if status != "DELETE_COMPLETE":
            raise BackendError(_failure("destroy", self.name, status, events))
        return StackResult(
            "destroy", self.name, self.graph.region, live["StackId"], status, tuple(planned), True
        )

    def removals(self) -> list[PlannedChange]:
        """Every resource of the stack, and of each nested stack, as a removal, kept or not by
        its deletion policy."""
        planned = self._removals_of("", self.stack_id)
        self.nested = any(row.change.resource_type == NESTED_STACK for row in planned)
        for stack, stack_id in self.children().items():
            planned += self._removals_of(stack, stack_id)
        return planned

    def result(
        self, action: StackAction, proposal: _Proposal, executed: bool = False
    ) -> StackResult:
        live = self.live()
        outputs = {
            str(output["OutputKey"]): str(output.get("OutputValue", ""))
            for output in (live or {}).get("Outputs") or []
        }
        if live is not None:
            outputs.update(self.children_outputs())
        return StackResult(
            action,
            self.name,
            self.graph.region,
            live["StackId"] if live else None,
            live["StackStatus"] if live else None,
            tuple(proposal.planned),
            executed,
            proposal.template_url,
            outputs,
            proposal.releases,
        )


def _in_stack(stack: str, planned: PlannedChange) -> PlannedChange:
    """A nested stack's row, named `Stack/Resource` in the root's table."""
    if not stack:
        return planned
    change = replace(planned.change, logical_id=f"{stack}/{planned.change.logical_id}")
    return replace(planned, change=change)


def _change_type(name: str, live: Mapping[str, Any] | None) -> ChangeSetType:
    """CREATE for a stack that does not exist yet (or only as an unexecuted change set)."""
    if live is None or live["StackStatus"] == "REVIEW_IN_PROGRESS":
        return "CREATE"
    status = str(live["StackStatus"])
    if status == "ROLLBACK_COMPLETE":
        raise BackendError(
            f"stack {name} failed to create (ROLLBACK_COMPLETE) and can only be deleted: "
            "run `paycompile destroy` with --backend cfn, then deploy again"
        )
    _refuse_busy(name, status)
    return "UPDATE"


def _refuse_busy(name: str, status: str, allowed: tuple[str, ...] = ()) -> None:
    if status.endswith("_IN_PROGRESS") and status not in allowed:
        raise BackendError(
            f"stack {name} is busy ({status}): wait until it finishes, then run this again"
        )


def _failure(action: str, name: str, status: str, events: list[StackEvent]) -> str:
    from paycompile.deployment.events import first_failure

    line = f"{action} of stack {name} failed: it ended {status}"
    cause = first_failure(events)
    if cause is not None:
        line += (
            f"; the first failure: {cause.logical_id} ({cause.resource_type}) "
            f"{cause.status}: {cause.reason}"
        )
    if status == "ROLLBACK_COMPLETE":
        line += "; a stack that failed to create can only be deleted (destroy, then deploy again)"
    return line
