"""Every role table in one home: ``services/accounts/access.py`` (issue 13 item 5).

A role table is a module-level name ending in ``_READERS``, ``_WRITERS``, ``_ACTORS`` or
``_ROLES`` whose value names roles. Outside access.py only ``ASSIGNABLE_ROLES`` may exist:
it says which roles an account can hold (accounts' policy), not who may use what.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from schemas.glossary import Role
from services.accounts import access

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "services" / "accounts" / "access.py"
TABLE_NAME = re.compile(r"_(READERS|WRITERS|ACTORS|ROLES)$")
NOT_ACCESS = {("services/accounts/policy.py", "ASSIGNABLE_ROLES")}


def _tables(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        names += [t.id for t in targets if isinstance(t, ast.Name) and TABLE_NAME.search(t.id)]
    return names


def test_role_tables_are_defined_in_access_only() -> None:
    elsewhere = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "services").rglob("*.py"))
        if path != HOME
        for name in _tables(path)
        if (str(path.relative_to(ROOT)), name) not in NOT_ACCESS
    ]
    assert not elsewhere, "role tables outside services/accounts/access.py: " + ", ".join(elsewhere)


def test_each_table_in_access_names_roles() -> None:
    names = _tables(HOME)
    assert len(names) >= 10
    for name in names:
        table = getattr(access, name)
        roles = [r for rs in table.values() for r in rs] if isinstance(table, dict) else table
        assert roles, name
        assert all(isinstance(r, Role) for r in roles), name
        assert Role.SYSTEM not in roles, name
