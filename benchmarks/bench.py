"""`make bench`: what a build costs as a whole process, against what its imports alone cost.

Two measurements, each build in its own fresh interpreter (the way a user or CI runs it):

1. **The import floor.** The reference spec's `build --backend cfn` against a process that only
   imports yaml, pydantic's `BaseModel` and the troposphere modules whose resources the template
   holds; `validate` against yaml + `BaseModel`; each floor also with one pydantic model defined
   (the least a program that validates with pydantic can cost). Seven rounds, the six processes
   alternating within each round, medians reported, so a busy neighbour slows both sides alike.
2. **Per-service cost.** Specs with 1, 10, 50 and 200 services (and the spec's cap, when it lies
   between): the graph alone (load + validate + compile + rules), the CloudFormation build and
   the offline Pulumi plan. Sizes over `policy.MAX_SERVICES` are reported as over the cap, a
   cfn build that does not fit one stack as refused; both pick up the larger sizes by themselves
   once the cap is raised and nested stacks land. Each runs benchmarks/stage.py, which imports
   first and reports the CPU of the work alone. Per-service cost at N services is
   `(work(N) - work(1)) / (N - 1)` (peak memory alike): what each service beyond the first adds.
   Flat means the per-service cost at the largest size is within 1.3x of the one at 10.

Time is both wall-clock and CPU (user + system) of the child; peak memory is the child's own
maximum resident set size, from `os.wait4` (the per-child form of `getrusage(RUSAGE_CHILDREN)`,
which would report only the largest child so far). On a shared machine CPU time is the steadier
figure; the ratios are taken on CPU time. Bytecode is cached (in out/bench/pycache), as it is in
an installed package, and every command runs once unmeasured first.

Writes out/bench.md and out/bench.json (docs/performance.md explains the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
OUT = ROOT / "out"
WORK = OUT / "bench"
SIZES = (1, 10, 50, 200)
FLAT = 1.3  # the goal: per-service cost and the build's distance from its import floor
FLOOR_ROUNDS = 7
SCALE_ROUNDS = 3
# Troposphere names a few modules differently from the service in the resource type.
TROPOSPHERE_MODULE = {"lambda": "awslambda"}
STAGE = Path(__file__).resolve().with_name("stage.py")
ONE_MODEL = "exec('class Ready(BaseModel):\\n    name: str')"
# Not a floor: the floor plus one one-field pydantic model defined. pydantic loads its schema
# generator, `importlib.metadata` and its plugins when the first model class is built, so this
# is the least any program that validates with pydantic pays, before any code of its own.
PLUS_ONE_MODEL = "+ one pydantic model"
ONE_STACK_REFUSAL = "does not fit one CloudFormation stack"


@dataclass
class Sample:
    wall: float
    cpu: float
    peak_mb: float
    code: int
    stderr: str = field(repr=False)
    work_cpu: float | None = None  # what benchmarks/stage.py reports: the work after imports


@dataclass
class Figure:
    """The medians of one command's samples, or why it has none."""

    wall: float | None = None
    cpu: float | None = None
    peak_mb: float | None = None
    work_cpu: float | None = None
    note: str = ""

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Figure:
        work = [s.work_cpu for s in samples if s.work_cpu is not None]
        return cls(
            wall=statistics.median(s.wall for s in samples),
            cpu=statistics.median(s.cpu for s in samples),
            peak_mb=statistics.median(s.peak_mb for s in samples),
            work_cpu=statistics.median(work) if work else None,
        )


def child_environment() -> dict[str, str]:
    """The bench's environment with bytecode caching on, in a folder of its own."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


def run(argv: Sequence[str], env: dict[str, str]) -> Sample:
    """Run `argv` to its end; its wall time, CPU time, peak RSS (its own) and exit code."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        out.seek(0)
        reported = out.read().decode("utf-8", "replace").strip().splitlines()
    return Sample(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        code=process.returncode,
        stderr=stderr,
        work_cpu=_work_cpu(reported[-1]) if reported else None,
    )


def _work_cpu(line: str) -> float | None:
    try:
        return float(json.loads(line)["work_cpu"])
    except (ValueError, KeyError, TypeError):
        return None


