"""The status page (GET /) in a real headless Chromium (Debian's chromium, tests/e2e/browser.py),
against a milvus-cdc of the test's own with API tokens and one task: the page asks for the
token, shows the task, its state and a lag row per source channel with its history graph, and
its Pause and Resume buttons change the task through POST /cdc (checked through the API); a
read-only token's Pause is refused and the page says why.

No browser is a failure, not a skip: scripts/install-deps.sh installs Debian's chromium.
"""
import hashlib
import os
import re
import time
import urllib.request
import uuid

import pytest

from browser import Browser, find_chromium
from conftest import ENV_DIR
from ops_task import get_task, running_task, wait_task

ADMIN = "admin-" + uuid.uuid4().hex
READ = "read-" + uuid.uuid4().hex


def _sha(token):
    return hashlib.sha256(token.encode()).hexdigest()


AUTH_YAML = f"""api:
  auth:
    adminTokenHashes: [{_sha(ADMIN)}]
    readTokenHashes: [{_sha(READ)}]
"""


@pytest.fixture
def page_server(stack, source, names):
    """A milvus-cdc with an admin and a read-only token and one Running task."""
    with running_task(stack, source, names, "status-page", AUTH_YAML, ADMIN) as (server, task_id):
        yield server, task_id


def _unauthorized(root):
    """milvus_cdc_api_rejected_total{reason="unauthorized"} of the server."""
    req = urllib.request.Request(root + "metrics", headers={"Authorization": f"Bearer {READ}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    found = re.search(r'^milvus_cdc_api_rejected_total\{reason="unauthorized"\} (\d+)$', text,
                      re.M)
    return int(found.group(1)) if found else 0


def _wait_state(server, task_id, state):
    return wait_task(server, task_id, lambda t: t["state"] == state, state, READ, timeout=15)


@pytest.mark.own_task
def test_page_shows_the_task_and_pauses_and_resumes_it(page_server):
    chromium = find_chromium()
    if chromium is None:
        pytest.fail("no chromium: scripts/install-deps.sh installs Debian's chromium package")
    server, task_id = page_server
    root = server.url[:-len("cdc")]
    with urllib.request.urlopen(root, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/html")
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert "connect-src 'self'" in r.headers["Content-Security-Policy"]
        page = r.read().decode()
    assert "<title>milvus-cdc status</title>" in page
    # Self-contained: nothing is loaded from anywhere else.
    for ref in ('src="http', "src='http", 'href="http', "@import", "//cdn"):
        assert ref not in page, f"the page refers to an outside resource ({ref})"
    api_channels = [c["channel_name"] for c in _wait_state(server, task_id, "Running")["channels"]]
    assert api_channels, "the task shows no source channel in `get`"
    card = f"#task-{task_id}"
    with Browser(os.path.join(ENV_DIR, "logs", "chromium-status-page.log"), chromium) as b:
        b.open(root)
        # Without a token, list is refused (401) and the page asks for one.
        b.wait_for("document.getElementById('auth').classList.contains('shown')", 15,
                   "the token form after a 401")
        assert "list failed" in b.text()
        # ... and stops asking until it has one (each refusal counts against the address's
        # failed-attempt limit, which would lock the right token out too).
        refused = _unauthorized(root)
        time.sleep(4.5)  # two polls
        assert _unauthorized(root) == refused
        b.type_into("#token", ADMIN)
        b.click("#save-token")
        b.wait_for(f"!!document.querySelector('{card}')", 15, f"task {task_id}")
        assert b.evaluate(f"document.querySelector('{card} .task-id').textContent") == task_id
        assert b.evaluate(f"document.querySelector('{card} .state').textContent") == "Running"
        assert b.evaluate("sessionStorage.getItem('milvus-cdc-token')") == ADMIN
        shown = b.evaluate(f"[...document.querySelectorAll('{card} tr.lag-row')]"
                           ".map(r => r.dataset.channel)")
        assert sorted(shown) == sorted(api_channels)
        # The lag graph keeps history: after a few polls its line has more than one point.
        b.wait_for(f"(document.querySelector('{card} tr.lag-row svg path')"
                   ".getAttribute('d').match(/L/g) || []).length >= 1", 10,
                   "a lag graph with two samples")

        b.click(f"{card} button.pause")
        task = _wait_state(server, task_id, "Paused")
        assert task.get("reason") == "manually pause through http interface"
        b.wait_for(f"document.querySelector('{card} .state').textContent === 'Paused'", 10,
                   "the task Paused")
        assert "manually pause through http interface" in b.text()

        b.click(f"{card} button.resume")
        _wait_state(server, task_id, "Running")
        b.wait_for(f"document.querySelector('{card} .state').textContent === 'Running'", 10,
                   "the task Running again")

        # A read-only token may look but not pause: the page says so, the task runs on.
        b.click("#show-auth")
        b.type_into("#token", READ)
        b.click("#save-token")
        b.wait_for(f"!!document.querySelector('{card} button.pause')", 10, "the Pause button")
        b.click(f"{card} button.pause")
        b.wait_for("document.getElementById('message').textContent.includes("
                   "'need an admin token')", 10, "the read-only refusal")
        assert get_task(server, task_id, READ)["state"] == "Running"
