"""The Zenodo connection: a safe ``ZENODO_URL``, the token to its origin only, echoes scrubbed.

Two real HTTP servers in threads: "Zenodo" on 127.0.0.1 and "another host" on 127.0.0.2
(a second loopback address). Each records the requests it got and their ``Authorization``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fixtures.cli import CLI
from tests.fixtures.environment import clean_environment
from zenodo_export.checks import check_zenodo
from zenodo_export.errors import ConfigError
from zenodo_export.settings import load_settings
from zenodo_export.zenodo.client import ZenodoClient

pytestmark = pytest.mark.hostile

TOKEN = "s3cr3t-T0KEN-value"
"""The token the tests send; it must reach Zenodo's origin and nothing else."""


@dataclass(frozen=True)
class Seen:
    """One request a server got: method, path (with query) and its Authorization header."""

    method: str
    path: str
    authorization: str | None


Answer = tuple[int, dict[str, str], bytes]
Script = Callable[[str, str], Answer]


@dataclass
class Recorder:
    """A running server: its URL, what it got, and how it answers (``script``)."""

    server: ThreadingHTTPServer
    script: Script
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def tokens(self) -> list[str | None]:
        return [request.authorization for request in self.seen]


def json_answer(body: object, status: int = 200) -> Answer:
    """Return a JSON answer."""
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class Handler(BaseHTTPRequestHandler):
    """Records every request on its server's ``Recorder`` and answers with its script."""

    def _answer(self) -> None:
        recorder: Recorder = self.server.recorder  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        recorder.seen.append(Seen(self.command, self.path, self.headers.get("Authorization")))
        status, headers, body = recorder.script(self.command, self.path)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet."""


@pytest.fixture
def serve() -> Iterator[Callable[[str, Script], Recorder]]:
    """Start recording servers on a loopback address; all are stopped at teardown."""
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start(host: str, script: Script) -> Recorder:
        server = ThreadingHTTPServer((host, 0), Handler)
        recorder = Recorder(server, script)
        server.recorder = recorder  # type: ignore[attr-defined]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return recorder

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def deposition(number: int, **links: str) -> Answer:
    """Return a deposition's JSON answer."""
    return json_answer({"id": number, "state": "unsubmitted", "links": links})


def file_answer() -> Answer:
    """Return a bucket's answer to the upload of the 5 bytes ``hello``."""
    return json_answer(
        {"key": "a.txt", "size": 5, "checksum": "md5:5d41402abc4b2a76b9719d911017c592"}
    )


@pytest.fixture
def other(serve: Callable[[str, Script], Recorder]) -> Recorder:
    """Another host (127.0.0.2) that answers like Zenodo would, to see if it gets the token."""

    def script(method: str, path: str) -> Answer:
        return file_answer() if method == "PUT" else deposition(2)

    return serve("127.0.0.2", script)


@pytest.fixture
def zenodo(serve: Callable[[str, Script], Recorder], other: Recorder) -> Recorder:
    """Zenodo on 127.0.0.1, whose answers point at the other host (a next link, a redirect)."""

    def script(method: str, path: str) -> Answer:
        if path.endswith("/actions/newversion"):
            return deposition(1, latest_draft=f"{other.url}/api/deposit/depositions/2")
        if path == "/api/deposit/depositions/7":
            return 302, {"Location": f"{other.url}/api/deposit/depositions/7"}, b""
        if path == "/api/deposit/depositions/8":
            return 302, {"Location": "/api/deposit/depositions/9"}, b""
        if method == "PUT":
            return file_answer()
        return deposition(9)

    return serve("127.0.0.1", script)


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    """A 5-byte file to upload."""
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello")
    return path


def client_for(zenodo: Recorder) -> ZenodoClient:
    """Return the real client for the "Zenodo" server with the test token."""
    return ZenodoClient(f"{zenodo.url}/api/", TOKEN, timeout=5)


