"""A service's own secrets (`services[].secrets`): existing Secrets Manager secrets that ECS
injects into the container when a task starts, read by the execution role and by nothing else.

The secrets belong to their owner, who creates and rotates them; paycompile rotates only what
it creates (the database secret). Neither the spec, the template nor the plan ever holds a
secret's value: only its ARN or name, and the ECS `valueFrom` built from it.
"""

from __future__ import annotations

from typing import Any

from paycompile.compiler.graph import Concat, Pseudo
from paycompile.compiler.security import regional_endpoint, statement
from paycompile.spec.service import Service, ServiceSecret

# Secrets Manager appends a hyphen and six random characters to a secret's name in its ARN: a
# policy naming a secret by its name matches whatever suffix it was given.
ARN_SUFFIX_WILDCARD = "-??????"


def secret_arn(secret: ServiceSecret, suffix: str = "") -> Any:
    """The secret's ARN as given, or built from its name in the stack's partition, region and
    account (a partial ARN; `suffix` makes it a policy pattern)."""
    if secret.is_arn:
        return secret.secret
    return Concat(
        (
            "arn:",
            Pseudo("partition"),
            ":secretsmanager:",
            Pseudo("region"),
            ":",
            Pseudo("account_id"),
            f":secret:{secret.secret}{suffix}",
        )
    )


def value_from(secret: ServiceSecret) -> Any:
    """ECS's `valueFrom`: the secret's ARN, with `:<json-key>::` (the key, then the default
    version stage and id) when one key of its JSON value is wanted."""
    arn = secret_arn(secret)
    if secret.key is None:
        return arn
    tail = f":{secret.key}::"
    return (
        Concat((*arn.parts[:-1], arn.parts[-1] + tail)) if isinstance(arn, Concat) else arn + tail
    )


def container_secrets(service: Service) -> dict[str, Any]:
    """Environment variable name -> valueFrom, sorted by name."""
    return {name: value_from(secret) for name, secret in sorted(service.secrets.items())}


def secret_statements(service: Service) -> list[dict[str, Any]]:
    """GetSecretValue on exactly the declared secrets, and kms:Decrypt only when Secrets Manager
    asks on the role's behalf (the owner's key is unknown here, so any key, but only that way)."""
    if not service.secrets:
        return []
    arns = sorted(
        {_policy_arn(secret) for secret in service.secrets.values()},
        key=repr,
    )
    decrypt = statement("DecryptServiceSecrets", ["kms:Decrypt"], [_any_key()])
    return [
        statement("ReadServiceSecrets", ["secretsmanager:GetSecretValue"], list(arns)),
        {
            **decrypt,
            "Condition": {"StringEquals": {"kms:ViaService": regional_endpoint("secretsmanager")}},
        },
    ]


def _policy_arn(secret: ServiceSecret) -> Any:
    return secret_arn(secret, suffix="" if secret.is_arn else ARN_SUFFIX_WILDCARD)


def _any_key() -> Concat:
    """Every KMS key, in the stack's partition: the secret's owner chose the key."""
    return Concat(("arn:", Pseudo("partition"), ":kms:*:*:key/*"))
