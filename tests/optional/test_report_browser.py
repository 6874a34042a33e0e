"""The HTML compliance report in a real browser: Debian's headless Chromium (`make
report-browser`; not in `make test`).

The report is written by the command, as a user runs it, with every judge installed here;
Chromium loads it from disk with the network off. Its DOM must hold every rule id and every
judge, and its screenshot must show the page (a blank or unstyled render fails). The
screenshot and the report stay in out/report-browser/ for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from paycompile.compiler.rules import RULES
from paycompile.report import panel

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "platform.yaml"
KEEP = ROOT / "out" / "report-browser"
WIDTH, HEIGHT = 1400, 2200
HEADER_BLUE = (0x16, 0x32, 0x4F)  # the report's header band: the stylesheet was applied
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium() -> str:
    found = os.environ.get("PAYCOMPILE_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("chromium not found: `apt-get install chromium` (or set PAYCOMPILE_CHROMIUM)")
    return found


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    KEEP.mkdir(parents=True, exist_ok=True)
    page = KEEP / "report.html"
    command = [str(ROOT / ".venv" / "bin" / "paycompile"), "report", str(REFERENCE)]
    subprocess.run([*command, "--format", "html", "-o", str(page)], check=True, timeout=900)
    return page


def browse(page: Path, profile: Path, *action: str) -> subprocess.CompletedProcess[str]:
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *action, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


def test_the_dom_holds_every_rule_and_judge(report_page: Path, tmp_path: Path) -> None:
    dom = browse(report_page, tmp_path / "profile", "--dump-dom").stdout
    assert dom.lstrip().startswith("<!DOCTYPE html>") and dom.rstrip().endswith("</html>")
    missing = [rule_id for rule_id in RULES if f'id="{rule_id.lower()}"' not in dom]
    assert not missing, f"rules missing from the DOM: {missing}"
    assert all(rule_id in dom for rule_id in RULES)
    for judge in panel.JUDGES:
        assert f'id="judge-{judge.JUDGE}"' in dom and judge.TITLE in dom


def test_the_screenshot_shows_the_report(report_page: Path, tmp_path: Path) -> None:
    shot = KEEP / "report.png"
    shot.unlink(missing_ok=True)
    browse(report_page, tmp_path / "profile", f"--window-size={WIDTH},{HEIGHT}",
           f"--screenshot={shot}")  # fmt: skip
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    colours = image.getcolors(maxcolors=WIDTH * HEIGHT) or []
    most, background = max(colours)
    drawn = 1 - most / (WIDTH * HEIGHT)
    assert len(colours) > 200 and drawn > 0.05, f"blank? {len(colours)} colours, {drawn:.1%} drawn"
    header = image.crop((0, 0, WIDTH, 60))
    assert header.getpixel((WIDTH // 2, 10)) == HEADER_BLUE, "the header is not styled"
    assert background == (255, 255, 255)
