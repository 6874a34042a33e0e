"""Optional checks, not part of `make test`: each has its own make target.

PAYCOMPILE_OPTIONAL names the ones to collect, comma-separated: `nag` (`make nag`: cdk-nag's
PCI DSS 3.2.1 pack, which needs its own 460 MB venv and Node.js) and `browser` (`make
report-browser`: the HTML report in Debian's headless Chromium). Without it, pytest collects
none of them, so `make test` neither runs nor skips them.
"""

from __future__ import annotations

import os

OPTIONAL = {"nag": "test_cdk_nag.py", "browser": "test_report_browser.py"}
WANTED = {name.strip() for name in os.environ.get("PAYCOMPILE_OPTIONAL", "").split(",")}
collect_ignore = [test_file for name, test_file in OPTIONAL.items() if name not in WANTED]
