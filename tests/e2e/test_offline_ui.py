"""/docs and /graphql work on an intranet with no way out: a real server, headless Debian
Chromium whose network reaches 127.0.0.1 only, and the pages load, list and run all the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx
import pytest

from application.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.conftest import IN_CI, JWT_SECRET
from tests.e2e import chromium
from tests.e2e.conftest import serving, token


@pytest.fixture(scope="module")
def browser_binary() -> str:
    binary = chromium.executable()
    if binary is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message + " (CI=true: .ci/run installs it)")
        pytest.skip(message)
    return binary


@pytest.fixture
def base_url(sqlite_url: str) -> Iterator[str]:
    container = bootstrap(Settings(database_url=sqlite_url, jwt_secret=JWT_SECRET))
    try:
        with serving(container) as url:
            yield url
    finally:
        container.close()


@pytest.fixture
def page(browser_binary: str) -> Iterator[chromium.Page]:
    with chromium.offline_page(browser_binary) as tab:
        yield tab


def assert_nothing_left_the_machine(page: chromium.Page) -> None:
    page.evaluate("1")  # the events logged up to now arrive before this answer
    outside = [url for url in page.requests if urlsplit(url).hostname not in (None, "", "127.0.0.1")]
    assert not outside, f"the page asked for addresses outside the machine: {outside}"
    assert not page.exceptions, f"uncaught JavaScript errors: {page.exceptions}"


def test_swagger_ui_lists_our_operations_with_the_network_blocked(base_url: str, page: chromium.Page) -> None:
    page.goto(f"{base_url}/docs")
    page.wait_for("document.body.innerText.includes('/api/v1/projects')")
    assert page.evaluate("document.querySelectorAll('.opblock').length") > 10
    assert f"{base_url}/static/docs/swagger-ui-bundle.js" in page.requests
    assert_nothing_left_the_machine(page)


def test_there_is_no_redoc_as_it_loads_its_logo_from_a_cdn(base_url: str) -> None:
    assert httpx.get(f"{base_url}/redoc", timeout=10).status_code == 404


def test_graphiql_runs_a_query_with_a_pasted_token_with_the_network_blocked(base_url: str, page: chromium.Page) -> None:
    # Step: open GraphiQL with a query and the Authorization header in the URL, as a shared link does.
    query = "{ __typename projects(first: 1) { totalCount } }"
    headers = json.dumps({"Authorization": f"Bearer {token('supervisor', region='460000')}"})
    page.goto(f"{base_url}/graphql?q={quote(query)}&headers={quote(headers)}")
    page.wait_for("!!document.querySelector('.graphiql-execute-button')")
    assert "Loading..." not in page.evaluate("document.body.innerText")

    # Step: run it; the answer shows in the result pane.
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    result = page.wait_for(
        "(() => { const r = document.querySelector('.result-window');"
        " return r && r.textContent.includes('totalCount') ? r.textContent : ''; })()"
    )
    assert '"__typename": "Query"' in result
    assert "UNAUTHENTICATED" not in result
    assert f"{base_url}/static/graphiql/graphiql/graphiql.min.js" in page.requests
    assert_nothing_left_the_machine(page)
