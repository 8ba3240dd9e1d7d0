"""Small builders shared by the integration tests."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from schemas.submissions import ReportSubmission
from services.common.settings import Settings
from services.migrate import migrate

TEST_KEY = base64.b64encode(os.urandom(32)).decode()


def pg_settings(dsn: str, tmp_path: Path, *, migrated: bool = True, **extra: Any) -> Settings:
    """Settings on the test's database; migrated as `jiandu migrate` does (the services no
    longer create their tables), unless ``migrated=False``."""
    settings = Settings(database_url=dsn, data_dir=tmp_path, secret_key=TEST_KEY, **extra)
    if migrated:
        migrate(settings)
    return settings


def hotline_report(
    n: int = 0, *, cadre_id: str | None = "QS-0001", **changes: Any
) -> ReportSubmission:
    data: dict[str, Any] = {
        "channel": "hotline",
        "reporter": {"anonymous": False, "name": "赵六", "phone": "13912345678"},
        "subjects": [
            {"name": "张三", "unit": "青山县交通运输局", "position": "局长", "cadre_id": cadre_id}
        ],
        "categories": ["vote_buying"],
        "summary": f"反映该同志在换届期间宴请拉票（第{n}件）",
    }
    data.update(changes)
    return ReportSubmission.model_validate(data)
