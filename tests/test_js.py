"""
The page's JavaScript under Node's own test runner: `node --test tests/js/`
runs the unit tests of the client model (static/boards/js/model.js) and its
other pure parts. Skipped without Node, but never under CI.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def node_or_skip():
    """The `node` executable; skip (or, under CI, fail) when it is absent."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is required under CI for the page's JS tests (apt-get install nodejs)")
        pytest.skip("Node.js not installed (apt-get install nodejs): the page's JS tests need `node`")
    return node


def test_the_client_model_passes_its_node_tests():
    node = node_or_skip()
    result = subprocess.run(
        [node, "--test", "tests/js/"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"node --test tests/js/ exited {result.returncode}\n{result.stdout}\n{result.stderr}"
