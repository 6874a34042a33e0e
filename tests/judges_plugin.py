"""The session fixture `judged` (tests/judging.py), as a plugin so that it is defined once.

A fixture imported into several test modules is defined once per module and would run once
per module; loaded as a plugin (`pytest_plugins = ["judges_plugin"]`) it is one fixture.

Under `pytest -n`, each worker has its own session. The first worker that needs the judgement
computes it under a file lock in the run's shared temporary directory and pickles it there;
the others wait for the lock and read it, so every template is judged once per run. (The
tests also carry `xdist_group("judges")`, which would keep them on one worker; with pytest
9.2 and pytest-xdist 3.8, `--dist loadgroup` silently stops grouping: pytest-xdist#1386.)
"""

from __future__ import annotations

import pickle

import pytest
from filelock import FileLock
from judging import Judgement, judge_everything


@pytest.fixture(scope="session")
def judged(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Judgement:
    if worker_id == "master":  # not under xdist
        return judge_everything(tmp_path_factory.mktemp("judged"))
    shared = tmp_path_factory.getbasetemp().parent
    cache = shared / "judged.pickle"
    with FileLock(str(cache) + ".lock"):
        if cache.is_file():
            judgement: Judgement = pickle.loads(cache.read_bytes())
            return judgement
        directory = shared / "judged"
        directory.mkdir(exist_ok=True)
        judgement = judge_everything(directory)
        cache.write_bytes(pickle.dumps(judgement))
    return judgement
