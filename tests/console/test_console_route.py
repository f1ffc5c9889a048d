"""How the console is served, without a browser: the API function answers `GET /console` and its files with
no workspace and with headers that forbid inline script, framing and caching; the page and its scripts hold
no inline code and no HTML sink; the local gateway lets exactly those routes through without a key; `enrich
local up` prints the page's address and `enrich run` says how to open it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

import handle_api
from api_context import CONSOLE_DIR, CONSOLE_FILES
from enrich_tools.local.gateway import requires_key
from enrich_tools.local.local_up import CONSOLE_PORT, console_hint
from tests.support.lambda_events import Context, http_event

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(path.name for path in CONSOLE_DIR.glob("*.js"))
PROVIDER_VARIABLES = (
    "HUNTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "HUNTER_API_BASE_URL",
    "PERPLEXITY_API_BASE_URL",
)


def get(path: str, workspace: str | None = None, method: str = "GET") -> dict[str, Any]:
    answer: dict[str, Any] = handle_api.handler(http_event(method, path, workspace=workspace), Context())  # type: ignore[arg-type]
    return answer


def headers_of(answer: dict[str, Any]) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in (answer.get("headers") or {}).items()}


class Markup(HTMLParser):
    """The page's scripts, style sheets and every attribute, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_text = ""
        self.sheets: list[str | None] = []
        self.attributes: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [name for name, _ in attrs]
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True
        if tag == "link" and ("rel", "stylesheet") in attrs:
            self.sheets.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


def test_the_page_is_served_without_a_key_with_headers_that_forbid_injection_framing_and_caching() -> None:
    answer = get("/console")
    assert answer["statusCode"] == 200
    headers = headers_of(answer)
    assert headers["content-type"] == "text/html; charset=utf-8"
    policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["require-trusted-types-for"] == "'script'"
    assert "unsafe" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"


def test_every_file_the_page_loads_is_served_and_nothing_else_is() -> None:
    page = Markup()
    page.feed(get("/console")["body"])
    loaded = [str(script["src"]) for script in page.scripts] + [str(sheet) for sheet in page.sheets]
    imported = {
        name
        for script in SCRIPTS
        for name in re.findall(r'from "\./([\w.]+)"', (CONSOLE_DIR / script).read_text())
    }
    assert loaded == ["console/console.js", "console/console.css"]
    assert imported | {"console.js"} == set(SCRIPTS)  # every module is loaded, and only those are shipped
    for name in [*SCRIPTS, "console.css"]:
        answer = get(f"/console/{name}")
        assert answer["statusCode"] == 200, name
        assert headers_of(answer)["content-type"].startswith(
            "text/javascript" if name.endswith(".js") else "text/css"
        )
        assert headers_of(answer)["content-security-policy"]
    assert {*SCRIPTS, "console.css", "index.html"} == CONSOLE_FILES
    # Nothing else without a key: not another name, not another method, not the API's routes.
    assert get("/console/handle_api.py")["statusCode"] == 401
    assert get("/console/index.html", workspace="default")["statusCode"] == 404
    assert get("/console", method="POST")["statusCode"] == 401
    assert get("/jobs")["statusCode"] == 401


def test_the_page_has_no_inline_code_and_the_scripts_no_html_sink() -> None:
    page = Markup()
    page.feed((CONSOLE_DIR / "index.html").read_text())
    assert all(script.get("src") for script in page.scripts) and page.script_text == ""
    assert not [name for name in page.attributes if name == "style" or name.startswith("on")]
    for script in SCRIPTS:
        text = (CONSOLE_DIR / script).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function("):
            assert sink not in text, (script, sink)
        assert "localStorage" not in text and "document.cookie" not in text, script


def test_the_gateway_lets_the_console_and_nothing_more_through_without_a_key() -> None:
    for method, path in (("GET", "/console"), ("GET", "/console/console.js"), ("get", "/console/x.css")):
        assert not requires_key(method, path), path
    for method, path in (
        ("POST", "/console"),
        ("DELETE", "/console/console.js"),
        ("GET", "/console/a/b"),
        ("GET", "/consoles"),
        ("GET", "/console-x"),
        ("GET", "/jobs"),
    ):
        assert requires_key(method, path), (method, path)


def test_enrich_run_says_how_to_open_the_console_and_where_its_key_is(tmp_path: Path) -> None:
    key = "le_" + "s3cret" * 7 + "x"
    hint = console_hint(Path(".enrich-state"), key)
    assert f"`enrich local up --port {CONSOLE_PORT}`" in hint
    assert f"http://127.0.0.1:{CONSOLE_PORT}/console" in hint
    assert f"{key[:11]}… kept in .enrich-state/local-api-key" in hint and key not in hint  # its prefix only
    assert "--state" not in hint
    elsewhere = console_hint(tmp_path / "state", key)
    assert f"--port {CONSOLE_PORT} --state {tmp_path / 'state'}`" in elsewhere


def test_enrich_run_ends_with_the_consoles_address(tmp_path: Path) -> None:
    """`make run`'s command: after the results, how to open the console on its state, the key's prefix only
    (`make run` then prints the whole key from the state: its recipe's last line)."""
    leads = tmp_path / "leads.csv"
    leads.write_text("domain\ngmail.com\n")  # refused as webmail by the waterfall: no provider call
    state = tmp_path / "state"
    command = [sys.executable, "-m", "enrich_tools.cli", "run", "--input", str(leads), "--output"]
    command += [str(tmp_path / "out.csv"), "--state", str(state)]
    environment = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    done = subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    key = (state / "local-api-key").read_text().strip()
    assert console_hint(state, key) in done.stderr and key not in done.stdout + done.stderr
    assert f"http://127.0.0.1:{CONSOLE_PORT}/console" in done.stderr

    recipe = subprocess.run(["make", "-n", "run", "console"], cwd=ROOT, capture_output=True, text=True)
    assert recipe.returncode == 0, recipe.stderr
    assert f"http://127.0.0.1:{CONSOLE_PORT}/console" in recipe.stdout
    assert "cat .enrich-state/local-api-key" in recipe.stdout  # the key, whole
    assert f"enrich local up --port {CONSOLE_PORT}" in recipe.stdout  # `make console`


def test_local_up_prints_the_consoles_address_and_serves_the_page_there(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    command = [sys.executable, "-m", "enrich_tools.cli", "local", "up", "--state", str(tmp_path / "state")]
    process = subprocess.Popen(
        command, env=environment, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        printed = []
        for line in process.stdout:
            printed.append(line)
            if "Ctrl-C to stop" in line:
                break
        text = "".join(printed)
        address = re.search(r"Console: (http://127\.0\.0\.1:\d+/console) ", text)
        assert address, text
        page = httpx.get(address[1], timeout=10)
        assert page.status_code == 200 and "<title>leadenrich" in page.text
        assert json.loads(httpx.get(address[1].replace("/console", "/jobs"), timeout=10).text) == {
            "message": "Unauthorized"
        }
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert process.returncode == 0
