"""cdk-nag's PCI DSS 3.2.1 pack over one CloudFormation template, run in cdk-nag's own venv.

Not imported by paycompile: paycompile.report.nag runs it as
`.tools/cdk-nag/bin/python nag_app.py TEMPLATE OUTDIR`. The template is included unchanged
(`CfnInclude`, so logical ids stay ours), the pack runs as an aspect at synthesis and writes
its JSON report into OUTDIR; this script prints that report's lines on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aws_cdk import App, Aspects, DefaultStackSynthesizer, Stack  # type: ignore[import-not-found]
from aws_cdk.cloudformation_include import CfnInclude  # type: ignore[import-not-found]
from cdk_nag import NagReportFormat, PCIDSS321Checks  # type: ignore[import-not-found]


def main(template: str, outdir: str) -> int:
    app = App(outdir=outdir)
    # No bootstrap rule: the template is judged as written, nothing is added to it.
    synthesizer = DefaultStackSynthesizer(generate_bootstrap_version_rule=False)
    stack = Stack(app, "Platform", synthesizer=synthesizer)
    CfnInclude(stack, "Template", template_file=template)
    Aspects.of(app).add(PCIDSS321Checks(reports=True, report_formats=[NagReportFormat.JSON]))
    app.synth()
    reports = sorted(Path(outdir).glob("PCI.DSS.321*NagReport.json"))
    if len(reports) != 1:
        print(
            f"expected one PCI DSS 3.2.1 report in {outdir}, found {len(reports)}", file=sys.stderr
        )
        return 1
    lines = json.loads(reports[0].read_text())["lines"]
    json.dump(lines, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
