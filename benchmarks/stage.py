"""One measured process for `make bench`: import first, then time the work alone.

    stage.py graph SPEC                 load, validate, compile and check the rules
    stage.py build SPEC BACKEND OUT     `paycompile build SPEC --backend BACKEND -o OUT`

Prints one JSON line, `{"work_cpu": seconds}`: the CPU time of the work after every import it
needs (the backend's too), so the per-service cost is not drowned by the start-up. The exit
code and stderr are the command's own.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    stage, spec, *rest = argv
    # `import paycompile` is lazy: what the work uses is imported here, before the clock starts.
    import paycompile
    import paycompile.cli.build
    import paycompile.compiler.compile
    import paycompile.compiler.rules
    import paycompile.spec.loader
    from paycompile.cli import main as cli

    if stage == "graph":
        start = time.process_time()
        paycompile.compile_spec(paycompile.load_spec(spec))
        code = 0
    else:
        backend, out = rest
        paycompile.get_backend(backend)  # imported before the clock starts
        start = time.process_time()
        code = cli(["build", spec, "--backend", backend, "-o", out])
    print(json.dumps({"work_cpu": time.process_time() - start}))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
