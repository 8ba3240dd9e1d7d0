"""The selection clerk (decision 0034) signs in to the selections (the desk's pages:
test_selection_pages.py), and sees nothing of reports, reporters, cases or archives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from schemas.glossary import Role
from services.bootstrap import EmbeddedSystem
from tests.support.auth import bearer
from tests.unit.conftest import build_embedded, make_settings
from tests.unit.pages_support import sign_in


@pytest.fixture
def system(tmp_path: Path) -> Iterator[EmbeddedSystem]:
    system = build_embedded(make_settings(tmp_path))
    yield system
    system.stop()


def test_a_selection_clerk_signs_in_to_a_home_without_the_supervision_offices_pages(
    system: EmbeddedSystem,
) -> None:
    headers = bearer(system.accounts, "sun", Role.SELECTION_CLERK, unit="县委组织部")
    with TestClient(system.web_app()) as client:
        sign_in(client, system, "sun")
        home = client.get("/")
        assert home.status_code == 200
        assert str(home.url).endswith("/selections")
        for page in ("/ledger", "/cases/mine", "/cadres", "/integrity", "/audit"):
            assert client.get(page, follow_redirects=False).status_code == 403, page
        for api in (
            f"/api/v1/reports/{uuid4()}",
            "/api/v1/cases",
            "/api/v1/cadres",
            "/api/v1/audit",
        ):
            assert client.get(api, headers=headers).status_code == 403, api
