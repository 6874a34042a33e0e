"""CloudFormation backend: one troposphere resource set per graph node kind.

Each area module (network, security, traffic, compute, data, operations, mirroring
`paycompile/compiler/`) maps its kinds to small functions returning that node's resources;
`translate` turns graph values into intrinsic functions; `template` assembles the template.
"""

from paycompile.backends.cfn.template import (
    BACKEND,
    RESOURCES,
    ROTATION_TRANSFORM,
    CloudFormationBackend,
    build_template,
)
from paycompile.backends.cfn.translate import Translator

__all__ = [
    "BACKEND",
    "RESOURCES",
    "ROTATION_TRANSFORM",
    "CloudFormationBackend",
    "Translator",
    "build_template",
]
