"""The one glossary: every domain term with its English identifier and the Chinese users see.

Each enum's value is the stable English identifier stored in events and sent over
HTTP; ``.zh`` is the label shown to users (domain.md, the seeds in ../shared/seeds/).
"""

from __future__ import annotations

from enum import StrEnum


class GlossaryEnum(StrEnum):
    """A StrEnum whose members carry a Chinese label: ``Member("value", "中文")``."""

    zh: str

    def __new__(cls, value: str, zh: str = "") -> GlossaryEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh or value
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        return {m.value: m.zh for m in cls}


class Channel(GlossaryEnum):
    HOTLINE = "hotline", "12380举报电话"
    MAILBOX = "mailbox", "网上举报信箱"
    LETTER = "letter", "来信"
    VISIT = "visit", "来访"
    REFERRAL = "referral", "转办移送"
    INTERNAL = "internal", "内部渠道"


class Category(GlossaryEnum):
    """Allegation categories of the 12380 scope (选人用人问题)."""

    SEEKING_OFFICE = "seeking_office", "跑官要官"
    BUYING_SELLING_OFFICE = "buying_selling_office", "买官卖官"
    PROMISING_OFFICE = "promising_office", "封官许愿"
    VOTE_BUYING = "vote_buying", "拉票贿选"
    FRAUDULENT_CREDENTIALS = "fraudulent_credentials", "造假骗官"
    PROMOTED_WHILE_TAINTED = "promoted_while_tainted", "带病提拔"
    RUSHED_PROMOTION = "rushed_promotion", "突击提拔调整干部"
    EXCESS_POSTS = "excess_posts", "超职数超规格配备"
    IRREGULAR_PROCEDURE = "irregular_procedure", "违反程序选拔任用"
    FALSE_PERSONAL_REPORT = "false_personal_report", "个人有关事项报告不实"
    OTHER_CONDUCT = "other_conduct", "其他作风廉洁问题"


class MemberUnit(GlossaryEnum):
    """Member units of the cadre-supervision liaison meeting (联席会议成员单位)."""

    DISCIPLINE_COMMISSION = "discipline_commission", "纪委监委"
    ORGANIZATION_DEPARTMENT = "organization_department", "组织部"
    POLITICAL_LEGAL_COMMITTEE = "political_legal_committee", "政法委"
    PROCURATORATE = "procuratorate", "检察院"
    HUMAN_RESOURCES_BUREAU = "human_resources_bureau", "人事局(人社局)"
    AUDIT_BUREAU = "audit_bureau", "审计局"
    PETITIONS_BUREAU = "petitions_bureau", "信访局"


class ReferralSource(GlossaryEnum):
    """Who referred an item in, beyond the member units."""

    MEMBER_UNIT = "member_unit", "联席会议成员单位"
    LEVEL_ABOVE = "level_above", "上级转办"
    LEVEL_BELOW = "level_below", "下级报送"
    INVITED_SUPERVISOR = "invited_supervisor", "特邀监督员"
    ECONOMIC_AUDIT = "economic_audit", "经济责任审计"
    REGULATION_INSPECTION = "regulation_inspection", "条例执行情况检查"


class Role(GlossaryEnum):
    OPERATOR = "operator", "受理登记员"
    HANDLER = "handler", "承办人"
    LEADER = "leader", "科室负责人/分管领导"
    LIAISON = "liaison", "联席会议成员单位联络员"
    REPORTER = "reporter", "举报人"
    AUDITOR = "auditor", "监督检查"
    ADMIN = "admin", "系统管理员"
    SYSTEM = "system", "系统"


class ManagementLevel(GlossaryEnum):
    """Rank of a cadre in the register (管理层级)."""

    COUNTY_DIVISION_PRINCIPAL = "county_division_principal", "县处级正职"
    COUNTY_DIVISION_DEPUTY = "county_division_deputy", "县处级副职"
    TOWNSHIP_SECTION_PRINCIPAL = "township_section_principal", "乡科级正职"
    TOWNSHIP_SECTION_DEPUTY = "township_section_deputy", "乡科级副职"
    OTHER = "other", "其他"


class ReportStatus(GlossaryEnum):
    RECEIVED = "received", "已接收"
    REGISTERED = "registered", "已登记"
    ACCEPTED = "accepted", "已受理"


class CaseStatus(GlossaryEnum):
    OPEN = "open", "已立件待分办"
