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
    # The cadre section that runs selections (decision 0034): records their steps, reads no
    # report, reporter or archive.
    SELECTION_CLERK = "selection_clerk", "选任工作人员"


class SensitiveItem(GlossaryEnum):
    """What a recorded read (the audit of sensitive reads, 敏感信息查阅记录) was about."""

    REPORTER_IDENTITY = "reporter_identity", "举报人身份信息"
    SEALED_CONTENT = "sealed_content", "封存举报内容"
    # Refusals auditors also see: a reveal outside one's scope, and the public's lockouts.
    REPORTER_IDENTITY_REFUSED = "reporter_identity_refused", "举报人身份信息查阅被拒"
    FOLLOW_UP_LOCKED = "follow_up_locked", "查询码多次输错被限制"
    MAILBOX_LOCKED = "mailbox_locked", "网上举报提交次数超限"


class ManagementLevel(GlossaryEnum):
    """Rank of a cadre in the register (管理层级)."""

    COUNTY_DIVISION_PRINCIPAL = "county_division_principal", "县处级正职"
    COUNTY_DIVISION_DEPUTY = "county_division_deputy", "县处级副职"
    TOWNSHIP_SECTION_PRINCIPAL = "township_section_principal", "乡科级正职"
    TOWNSHIP_SECTION_DEPUTY = "township_section_deputy", "乡科级副职"
    OTHER = "other", "其他"


class ReportStatus(GlossaryEnum):
    RECEIVED = "received", "已接收"
    REGISTERED = "registered", "已登记待分流"
    ACCEPTED = "accepted", "已受理"
    REPEAT = "repeat", "重复举报"
    FORWARDED_UP = "forwarded_up", "已报送上级"
    TRANSFERRED_DOWN = "transferred_down", "已转下级办理"
    TRANSFER_ACKNOWLEDGED = "transfer_acknowledged", "下级已接收"
    TRANSFER_CONCLUDED = "transfer_concluded", "下级已报告办理结果"
    REFERRED_OUT = "referred_out", "已转有关单位办理"
    REFERRAL_CONCLUDED = "referral_concluded", "转办单位已反馈"
    RETURN_PROPOSED = "return_proposed", "拟退回(待审批)"
    RETURNED = "returned", "已退回/了结"


class IdentityCheck(GlossaryEnum):
    PHONE = "phone", "电话核实"
    IN_PERSON = "in_person", "当面核实"


class CaseState(GlossaryEnum):
    OPEN = "open", "待分办"
    ASSIGNED = "assigned", "已分办待定处置方式"
    DISPOSITION_PROPOSED = "disposition_proposed", "处置方式待审批"
    INQUIRY = "inquiry", "谈话函询中"
    VERIFICATION = "verification", "初步核实中"
    PARKED = "parked", "暂存待查"
    CONCLUSION_PROPOSED = "conclusion_proposed", "核查结论待审批"
    CONCLUDED = "concluded", "已形成结论"
    CLOSED = "closed", "已办结"
    TRANSFERRED = "transferred", "已移送纪检监察机关"


class Disposition(GlossaryEnum):
    """How an accepted case is handled (处置方式)."""

    TALK_INQUIRY = "talk_inquiry", "谈话函询"
    PRELIMINARY_VERIFICATION = "preliminary_verification", "初步核实"
    PARK = "park", "暂存待查"
    CLOSE = "close", "予以了结"
    TRANSFER_TO_DISCIPLINE = "transfer_to_discipline", "移送纪检监察机关"


class InquiryOutcome(GlossaryEnum):
    CLARIFIED = "clarified", "说明清楚，予以采信"
    REMINDED = "reminded", "提醒教育"
    ESCALATED = "escalated", "转初步核实"


class FindingKind(GlossaryEnum):
    INTERVIEW = "interview", "个别谈话"
    DOCUMENT = "document", "查阅资料"
    AUDIT = "audit", "审计结果"
    INSPECTION = "inspection", "实地核查"
    OTHER = "other", "其他"


class Verdict(GlossaryEnum):
    """Conclusion on an allegation (核查结论). Unproven is not false."""

    TRUE = "true", "属实"
    PARTLY_TRUE = "partly_true", "部分属实"
    UNTRUE = "untrue", "不属实"
    UNPROVEN = "unproven", "无法查实"


