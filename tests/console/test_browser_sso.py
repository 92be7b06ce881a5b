"""Single sign-on in Debian's Chromium: the console on one site (localhost), the identity
provider on another (127.0.0.1), as in production. The browser goes to the provider and
back, and lands signed in on the page it asked for: the session cookie (SameSite=Strict)
must survive the return from the other site."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.connectors.webchat.browser import served_assistant
from tests.console.oidc_provider import CLIENT_ID, CLIENT_SECRET, running_provider


def test_a_person_signs_in_through_the_business_identity_provider(
    assistant_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEZ_SSO_CLIENT_SECRET", CLIENT_SECRET)
    with running_provider() as provider:
        provider.consent_page = True
        settings = (
            "console:\n  sso:\n"
            f"    issuer: {provider.issuer}\n"
            f"    client_id: {CLIENT_ID}\n"
            "    client_secret: ${PARLEZ_SSO_CLIENT_SECRET}\n"
            "    role_claim: groups\n"
            "    roles:\n      support: agent\n"
            "    label: Sign in with Shop ID\n"
        )
        with served_assistant(assistant_models, tmp_path, endpoints=settings) as served:
            server, _, browser = served
            console = server.url.replace("127.0.0.1", "localhost")
            context = browser.new_context()
            try:
                page = context.new_page()
                page.set_default_timeout(60_000)
                page.goto(f"{console}/console/mentions")
                page.get_by_role("link", name="Sign in with Shop ID").click()
                # At the provider's own page: the way back starts on its site.
                page.get_by_role("link", name="Continue").click()
                page.get_by_role("heading", name="Mentions").wait_for()
                assert page.url == f"{console}/console/mentions"
                assert "ana@shop.example (agent)" in page.locator("header").inner_text()
            finally:
                context.close()
        assert provider.token_requests  # the code was traded, server to server
    assert CLIENT_SECRET not in server.log
