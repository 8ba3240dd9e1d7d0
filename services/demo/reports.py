"""The demo reports: 400 of them by default, from a fixed random seed, oldest first.

Besides the random reports there are *featured* ones (``FEATURED`` in ``featured.py``):
reports with a fixed date, subject and channel that host the stories every path of the
procedure needs (a dismissal 13 months ago, a clearing, a false accusation …). Each report
has a fixed Idempotency-Key (``demo-1`` … ``demo-400``), so seeding the same data folder
again adds nothing. ``ReportGenerator`` is also what ``jiandu demo --scale`` draws from
(``scale.py``).

Reporter identities go through intake like any real-name submission, so they end up in the
encrypted vault only; the summaries never mention who reported.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from schemas.glossary import Category, Channel, ManagementLevel, MemberUnit, ReferralSource
from schemas.submissions import (
    AnonymousReporter,
    RealNameReporter,
    Referral,
    ReportedCadre,
    ReportSubmission,
)
from schemas.views import CadreRecord
from services.demo.featured import FEATURED, RESERVED_CADRES, Feature
from services.demo.register import COUNTY, NAMING_WEIGHTS, UNREGISTERED
from services.demo.report_tables import (
    AUDIT_CATEGORY_WEIGHTS,
    CATEGORY_WEIGHTS,
    CHANNEL_OPENERS,
    CHANNEL_WEIGHTS,
    CLOSINGS,
    ESTATES,
    INSPECTION_CATEGORY_WEIGHTS,
    INTERNAL_OPENERS,
    MATTERS,
    MEMBER_UNIT_REFERRALS,
    MEMBER_UNIT_WEIGHTS,
    PLACES,
    POSTS_BELOW,
    POSTS_FOR_DEPUTY,
    POSTS_FOR_TOWNSHIP,
    PROJECTS,
    REAL_NAME_SHARE,
    REFERRAL_SOURCE_WEIGHTS,
    RELATIVES,
    REPORTER_NAMES,
    SOURCE_REFERRALS,
    TEMPLATES,
    THIRD_PARTIES,
    VILLAGES,
)

T = TypeVar("T")

DEMO_SEED = 12380
REPORT_COUNT = 400
FIRST_DAY = dt.date(2024, 11, 1)
LAST_DAY = dt.date(2026, 11, 27)
SUMMARY_MAX = 300


def idempotency_key(n: int) -> str:
    return f"demo-{n}"


@dataclass(frozen=True)
class DemoReport:
    key: str
    submission: ReportSubmission
    feature: Feature | None = None


def weighted(rng: random.Random, weights: dict[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _month(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def _is_township(cadre: CadreRecord) -> bool:
    return cadre.unit.endswith(("镇党委", "乡党委", "镇人民政府", "乡人民政府"))


def _is_county_level(cadre: CadreRecord) -> bool:
    return cadre.management_level in (
        ManagementLevel.COUNTY_DIVISION_PRINCIPAL,
        ManagementLevel.COUNTY_DIVISION_DEPUTY,
    )


def _designation(subject: ReportedCadre) -> str:
    """How a report first names someone: "青山县青石镇党委委员、纪委书记余秀珍"."""
    unit, position = subject.unit, subject.position
    if position.startswith(COUNTY):
        unit = ""
    elif position.startswith("党委") and unit.endswith(("党委", "人民政府")):
        unit = unit.removesuffix("党委").removesuffix("人民政府")
    return f"{unit}{position}{subject.name}"


class ReportGenerator:
    """The demo reports, one at a time, drawn from ``rng`` about ``cadres``."""

    def __init__(
        self,
        cadres: Sequence[CadreRecord],
        rng: random.Random,
        reserved: frozenset[str] = frozenset(),
    ) -> None:
        self.rng = rng
        self.cadres = list(cadres)
        self.by_unit: dict[str, list[CadreRecord]] = {}
        for cadre in self.cadres:
            self.by_unit.setdefault(cadre.unit, []).append(cadre)
        # Some cadres attract many reports, most a few, county leaders (市管干部) seldom
        # (their reports belong to the level above). Reserved cadres (the featured
        # stories' clean examples) get no random reports at all.
        hot = set(rng.sample(range(len(self.cadres)), k=min(5, len(self.cadres))))
        self.heat = [
            0.0
            if c.cadre_id in reserved
            else 2.0
            if _is_county_level(c)
            else rng.choice((1.0, 1.0, 1.5, 2.0, 3.0)) * (6.0 if i in hot else 1.0)
            for i, c in enumerate(self.cadres)
        ]
        self.reserved = reserved
        self.by_id = {c.cadre_id: c for c in self.cadres}
        self.phones = {
            name: "139" + "".join(str(rng.randrange(10)) for _ in range(8))
            for name in REPORTER_NAMES
        }

    # subjects

    def reported(self, cadre: CadreRecord, naming: str) -> ReportedCadre:
        return ReportedCadre(
            name=cadre.name,
            unit=cadre.unit,
            position=cadre.position,
            cadre_id=cadre.cadre_id if naming == "cadre_id" else None,
        )

    def subjects(self) -> tuple[list[ReportedCadre], CadreRecord | None]:
        """The people a report names, and the register row of the first if registered."""
        rng = self.rng
        naming = weighted(rng, NAMING_WEIGHTS)
        if naming == "unregistered":
            name, unit, position = rng.choice(UNREGISTERED)
            return [ReportedCadre(name=name, unit=unit, position=position)], None
        first = rng.choices(self.cadres, weights=self.heat)[0]
        subjects = [self.reported(first, naming)]
        colleagues = [
            c
            for c in self.by_unit[first.unit]
            if c is not first and c.cadre_id not in self.reserved
        ]
        if colleagues and rng.random() < 0.15:
            subjects.append(self.reported(rng.choice(colleagues), naming))
        return subjects, first

    # categories

    def categories(self, weights: dict[Category, int]) -> list[Category]:
        how_many = self.rng.choices((1, 2, 3), weights=(65, 28, 7))[0]
        chosen: list[Category] = []
        pool = dict(weights)
        for _ in range(how_many):
            if not pool:
                break
            category = weighted(self.rng, pool)
            chosen.append(category)
            del pool[category]
        return chosen

    # text

    def _fill(
        self, category: Category, who: str, unit: str, township: bool, received: dt.date
    ) -> str:
        rng = self.rng
        back = rng.randint(20, 330)
        happened = max(received - dt.timedelta(days=back), dt.date(2024, 1, 1))
        if township and received.year == 2026 and rng.random() < 0.7:
            election = "2026年乡镇换届"
        else:
            election = rng.choice(
                (f"{happened.year}年干部民主推荐", f"{happened.year}年度考核民主测评")
            )
        amount = rng.choice(("2万元", "3万元", "5万元", "8万元", "10万元"))
        n = rng.randint(2, 5)
        relative = rng.choice(RELATIVES)
        values = {
            "who": who,
            "unit": unit,
            "when": _month(happened),
            "year": str(happened.year),
            "election": election,
            "post": rng.choice(POSTS_FOR_TOWNSHIP if township else POSTS_FOR_DEPUTY),
            "post_below": rng.choice(POSTS_BELOW),
            "amount": amount,
            "small_amount": rng.choice(("200元至500元", "500元至1000元", "1000元")),
            "third": rng.choice(THIRD_PARTIES),
            "relative": relative,
            "relative_bare": relative.removeprefix("其"),
            "place": rng.choice(PLACES),
            "estate": rng.choice(ESTATES),
            "matter": rng.choice(MATTERS),
            "project": rng.choice(PROJECTS),
            "n": str(n),
            "n_more": str(n + rng.randint(1, 2)),
        }
        return rng.choice(TEMPLATES[category]).format(**values)

    def summary(
        self,
        opener: str,
        subjects: Sequence[ReportedCadre],
        categories: Sequence[Category],
        township: bool,
        received: dt.date,
    ) -> str:
        first = subjects[0]
        parts = [opener]
        for i, category in enumerate(categories):
            who = _designation(first) if i == 0 else "该同志"
            text = self._fill(category, who, first.unit, township, received)
            parts.append(text if i == 0 else ("另反映，" if i == 1 else "此外，") + text)
        if len(subjects) > 1:
            parts.append(f"同时反映{_designation(subjects[1])}对上述问题知情并参与。")
        parts.append(self.rng.choice(CLOSINGS))
        summary = ""
        for part in parts:
            if len(summary) + len(part) > SUMMARY_MAX:
                break
            summary += part
        return summary

    # channel details

    def reporter(
        self, channel: Channel, real_name: bool | None = None
    ) -> AnonymousReporter | RealNameReporter:
        rng = self.rng
        if real_name is None:
            real_name = rng.random() < REAL_NAME_SHARE[channel]
        if not real_name:
            return AnonymousReporter()
        name = rng.choice(REPORTER_NAMES)
        phone = self.phones[name]
        if channel is Channel.LETTER and rng.random() < 0.5:
            address = f"{COUNTY}{rng.choice(('青石镇', '柳溪乡', '白沙镇'))}{rng.choice(VILLAGES)}"
            return RealNameReporter(name=name, phone=phone, address=address)
        return RealNameReporter(name=name, phone=phone)

    def referral(
        self, received: dt.date, unit: str, source: ReferralSource | None = None
    ) -> tuple[Referral, str, dict[Category, int]]:
        rng = self.rng
        source = source or weighted(rng, REFERRAL_SOURCE_WEIGHTS)
        member_unit: MemberUnit | None = None
        weights = CATEGORY_WEIGHTS
        if source is ReferralSource.MEMBER_UNIT:
            member_unit = weighted(rng, MEMBER_UNIT_WEIGHTS)
            opener, prefix = MEMBER_UNIT_REFERRALS[member_unit]
        else:
            opener, prefix = SOURCE_REFERRALS[source]
            if source is ReferralSource.ECONOMIC_AUDIT:
                member_unit, weights = MemberUnit.AUDIT_BUREAU, AUDIT_CATEGORY_WEIGHTS
            elif source is ReferralSource.REGULATION_INSPECTION:
                weights = INSPECTION_CATEGORY_WEIGHTS
        town = rng.choice(("青石镇", "柳溪乡", "白沙镇"))
        if source is ReferralSource.LEVEL_BELOW:
            prefix = town[:2] + prefix
        referred_on = received - dt.timedelta(days=rng.randint(1, 6))
        reference = f"{prefix}〔{referred_on.year}〕{rng.randint(1, 60)}号"
        referral = Referral(
            source=source,
            member_unit=member_unit,
            reference=reference if rng.random() < 0.9 else "",
            referred_on=referred_on,
        )
        return referral, opener.format(unit=unit, town=town), weights

    def received_on(self, channel: Channel) -> dt.date:
        span = (LAST_DAY - FIRST_DAY).days
        day = FIRST_DAY + dt.timedelta(days=self.rng.randint(0, span))
        if channel is not Channel.MAILBOX and channel is not Channel.HOTLINE:
            # Letters, visits, referrals and internal clues are registered on workdays.
            while day.weekday() >= 5:
                day -= dt.timedelta(days=1)
        return day

    def report(self, feature: Feature | None = None) -> ReportSubmission:
        """A random report; a featured one has its date, subject, channel and categories
        fixed."""
        rng = self.rng
        channel = feature.channel if feature else weighted(rng, CHANNEL_WEIGHTS)
        received = feature.received if feature else self.received_on(channel)
        if feature:
            cadre: CadreRecord | None = self.by_id[feature.cadre_id]
            subjects = [self.reported(self.by_id[feature.cadre_id], "cadre_id")]
        else:
            subjects, cadre = self.subjects()
        unit = subjects[0].unit
        township = cadre is not None and _is_township(cadre)
        referral: Referral | None = None
        weights = CATEGORY_WEIGHTS
        if channel is Channel.REFERRAL:
            source = feature.referral_source if feature else None
            referral, opener, weights = self.referral(received, unit, source)
        elif channel is Channel.INTERNAL:
            opener = rng.choice(INTERNAL_OPENERS).format(year=received.year - 1, unit=unit)
        else:
            opener = rng.choice(CHANNEL_OPENERS[channel])
        if feature:
            categories = list(feature.categories)
        else:
            categories = self.categories(weights)
            if cadre is None and Category.OTHER_CONDUCT not in categories and rng.random() < 0.7:
                # People outside the register (village cadres …) are mostly reported for
                # their conduct: such reports go to the level below or a member unit.
                categories = [Category.OTHER_CONDUCT, *categories[:2]]
        return ReportSubmission(
            channel=channel,
            reporter=self.reporter(channel, feature.real_name if feature else None),
            subjects=subjects,
            categories=categories,
            summary=self.summary(opener, subjects, categories, township, received),
            referral=referral,
            received_on=received,
            # Reports about cadres the city manages (县处级) belong to the level above:
            # kept sealed, waiting to be forwarded up.
            sealed=feature.fate == "forward_up"
            if feature
            else cadre is not None and _is_county_level(cadre),
        )


def demo_reports(
    cadres: Sequence[CadreRecord], *, count: int = REPORT_COUNT, rng_seed: int = DEMO_SEED
) -> list[DemoReport]:
    """The demo reports, deterministic for a given register and seed, oldest first: the
    featured ones (every path of the procedure) and ``count`` minus those at random."""
    if count < len(FEATURED):
        raise ValueError(
            f"the demo needs at least {len(FEATURED)} reports (one per featured story), not {count}"
        )
    known = {c.cadre_id for c in cadres}
    missing = sorted({f.cadre_id for f in FEATURED} - known)
    if missing:
        raise ValueError(f"the demo register lacks the featured cadres {missing}")
    rng = random.Random(rng_seed)  # noqa: S311 (fictional data)
    generator = ReportGenerator(cadres, rng, reserved=RESERVED_CADRES)
    drafts: list[tuple[ReportSubmission, Feature | None]] = [
        (generator.report(feature), feature) for feature in FEATURED
    ]
    drafts += [(generator.report(), None) for _ in range(count - len(FEATURED))]
    drafts.sort(key=lambda draft: draft[0].received_on or FIRST_DAY)
    return [
        DemoReport(idempotency_key(n), submission, feature)
        for n, (submission, feature) in enumerate(drafts, start=1)
    ]
