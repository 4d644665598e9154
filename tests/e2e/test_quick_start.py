"""The README's first block, pasted into bash in a fresh copy of the
repository, opens a dispute and reads it back."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from support.fresh_copy import ROOT, fresh_copy
from support.live_server import free_port

pytestmark = [pytest.mark.slow]
FIRST_BLOCK = re.compile(r"^```(?:sh|bash)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def quick_start() -> str:
    found = FIRST_BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "README.md has no ```sh block"
    return found.group(1)


def test_the_quick_start_is_the_readmes_first_block_and_uses_no_unset_variable() -> None:
    block = quick_start()
    assert "scripts/run" in block and "TOKEN=$(" in block and "wait-ready" in block
    assigned = set(re.findall(r"^([A-Z_]+)=", block, re.MULTILINE))
    used = set(re.findall(r"\$\{?([A-Z_]+)", block))
    assert used <= assigned, f"the block uses variables it never sets: {sorted(used - assigned)}"


def test_the_quick_start_opens_a_dispute_and_reads_it_back(tmp_path: Path) -> None:
    clone = fresh_copy(tmp_path / "clone")
    port = free_port()
    block = quick_start().replace("localhost:8000", f"localhost:{port}")
    script = (
        "set -eo pipefail\n"
        "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"  # stop the server the block started
        f"{block}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPUTES_")}
    env["DISPUTES_PORT"] = str(port)
    done = subprocess.run(
        ["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    server_log = clone / "var" / "server.log"
    log = server_log.read_text(errors="replace") if server_log.exists() else "(no server log)"
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}\nserver:\n{log}"
    dispute = json.loads(done.stdout.strip().splitlines()[-1])
    assert dispute["order_id"] == "o-1" and dispute["buyer_id"] == "buyer-1"
    assert dispute["status"] == "awaiting_seller"
    assert (clone / "var" / "jwt-secret").exists(), "the dev secret lives beside the database"
    assert all(json.loads(line)["level"] for line in log.splitlines() if line.startswith("{")), "JSON log lines"