# ZENODO_URL at settings time ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://zenodo.org/api/?access_token=SECRETVALUE",
        "https://zenodo.org/api/?SECRETVALUE",
        "https://user:SECRETVALUE@zenodo.org/api/",
        "https://SECRETVALUE@zenodo.org/api/",
        "https://zenodo.org/api/#SECRETVALUE",
    ],
)
def test_a_zenodo_url_carrying_a_secret_is_refused_without_echoing_it(url: str) -> None:
    """A query, userinfo or fragment in ZENODO_URL is a one-line ConfigError that hides it."""
    with pytest.raises(ConfigError) as caught:
        load_settings(zenodo_url=url)
    message = str(caught.value)
    assert message.startswith("setting ZENODO_URL: ")
    assert "SECRETVALUE" not in message and "\n" not in message


@pytest.mark.parametrize("url", ["http://zenodo.org/api/", "http://10.0.0.5/api/"])
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    """http:// for a host that is not loopback is refused, naming the setting that allows it."""
    with pytest.raises(ConfigError, match="ZENODO_EXPORT_ALLOW_INSECURE_HTTP=true"):
        load_settings(zenodo_url=url)


def test_plain_http_to_a_remote_host_is_allowed_when_the_deployer_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ZENODO_EXPORT_ALLOW_INSECURE_HTTP=true lets a remote http:// ZENODO_URL through."""
    monkeypatch.setenv("ZENODO_URL", "http://zenodo.internal/api/")
    monkeypatch.setenv("ZENODO_EXPORT_ALLOW_INSECURE_HTTP", "true")
    assert load_settings().zenodo_url == "http://zenodo.internal/api/"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5000/api/", "http://[::1]:5000/api/", "http://localhost/api/"]
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    """The local sandbox needs no setting: http:// to a loopback host is fine."""
    assert load_settings(zenodo_url=url).zenodo_url == url


@pytest.mark.parametrize("url", ["ftp://zenodo.org/api/", "https:///api/", "https://x:99999/"])
def test_a_zenodo_url_that_is_not_http_is_refused(url: str) -> None:
    """Other schemes, no host or a bad port are a one-line ConfigError naming ZENODO_URL."""
    with pytest.raises(ConfigError, match=r"^setting ZENODO_URL: [^\n]+$"):
        load_settings(zenodo_url=url)


def test_the_client_refuses_a_zenodo_url_with_a_token_in_it_too() -> None:
    """The client itself (built without settings) refuses ``?access_token=``, hiding it."""
    with pytest.raises(ConfigError, match=r"^ZENODO_URL must not contain a query") as caught:
        ZenodoClient("https://zenodo.org/api/?access_token=SECRETVALUE", TOKEN)
    assert "SECRETVALUE" not in str(caught.value)


