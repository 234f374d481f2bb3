"""The board's patch.js applies the server's patches exactly as trackside/live/patch.py does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from tests.conftest import REPO, capture
from tests.live.feeding import Feed, capture_records

# trackside.web.pages (which will name this folder) is not on this branch yet.
STATIC_DIR = REPO / "trackside" / "web" / "static"

NODE = shutil.which("node")

SCRIPT = """
const { applyPatch } = require(process.argv[2]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
let data = input.snapshot;
for (const message of input.patches) {
  if (message.version !== data.version + 1) throw new Error("gap at " + message.version);
  data = applyPatch(data, message.ops);
  data.version = message.version;
}
process.stdout.write(JSON.stringify(data));
"""


@pytest.mark.parametrize(
    "names",
    [
        ["road-america-2025-04-26-entries.log", "road-america-2025-04-26-grid.log",
         "road-america-2025-04-26-race-start.log"],
        ["road-america-2025-04-26-lap1-reset.log"],
    ],
)  # fmt: skip
def test_patch_js_reaches_the_same_snapshot(names: list[str], tmp_path: Path) -> None:
    feed = Feed().run(capture_records(*(capture(n) for n in names)), batch=5)
    final = orjson.loads(feed.live.snapshot_message().data)["data"]
    payload = {
        "snapshot": feed.first_snapshot,
        "patches": [orjson.loads(m.data) for m in feed.patches],
    }
    assert NODE is not None, "node (part of the machine image) is needed for the board tests"
    script = tmp_path / "apply.js"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [NODE, str(script), str(STATIC_DIR / "patch.js")],
        input=json.dumps(payload), capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == final
    assert len(feed.patches) > 100
