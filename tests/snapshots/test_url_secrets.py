"""Secrets of a crawled API: refused in the URL, sent from the environment, never published."""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.fixtures.cli import Run
from tests.reports.conftest import write_config
from zenodo_export.config_file import read_config_file
from zenodo_export.errors import ConfigError, InvalidExport
from zenodo_export.snapshots.options import SnapshotRequest, parse_request
from zenodo_export.snapshots.secrets import HEADER_EXAMPLE, header_values, public_url

pytestmark = pytest.mark.hostile

SECRET = "s3cr3t-Value_42"
"""A credential that must never be stored or shown."""

REFUSED = [
    f"https://api.example.org/works?api_key={SECRET}",
    f"https://api.example.org/works?page=2&APIKEY={SECRET}",
    f"https://api.example.org/works?Token={SECRET}",
    f"https://api.example.org/works?access_token={SECRET}&sort=id",
    f"https://api.example.org/works?Signature={SECRET}",
    f"https://api.example.org/works?sig={SECRET}",
    f"https://api.example.org/works?key={SECRET}",
    f"https://api.example.org/works?api-key={SECRET}",
    f"https://reader:{SECRET}@api.example.org/works",
    f"https://{SECRET}@api.example.org/works",
]


@pytest.mark.parametrize("url", REFUSED)
def test_url_with_a_credential_is_refused_saying_how_to_pass_it(url: str) -> None:
    """A credential in the URL is refused; the message shows the header way, not the secret."""
    with pytest.raises(InvalidExport) as caught:
        parse_request({"url": url})
    message = str(caught.value)
    assert message.startswith("url: https://") and "carries a credential" in message
    assert HEADER_EXAMPLE in message and "--header" in message
    assert SECRET not in message and "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.org/works?page_token=abc&sort=id",
        "https://api.example.org/works?monkey=1&keys=2",
        "https://api.example.org/works",
    ],
)
def test_urls_without_credentials_are_accepted(url: str) -> None:
    """Pagination tokens and parameters merely containing ``key`` are not credentials."""
    assert parse_request({"url": url}).url == url


def test_config_entry_with_a_credential_is_one_line_naming_it(tmp_path: Path) -> None:
    """In the config file the refusal names the file and entry, without the secret."""
    body = f"[snapshots.works]\nurl = 'https://api.example.org/works?token={SECRET}'\n"
    path = write_config(tmp_path, body)
    with pytest.raises(ConfigError, match=r"snapshots\.works\.url: .*carries a credential"):
        read_config_file(path)
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "headers,problem",
    [
        ({"Authorization": f"Bearer {SECRET}"}, 'as "env:VARIABLE"'),
        ({"Authorization": "env:not a name"}, 'as "env:VARIABLE"'),
        ({"Bad Header": "env:TOKEN"}, "not a valid header name"),
    ],
)
def test_header_values_must_name_environment_variables(
    headers: dict[str, str], problem: str
) -> None:
    """A header's value is ``env:VARIABLE``; a literal value is refused without being echoed."""
    with pytest.raises(InvalidExport, match=problem) as caught:
        parse_request({"url": "https://api.example.org/works", "headers": headers})
    assert SECRET not in str(caught.value)


def test_header_values_are_read_when_asked() -> None:
    """The value is read from the environment at crawl time; an unset one names its variable."""
    request = parse_request(
        {"url": "https://api.example.org/works", "headers": {"X-Api-Key": "env:ZX_KEY"}}
    )
    assert header_values(request.headers, {"ZX_KEY": SECRET}) == {"X-Api-Key": SECRET}
    with pytest.raises(ConfigError, match=r"header X-Api-Key: environment variable ZX_KEY is not"):
        header_values(request.headers, {})


def test_public_url_hides_userinfo_and_credential_values() -> None:
    """A URL stored before the rule is shown without its credentials."""
    url = f"https://u:{SECRET}@api.example.org/works?page=2&api_key={SECRET}&flag"
    assert public_url(url) == "https://api.example.org/works?page=2&api_key=***&flag"


