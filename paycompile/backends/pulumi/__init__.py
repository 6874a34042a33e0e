"""Pulumi backend: the graph as a pulumi-aws program, its offline plan, and its deployment.

`program` registers one small set of resources per node kind (area modules mirroring
`paycompile/compiler/`, values through `translate`); `plan` runs it under Pulumi's mocks to write
the resource plan; `automation` previews, deploys and destroys it with the Automation API.
"""

from paycompile.backends.pulumi.automation import deploy
from paycompile.backends.pulumi.plan import BACKEND, PulumiBackend, capture, mask

__all__ = ["BACKEND", "PulumiBackend", "capture", "deploy", "mask"]