class HandlingType(GlossaryEnum):
    """Organizational handling (组织处理) and lighter measures."""

    SUSPENSION = "suspension", "停职检查"
    REASSIGNMENT = "reassignment", "调整职务"
    ORDERED_RESIGNATION = "ordered_resignation", "责令辞职"
    DISMISSAL = "dismissal", "免职"
    DEMOTION = "demotion", "降职"
    ADMONITION = "admonition", "诫勉"
    REMINDER_TALK = "reminder_talk", "谈话提醒"
    CRITICISM = "criticism", "批评教育"
    WRITTEN_SELF_EXAMINATION = "written_self_examination", "责令检查"
    NON_LEADING_POST = "non_leading_post", "改任非领导职务"


class SanctionKind(GlossaryEnum):
    """A sanction another organ imposes (recorded from its result, never decided here)."""

    PARTY_DISCIPLINE = "party_discipline", "党纪处分"
    GOVERNMENT_SANCTION = "government_sanction", "政务处分"
    OTHER = "other", "其他处理"


class SettlementPath(GlossaryEnum):
    """How an item left the office; the receiver reports its result back (办理结果)."""

    TRANSFER_DOWN = "transfer_down", "转下级办理"
    REFERRAL = "referral", "转有关单位办理"
    DISCIPLINE_TRANSFER = "discipline_transfer", "移送纪检监察机关"


class AdmonitionOutcome(GlossaryEnum):
    IMPROVED = "improved", "已改正"
    ESCALATED = "escalated", "拒不改正，加重处理"


class ClearingMethod(GlossaryEnum):
    """How a falsely accused cadre's name is cleared (澄清正名)."""

    LETTER = "letter", "书面澄清"
    PARTY_COMMITTEE_NOTICE = "party_committee_notice", "向所在单位党委(党组)通报"
    SCOPED_NOTICE = "scoped_notice", "在一定范围内通报澄清"


class AccuserStatus(GlossaryEnum):
    """Routes a false-accusation case (诬告陷害)."""

    PARTY_MEMBER = "party_member", "党员"
    PUBLIC_OFFICIAL = "public_official", "公职人员"
    OTHER = "other", "其他人员"
    SUSPECTED_CRIME = "suspected_crime", "涉嫌犯罪"


class PublicityDecision(GlossaryEnum):
    """Decision on an appointment held by a report during pre-appointment publicity (任前公示)."""

    APPOINT = "appoint", "按程序任职"
    APPOINT_WITH_REMINDER = "appoint_with_reminder", "提醒后任职"
    DO_NOT_APPOINT = "do_not_appoint", "不予任职"
    DEFER = "defer", "暂缓任职"


class CaseKind(GlossaryEnum):
    REPORT = "report", "举报件"
    FALSE_ACCUSATION = "false_accusation", "诬告陷害线索"


# -- the selection record (decision 0034) ------------------------------------------------


class SelectionStage(GlossaryEnum):
    """Where a selection stands (services/common/selection_stages.py decides it)."""

    PROPOSED = "proposed", "动议"
    RECOMMENDED = "recommended", "民主推荐"
    INSPECTION_ANNOUNCED = "inspection_announced", "考察预告"
    INSPECTED = "inspected", "考察"
    DELIBERATED = "deliberated", "酝酿"
    DECIDED = "decided", "讨论决定"
    PUBLICIZED = "publicized", "任前公示"
    APPOINTED = "appointed", "任职"
    WITHDRAWN = "withdrawn", "终止"
    # Every approved candidate's appointment (or decision) declared void (AppointmentVoided).
    VOIDED = "voided", "任免无效"


class CircumstanceKind(GlossaryEnum):
    """A period during which promotions are suspect (sudden promotions, seed 000, 4.3)."""

    INSTITUTIONAL_CHANGE = "institutional_change", "机构变动"
    PRINCIPAL_LEADER_TRANSFER = "principal_leader_transfer", "主要领导成员工作调动"


class CandidateStatus(GlossaryEnum):
    """Where a selection's candidate stands: the furthest step that names them (the record's
    view and the selections read model, decision 0034). A hold by a report is shown beside it
    (``held``) in the read model, not instead of it: a release restores what the steps made
    of the candidate."""

    RECOMMENDED = "recommended", "民主推荐人选"
    INSPECTION_SUBJECT = "inspection_subject", "考察对象"
    APPROVED = "approved", "讨论决定通过"
    NOT_APPROVED = "not_approved", "讨论决定未通过"
    APPOINTED = "appointed", "已任职"
    VOIDED = "voided", "任免决定无效"
    HELD = "held", "因举报暂缓"


class SelectionWait(GlossaryEnum):
    """The period a selection in progress waits on: reports about its candidates may come
    in until the period's last day (the selections read model)."""

    INSPECTION_ANNOUNCEMENT = "inspection_announcement", "考察预告期"
    PUBLICITY = "publicity", "任前公示期"


