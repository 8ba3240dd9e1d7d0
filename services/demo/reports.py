"""Demonstration data for ``jiandu up --demo-data``: a fictional county's register and reports.

Everything here is invented: 青山县 and its units, every cadre, every reporter, every phone
number. The data is generated from a fixed random seed and each report is submitted with a
fixed Idempotency-Key (``demo-1`` … ``demo-400``), so seeding the same data folder again adds
nothing: intake returns the first receipt of each key, and the register is upserted.

Besides the random reports there are *featured* ones (``FEATURED`` in ``featured.py``):
reports with a fixed date, subject and channel that host the stories every path of the
procedure needs (a dismissal 13 months ago, a clearing, a false accusation …). Then
``procedure.py`` triages the reports and drives the cases through the real commands.

Reporter identities go through intake like any real-name submission, so they end up in the
encrypted vault only; the summaries never mention who reported.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from schemas.events import Actor
from schemas.glossary import Category, Channel, ManagementLevel, MemberUnit, ReferralSource, Role
from schemas.submissions import (
    AnonymousReporter,
    RealNameReporter,
    Referral,
    ReportedCadre,
    ReportSubmission,
)
from schemas.views import CadreRecord
from services.accounts.demo import ensure_demo_handlers
from services.demo.featured import FEATURED, RESERVED_CADRES, Feature
from services.demo.per_cadre import seed_per_cadre
from services.demo.procedure import DEMO_TODAY, Planner, drive
from services.demo.sealed import hand_over_forwarded
from services.demo.settling import seed_settled_items
from services.intake.domain import report_id_for_idempotency_key
from services.intake.errors import IdempotencyKeyReused

if TYPE_CHECKING:
    from services.bootstrap import EmbeddedSystem

T = TypeVar("T")

REGISTER_CSV = Path(__file__).resolve().parent / "cadres.csv"  # shipped as package data
DEMO_SEED = 12380
REPORT_COUNT = 400
FIRST_DAY = dt.date(2024, 11, 1)
LAST_DAY = dt.date(2026, 11, 27)
SUMMARY_MAX = 300
COUNTY = "青山县"
DESK = Actor(id="operator", role=Role.OPERATOR)  # the demo operator registers by hand


def idempotency_key(n: int) -> str:
    return f"demo-{n}"


# -- proportions -------------------------------------------------------------------------------

CHANNEL_WEIGHTS: dict[Channel, int] = {
    Channel.HOTLINE: 35,
    Channel.MAILBOX: 25,
    Channel.LETTER: 12,
    Channel.VISIT: 8,
    Channel.REFERRAL: 12,
    Channel.INTERNAL: 8,
}

# Share of real-name reporters per channel (referrals and internal clues have none).
REAL_NAME_SHARE: dict[Channel, float] = {
    Channel.HOTLINE: 0.3,
    Channel.MAILBOX: 0.35,
    Channel.LETTER: 0.45,
    Channel.VISIT: 0.9,
    Channel.REFERRAL: 0.0,
    Channel.INTERNAL: 0.0,
}

CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.SEEKING_OFFICE: 10,
    Category.BUYING_SELLING_OFFICE: 7,
    Category.PROMISING_OFFICE: 4,
    Category.VOTE_BUYING: 8,
    Category.FRAUDULENT_CREDENTIALS: 5,
    Category.PROMOTED_WHILE_TAINTED: 7,
    Category.RUSHED_PROMOTION: 5,
    Category.EXCESS_POSTS: 3,
    Category.IRREGULAR_PROCEDURE: 12,
    Category.FALSE_PERSONAL_REPORT: 9,
    Category.OTHER_CONDUCT: 20,
}

# Audits and inspections find different things than the public reports.
AUDIT_CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.OTHER_CONDUCT: 10,
    Category.FALSE_PERSONAL_REPORT: 6,
    Category.EXCESS_POSTS: 4,
    Category.IRREGULAR_PROCEDURE: 3,
}
INSPECTION_CATEGORY_WEIGHTS: dict[Category, int] = {
    Category.IRREGULAR_PROCEDURE: 10,
    Category.EXCESS_POSTS: 6,
    Category.RUSHED_PROMOTION: 5,
    Category.FRAUDULENT_CREDENTIALS: 3,
}

REFERRAL_SOURCE_WEIGHTS: dict[ReferralSource, int] = {
    ReferralSource.MEMBER_UNIT: 40,
    ReferralSource.ECONOMIC_AUDIT: 18,
    ReferralSource.LEVEL_ABOVE: 15,
    ReferralSource.INVITED_SUPERVISOR: 10,
    ReferralSource.REGULATION_INSPECTION: 12,
    ReferralSource.LEVEL_BELOW: 5,
}

MEMBER_UNIT_WEIGHTS: dict[MemberUnit, int] = {
    MemberUnit.DISCIPLINE_COMMISSION: 35,
    MemberUnit.PETITIONS_BUREAU: 25,
    MemberUnit.AUDIT_BUREAU: 15,
    MemberUnit.PROCURATORATE: 8,
    MemberUnit.POLITICAL_LEGAL_COMMITTEE: 7,
    MemberUnit.HUMAN_RESOURCES_BUREAU: 10,
    MemberUnit.ORGANIZATION_DEPARTMENT: 5,
}

# How a subject is named: by register id, by name and unit only (as in the register), or a
# person who is not in the register at all (village cadres, units outside the demo register).
NAMING_WEIGHTS = {"cadre_id": 78, "name_only": 12, "unregistered": 10}

# -- fictional people --------------------------------------------------------------------------

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

REPORTER_NAMES: tuple[str, ...] = (
    "柏晓川", "严青禾", "季远航", "鲍春燕", "管明哲", "柯雨桐", "葛振宇", "甘秋实",
    "穆清源", "岳小满", "祁海波", "聂春雷", "卓文静", "项子墨", "翟德福", "阮秋菊",
    "褚国庆", "蓝晓玲", "车永胜", "伍桂兰", "麦志坚", "巫少华", "戚长顺", "包玉珍",
    "连海生", "芦红梅", "房立业", "裘爱民", "单春花", "杭建新",
)  # fmt: skip

VILLAGES = ("石桥村", "新塘村", "枫林村", "下河村", "杨梅坳村", "青龙村")
ESTATES = ("滨江花园", "青山名苑", "翠湖湾", "锦绣华庭", "城南新村")
PLACES = ("县城“老地方”酒楼", "镇上一家农家乐", "县城某宾馆", "单位附近的私人会所")
RELATIVES = ("其妻弟", "其侄子", "其表兄", "其女婿", "其配偶的妹妹", "其同学")
THIRD_PARTIES = ("某建筑公司负责人李某", "某砂石场老板陈某", "下属单位干部王某", "某村干部刘某")
POSTS_FOR_TOWNSHIP = ("镇长", "乡长", "党委副书记", "县直部门主要负责人")
POSTS_FOR_DEPUTY = ("局长", "党组书记", "县直单位正职", "乡镇党委书记")
POSTS_BELOW = ("股室负责人", "下属中心副主任", "站所负责人", "中层正职")
PROJECTS = ("道路硬化", "农村饮水安全", "学校改扩建", "高标准农田", "河道清淤")
MATTERS = ("不动产登记", "养老保险转移接续", "宅基地审批", "危房改造补助")

# -- summary templates -------------------------------------------------------------------------
# ``{who}`` names the first subject ("青山县财政局副局长宋立群"); in a second or third
# allegation it becomes "该同志". Every template reads after "……反映：".

TEMPLATES: dict[Category, tuple[str, ...]] = {
    Category.SEEKING_OFFICE: (
        "{who}在{when}县里酝酿乡科级干部调整前，多次到县委组织部和分管县领导处打招呼、"
        "递材料，要求提拔为{post}，并称“这次再不动就没机会了”。",
        "{who}自{when}以来频繁托在市直部门工作的同学向县领导说情，为本人谋取{post}职位，"
        "单位干部职工议论较多。",
        "{who}在单位领导班子调整酝酿期间借汇报工作之机向分管县领导提出个人职务要求，"
        "未获同意后自{when}起消极怠工、长期请假。",
    ),
    Category.BUYING_SELLING_OFFICE: (
        "{who}在{when}提拔为现职前，通过中间人向有关领导送现金{amount}，"
        "该中间人事后在饭局上公开谈及此事。",
        "{who}在{when}本单位中层干部竞争上岗中收受{third}所送{amount}及购物卡，"
        "之后该人被确定为{post_below}人选。",
        "{who}被指在{when}下属单位负责人调整时“明码标价”，有干部为获得{post_below}职位"
        "向其送红包{amount}。",
    ),
    Category.PROMISING_OFFICE: (
        "{who}在{when}年度考核前私下向多名干部承诺“投我票，年底给你解决{post_below}”，"
        "事后相关人员果然进入考察名单。",
        "{who}在{when}一次内部聚餐时向部分年轻干部许诺提拔职务，称“跟着我干的，明年都给安排"
        "位置”，造成不良影响。",
    ),
    Category.VOTE_BUYING: (
        "{who}在{election}期间，通过宴请方式为本人拉票，先后在{place}宴请代表和村（社区）"
        "干部三十余人次，并发放香烟等物品。",
        "{who}在{election}前，通过电话、微信联系部分推荐人员，请求推荐时“关照一下”，"
        "并托人给部分人员送土特产。",
        "{who}在{election}期间授意{relative}以走访慰问名义给部分代表送红包，"
        "每人{small_amount}不等。",
    ),
    Category.FRAUDULENT_CREDENTIALS: (
        "{who}干部人事档案中的出生日期存在疑点，{when}前后由“1971年”改为“1974年”，"
        "疑为规避任职年龄限制而篡改档案。",
        "{who}的在职研究生学历系花钱购买，本人从未参加面授学习，该学历在{when}提拔时"
        "被作为重要条件使用。",
        "{who}档案中入党时间、参加工作时间前后不一，疑在{when}补充材料时伪造了早年工作经历证明。",
    ),
    Category.PROMOTED_WHILE_TAINTED: (
        "{who}在原单位任职期间存在违规插手工程项目、与{third}关系密切等问题，群众早有反映，"
        "却在{when}被提拔为现职，属“带病提拔”。",
        "{who}在{when}提拔考察时已有反映其违规发放津补贴的信访件尚未办结，考察组仍作出"
        "“廉洁自律好”的结论。",
    ),
    Category.RUSHED_PROMOTION: (
        "{who}在{when}得知本人即将调离前，召开党组（党委）会一次性提拔调整{n}名中层干部，"
        "部分人选未经民主推荐。",
        "{who}在{when}到龄退出领导岗位前一个月，突击调整{n}名站所负责人，其中包括{relative}。",
    ),
    Category.EXCESS_POSTS: (
        "{who}所在的{unit}领导班子副职核定{n}名，实际配备{n_more}名，{when}仍新提拔一名副职，"
        "超职数配备问题突出。",
        "{who}所在单位以“工作需要”为由，于{when}擅自明确{n}名内设机构负责人享受副科级待遇，"
        "超出核定职数。",
    ),
    Category.IRREGULAR_PROCEDURE: (
        "{who}在{when}本单位选拔{post_below}过程中，未经民主推荐即确定考察对象，"
        "党组（党委）会讨论时到会人数不足三分之二仍作出决定。",
        "{unit}在{when}干部调整中未按规定进行任前公示，{who}主导人选酝酿“一言堂”，"
        "部分干部意见较大。",
        "{who}在{when}组织事业单位人员竞聘时临时修改报名条件，将工作年限由五年降为三年，"
        "明显为特定人员“量身定制”。",
    ),
    Category.FALSE_PERSONAL_REPORT: (
        "{who}在个人有关事项报告中未如实填报房产情况，其本人及配偶在县城{estate}小区"
        "另有住房{n}套、商铺一间。",
        "{who}的{relative_bare}在本县经营建材公司，多次承接{unit}相关项目，但该同志在"
        "{year}年度个人有关事项报告中未予报告。",
        "{who}的配偶自{when}起持有某农业开发公司股份，该同志在个人有关事项报告中未填报投资情况。",
    ),
    Category.OTHER_CONDUCT: (
        "{who}经常在工作日中午饮酒，{when}曾酒后驾驶公务车辆，群众反映强烈。",
        "{who}违规接受管理服务对象宴请，{when}多次到{place}参加由企业老板安排的聚餐。",
        "{who}在办理群众事项时推诿扯皮，{when}一起{matter}事项拖延三个月未办理。",
        "{who}为{relative}经营的公司承揽辖区{project}工程提供便利，工程质量存在问题。",
        "{who}于{when}操办其子婚宴，在县城酒店设宴四十余桌，收受下属及管理服务对象礼金。",
    ),
}

CLOSINGS = (
    "请组织上予以调查核实。",
    "希望组织认真核查，严肃处理。",
    "此前曾向有关部门反映，至今未见处理结果。",
    "知情人较多，可向该单位干部了解。",
    "",
    "",
)

CHANNEL_OPENERS: dict[Channel, tuple[str, ...]] = {
    Channel.HOTLINE: ("来电反映：", "来电人反映："),
    Channel.MAILBOX: ("网上举报反映：", "反映："),
    Channel.LETTER: ("来信反映：",),
    Channel.VISIT: ("来访人反映：",),
}

INTERNAL_OPENERS = (
    "{year}年度综合考核个别谈话中，有干部反映：",
    "在对{unit}开展选人用人工作专项检查时发现：",
    "{unit}领导班子民主生活会征求意见中，有干部群众反映：",
    "干部考察谈话中，有谈话对象反映：",
    "{year}年选人用人工作“一报告两评议”问卷中，有干部反映：",
)

MEMBER_UNIT_REFERRALS: dict[MemberUnit, tuple[str, str]] = {
    MemberUnit.DISCIPLINE_COMMISSION: ("县纪委监委转来信访件，反映：", "青纪信转"),
    MemberUnit.PETITIONS_BUREAU: ("县信访局转来群众来信，反映：", "青信转"),
    MemberUnit.AUDIT_BUREAU: ("县审计局移送问题线索：", "青审移"),
    MemberUnit.PROCURATORATE: ("县人民检察院在办案中发现并移送线索：", "青检移"),
    MemberUnit.POLITICAL_LEGAL_COMMITTEE: ("县委政法委转来线索，反映：", "青政法转"),
    MemberUnit.HUMAN_RESOURCES_BUREAU: ("县人社局在事业单位人事管理检查中发现：", "青人社函"),
    MemberUnit.ORGANIZATION_DEPARTMENT: ("市委组织部转来线索：", "市组转"),
}

SOURCE_REFERRALS: dict[ReferralSource, tuple[str, str]] = {
    ReferralSource.LEVEL_ABOVE: ("市委组织部12380举报受理中心转来举报件，反映：", "市组12380转"),
    ReferralSource.LEVEL_BELOW: ("{town}党委报送群众反映：", "党报"),
    ReferralSource.INVITED_SUPERVISOR: ("县委组织部特邀监督员反映：", "特监"),
    ReferralSource.ECONOMIC_AUDIT: (
        "县审计局在对{unit}主要负责人开展经济责任审计中发现：",
        "青审经责移",
    ),
    ReferralSource.REGULATION_INSPECTION: (
        "县委选人用人工作检查组在对{unit}开展条例执行情况检查中发现：",
        "青组检移",
    ),
}


# -- the register ------------------------------------------------------------------------------


def read_register(path: Path = REGISTER_CSV) -> list[CadreRecord]:
    """The demo register's rows (the same file ``seed`` imports)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"demo cadre register not found at {path} (it ships with the package as "
            "services/demo/cadres.csv)"
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [CadreRecord.model_validate(row) for row in csv.DictReader(handle)]


