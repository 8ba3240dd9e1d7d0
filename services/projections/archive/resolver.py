"""Who a named person is, decided at query time from three sources:

1. the register id the report gave (``cadre_id``);
2. otherwise the operators' identifications (``subject_identifications``): the latest one
   of a candidate key (by intake log position) says "this is cadre C" or "this is the same
   person as candidate K" (a merge; chains are followed, a cycle settles on its smallest key);
3. otherwise an exact match of the normalised name and unit with exactly one registered cadre.

Resolving at query time keeps the tables order-tolerant (an identification may be projected
before or after the reports it concerns) and makes a rebuild give the same archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from schemas.events import candidate_key
from schemas.views import CadreRecord

Identity = tuple[str, str]  # ("cadre", cadre_id) or ("candidate", candidate_key)


class RegisterKeys:
    """candidate key -> the ids of the registered cadres of that name and unit, looked up
    through the register's key index as keys are asked for (``prime``: many in one query),
    never the whole register read (docs/decisions/0027)."""

    def __init__(self, lookup: Callable[[Iterable[str]], dict[str, list[str]]]) -> None:
        self._lookup = lookup
        self._known: dict[str, list[str]] = {}

    def prime(self, keys: Iterable[str]) -> None:
        missing = {k for k in keys if k not in self._known}
        if missing:
            self._known.update(self._lookup(missing))

    def get(self, key: str, default: list[str]) -> list[str]:
        if key not in self._known:
            self.prime([key])
        return self._known.get(key, default)


@dataclass(frozen=True)
class Resolver:
    """Who a named person is: see the module docstring."""

    links: dict[str, tuple[str | None, str | None, str]]  # key -> (cadre_id, same_as, by)
    register_keys: RegisterKeys | dict[str, list[str]]

    def resolve(self, cadre_id: str | None, key: str) -> Identity:
        return self.explain(cadre_id, key)[0]

    def explain(self, cadre_id: str | None, key: str) -> tuple[Identity, str]:
        """The identity and how it was settled (register_id, operator, exact_name_and_unit)."""
        if cadre_id:
            return ("cadre", cadre_id), "register_id"
        seen: list[str] = []
        by = ""
        while key in self.links and key not in seen:
            seen.append(key)
            target_cadre, same_as, _ = self.links[key]
            by = "operator"
            if target_cadre:
                return ("cadre", target_cadre), by
            assert same_as is not None
            key = same_as
        if key in seen:  # a cycle of merges: one person, named by its smallest key
            return ("candidate", min(seen[seen.index(key) :])), by
        matches = self.register_keys.get(key, [])
        if len(matches) == 1:
            return ("cadre", matches[0]), "exact_name_and_unit"
        return ("candidate", key), by or "unresolved"

    def prime(self, keys: Iterable[str | None]) -> None:
        """Look the register up for many keys at once (before resolving them one by one)."""
        if isinstance(self.register_keys, RegisterKeys):
            self.register_keys.prime(k for k in keys if k)

    def keys_of(self, cadre: CadreRecord) -> list[str]:
        """Every candidate key that names ``cadre``: operators' identifications (and the
        merges leading to one), and the cadre's own name and unit when no other registered
        cadre shares them. A key no report uses matches no row: harmless."""
        me: Identity = ("cadre", cadre.cadre_id)
        own = candidate_key(cadre.name, cadre.unit)
        keys = {own, *self.links}
        self.prime([*keys, *(same for _, same, _ in self.links.values() if same)])
        return sorted(k for k in keys if self.resolve(None, k) == me)