def test_the_cli_stops_on_a_secret_url_with_one_line(tmp_path: Path) -> None:
    """``check --json`` with a token in ZENODO_URL exits non-zero with one line, no traceback."""
    env = clean_environment(
        ZENODO_URL="https://zenodo.org/api/?access_token=SECRETVALUE",
        ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data"),
    )
    done = subprocess.run(
        [*CLI, "check", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "SECRETVALUE" not in output and "Traceback" not in output
    assert len(done.stderr.strip().splitlines()) == 1
    assert "ZENODO_URL" in done.stderr


# The token goes to the ZENODO_URL origin only -------------------------------------------


def test_the_token_reaches_zenodo_in_the_header_only(zenodo: Recorder) -> None:
    """Requests to ZENODO_URL carry ``Bearer <token>`` and no token in the URL."""
    with client_for(zenodo) as client:
        client.get_deposition(9)
        client.list_depositions(size=1)
    assert zenodo.tokens() == [f"Bearer {TOKEN}"] * 2
    assert all(TOKEN not in seen.path and "access_token" not in seen.path for seen in zenodo.seen)


def test_a_bucket_on_another_host_gets_no_token(
    zenodo: Recorder, other: Recorder, hello: Path
) -> None:
    """An upload to a bucket link on another origin is sent without Authorization."""
    with client_for(zenodo) as client:
        client.upload(f"{other.url}/api/files/bucket", hello)
    assert [seen.method for seen in other.seen] == ["PUT"]
    assert other.tokens() == [None]


def test_a_bucket_on_zenodos_origin_gets_the_token(zenodo: Recorder, hello: Path) -> None:
    """An absolute bucket link on the ZENODO_URL origin is sent with the token."""
    with client_for(zenodo) as client:
        client.upload(f"{zenodo.url}/api/files/bucket", hello)
    assert zenodo.tokens() == [f"Bearer {TOKEN}"]


def test_a_latest_draft_link_on_another_host_gets_no_token(
    zenodo: Recorder, other: Recorder
) -> None:
    """A ``links.latest_draft`` pointing at another host is read without the token."""
    with client_for(zenodo) as client:
        assert client.new_version(1).id == 2
    assert zenodo.tokens() == [f"Bearer {TOKEN}"]
    assert other.tokens() == [None]


def test_a_redirect_to_another_host_gets_no_token(zenodo: Recorder, other: Recorder) -> None:
    """A redirect from Zenodo to another host is followed without the token."""
    with client_for(zenodo) as client:
        client.get_deposition(7)
    assert zenodo.tokens() == [f"Bearer {TOKEN}"]
    assert other.tokens() == [None]


def test_a_redirect_within_zenodo_keeps_the_token(zenodo: Recorder) -> None:
    """A redirect to the same origin keeps the token."""
    with client_for(zenodo) as client:
        assert client.get_deposition(8).id == 9
    assert zenodo.tokens() == [f"Bearer {TOKEN}"] * 2


def test_another_port_of_the_same_host_is_another_origin(
    zenodo: Recorder, serve: Callable[[str, Script], Recorder], hello: Path
) -> None:
    """127.0.0.1 on another port is not Zenodo's origin: no token."""
    neighbour = serve("127.0.0.1", lambda method, path: file_answer())
    with client_for(zenodo) as client:
        client.upload(f"{neighbour.url}/api/files/bucket", hello)
    assert neighbour.tokens() == [None]


def test_httpx_logs_never_show_the_token(
    zenodo: Recorder, other: Recorder, hello: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, what httpx and httpcore log about our requests never contains the token."""
    caplog.set_level(logging.DEBUG)
    with client_for(zenodo) as client:
        client.get_deposition(7)
        client.upload(f"{other.url}/api/files/bucket", hello)
    assert caplog.records
    assert TOKEN not in caplog.text


# check scrubs what the server echoes ----------------------------------------------------


def test_check_scrubs_the_token_a_server_echoes(
    serve: Callable[[str, Script], Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that echoes the Authorization header in its error is shown without the token."""

    def echo(method: str, path: str) -> Answer:
        message = f"bad credentials:\nAuthorization: Bearer {TOKEN} (token {TOKEN!r})"
        return json_answer({"status": 403, "message": message}, status=403)

    server = serve("127.0.0.1", echo)
    settings = load_settings(zenodo_url=f"{server.url}/api/", zenodo_token=TOKEN)
    result = check_zenodo(settings)
    assert result.status == "fail"
    assert TOKEN not in result.detail and "\n" not in result.detail
    assert "***" in result.detail


def test_check_shortens_a_long_echo(serve: Callable[[str, Script], Recorder]) -> None:
    """A server's endless error message is cut to one short line."""
    server = serve("127.0.0.1", lambda method, path: json_answer({"message": "x" * 10_000}, 400))
    settings = load_settings(zenodo_url=f"{server.url}/api/", zenodo_token=TOKEN)
    detail = check_zenodo(settings).detail
    assert len(detail) <= 300 and detail.endswith("...")