def paycompile_command() -> list[str]:
    script = Path(sys.executable).with_name("paycompile")
    return [str(script)] if script.exists() else [sys.executable, "-m", "paycompile.cli"]


def troposphere_modules(template_text: str) -> list[str]:
    """The troposphere modules holding the classes of the template's resource types."""
    resources = json.loads(template_text)["Resources"].values()
    services = {str(each["Type"]).split("::")[1].lower() for each in resources}
    return sorted(f"troposphere.{TROPOSPHERE_MODULE.get(s, s)}" for s in services)


def import_line(modules: Sequence[str]) -> str:
    return "; ".join(
        ["import yaml", "from pydantic import BaseModel", *(f"import {m}" for m in modules)]
    )


# --- 1. the import floor ---------------------------------------------------------------------


def floor_comparison(env: dict[str, str], rounds: int) -> dict[str, Any]:
    cli = paycompile_command()
    with tempfile.TemporaryDirectory() as scratch:
        template = Path(scratch) / "template.json"
        build = [*cli, "build", str(REFERENCE), "--backend", "cfn", "-o", str(template)]
        first = run(build, env)  # also warms the bytecode cache
        if first.code != 0:
            raise SystemExit(f"the reference build failed:\n{first.stderr}")
        modules = troposphere_modules(template.read_text())
        commands = {
            "build floor": [sys.executable, "-c", import_line(modules)],
            f"build floor {PLUS_ONE_MODEL}": [
                sys.executable,
                "-c",
                f"{import_line(modules)}; {ONE_MODEL}",
            ],
            "build": build,
            "validate floor": [sys.executable, "-c", import_line([])],
            f"validate floor {PLUS_ONE_MODEL}": [
                sys.executable,
                "-c",
                f"{import_line([])}; {ONE_MODEL}",
            ],
            "validate": [*cli, "validate", str(REFERENCE)],
        }
        for argv in commands.values():
            run(argv, env)
        samples: dict[str, list[Sample]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, argv in commands.items():
                sample = run(argv, env)
                if sample.code != 0:
                    raise SystemExit(f"{name} failed:\n{sample.stderr}")
                samples[name].append(sample)
    figures = {name: Figure.of(each) for name, each in samples.items()}
    return {
        "rounds": rounds,
        "troposphere_modules": modules,
        "figures": {name: asdict(f) for name, f in figures.items()},
        "ratios": {
            name: {
                "cpu": _ratio(figures[name].cpu, figures[floor_of(name)].cpu),
                "wall": _ratio(figures[name].wall, figures[floor_of(name)].wall),
            }
            for name in figures
            if not name.endswith(" floor")
        },
    }


def floor_of(name: str) -> str:
    """`build` and `build floor + one pydantic model` are both taken against `build floor`."""
    return f"{name.split()[0]} floor"


def _ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else value / base


# --- 2. per-service cost ---------------------------------------------------------------------


def spec_with(services: int) -> dict[str, Any]:
    """The reference spec with `services` copies of its service, each on a path of its own."""
    from paycompile.spec import policy

    spec: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    template = spec["services"][0]
    copies = []
    for index in range(services):
        name = template["name"] if index == 0 else f"svc{index:03d}"
        copy = {**template, "name": name, "route": {"path": f"/{name}/*"}}
        # Past one load balancer's share the spec asks for an explicit one (docs/design.md).
        copy["load_balancer"] = 1 + index // policy.SERVICES_PER_LOAD_BALANCER
        copies.append(copy)
    spec["services"] = copies
    return spec


def sizes_to_run(requested: Sequence[int], cap: int) -> list[int]:
    """The requested sizes, plus the spec's cap when it falls between them."""
    sizes = set(requested)
    if min(requested) < cap < max(requested):
        sizes.add(cap)
    return sorted(sizes)


def stage_commands(spec: Path, out: Path) -> dict[str, list[list[str]]]:
    """Each stage's command (benchmarks/stage.py: the CLI's build, with the work timed apart
    from the imports); a cfn build that needs several stacks takes a directory."""
    stage = [sys.executable, str(STAGE)]
    cfn = [*stage, "build", str(spec), "cfn"]
    return {
        "graph": [[*stage, "graph", str(spec)]],
        "cfn": [[*cfn, str(out / "cfn.json")], [*cfn, str(out / "cfn")]],
        "pulumi": [[*stage, "build", str(spec), "pulumi", str(out / "plan.json")]],
    }


def measure_stage(choices: list[list[str]], env: dict[str, str], rounds: int) -> Figure:
    """Warm up with the first command that works (a file, else a directory of stacks), then
    take `rounds` samples of it; if none works, say why."""
    failures = []
    for argv in choices:
        warm = run(argv, env)
        if warm.code == 0:
            return Figure.of([run(argv, env) for _ in range(rounds)])
        failures.append(warm.stderr)
    if any(ONE_STACK_REFUSAL in stderr for stderr in failures):
        return Figure(note="refused: over one stack")
    last = failures[-1].strip().splitlines()
    return Figure(note=f"failed: {last[-1] if last else 'no message'}")


def scale(
    env: dict[str, str], sizes: Sequence[int], rounds: int, pulumi: str | None
) -> dict[str, Any]:
    """`pulumi`: None to measure the plan, else why it is not measured."""
    from paycompile.spec import policy

    cap = policy.MAX_SERVICES
    rows: dict[int, dict[str, Figure]] = {}
    for size in sizes_to_run(sizes, cap):
        if size > cap:
            over = Figure(note=f"over the spec's cap of {cap} services")
            rows[size] = {"graph": over, "cfn": over, "pulumi": over}
            continue
        folder = WORK / f"services-{size}"
        folder.mkdir(parents=True, exist_ok=True)
        spec = folder / "platform.yaml"
        spec.write_text(yaml.safe_dump(spec_with(size), sort_keys=False))
        commands = stage_commands(spec, folder)
        if pulumi is not None:
            commands.pop("pulumi")
        rows[size] = {stage: measure_stage(argv, env, rounds) for stage, argv in commands.items()}
        rows[size].setdefault("pulumi", Figure(note=pulumi or ""))
        print(f"  {size:>4} services: " + ", ".join(_cell(f) for f in rows[size].values()))
    return {"cap": cap, "rows": rows, "per_service": per_service(rows)}


def per_service(rows: dict[int, dict[str, Figure]]) -> dict[str, dict[str, Any]]:
    """Per stage: what each service beyond the first adds, at each size from 10, and the ratio
    of the largest size's figure to the one at 10."""
    result: dict[str, dict[str, Any]] = {}
    for stage in ("graph", "cfn", "pulumi"):
        base = rows.get(1, {}).get(stage)
        if base is None or base.work_cpu is None:
            continue
        costs: dict[int, dict[str, float]] = {}
        for size, figures in rows.items():
            figure = figures[stage]
            if size < 10 or figure.work_cpu is None or figure.peak_mb is None:
                continue
            assert base.peak_mb is not None
            costs[size] = {
                "cpu_ms": (figure.work_cpu - base.work_cpu) / (size - 1) * 1000,
                "peak_mb": (figure.peak_mb - base.peak_mb) / (size - 1),
            }
        ratio: dict[str, float | None] = {"cpu_ms": None, "peak_mb": None}
        if 10 in costs and len(costs) > 1:
            largest = costs[max(costs)]
            ratio = {k: _ratio(largest[k], costs[10][k]) for k in ratio}
        result[stage] = {"per_service": costs, "largest_over_10": ratio}
    return result


# --- report ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "processor": _cpu_model(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cell(figure: Figure) -> str:
    if figure.cpu is None or figure.wall is None or figure.peak_mb is None:
        return figure.note
    work = "" if figure.work_cpu is None else f"{figure.work_cpu * 1000:.0f} ms work, "
    process = f"{figure.cpu * 1000:.0f} ms cpu, {figure.wall * 1000:.0f} ms wall"
    return f"{work}{process}, {figure.peak_mb:.0f} MB"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# paycompile benchmark",
        "",
        f"Machine: {m['processor']}, {m['cpus']} CPUs, {m['system']}, Python {m['python']}; "
        f"load average at start {m['load_average_at_start']}. Medians; CPU = user + system "
        "time of the process, peak = its maximum resident set size.",
        "",
        f"## The import floor ({result['floor']['rounds']} alternating rounds)",
        "",
        "| process | CPU | wall | peak | CPU / floor | wall / floor |",
        "|---|---|---|---|---|---|",
    ]
    floor = result["floor"]
    for name, figure in floor["figures"].items():
        ratio = floor["ratios"].get(name, {})
        lines.append(
            f"| {name} | {figure['cpu'] * 1000:.0f} ms | {figure['wall'] * 1000:.0f} ms | "
            f"{figure['peak_mb']:.0f} MB | {_x(ratio.get('cpu'))} | {_x(ratio.get('wall'))} |"
        )
    lines += [
        "",
        "Build floor: `"
        + import_line(floor["troposphere_modules"])
        + "`; validate floor: `"
        + import_line([])
        + "`. A floor `+ one pydantic model` also defines a one-field model: the least any "
        "program that validates with pydantic pays before its own code runs.",
    ]
    if "scale" in result:
        lines += _scale_markdown(result["scale"])
    return "\n".join(lines) + "\n"


