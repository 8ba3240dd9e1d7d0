"""The demo county, 青山县: its cadre register (``cadres.csv``) and the people reports name.

Everything is invented. ``cadres.csv`` ships with the package and is what ``seed`` imports
(and ``jiandu import-cadres services/demo/cadres.csv`` would); ``NAMING_WEIGHTS`` says how a
report names someone, ``UNREGISTERED`` who is named that the register does not hold.
"""

from __future__ import annotations

import csv
from pathlib import Path

from schemas.views import CadreRecord

REGISTER_CSV = Path(__file__).resolve().parent / "cadres.csv"  # shipped as package data
COUNTY = "青山县"


# How a subject is named: by register id, by name and unit only (as in the register), or a
# person who is not in the register at all (village cadres, units outside the demo register).
NAMING_WEIGHTS = {"cadre_id": 78, "name_only": 12, "unregistered": 10}

UNREGISTERED: tuple[tuple[str, str, str], ...] = (
    ("周福生", "青山县青石镇石桥村", "村党支部书记、村委会主任"),
    ("朱德顺", "青山县白沙镇新塘村", "村党支部书记"),
    ("林小东", "青山县城市管理局", "党组成员、副局长"),
    ("赵宏伟", "青山县市场监督管理局", "副局长"),
    ("胡志平", "青山县柳溪乡中心学校", "校长"),
    ("高建设", "青山县白沙镇卫生院", "院长"),
    ("郭海燕", "青山县农业农村局", "副局长"),
    ("田永福", "青山县发展和改革局", "党组成员、副局长"),
)


def read_register(path: Path = REGISTER_CSV) -> list[CadreRecord]:
    """The demo register's rows (the same file ``seed`` imports)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"demo cadre register not found at {path} (it ships with the package as "
            "services/demo/cadres.csv)"
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [CadreRecord.model_validate(row) for row in csv.DictReader(handle)]
