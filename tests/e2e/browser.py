"""A headless Chromium (Debian's `chromium` package) driven over the DevTools protocol, for
tests of the status page.

The protocol runs on a pipe (--remote-debugging-pipe: the browser reads commands on fd 3 and
writes answers and events on fd 4, each a JSON text ended by a NUL byte), so no WebSocket
library and no debugging port are needed. One page target, attached in flat mode.

    with Browser(log_path) as b:
        b.open("http://127.0.0.1:8444/")
        b.wait_for("document.querySelector('.task') !== null", 15)
        b.click("button.pause")

Every wait is bounded; a timeout raises AssertionError with what the page showed.
"""
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

BINARIES = ("chromium", "chromium-headless-shell")


def find_chromium():
    """The path of Debian's chromium (or its headless shell), or None."""
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _high_fd(fd):
    """fd moved to a number >= 10 (so that the child's dup2 to 3 and 4 cannot clobber it)."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Browser:
    def __init__(self, log_path, binary=None, width=1200, height=900):
        binary = binary or find_chromium()
        if binary is None:
            raise RuntimeError("no chromium binary (scripts/install-deps.sh installs Debian's "
                               "chromium package)")
        self._profile = tempfile.mkdtemp(prefix="cdc-chromium-")
        to_child_r, to_child_w = (_high_fd(f) for f in os.pipe())
        from_child_r, from_child_w = (_high_fd(f) for f in os.pipe())

        def wire_pipes():  # in the child, before exec
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self._log = open(log_path, "ab")
        args = [binary, "--headless", "--remote-debugging-pipe", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--mute-audio", f"--window-size={width},{height}",
                f"--user-data-dir={self._profile}", "about:blank"]
        # close_fds=False: the pipes must survive until the child's dup2 (every other fd of
        # this process is close-on-exec).
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, preexec_fn=wire_pipes, close_fds=False)
        os.close(to_child_r)
        os.close(from_child_w)
        self._out = to_child_w
        self._in = from_child_r
        self._next_id = 0
        self._answers = {}
        self._cv = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session = None
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._in, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cv:
                        self._answers[msg["id"]] = msg
                        self._cv.notify_all()
        with self._cv:
            self._closed = True
            self._cv.notify_all()

    def send(self, method, params=None, session=None, timeout=15):
        """Sends one command (to the page's session unless session=False); returns its result
        or raises RuntimeError with the protocol's error."""
        with self._cv:
            self._next_id += 1
            msg_id = self._next_id
        msg = {"id": msg_id, "method": method, "params": params or {}}
        sid = self.session if session is None else session
        if sid:
            msg["sessionId"] = sid
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cv:
            while msg_id not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise RuntimeError(f"chromium: no answer to {method} within {timeout} s"
                                       + (" (the browser exited)" if self._closed else ""))
                self._cv.wait(left)
            answer = self._answers.pop(msg_id)
        if "error" in answer:
            raise RuntimeError(f"chromium: {method}: {answer['error']}")
        return answer.get("result", {})

    def open(self, url, timeout=15):
        """Navigates to `url` and waits until the page has loaded."""
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise AssertionError(f"chromium could not load {url}: {result['errorText']}")
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === "
                      "'complete'", timeout, f"{url} loaded")

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {expression}: "
                               f"{result['exceptionDetails'].get('text')} "
                               f"{result['exceptionDetails'].get('exception', {})}")
        return result.get("result", {}).get("value")

    def text(self):
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_for(self, expression, timeout, what=None):
        """Polls `expression` until it is truthy; returns its value. AssertionError naming
        `what` (or the expression) and the page's text when `timeout` s pass."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the page did not show {what or expression} within "
                                     f"{timeout} s; it shows:\n{self.text()}")
            time.sleep(0.2)

    def click(self, selector):
        """A real left click (mouse events) in the middle of the element `selector`."""
        rect = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()")
        if rect is None:
            raise AssertionError(f"no element {selector} to click; the page shows:\n"
                                 f"{self.text()}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": rect["x"], "y": rect["y"],
                                                   "button": "left", "clickCount": 1})

    def type_into(self, selector, text):
        """Focuses the input `selector` and types `text` into it (as keyboard input)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", {"text": text})

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
