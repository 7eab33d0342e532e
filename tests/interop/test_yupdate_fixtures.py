"""The checked-in npm-yjs update fixtures are what the pinned yjs makes today."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing
from tests.yjs_fixtures import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "interop" / "make_yupdate_fixtures.mjs"


def test_regenerating_the_yjs_update_fixtures_changes_nothing(tmp_path: Path) -> None:
    if shutil.which("node") is None or not (ROOT / "web" / "node_modules" / "yjs").exists():
        missing("Node.js and web/node_modules are needed (run `make web`)")
    out = tmp_path / "yjs_updates.json"
    subprocess.run(["node", str(SCRIPT), str(out)], check=True, capture_output=True, timeout=60)
    assert out.read_text() == FIXTURES.read_text()