# -- generation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoReport:
    key: str
    submission: ReportSubmission
    feature: Feature | None = None


def _weighted(rng: random.Random, weights: dict[T, int]) -> T:
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


class _Generator:
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

    def _subject(self, cadre: CadreRecord, naming: str) -> ReportedCadre:
        return ReportedCadre(
            name=cadre.name,
            unit=cadre.unit,
            position=cadre.position,
            cadre_id=cadre.cadre_id if naming == "cadre_id" else None,
        )

    def subjects(self) -> tuple[list[ReportedCadre], CadreRecord | None]:
        """The people a report names, and the register row of the first if registered."""
        rng = self.rng
        naming = _weighted(rng, NAMING_WEIGHTS)
        if naming == "unregistered":
            name, unit, position = rng.choice(UNREGISTERED)
            return [ReportedCadre(name=name, unit=unit, position=position)], None
        first = rng.choices(self.cadres, weights=self.heat)[0]
        subjects = [self._subject(first, naming)]
        colleagues = [
            c
            for c in self.by_unit[first.unit]
            if c is not first and c.cadre_id not in self.reserved
        ]
        if colleagues and rng.random() < 0.15:
            subjects.append(self._subject(rng.choice(colleagues), naming))
        return subjects, first

    # categories

    def categories(self, weights: dict[Category, int]) -> list[Category]:
        how_many = self.rng.choices((1, 2, 3), weights=(65, 28, 7))[0]
        chosen: list[Category] = []
        pool = dict(weights)
        for _ in range(how_many):
            if not pool:
                break
            category = _weighted(self.rng, pool)
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
        source = source or _weighted(rng, REFERRAL_SOURCE_WEIGHTS)
        member_unit: MemberUnit | None = None
        weights = CATEGORY_WEIGHTS
        if source is ReferralSource.MEMBER_UNIT:
            member_unit = _weighted(rng, MEMBER_UNIT_WEIGHTS)
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
        channel = feature.channel if feature else _weighted(rng, CHANNEL_WEIGHTS)
        received = feature.received if feature else self.received_on(channel)
        if feature:
            cadre: CadreRecord | None = self.by_id[feature.cadre_id]
            subjects = [self._subject(self.by_id[feature.cadre_id], "cadre_id")]
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
    generator = _Generator(cadres, rng, reserved=RESERVED_CADRES)
    drafts: list[tuple[ReportSubmission, Feature | None]] = [
        (generator.report(feature), feature) for feature in FEATURED
    ]
    drafts += [(generator.report(), None) for _ in range(count - len(FEATURED))]
    drafts.sort(key=lambda draft: draft[0].received_on or FIRST_DAY)
    return [
        DemoReport(idempotency_key(n), submission, feature)
        for n, (submission, feature) in enumerate(drafts, start=1)
    ]


