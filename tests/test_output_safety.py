"""Outputs are all-or-nothing: a failed build never changes, half-writes or litters the target."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import paycompile
from paycompile.cli import main

REFERENCE = Path(__file__).resolve().parent.parent / "examples" / "platform.yaml"


def build(
    capsys: pytest.CaptureFixture[str], output: Path | str, spec: Path = REFERENCE
) -> tuple[int, str]:
    code = main(["build", str(spec), "--backend", "cfn", "-o", str(output)])
    return code, capsys.readouterr().err


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.fixture
def earlier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, bytes]:
    """A good template already at the output path, from an earlier build."""
    output = tmp_path / "out" / "template.json"
    assert build(capsys, output)[0] == 0
    return output, output.read_bytes()


def test_an_invalid_spec_leaves_the_earlier_output_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], earlier: tuple[Path, bytes]
) -> None:
    output, before = earlier
    spec = tmp_path / "bad.yaml"
    spec.write_text(REFERENCE.read_text().replace("availability_zones: 3", "availability_zones: 2"))
    code, err = build(capsys, output, spec)
    assert code == 1 and "PAY-NET-001" in err
    assert output.read_bytes() == before
    assert files_under(output.parent) == ["template.json"]


def test_a_failing_backend_leaves_the_earlier_output_byte_identical(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, earlier: tuple[Path, bytes]
) -> None:
    output, before = earlier

    def broken(graph: paycompile.Graph, output_format: str) -> str:
        raise paycompile.BackendError("cfn: the backend broke")

    # `build` renders the cfn backend's file set (one template, or a nested set).
    monkeypatch.setattr(paycompile.get_backend("cfn"), "render_set", broken)
    code, err = build(capsys, output)
    assert (code, err) == (3, "paycompile: error: cfn: the backend broke\n")
    assert output.read_bytes() == before


def test_output_into_a_missing_directory_creates_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "a" / "b" / "c" / "template.json"
    assert build(capsys, output)[0] == 0
    assert output.is_file() and (output.stat().st_mode & 0o777) == 0o644
    assert files_under(tmp_path) == ["a", "a/b", "a/b/c", "a/b/c/template.json"]


def test_the_same_input_gives_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    assert build(capsys, first)[0] == 0 and build(capsys, second)[0] == 0
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("shape", ["under a file", "is a directory"])
def test_an_unwritable_path_is_a_clean_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    """Tests run as root, so permissions cannot make a path unwritable: its shape can."""
    (tmp_path / "file.txt").write_text("a file, not a directory\n")
    (tmp_path / "dir").mkdir()
    output = tmp_path / "file.txt" / "out.json" if shape == "under a file" else tmp_path / "dir"
    code, err = build(capsys, output)
    assert code == 3
    assert len(err.splitlines()) == 1 and err.startswith(
        f"paycompile: error: cannot write {output}: "
    ), err
    assert "Traceback" not in err
    assert files_under(tmp_path) == ["dir", "file.txt"]


@pytest.mark.parametrize(
    "failing,error",
    [
        ("replace", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))),
        ("fsync", OSError(errno.EIO, os.strerror(errno.EIO))),
        ("chmod", OSError(errno.EPERM, os.strerror(errno.EPERM))),
    ],
)
def test_a_failing_write_is_exit_3_and_leaves_no_temp_file(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    earlier: tuple[Path, bytes],
    failing: str,
    error: OSError,
) -> None:
    output, before = earlier

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(os, failing, fail)
    code, err = build(capsys, output)
    assert code == 3
    assert err == f"paycompile: error: cannot write {output}: {error.strerror}\n"
    assert output.read_bytes() == before
    assert files_under(output.parent) == ["template.json"]  # no .template.json.*.tmp


def test_an_interrupted_write_leaves_no_temp_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, earlier: tuple[Path, bytes]
) -> None:
    output, before = earlier

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    code, _ = build(capsys, output)
    assert code == 130
    assert output.read_bytes() == before
    assert files_under(output.parent) == ["template.json"]


def test_stdout_output_writes_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["build", str(REFERENCE), "-o", "-"])
    assert code == 0
    assert capsys.readouterr().out.startswith("{")
    assert files_under(tmp_path) == []
