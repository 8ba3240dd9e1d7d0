"""Organizational handling and its effects: the configuration table of domain.md.

Defaults follow 《中国共产党组织处理规定（试行）》 and the selection regulations; users
correct them through configuration (``JIANDU_CASEWORK_CONFIG``). A decision records the
effects in force when it was made, so a later change of the table never rewrites history.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.glossary import HandlingType


class HandlingEffect(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bars_leading_post_months: int = Field(0, ge=0, le=120)
    bars_promotion_months: int = Field(0, ge=0, le=120)
    bars_key_post_months: int = Field(0, ge=0, le=120)
    max_duration_months: int = Field(0, ge=0, le=120)
    follow_up: bool = False
    rule_zh: str = ""


DEFAULT_EFFECTS: dict[HandlingType, HandlingEffect] = {
    HandlingType.SUSPENSION: HandlingEffect(
        max_duration_months=6, rule_zh="停职检查时间一般不超过6个月"
    ),
    HandlingType.REASSIGNMENT: HandlingEffect(
        bars_promotion_months=12, rule_zh="调整职务的，1年内不得提拔"
    ),
    HandlingType.ORDERED_RESIGNATION: HandlingEffect(
        bars_leading_post_months=12,
        bars_promotion_months=24,
        rule_zh="责令辞职的，1年内不得安排领导职务，2年内不得担任高于原任职务层次的职务",
    ),
    HandlingType.DISMISSAL: HandlingEffect(
        bars_leading_post_months=12,
        bars_promotion_months=24,
        rule_zh="免职的，1年内不得安排领导职务，2年内不得担任高于原任职务层次的职务",
    ),
    HandlingType.DEMOTION: HandlingEffect(
        bars_promotion_months=24, rule_zh="降职的，2年内不得提拔"
    ),
    HandlingType.ADMONITION: HandlingEffect(
        bars_promotion_months=6,
        bars_key_post_months=6,
        follow_up=True,
        rule_zh="诫勉的，6个月内不得提拔或者重用；限期改正",
    ),
    HandlingType.REMINDER_TALK: HandlingEffect(rule_zh="谈话提醒，记录在案，不影响提拔使用"),
    HandlingType.CRITICISM: HandlingEffect(rule_zh="批评教育，记录在案，不影响提拔使用"),
    HandlingType.WRITTEN_SELF_EXAMINATION: HandlingEffect(
        rule_zh="责令检查，记录在案，不影响提拔使用"
    ),
    HandlingType.NON_LEADING_POST: HandlingEffect(rule_zh="改任非领导职务，记录在案"),
}
