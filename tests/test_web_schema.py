"""The API against its own OpenAPI document: generated requests never cause a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.webfixtures import Site, copy_site


@pytest.fixture(scope="module")
def site(site_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A copy of the web tests' workspace (built once per session), not one built anew."""
    s = copy_site(site_template, tmp_path_factory.mktemp("schema"))
    yield s
    s.ws.close()


def test_no_request_makes_the_server_fail(site: Site) -> None:
    """Every operation, with requests generated from its schema, as an administrator and as a
    provider: 4xx with a JSON message, never a 5xx. (Schemathesis's own pytest plugin does not
    load under this pytest, so each operation's strategy is driven by Hypothesis here.)"""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", site.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: schemathesis.Case) -> None:
            for role in ("admin", "provider"):
                response = case.call(headers={"Authorization": f"Bearer {site.tokens[role]}"})
                assert response.status_code < 500, (role, case.as_curl_command(), response.text)
                if response.status_code >= 400:
                    assert "error" in response.json(), response.text[:500]

        check()


def test_the_openapi_document_names_the_routes_scripts_use(site: Site, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    doc = TestClient(site.app).get("/api/v1/openapi.json").json()  # type: ignore[arg-type]
    for path in (
        "/api/v1/search",
        "/api/v1/items/{item_id}",
        "/api/v1/items/{item_id}/content",
        "/api/v1/collections/{name}/items",
    ):
        assert path in doc["paths"], path
    body = doc["paths"]["/api/v1/collections/{name}/items"]["post"]["requestBody"]
    assert "application/octet-stream" in body["content"]