def _scale_markdown(scaled: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"## Per-service cost (the spec's cap is {scaled['cap']} services)",
        "",
        "| services | graph | cfn build | pulumi plan |",
        "|---|---|---|---|",
    ]
    for size, figures in scaled["rows"].items():
        cells = [_cell(Figure(**f) if isinstance(f, dict) else f) for f in figures.values()]
        lines.append(f"| {size} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Work = CPU after the imports (benchmarks/stage.py); cpu and wall = the whole process.",
        "",
        "Per service beyond the first, `(work(N) - work(1)) / (N - 1)`, and peak memory alike:",
        "",
        "| stage | services | CPU per service | peak per service |",
        "|---|---|---|---|",
    ]
    for stage, data in scaled["per_service"].items():
        for size, cost in data["per_service"].items():
            lines.append(
                f"| {stage} | {size} | {cost['cpu_ms']:.1f} ms | {cost['peak_mb']:.2f} MB |"
            )
        ratio = data["largest_over_10"]
        lines.append(f"| {stage} | largest / 10 | {_x(ratio['cpu_ms'])} | {_x(ratio['peak_mb'])} |")
    return lines


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    temporary.replace(path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="service counts")
    parser.add_argument("--rounds", type=int, default=SCALE_ROUNDS, help="samples per size")
    parser.add_argument("--floor-rounds", type=int, default=FLOOR_ROUNDS)
    parser.add_argument("--no-scale", action="store_true", help="only the import floor")
    parser.add_argument("--no-pulumi", action="store_true", help="skip the Pulumi plan")
    args = parser.parse_args(argv)

    env = child_environment()
    result: dict[str, Any] = {"machine": machine()}
    print("import floor: reference spec, cfn build and validate, alternating rounds ...")
    result["floor"] = floor_comparison(env, args.floor_rounds)
    if not args.no_scale:
        print("per-service cost ...")
        sizes = [int(each) for each in args.sizes.split(",")]
        skip_pulumi = (
            "not measured (--no-pulumi)"
            if args.no_pulumi
            else None
            if _importable("pulumi_aws")
            else "pulumi-aws not installed"
        )
        scaled = scale(env, sizes, args.rounds, skip_pulumi)
        result["scale"] = scaled
    text = markdown(json.loads(json.dumps(result, default=_plain)))
    write_atomically(OUT / "bench.json", json.dumps(result, default=_plain, indent=2) + "\n")
    write_atomically(OUT / "bench.md", text)
    print(text)
    print(f"written: {OUT / 'bench.md'}, {OUT / 'bench.json'}")


def _importable(module: str) -> bool:
    from importlib.util import find_spec

    return find_spec(module) is not None


def _plain(value: object) -> Any:
    if isinstance(value, Figure):
        return asdict(value)
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    main()