class VoidGround(GlossaryEnum):
    """The irregularity for which an appointment (or a decision) is declared void (任免决定无效)."""

    SUDDEN_PROMOTION = "sudden_promotion", "突击提拔调整干部"
    SEEKING_OFFICE = "seeking_office", "跑官要官"
    BUYING_SELLING_OFFICE = "buying_selling_office", "买官卖官"
    PROMISING_OFFICE = "promising_office", "封官许愿"
    CANVASSING_BRIBERY = "canvassing_bribery", "拉票贿选"
    OTHER = "other", "其他违规用人行为"


class ResponsibilityStep(GlossaryEnum):
    """The step of a selection a person answers for (谁推荐谁负责，谁考察谁负责，谁决策谁负责)."""

    NOMINATION = "nomination", "提名"
    RECOMMENDATION = "recommendation", "推荐"
    INSPECTION = "inspection", "考察"
    DELIBERATION = "deliberation", "酝酿"
    DECISION = "decision", "决定"


class AccountabilityHandling(GlossaryEnum):
    """How a person is held responsible for a selection (选人用人责任追究): the organizational
    handlings and lighter measures of ``HandlingType`` (same identifiers and labels), plus a
    circulated criticism and a referral to the discipline inspection organ (the identifier of
    ``SettlementPath.DISCIPLINE_TRANSFER``)."""

    SUSPENSION = "suspension", "停职检查"
    REASSIGNMENT = "reassignment", "调整职务"
    ORDERED_RESIGNATION = "ordered_resignation", "责令辞职"
    DISMISSAL = "dismissal", "免职"
    DEMOTION = "demotion", "降职"
    ADMONITION = "admonition", "诫勉"
    REMINDER_TALK = "reminder_talk", "谈话提醒"
    CRITICISM = "criticism", "批评教育"
    WRITTEN_SELF_EXAMINATION = "written_self_examination", "责令检查"
    NON_LEADING_POST = "non_leading_post", "改任非领导职务"
    CIRCULATED_CRITICISM = "circulated_criticism", "通报批评"
    DISCIPLINE_TRANSFER = "discipline_transfer", "移送纪检监察机关"


class BasisKind(GlossaryEnum):
    """What a voided appointment or a responsibility taken rests on (its 依据)."""

    CASE = "case", "核查结论"
    PROJECT = "project", "立项督查结论"


# -- the supervision project on a selection (立项督查, issue 14) ------------------------------


class ProjectStage(GlossaryEnum):
    """Where a supervision project stands (services/common/project_stages.py decides it)."""

    OPENED = "opened", "已立项"
    TEAM_FORMED = "team_formed", "已组成督查组"
    PLANNED = "planned", "已制定督查方案"
    INVESTIGATING = "investigating", "督查核查中"
    CONCLUSION_PROPOSED = "conclusion_proposed", "已提出督查结论"
    CONCLUDED = "concluded", "督查结论已批准"
    REPORTED = "reported", "已报送督查报告"
    CLOSED = "closed", "已办结"


