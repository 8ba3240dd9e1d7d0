"""The featured demo reports: fixed date, subject and channel, one story each.

Random reports give the demo its volume; these give it every path of the procedure on
dates that make the views worth looking at from the demo's "today" (2026-11-30): a cadre
dismissed 13 months ago, an admonition followed up, a clearing, a false accusation, a
reopening, parked cases, pre-appointment publicity holds, and cases left waiting at each
stage so that every queue has something in it. ``stories/featured_cases.py`` holds the
stories; the ``tag`` links them.

All received dates are Mondays and working days (letters, visits, referrals and internal
clues are registered on working days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from schemas.glossary import Category, Channel, ReferralSource

D = dt.date
C = Category
Ch = Channel


@dataclass(frozen=True)
class Feature:
    tag: str
    received: dt.date
    cadre_id: str
    channel: Channel
    categories: tuple[Category, ...]
    real_name: bool = False
    referral_source: ReferralSource | None = None
    # A clean example: no random report names this cadre, so what the views show of them
    # is exactly the featured story (the integrity reply checks of issue 4).
    reserved: bool = False
    # "case": accepted, a case follows the story ``tag``; otherwise how triage treats it
    # ("join": joins the case of the featured story ``joins``).
    fate: Literal["case", "untriaged", "return_proposed", "forward_up", "join"] = "case"
    joins: str = ""


FEATURED: tuple[Feature, ...] = (
    # 免职 decided 2025-10-30: no leading post until 2026-10-30, no promotion until 2027-10-30.
    Feature("dismissal", D(2025, 6, 9), "QS-0038", Ch.LETTER, (C.BUYING_SELLING_OFFICE,),
            real_name=True, reserved=True),
    # 不属实 → 澄清正名 proposed by the handler, approved, carried out.
    Feature("cleared", D(2025, 3, 10), "QS-0052", Ch.HOTLINE,
            (C.SEEKING_OFFICE, C.IRREGULAR_PROCEDURE), reserved=True),
    # 诫勉 2025-08, followed up after closure: improved.
    Feature("admonition_improved", D(2025, 4, 7), "QS-0027", Ch.HOTLINE, (C.VOTE_BUYING,),
            reserved=True),
    Feature("clearing_applied", D(2025, 7, 14), "QS-0016", Ch.MAILBOX,
            (C.FALSE_PERSONAL_REPORT,)),
    Feature("clearing_awaiting_approval", D(2026, 8, 31), "QS-0036", Ch.INTERNAL,
            (C.IRREGULAR_PROCEDURE,)),
    # 谈话函询 escalated to verification; 诫勉; refused to improve → 降职.
    Feature("admonition_escalated", D(2025, 9, 15), "QS-0005", Ch.LETTER, (C.SEEKING_OFFICE,),
            real_name=True),
    Feature("admonition_follow_up_overdue", D(2026, 1, 12), "QS-0046", Ch.HOTLINE,
            (C.FALSE_PERSONAL_REPORT,)),
    Feature("false_accusation", D(2025, 12, 8), "QS-0041", Ch.VISIT,
            (C.BUYING_SELLING_OFFICE, C.PROMOTED_WHILE_TAINTED), real_name=True),
    Feature("objection_answered", D(2025, 5, 12), "QS-0020", Ch.LETTER,
            (C.IRREGULAR_PROCEDURE,), real_name=True),
    Feature("objection_reopened", D(2025, 8, 11), "QS-0049", Ch.VISIT, (C.RUSHED_PROMOTION,),
            real_name=True),
    Feature("parked_reactivated", D(2025, 9, 8), "QS-0029", Ch.HOTLINE, (C.PROMISING_OFFICE,)),
    Feature("parked_review_overdue", D(2026, 4, 13), "QS-0034", Ch.MAILBOX,
            (C.SEEKING_OFFICE,)),
    Feature("parked_reviewed", D(2026, 3, 9), "QS-0057", Ch.HOTLINE, (C.VOTE_BUYING,)),
    Feature("publicity_appointed", D(2025, 11, 17), "QS-0033", Ch.MAILBOX,
            (C.PROMOTED_WHILE_TAINTED,)),
    Feature("publicity_appointed_with_reminder", D(2026, 3, 16), "QS-0042", Ch.LETTER,
            (C.VOTE_BUYING,)),
    Feature("publicity_not_appointed", D(2026, 6, 8), "QS-0015", Ch.HOTLINE,
            (C.FRAUDULENT_CREDENTIALS,)),
    Feature("publicity_deferred", D(2026, 9, 7), "QS-0055", Ch.MAILBOX,
            (C.PROMOTED_WHILE_TAINTED,)),
    Feature("publicity_on_hold", D(2026, 11, 23), "QS-0010", Ch.HOTLINE, (C.SEEKING_OFFICE,)),
    Feature("inquiry_reply_overdue", D(2026, 9, 14), "QS-0023", Ch.MAILBOX,
            (C.FALSE_PERSONAL_REPORT,)),
    Feature("inquiry_reply_due_soon", D(2026, 10, 12), "QS-0059", Ch.HOTLINE, (C.VOTE_BUYING,)),
    Feature("inquiry_reply_late", D(2026, 5, 11), "QS-0011", Ch.LETTER,
            (C.IRREGULAR_PROCEDURE,)),
    Feature("feedback_due_soon", D(2026, 7, 20), "QS-0028", Ch.MAILBOX, (C.EXCESS_POSTS,),
            real_name=True),
    Feature("feedback_overdue", D(2026, 7, 6), "QS-0040", Ch.LETTER, (C.RUSHED_PROMOTION,),
            real_name=True),
    Feature("disposition_returned", D(2026, 2, 2), "QS-0047", Ch.HOTLINE, (C.SEEKING_OFFICE,)),
    Feature("conclusion_returned", D(2026, 3, 2), "QS-0021", Ch.INTERNAL,
            (C.FALSE_PERSONAL_REPORT,)),
    Feature("audit_finding", D(2025, 10, 20), "QS-0026", Ch.REFERRAL,
            (C.EXCESS_POSTS, C.IRREGULAR_PROCEDURE),
            referral_source=ReferralSource.ECONOMIC_AUDIT),
    Feature("transferred_to_discipline", D(2026, 4, 20), "QS-0018", Ch.HOTLINE,
            (C.BUYING_SELLING_OFFICE,)),
    Feature("closed_by_disposition", D(2026, 6, 1), "QS-0053", Ch.VISIT, (C.SEEKING_OFFICE,),
            real_name=True),
    Feature("reassigned", D(2026, 8, 3), "QS-0044", Ch.HOTLINE, (C.IRREGULAR_PROCEDURE,)),
    Feature("disposition_awaiting_approval", D(2026, 11, 16), "QS-0050", Ch.MAILBOX,
            (C.VOTE_BUYING,)),
    Feature("conclusion_awaiting_approval", D(2026, 8, 10), "QS-0007", Ch.LETTER,
            (C.RUSHED_PROMOTION,)),
    Feature("unproven", D(2025, 2, 10), "QS-0058", Ch.HOTLINE,
            (C.PROMISING_OFFICE, C.VOTE_BUYING)),
    # Accepted on Friday, not yet assigned.
    Feature("unassigned", D(2026, 11, 27), "QS-0032", Ch.HOTLINE, (C.SEEKING_OFFICE,)),
    # Waiting in the operators' queues: untriaged, and a return awaiting the leader.
    Feature("untriaged", D(2026, 11, 26), "QS-0017", Ch.HOTLINE, (C.OTHER_CONDUCT,),
            fate="untriaged"),
    Feature("untriaged_recent", D(2026, 11, 27), "QS-0039", Ch.MAILBOX,
            (C.OTHER_CONDUCT, C.FALSE_PERSONAL_REPORT), fate="untriaged"),
    Feature("return_awaiting_approval", D(2026, 11, 23), "QS-0030", Ch.MAILBOX,
            (C.OTHER_CONDUCT,), fate="return_proposed"),
    # A county leader (市管干部): sealed, forwarded to the level above.
    Feature("forwarded_up", D(2026, 5, 18), "QS-0003", Ch.LETTER, (C.SEEKING_OFFICE,),
            real_name=True, fate="forward_up"),
    # A further report about a cadre under verification joins the open case (并案).
    Feature("joined", D(2026, 9, 28), "QS-0044", Ch.HOTLINE,
            (C.OTHER_CONDUCT, C.IRREGULAR_PROCEDURE), fate="join", joins="reassigned"),
)  # fmt: skip

RESERVED_CADRES = frozenset(f.cadre_id for f in FEATURED if f.reserved)