def test_config_upload_defaults_to_false(tmp_path: Path) -> None:
    """A config entry publishes only when it says ``upload = true``."""
    body = "[snapshots.a]\nurl = 'https://e.org/a'\n[snapshots.b]\nurl = 'https://e.org/b'\n"
    config = read_config_file(write_config(tmp_path, body + "upload = true\n"))
    assert (config.snapshot("a").upload, config.snapshot("b").upload) == (False, True)
    assert SnapshotRequest(url="https://e.org/a").upload is False


class Recorder(BaseHTTPRequestHandler):
    """Answer one JSON page and record the headers of every request."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        Recorder.seen.append(dict(self.headers.items()))
        body = json.dumps({"data": [{"id": 1, "title": "one"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Log nothing."""


@pytest.fixture
def recording_api() -> Iterator[str]:
    """A one-page JSON API on loopback recording request headers; yields its endpoint URL."""
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/single"
    finally:
        server.shutdown()
        server.server_close()


def test_env_header_is_never_stored_or_shown(
    run_cli: Run, recording_api: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """A crawl and upload with an ``env:`` header leave the secret out of everything kept."""
    env = {
        **cli_env,
        "CREATOR": "Lin, Jennifer",
        "GITHUB_URL": "https://github.com/lagotto",
        "ZX_API_TOKEN": f"Bearer {SECRET}",
    }
    header = "Authorization=env:ZX_API_TOKEN"
    args = ("snapshot", recording_api, "--header", header, "--upload", "--wait", "--json")
    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    view = json.loads(done.stdout)
    assert view["data"]["headers"] == {"Authorization": "env:ZX_API_TOKEN"}
    assert view["upload"]["state"] == "done"
    with zipfile.ZipFile(view["data"]["files"]["zip"]) as archive:
        assert SECRET not in archive.read("README.md").decode()
    assert SECRET.encode() not in (tmp_path / "cli.db").read_bytes()
    assert Recorder.seen, "the API was never asked"


def test_env_header_reaches_the_server(
    run_cli: Run, recording_api: str, cli_env: dict[str, str]
) -> None:
    """The header's value, read from the environment at crawl time, is sent with each page."""
    env = {**cli_env, "ZX_API_TOKEN": f"Bearer {SECRET}"}
    done = run_cli(
        "snapshot", recording_api, "--header", "Authorization=env:ZX_API_TOKEN", "--wait", env=env
    )
    assert done.returncode == 0, done.stderr
    assert [seen.get("Authorization") for seen in Recorder.seen] == [f"Bearer {SECRET}"]


def test_cli_refuses_a_url_with_a_token(run_cli: Run) -> None:
    """The command refuses a URL with a token: one line, exit code 4, the secret not shown."""
    refused = run_cli("snapshot", f"https://api.example.org/works?access_token={SECRET}")
    assert refused.returncode == 4
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "carries a credential" in lines[0]
    assert SECRET not in refused.stderr + refused.stdout


def test_a_url_of_another_scheme_is_refused_without_its_password() -> None:
    """The message refusing a non-http URL does not show its password either."""
    with pytest.raises(InvalidExport, match="is not an http") as caught:
        parse_request({"url": f"ftp://reader:{SECRET}@files.example.org/works"})
    assert SECRET not in str(caught.value)


def test_a_snapshot_stored_before_the_rule_runs_and_is_shown_without_it() -> None:
    """Options stored with a credential URL still load; the title and README hide it."""
    from zenodo_export.snapshots.describe import readme_of, title_of
    from zenodo_export.snapshots.options import SnapshotOptions

    url = f"https://api.example.org/works?api_key={SECRET}"
    options = SnapshotOptions.from_data({"url": url, "date": "2026-11-29", "directory": "/tmp/x"})
    assert (
        title_of(options)
        == "API Snapshot of https://api.example.org/works?api_key=*** on 2026-11-29"
    )
    assert SECRET not in readme_of(options, 3)
    with pytest.raises(InvalidExport, match="carries a credential"):
        parse_request({"url": url})