# What each published event is called in a timeline (全程记实).
EVENT_LABELS: dict[str, str] = {
    "ReportReceived": "收到举报",
    "ReportRegistered": "登记编号",
    "ReportAccepted": "受理",
    "ReportTriaged": "分流处理",
    "SealedContentHandedOver": "移交封存举报内容",
    "SealedContentOpened": "启封举报内容",
    "ReporterIdentityVerified": "核实举报人身份",
    "AcceptanceNoticeSent": "告知受理情况",
    "ReportDocumentIssued": "制发举报人告知文书",
    "CaseOpened": "立件",
    "ReportJoined": "并案",
    "HandlerAssigned": "分办承办人",
    "DispositionProposed": "提出处置方式",
    "DispositionApproved": "集体研究并批准处置方式",
    "DispositionReturned": "处置方式退回",
    "InquiryLetterSent": "发出函询",
    "InquiryReplyReceived": "收到函询回复",
    "InquiryReplyEvaluated": "评估函询回复",
    "FindingRecorded": "记录核实情况",
    "ParkedCaseReviewed": "暂存件定期复核",
    "Reactivated": "重新启动核查",
    "ConclusionProposed": "提出核查结论",
    "ConclusionApproved": "批准核查结论",
    "ConclusionReturned": "核查结论退回",
    "HandlingDecided": "作出组织处理",
    "AdmonitionFollowedUp": "诫勉限期改正情况",
    "ClearingProposed": "提出澄清正名",
    "ClearingApproved": "批准澄清正名",
    "ClearingCarriedOut": "实施澄清正名",
    "FalseAccusationSuspected": "移交诬告陷害线索",
    "SubjectReferred": "移送有关机关处理",
    "Closed": "办结",
    "FeedbackGiven": "向举报人反馈",
    "ObjectionRecorded": "登记举报人异议",
    "ObjectionAnswered": "答复举报人异议",
    "Reopened": "复查",
    "PublicityHeld": "任前公示暂缓",
    "PublicityDecided": "任前公示事项决定",
    "ReportSubjectIdentified": "确认被反映人身份",
    "DisciplineResultRecorded": "纪检监察机关反馈办理结果",
    # The selection record (选拔任用全程记实, decision 0034).
    "SelectionProposed": "动议",
    "CircumstanceRecorded": "登记机构变动或主要领导调动",
    "RecommendationRecorded": "民主推荐",
    "InspectionAnnounced": "考察预告",
    "IntegrityOpinionRecorded": "登记廉政鉴定意见",
    "InspectionRecorded": "考察",
    "DeliberationRecorded": "酝酿",
    "DecisionRecorded": "讨论决定",
    "PublicityStarted": "任前公示",
    "AppointmentRecorded": "任职",
    "IntegrityOpinionsRequested": "申请廉政意见",
    "CandidateHeld": "因举报暂缓人选",
    "CandidateReleased": "解除人选暂缓",
    "SelectionWithdrawn": "终止选拔任用",
    "AppointmentVoided": "任免决定无效",
    "ResponsibilityTaken": "选人用人责任追究",
    # The supervision project on a selection (立项督查).
    "ProjectOpened": "立项督查",
    "ProjectTeamFormed": "组成督查组",
    "ProjectPlanRecorded": "制定督查方案",
    "ProjectFindingRecorded": "记录督查核查情况",
    "ProjectConclusionProposed": "提出督查结论",
    "ProjectConclusionApproved": "批准督查结论",
    "ProjectConclusionReturned": "督查结论退回",
    "ProjectReportedBack": "报送督查报告",
    "ProjectClosed": "督查办结",
    # Official documents (公文, decision 0035).
    "DocumentIssued": "制发公文",
    "SelectionDocumentIssued": "制发考察反馈意见",
    "ProjectDocumentIssued": "制发立项督查通知",
}


# -- official documents (公文, decision 0035) ----------------------------------------------


class DocumentKind(GlossaryEnum):
    """An official document a step of the procedure sends (公文), numbered in its register."""

    INQUIRY_NOTICE = "inquiry_notice", "谈话函询通知书"
    ADMONITION_NOTICE = "admonition_notice", "诫勉通知书"
    CLEARING_LETTER = "clearing_letter", "澄清正名函"
    INSPECTION_FEEDBACK = "inspection_feedback", "考察反馈意见"
    PROJECT_NOTICE = "project_notice", "立项督查通知"
    # Letters to a real-name reporter: intake's documents, addressed at download (0037).
    ACCEPTANCE_LETTER = "acceptance_letter", "受理告知书"
    FEEDBACK_LETTER = "feedback_letter", "反馈意见书"


# -- case lists, queues and the reporter's follow-up -------------------------------------


class Queue(GlossaryEnum):
    """The work queues of operators, handlers and leaders (待办队列)."""

    UNREGISTERED = "unregistered", "待登记"
    UNTRIAGED = "untriaged", "待分流"
    MINE = "mine", "我承办的案件"
    SECTION = "section", "本科室承办的案件"
    DUE_SOON = "due-soon", "即将到期"
    OVERDUE = "overdue", "已逾期"
    AWAITING_APPROVAL = "awaiting-approval", "待审批"


class ApprovalKind(GlossaryEnum):
    """What a leader is asked to approve or decide."""

    DISPOSITION = "disposition", "处置方式待审批"
    CONCLUSION = "conclusion", "核查结论待审批"
    CLEARING = "clearing", "澄清正名待审批"
    PUBLICITY = "publicity", "任前公示事项待决定"
    REPORT_RETURN = "report_return", "拟退回举报件待审批"


class ClearingStage(GlossaryEnum):
    PROPOSED = "proposed", "已提出澄清正名"
    APPROVED = "approved", "澄清正名已批准"
    CARRIED_OUT = "carried_out", "已澄清正名"


class ReporterProgress(GlossaryEnum):
    """Where a report stands, in the reporter's terms (no internal detail)."""

    RECEIVED = "received", "已收到"
    ACCEPTED = "accepted", "已受理"
    UNDER_VERIFICATION = "under_verification", "正在核查"
    CONCLUDED = "concluded", "已形成核查结论"
    CLOSED = "closed", "已办结"
    REFERRED = "referred", "已转有关机关办理"


