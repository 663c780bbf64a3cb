"""Access to ``serve``: tokens made by the CLI, sign-in sessions, CSRF, health, refusals."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

import httpx

from tests.fixtures.cli import CLI, one_line_error
from tests.fixtures.web import Served

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def signed_in(served: Served, token: str) -> httpx.Client:
    """A browser-like client (cookies kept) signed in through the form with ``token``."""
    browser = served.client(follow_redirects=False)
    form = browser.get("/signin")
    [csrf] = CSRF.findall(form.text)
    answer = browser.post("/signin", data={"token": token, "csrf": csrf, "next": "/"})
    assert answer.status_code == 303, answer.text
    return browser


def test_health_and_readiness(served: Served) -> None:
    """/healthz answers; /readyz answers once the database is migrated (serve migrates it)."""
    assert served.client().get("/healthz").json() == {"status": "ok"}
    assert served.client().get("/readyz").json() == {"status": "ok"}


def test_signed_out_pages_lead_to_the_sign_in_form(served: Served) -> None:
    """A page asked for without a session redirects to /signin, keeping where it was going."""
    answer = served.client().get("/?state=failed", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/%3Fstate%3Dfailed"


def test_sign_in_and_out(served: Served) -> None:
    """The form takes a token, the cookie is HttpOnly and SameSite, sign-out ends it."""
    browser = signed_in(served, served.viewer_token)
    cookie = browser.cookies.jar
    [session] = [c for c in cookie if c.name == "zenodo_export_session"]
    assert session.has_nonstandard_attr("httponly")
    assert session.get_nonstandard_attr("samesite") == "lax" and not session.secure
    page = browser.get("/")
    assert page.status_code == 200 and "viewer-0 (viewer)" in page.text
    assert served.viewer_token not in page.text, "the token is never shown again"
    [csrf] = CSRF.findall(page.text)
    assert browser.post("/signout", data={"csrf": csrf}).status_code == 303
    assert browser.get("/").status_code == 303


def test_a_bad_token_is_refused_with_a_message(served: Served) -> None:
    """A wrong token: 401 and the form again with what is wrong; no session."""
    browser = served.client(follow_redirects=False)
    [csrf] = CSRF.findall(browser.get("/signin").text)
    answer = browser.post("/signin", data={"token": "zx_wrong", "csrf": csrf})
    assert answer.status_code == 401 and "not valid" in answer.text
    assert browser.get("/").status_code == 303


def test_a_form_without_its_csrf_token_is_refused(served: Served) -> None:
    """A POST without the CSRF token, or from another site, is 403 with a message."""
    browser = signed_in(served, served.admin_token)
    refused = browser.post("/signout", data={})
    assert refused.status_code == 403 and "CSRF" in refused.text
    [csrf] = CSRF.findall(browser.get("/").text)
    foreign = browser.post(
        "/signout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and "another site" in foreign.text
    assert browser.get("/").status_code == 200, "still signed in"


def test_a_forged_or_revoked_session_signs_out_with_a_message(served: Served) -> None:
    """A tampered cookie, and a session whose token was revoked, both lead to sign-in, told why."""
    forged = served.client(follow_redirects=False)
    forged.cookies.set("zenodo_export_session", "eyJ0b2tlbiI6ICJ4In0=.forged.sig")
    assert forged.get("/").status_code == 303
    assert "expired or is no longer valid" in forged.get("/signin").text
    browser = signed_in(served, served.viewer_token)
    assert browser.get("/").status_code == 200
    assert served.cli("token", "revoke", "viewer-0").returncode == 0
    assert browser.get("/").status_code == 303


def test_next_never_leads_off_the_site(served: Served) -> None:
    """``next`` pointing at another host is replaced by the overview."""
    browser = served.client(follow_redirects=False)
    [csrf] = CSRF.findall(browser.get("/signin?next=//evil.example/").text)
    answer = browser.post(
        "/signin", data={"token": served.admin_token, "csrf": csrf, "next": "//evil.example/"}
    )
    assert answer.headers["location"] == "/"


def test_tokens_are_kept_only_as_digests(served: Served) -> None:
    """The database holds no token, and ``token list`` shows none."""
    database = Path(served.env["DATABASE_URL"].removeprefix("sqlite:///"))
    raw = (
        database.read_bytes() + Path(f"{database}-wal").read_bytes()
        if Path(f"{database}-wal").exists()
        else database.read_bytes()
    )
    assert served.admin_token.encode() not in raw
    listed = served.cli("token", "list", "--json")
    assert served.admin_token not in listed.stdout and '"admin-0"' in listed.stdout
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from api_tokens").fetchone() == (2,)


def test_token_commands_refuse_bad_input_in_one_line(served: Served) -> None:
    """A bad name, an unknown role, a duplicate, an unknown token: one line each."""
    one_line_error(served.cli("token", "create", "bad name!"), 4, "token name")
    assert served.cli("token", "create", "x", "--role", "root").returncode == 2
    one_line_error(served.cli("token", "create", "admin-0"), 6, "exists already")
    one_line_error(served.cli("token", "revoke", "nobody"), 5, "nobody")


def test_serve_refuses_a_public_address_without_any_token(tmp_path: Path) -> None:
    """With no token made, ``serve --host 0.0.0.0`` stops in one line (exit 3)."""
    from tests.fixtures.environment import clean_environment

    env = clean_environment(
        HOME=str(tmp_path), ZENODO_EXPORT_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}",
    )  # fmt: skip
    refused = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--port", "0"], env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    one_line_error(refused, 3, "no API token exists")


def test_behind_a_tls_proxy_the_session_cookie_is_secure(served: Served) -> None:
    """A request the proxy (loopback) says came over HTTPS gets a ``Secure`` session cookie."""
    browser = served.client(follow_redirects=False)
    answer = browser.get("/signin", headers={"X-Forwarded-Proto": "https"})
    cookie = answer.headers["set-cookie"].lower()
    assert "zenodo_export_session=" in cookie and "; secure" in cookie, cookie
    plain = served.client(follow_redirects=False).get("/signin").headers["set-cookie"].lower()
    assert "secure" not in plain, "plain HTTP on loopback: a Secure cookie would never return"


def test_an_error_page_keeps_the_signed_in_navigation(served: Served) -> None:
    """An unknown export, signed in: a 404 page saying so, with the menu and sign-out."""
    browser = signed_in(served, served.viewer_token)
    missing = browser.get("/exports/999999")
    assert missing.status_code == 404 and "999999" in missing.text
    assert 'action="/signout"' in missing.text and 'href="/exports"' in missing.text
