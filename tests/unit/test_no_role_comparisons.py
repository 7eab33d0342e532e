"""Access decisions live in ``collab/policy.py``: nothing else compares roles.

The web client shows controls from the ``can`` capabilities the server sends; server code
asks a named check. This scans ``web/src`` and ``server/`` (not ``collab/``) for role
comparisons and fails on any that is not on the short allow-list below, each with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PATTERN = re.compile(
    r"Role\.(OWNER|GUARDIAN|COORDINATOR|RELATIVE|SERVICE)\b"
    r"|\.role\s+(in|not in|is|is not|==|!=)\s"
    r"|\brole\s*(===|!==|==|!=)"
    # A role looked up in a set or list (``FULL.has(p.role)``, ``[...].includes(role)``,
    # ``role in FULL``), a switch on a role, or a role string compared from the left.
    r"|\.(has|includes|indexOf)\(\s*[\w.?]*\brole\s*\)"
    r"|\brole\s+(in|not in)\s+[A-Z_(\[{]"
    r"|\bswitch\s*\(\s*[\w.?]*\brole\s*\)"
    r"|['\"](owner|guardian|coordinator|relative|service)['\"]\s*(===|!==|==|!=)"
    r"|(===|!==)\s*['\"](owner|guardian|coordinator|relative|service)['\"]"
)

# (path, a fragment of the line) -> why it is not an access decision. Keep this short.
ALLOWED: dict[tuple[str, str], str] = {
    # Words for a role, not decisions.
    ("server/http/invite_routes.py", ': "'): "the Norwegian label of each role",
    ("server/notify.py", ': "'): "the Norwegian label of each role",
    # Creating data, not deciding access.
    ("server/demo.py", ""): "the demo loader creates the stories' participants",
    ("server/db/repo.py", "role=Role."): "a new plan's first participants are stored",
    ("server/db/unit.py", "role=Role.COORDINATOR"): "stores the coordinator the unit appointed",
    ("server/auth/oidc.py", "wanted ="): "which identity provider a sign-in link goes to",
    ("server/db/fingerprints.py", "Role.GUARDIAN"): "selects guardians whose access ends (dates)",
    # Finding a participant by role, not deciding what the caller may do.
    ("server/meeting_service.py", "p.role is Role.OWNER"): "finds the plan's owner",
    ("server/http/meeting_routes.py", "p.role is Role.OWNER)"): "finds the plan's owner",
    ("server/http/meeting_routes.py", "Role.OWNER.value)"): "the owner as the meeting's actor",
    # Nothing in web/src: the client is sent what it needs about the caller (``can``) and
    # about every other participant (``collab.policy.participant_facts``).
}


def _sources() -> list[Path]:
    files = sorted((ROOT / "server").rglob("*.py"))
    files += sorted(
        p for p in (ROOT / "web" / "src").rglob("*.js") if "node_modules" not in p.parts
    )
    return files


def _allowed(path: str, line: str) -> bool:
    return any(path == p and fragment in line for p, fragment in ALLOWED)


def test_no_role_comparisons_outside_collab() -> None:
    offending = []
    for file in _sources():
        path = file.relative_to(ROOT).as_posix()
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if PATTERN.search(line) and not _allowed(path, line):
                offending.append(f"{path}:{number}: {line.strip()}")
    assert offending == [], "role comparisons belong in collab/policy.py:\n" + "\n".join(offending)


def test_the_scan_finds_what_it_looks_for() -> None:
    for line in (
        "if who.role is Role.OWNER:",
        "x = me.role in FULL",
        "if (me.role === 'owner')",
        "p.role !== 'guardian'",
        "plan.participants.filter((p) => !FULL.has(p.role) && p.active)",
        "if (['owner', 'guardian'].includes(p.role)) {",
        "const full = FULL.has(me?.role)",
        "switch (p.role) {",
        "if ('owner' === plan.me.role)",
        "x = who.role === 'coordinator' ? a : b",
        "const mine = people.filter((p) => p.kind === 'guardian')",
        "if role in FULL:",
    ):
        assert PATTERN.search(line), line
    for harmless in (
        "roleName(p.role)",
        "text: roleName(a.role)",
        "const full = can.sign_consent === true",
        "plan.participants.filter((p) => !p.full_access && p.active)",
        "'home.role': 'Din rolle',",
        "for a person with no role in the plan (an outsider), up to",
    ):
        assert not PATTERN.search(harmless), harmless


def test_the_web_client_has_no_allowances() -> None:
    """Any role comparison in the client is about participants the server should describe
    (``participant_facts``) or about the caller (``can``): none is excused."""
    assert not [path for path, _ in ALLOWED if path.startswith("web/")]


def test_every_allowance_is_still_needed() -> None:
    used = set()
    for file in _sources():
        path = file.relative_to(ROOT).as_posix()
        for line in file.read_text(encoding="utf-8").splitlines():
            if PATTERN.search(line):
                used.update((p, f) for p, f in ALLOWED if p == path and f in line)
    assert set(ALLOWED) - used == set()
