"""PCI DSS 3.2.1 requirement numbers as PCI DSS v4.0 numbers them.

Our rules cite v4.0; cdk-nag's PCI pack and the Control Tower controls' metadata cite 3.2.1.
The report shows both, through this table: for each 3.2.1 requirement any of them cites, the
v4.0 requirement(s) that carry it, as the PCI SSC's "PCI DSS v3.2.1 to v4.0 Summary of
Changes" (revision 2) moves them. A 3.2.1 number missing here shows as "(no mapping)" and
tests/test_report.py fails, so the table grows with the judges it serves.
"""

from __future__ import annotations

V321_TO_V40: dict[str, tuple[str, ...]] = {
    # 1: firewalls -> network security controls
    "1.2": ("1.3",),
    "1.2.1": ("1.3.1", "1.3.2"),
    "1.3": ("1.4",),
    "1.3.1": ("1.4.2",),
    "1.3.2": ("1.4.2",),
    "1.3.4": ("1.3.2",),
    "1.3.6": ("1.4.4",),
    "1.3.7": ("1.4.5",),
    # 2: vendor defaults -> secure configurations
    "2.1": ("2.2.2",),
    "2.2": ("2.2.1",),
    "2.2.2": ("2.2.4",),
    "2.2.3": ("2.2.5",),
    "2.3": ("2.2.7",),
    "2.4": ("12.5.1",),
    # 3: stored account data and keys
    "3.1": ("3.2.1",),
    "3.4": ("3.5.1",),
    "3.5": ("3.6.1",),
    "3.5.3": ("3.6.1.2",),
    "3.6": ("3.7.1",),
    "3.6.4": ("3.7.4",),
    # 4: transmission over open, public networks
    "4.1": ("4.2.1",),
    # 6: secure systems and software
    "6.2": ("6.3.3",),
    "6.3.2": ("6.2.3",),
    "6.4.4": ("6.5.6",),
    "6.6": ("6.4.1", "6.4.2"),
    # 7: need to know
    "7.1.1": ("7.2.1",),
    "7.1.2": ("7.2.2",),
    "7.1.3": ("7.2.2",),
    "7.2.1": ("7.3.1",),
    "7.2.2": ("7.3.2",),
    "7.2.3": ("7.3.3",),
    # 8: identification and authentication
    "8.1.1": ("8.2.1",),
    "8.2.1": ("8.3.2",),
    "8.7": ("7.2.6",),
    # 10: logging and monitoring
    "10.1": ("10.2.1",),
    "10.2.1": ("10.2.1.1",),
    "10.2.2": ("10.2.1.2",),
    "10.2.3": ("10.2.1.3",),
    "10.2.4": ("10.2.1.4",),
    "10.2.5": ("10.2.1.5",),
    "10.2.6": ("10.2.1.6",),
    "10.2.7": ("10.2.1.7",),
    "10.3.1": ("10.2.2",),
    "10.3.2": ("10.2.2",),
    "10.3.3": ("10.2.2",),
    "10.3.4": ("10.2.2",),
    "10.3.5": ("10.2.2",),
    "10.3.6": ("10.2.2",),
    "10.5": ("10.3",),
    "10.5.2": ("10.3.2",),
    "10.5.3": ("10.3.3",),
    "10.5.4": ("10.3.3",),
    "10.5.5": ("10.3.4",),
    "10.7": ("10.5.1",),
    # 11: testing
    "11.2.3": ("11.3.1.3", "11.3.2.1"),
    "11.4": ("11.5.1",),
    "11.5": ("11.5.2",),
}

UNMAPPED = "(no mapping)"


def to_v40(requirements: tuple[str, ...]) -> tuple[str, ...]:
    """The v4.0 requirements for these 3.2.1 ones, each once, in requirement order."""
    found = {v40 for each in requirements for v40 in V321_TO_V40.get(each, (UNMAPPED,))}
    return tuple(sorted(found, key=requirement_key))


def requirement_key(requirement: str) -> tuple[int, ...]:
    """1.2.10 after 1.2.9; text (no mapping) last."""
    parts = requirement.split(".")
    if not all(part.isdigit() for part in parts):
        return (10_000,)
    return tuple(int(part) for part in parts)