# -- seeding -----------------------------------------------------------------------------------


def seed(
    system: EmbeddedSystem,
    *,
    register_csv: Path = REGISTER_CSV,
    count: int = REPORT_COUNT,
    rng_seed: int = DEMO_SEED,
    today: dt.date = DEMO_TODAY,
) -> dict[str, int]:
    """Import the demo register, submit the demo reports, triage them and drive the cases
    through the procedure (``procedure.py``), build every projection; idempotent.

    Returns counts: cadres, reports (in the demo set), reports_added (new on this run),
    real_name, sealed, one ``channel:<name>`` per channel, cases, one ``path:<name>`` per
    triage outcome (``report:…``) and case path (``case:…``), the steps and events this run
    added, and stories skipped because their aggregate was changed outside the demo.
    """
    cadres = read_register(register_csv)
    imported = system.read.register.import_csv(register_csv)
    ensure_demo_handlers(system.accounts)
    intake_before = system.intake.max_position()
    casework_before = system.casework.max_position()
    reports = demo_reports(cadres, count=count, rng_seed=rng_seed)
    stories = Planner(reports, system.intake.policy, rng_seed, cadres).plan()
    added = 0
    for report in reports:
        if report_id_for_idempotency_key(report.key) not in system.intake.repository:
            added += 1
        channel = report.submission.channel
        try:
            # Registered on the day it arrived, as the office's ledger would show it.
            system.intake.submit(
                report.submission,
                idempotency_key=report.key,
                registered_on=report.submission.received_on,
                actor=None if channel is Channel.MAILBOX else DESK,
                # The demo's reports keep the ids its stories plan with.
                import_id=report_id_for_idempotency_key(report.key),
            )
        except IdempotencyKeyReused:
            raise DemoDataMismatch(report.key) from None
    tally = drive(system, stories, today)
    hand_over_forwarded(system.intake, (report_id_for_idempotency_key(r.key) for r in reports))
    scenario = seed_per_cadre(system, today)  # issue 10: verdicts per cadre (per_cadre.py)
    tally["steps_added:case"] += scenario["steps_added"]
    added += scenario["reports_added"]
    settled = seed_settled_items(system, today)  # items that left the office, settled
    channels = Counter(r.submission.channel for r in reports)
    paths = Counter(story.path for story in stories)
    return {
        "cadres": imported,
        "reports": len(reports) + scenario["reports"],
        "reports_added": added,
        "real_name": sum(not r.submission.reporter.anonymous for r in reports),
        "sealed": sum(r.submission.sealed for r in reports),
        **{f"channel:{channel.value}": channels[channel] for channel in Channel},
        "cases": sum(story.kind == "case" for story in stories)
        + scenario["cases"]
        + settled["settling_cases"],
        **{f"path:{path}": n for path, n in sorted(paths.items())},
        "steps_added": tally["steps_added:report"]
        + tally["steps_added:case"]
        + settled["settling_steps_added"],
        "settling_reports": settled["settling_reports"],
        "stories_skipped": tally["stories_diverged"]
        + tally["stories_missing"]
        + tally["stories_failed"],
        "intake_events_added": system.intake.max_position() - intake_before,
        "casework_events_added": system.casework.max_position() - casework_before,
    }


def describe(counts: dict[str, int]) -> list[str]:
    """A few lines for the console: what the demo holds and what this run added."""

    def by(prefix: str) -> str:
        return ", ".join(
            f"{key.removeprefix(prefix)} {n}" for key, n in counts.items() if key.startswith(prefix)
        )

    lines = [
        f"demo data: {counts['cadres']} cadres, {counts['reports']} reports "
        f"({counts['reports_added']} new this run), {counts['cases']} cases; "
        f"{counts['steps_added']} procedure steps taken this run",
        f"  channels: {by('channel:')}",
        f"  triage: {by('path:report:')}",
        f"  cases: {by('path:case:')}",
    ]
    if counts["stories_skipped"]:
        lines.append(
            f"  {counts['stories_skipped']} stories skipped: their report or case was changed "
            "outside the demo (see the log)"
        )
    return lines


class DemoDataMismatch(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"this data folder holds different demo data under the key {key} (made by another "
            "version of the demo): seed a new data folder (--data) instead"
        )
