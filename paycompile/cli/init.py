"""`init`: a commented starter spec that validates and builds as it is."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paycompile.cli.common import PREFIX, Commands
from paycompile.errors import ChangeRefused
from paycompile.output import write_output

DEFAULT_PATH = "platform.yaml"
SCHEMA_FILE = "platform.schema.json"
PLACEHOLDER_CERTIFICATE = (
    "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"
)

# Every value is a valid, safe choice; the comments say what to change first.
STARTER_SPEC = f"""\
# yaml-language-server: $schema={SCHEMA_FILE}
# A paycompile platform spec (version 1). Check it with `paycompile validate {{path}}` and
# build it with `paycompile build {{path}} --backend cfn -o template.json`.
# Editors that speak the YAML language server check and complete this file once the schema is
# beside it: `paycompile schema > {SCHEMA_FILE}`.
version: 1
name: payment               # prefix of every resource name: lower case, digits, single hyphens
environment: dev            # suffix of every resource name; `--env prod` builds overrides.prod
region: us-east-1
lifecycle: ephemeral        # ephemeral: deletes cleanly | retained: snapshots, deletion protection

tags:                       # CostCenter and MigrationPhase are required; Environment is derived
  CostCenter: Payments
  MigrationPhase: Pilot

network:
  cidr: 10.0.0.0/16         # a private (RFC 1918) range, /16 to /20
  availability_zones: 3     # policy: exactly 3
  nat_gateways: 1           # 1 shared NAT (cheapest) or 3 (one per availability zone)
  flow_logs: true

tls:
  # Replace with your ACM certificate in `region`; this one is a placeholder.
  certificate_arn: {PLACEHOLDER_CERTIFICATE}
  ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06

services:                   # one or more ECS Fargate services behind the HTTPS load balancer
  - name: api
    image: public.ecr.aws/nginx/nginx:1.27   # pin a tag or a digest
    port: 8080
    cpu: 256                # with memory, a valid Fargate pair
    memory: 512
    desired_count: 2
    health_check_path: /health
    active_color: blue      # blue/green: the target group the listener sends traffic to
    # route:                # needed once there is a second service: `path: /pay/*` or
    #   path: /api/*        # `host: pay.example.com`
    environment_variables:  # plain configuration only: secrets belong in Secrets Manager
      LOG_LEVEL: info

database:                   # Aurora MySQL Serverless v2; the password is generated and rotated
  database_name: app
  min_capacity: 0.5
  max_capacity: 1
  secret_rotation_days: 30

monitoring:
  alarm_email: oncall@example.com   # subscribes to the alarm topic; required when retained

backup:
  schedule: cron(0 3 * * ? *)       # at least daily
  retention_days: 30                # at least 30

parameters:                 # SSM String parameters under /<name>/<environment>/
  log_level: info

overrides:                  # per-environment changes, merged when building that environment
  prod:
    lifecycle: retained
    network:
      nat_gateways: 3
    services:
      - name: api           # an entry naming an existing service changes only what it lists
        desired_count: 4
"""


def register(commands: Commands) -> None:
    init = commands.add_parser("init", help="write a commented starter spec")
    init.add_argument(
        "path",
        nargs="?",
        default=DEFAULT_PATH,
        help=f"where to write it (default {DEFAULT_PATH}; a directory gets {DEFAULT_PATH} inside)",
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.is_dir():
        path = path / DEFAULT_PATH
    if path.exists() and not args.force:
        raise ChangeRefused(f"{path} already exists; pass --force to overwrite it")
    write_output(str(path), STARTER_SPEC.replace("{path}", path.name))
    print(
        f"{PREFIX}wrote {path}; next: `paycompile validate {path}`, and for editors "
        f"`paycompile schema > {path.parent / SCHEMA_FILE}`",
        file=sys.stderr,
    )
    return 0