class FeedbackMethod(GlossaryEnum):
    PHONE = "phone", "电话反馈"
    LETTER = "letter", "书面反馈"
    IN_PERSON = "in_person", "当面反馈"
    ONLINE = "online", "网上反馈"


# What each deadline is called (admonition follow-ups are "name#<handling id>").
DEADLINE_LABELS: dict[str, str] = {
    "acceptance_notice": "告知受理情况",
    "inquiry_reply": "函询回复",
    "parked_review": "暂存待查定期复核",
    "feedback": "向实名举报人反馈",
    "admonition_follow_up": "诫勉限期改正情况",
    "forward_up": "报送上级",
    "transfer_acceptance": "下级接收转办件",
    "objection_answer": "答复举报人异议",
    "transfer_report_back": "下级报告办理结果",
    "referral_report_back": "转办单位反馈办理结果",
    "discipline_report_back": "纪检监察机关反馈办理结果",
}


# -- liaison-meeting figures (联席会议统计) ------------------------------------------------------


class LiaisonDimension(GlossaryEnum):
    """What the liaison figures count reports by (统计维度)."""

    CATEGORY = "category", "问题类别"
    CHANNEL = "channel", "举报渠道"
    REFERRAL_SOURCE = "referral_source", "转办来源"
    UNIT = "unit", "被反映人所在单位"
    LEVEL = "level", "被反映人管理层级"
    OUTCOME = "outcome", "办理结果"
    MONTH = "month", "月份"
    QUARTER = "quarter", "季度"


class ReportOutcome(GlossaryEnum):
    """Where a report stands or ended, as the liaison figures count it (办理结果).
    The first four are the conclusions (``Verdict``) of the report's case."""

    TRUE = "true", "属实"
    PARTLY_TRUE = "partly_true", "部分属实"
    UNTRUE = "untrue", "不属实"
    UNPROVEN = "unproven", "无法查实"
    CLOSED_WITHOUT_ACTION = "closed_without_action", "予以了结"
    TRANSFERRED_TO_DISCIPLINE = "transferred_to_discipline", "移送纪检监察机关"
    IN_HANDLING = "in_handling", "办理中"
    AWAITING_TRIAGE = "awaiting_triage", "待分流"
    REPEAT = "repeat", "重复举报"
    FORWARDED_UP = "forwarded_up", "报送上级"
    TRANSFERRED_DOWN = "transferred_down", "转下级办理"
    REFERRED_OUT = "referred_out", "转有关单位办理"
    RETURNED = "returned", "退回/了结"


class StatisticsBucket(GlossaryEnum):
    """Keys for reports a dimension has no value for."""

    NOT_REFERRED = "not_referred", "非转办件"
    UNIT_NOT_GIVEN = "unit_not_given", "未填写单位"
    UNREGISTERED = "unregistered", "未关联干部名册"
    SEALED = "sealed", "封存件(属上级管辖)"


class ReferralDirection(GlossaryEnum):
    IN = "in", "转入"
    OUT = "out", "转出"


class ReferralStatus(GlossaryEnum):
    """A referral between units (转办): pending until the result is reported back."""

    PENDING = "pending", "办理中"
    OVERDUE = "overdue", "逾期未反馈"
    REPORTED_BACK = "reported_back", "已反馈结果"


# -- supervision archives and integrity opinion replies (监督档案、廉政意见回复) ----------------


class Bar(GlossaryEnum):
    """What an organizational handling keeps a cadre from, and for how long (影响期)."""

    LEADING_POST = "leading_post", "不得安排领导职务"
    PROMOTION = "promotion", "不得提拔"
    KEY_POST = "key_post", "不得重用"
    SUSPENSION = "suspension", "停职检查期间"


class IntegrityItem(GlossaryEnum):
    """How an item stands in an integrity opinion reply (廉政意见回复)."""

    OPEN = "open", "正在办理"
    PROVEN = "proven", "经核查属实或部分属实"
    CLEARED = "cleared", "经核查不属实，已澄清正名"
    UNTRUE = "untrue", "经核查不属实"
    UNPROVEN = "unproven", "无法查实"
    CLOSED = "closed", "已了结"


# The standard wording of a reply when nothing stands in the way of the cadre's promotion
# (domain.md: "未收到反映…的问题线索，没有发现影响该同志提拔使用的问题").
CLEAN_WORDING = "未收到反映该同志选人用人方面的问题线索，没有发现影响该同志提拔使用的问题"
# After the items on file that no longer stand in the way (cleared, untrue, expired bars…).
NO_OBSTACLE_WORDING = "综上，没有发现影响该同志提拔使用的问题"
INTEGRITY_REPLY_TITLE = "廉政意见回复"
