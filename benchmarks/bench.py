"""Measure the pipeline's stages and the cost of the lazy backend imports, in one run.

Run with `make bench`. Timings are wall-clock medians over repeated runs on this machine;
compare ratios within one run, not absolute numbers across machines.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import paycompile

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "platform.yaml"


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def import_seconds(statement: str, repeat: int = 5) -> float:
    """Median wall time of a fresh interpreter running `statement`, minus a bare interpreter."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        return time.perf_counter() - start

    bare = statistics.median(run("pass") for _ in range(repeat))
    return statistics.median(run(statement) for _ in range(repeat)) - bare


def main() -> None:
    text = SPEC.read_text()
    spec = paycompile.load_spec_text(text, str(SPEC))
    graph = paycompile.compile_spec(spec)
    rows = {
        "load + validate spec": median_seconds(
            lambda: paycompile.load_spec_text(text, str(SPEC)), 50
        ),
        "compile graph + rules": median_seconds(lambda: paycompile.compile_spec(spec), 50),
        "render CloudFormation": median_seconds(lambda: paycompile.render(graph, "cfn"), 20),
    }
    pulumi_plan = None
    try:
        paycompile.render(graph, "pulumi")  # warm the imports once
        pulumi_plan = median_seconds(lambda: paycompile.render(graph, "pulumi"), 5)
    except paycompile.PaycompileError as exc:
        print(f"(pulumi plan not measured: {exc})")
    if pulumi_plan is not None:
        rows["render Pulumi plan (mocks)"] = pulumi_plan
    for name, seconds in rows.items():
        print(f"{name:<32} {seconds * 1000:9.2f} ms")

    cfn = import_seconds("import paycompile.backends.cfn")
    pulumi = import_seconds("import paycompile.backends.pulumi")
    print(f"{'import paycompile (cfn path)':<32} {cfn * 1000:9.2f} ms")
    print(f"{'import the Pulumi backend':<32} {pulumi * 1000:9.2f} ms")
    print(
        f"lazy loading keeps the cfn path {pulumi / cfn:.1f}x cheaper to start than the Pulumi path"
    )
    total = sum(
        rows[k] for k in ("load + validate spec", "compile graph + rules", "render CloudFormation")
    )
    print(
        f"spec -> template in {total * 1000:.1f} ms; rendering is "
        f"{rows['render CloudFormation'] / rows['compile graph + rules']:.1f}x the compile"
    )


if __name__ == "__main__":
    main()
