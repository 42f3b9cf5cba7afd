"""权限 — the one place that decides who may do what, and where.

Two checks: the role may perform the action (PERMISSIONS), and the subject lies in the actor's
scope (an applicant acts only for its own organisation; officials only inside their region).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.errors import Forbidden
from domain.shared.events import Channel
from domain.shared.reference import REFERENCE

ROLES: tuple[str, ...] = (
    "applicant",
    "window_clerk",
    "reviewer",
    "approver",
    "supervisor",
    "analyst",
    "accountability_officer",
    "integration",
    "admin",
)

_CLERKS = frozenset({"window_clerk", "integration"})
_OFFICIALS = frozenset({"reviewer", "approver", "integration"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "project.generate": frozenset({"applicant", "window_clerk", "integration", "admin"}),
    "project.supply-land": frozenset({"reviewer", "approver", "integration", "admin"}),
    "project.link-parcel": frozenset({"reviewer", "approver", "integration", "admin"}),
    "project.register-unit-work": frozenset({"applicant", "window_clerk", "reviewer", "integration", "admin"}),
    "project.merge": frozenset({"supervisor", "admin"}),
    # 智能查重: the review list of duplicate-code candidates; analysts review data quality too, merging
    # stays with supervisors and admins
    "duplicate.read": frozenset({"supervisor", "analyst", "admin"}),
    # 一张蓝图: control-plan zones and regional assessment areas (application/blueprint.py)
    "blueprint.import": frozenset({"admin"}),
    "blueprint.retire": frozenset({"admin"}),
    # 流程—阶段—事项—区划: publishing a flow version or retiring a flow (application/catalogue.py)
    "catalogue.publish": frozenset({"admin"}),
    "catalogue.retire": frozenset({"admin"}),
    # 事项库发布: an edition of the item catalogue from a file (application/catalogue_editions.py)
    "catalogue.edition.publish": frozenset({"admin"}),
    # 工作日历: the year's holiday schedule from the State Council notice (application/work_calendar.py)
    "calendar.publish": frozenset({"admin"}),
    "case.submit": frozenset({"applicant"}) | _CLERKS,
    "case.accept": _CLERKS,
    "case.not-accept": _CLERKS,
    "case.refuse-acceptance": _CLERKS,
    "case.request-correction": _CLERKS | _OFFICIALS,
    "case.complete-correction": frozenset({"applicant"}) | _CLERKS,
    "case.start-review": _OFFICIALS,
    "case.record-opinion": _OFFICIALS,
    "case.start-special-procedure": _OFFICIALS,
    "case.end-special-procedure": _OFFICIALS,
    "case.approve": frozenset({"approver", "integration"}),
    "case.approve-pending-materials": frozenset({"approver", "integration"}),
    "case.supply-materials": frozenset({"applicant"}) | _CLERKS,  # 补齐容缺材料: handed in, or recorded at the window
    "case.approve-on-commitment": frozenset({"approver", "integration"}),
    "case.verify-commitment": frozenset({"approver"}),  # a false finding revokes: the revoking role
    "case.refuse": frozenset({"approver", "integration"}),
    "case.withdraw": frozenset({"applicant"}) | _CLERKS,
    "case.revoke": frozenset({"approver", "admin"}),
    "case.offline-entry": frozenset({"window_clerk", "reviewer", "approver", "integration", "admin"}),
    "external-record.report": frozenset({"integration"}),
    # 数据共享交换: city systems import their SPGL tables; the national upload reads the export
    "spgl.import": frozenset({"integration", "admin"}),
    "spgl.export": frozenset({"integration", "admin", "supervisor"}),
    "warning.acknowledge": frozenset({"supervisor", "accountability_officer", "admin"}),
    "warning.close": frozenset({"supervisor", "accountability_officer", "admin"}),
    "inquiry.open": frozenset({"accountability_officer", "admin"}),
    "inquiry.request-explanation": frozenset({"accountability_officer", "admin"}),
    # the asked department's officials too (the service checks the department, see application/supervision.py)
    "inquiry.record-explanation": frozenset({"accountability_officer", "admin", "reviewer", "approver"}),
    "inquiry.record-finding": frozenset({"accountability_officer", "admin"}),
    "inquiry.record-sanction": frozenset({"accountability_officer", "admin"}),
    "inquiry.close": frozenset({"accountability_officer", "admin"}),
    # inquiries name officials, their explanations and sanctions: not for analysts, who keep the rates
    "inquiry.read": frozenset({"supervisor", "accountability_officer", "admin"}),
    "inquiry.rates": frozenset({"supervisor", "analyst", "accountability_officer", "admin"}),
    "rating.rate": frozenset({"applicant"}),
    # the department's officials of the case's region record the rectification of a bad review
    "rating.rectify": frozenset({"window_clerk", "reviewer", "approver"}),
    "rating.follow-up": frozenset({"supervisor"}),
    # experience officers (体验员) act under the supervisor role, with reporter_kind experience_officer
    "feedback.submit": frozenset({"supervisor", "applicant"}),
    # 跟踪督办 (application/ratings.py): supervisors list, assign and close; the assigned department's
    # officials answer (the service checks the department); reports hold free text: not for analysts
    "feedback.list": frozenset({"supervisor", "admin"}),
    "feedback.assign": frozenset({"supervisor", "admin"}),
    "feedback.answer": frozenset({"window_clerk", "reviewer", "approver", "admin"}),
    "feedback.close": frozenset({"supervisor", "admin"}),
    "feedback.read": frozenset(
        {"window_clerk", "reviewer", "approver", "supervisor", "accountability_officer", "admin"}
    ),
    # 印章: admin, or an approver for their own organisation's seals (checked in application/signatures.py)
    "seal.register": frozenset({"approver", "admin"}),
    "seal.change-signers": frozenset({"approver", "admin"}),
    "seal.suspend": frozenset({"approver", "admin"}),
    "seal.resume": frozenset({"approver", "admin"}),
    "seal.revoke": frozenset({"approver", "admin"}),
    "signing.request": frozenset({"applicant", "window_clerk", "reviewer", "approver", "integration", "admin"}),
    # the role may sign; whether this actor may use a given seal is the seal's list of authorised signers
    "signing.sign": frozenset({"applicant", "window_clerk", "reviewer", "approver", "integration"}),
    # 电子证照: signed with a seal the actor is an authorised signer of (checked in application/licences.py)
    "licence.issue": frozenset({"approver", "integration"}),
    "licence.revoke": frozenset({"approver", "admin"}),
    "signature.verify": frozenset(ROLES),  # 验真 is open to every authenticated party, and writes nothing
    # 用证留痕: an official who relies on a check in their work records it (one event, on request only)
    "signature.record-check": frozenset(
        {"window_clerk", "reviewer", "approver", "supervisor", "accountability_officer", "admin"}
    ),
    # 电子档案: generated for a decided or closed case in the actor's region; transfer and receipt
    "archive.generate": frozenset({"approver", "integration", "admin"}),
    "archive.transfer": frozenset({"approver", "integration", "admin"}),
    "archive.receive": frozenset({"integration", "admin"}),
    "archive.read": frozenset(ROLES) - {"applicant"},
    # 外部推送: the outbox of messages to other systems, and tender results received (docs/delivery.md)
    "delivery.read": frozenset({"supervisor", "admin", "integration"}),
    "delivery.requeue": frozenset({"admin", "integration"}),
    "tender-award.read": frozenset(ROLES) - {"applicant"},
    # 中介超市 (application/intermediaries.py): owners order as applicants; an agency acts under the
    # integration role with its USCC as org (the order checks it is the selected agency)
    "agency.register": frozenset({"admin"}),
    "agency.suspend": frozenset({"supervisor", "admin"}),
    "agency.reinstate": frozenset({"supervisor", "admin"}),
    "service-order.place": frozenset({"applicant"}),
    "service-order.award": frozenset({"applicant"}),
    "service-order.cancel": frozenset({"applicant"}),
    "service-order.bid": frozenset({"integration"}),
    "service-order.accept": frozenset({"integration"}),
    "service-order.deliver": frozenset({"integration"}),
    # 评估评审: the case's officials convene the expert panel, record opinions and the result
    "assessment-review.start": _OFFICIALS,
    "assessment-review.record-opinion": _OFFICIALS,
    "assessment-review.finish": _OFFICIALS,
    # 图纸电子化交付 / BIM 图审 / 联合测绘 / 多规合一 (application/drawings.py, industry.py, multiplan.py)
    "drawings.deliver": frozenset({"applicant", "window_clerk", "integration"}),
    "drawings.review": frozenset({"reviewer", "approver", "integration"}),
    "drawings.approve": frozenset({"approver", "integration"}),
    "drawings.check": frozenset(ROLES) - {"analyst"},
    "bim.submit": frozenset({"applicant", "window_clerk", "integration"}),
    "bim.approve-design": frozenset({"reviewer", "approver", "integration"}),
    "survey.record": frozenset({"window_clerk", "reviewer", "integration"}),
    "multiplan.receive": frozenset({"integration", "admin"}),
    # lists across projects (projections/industry.py) in the reader's region; applicants read their own project
    "industry.read": frozenset(ROLES) - {"applicant"},
    # detail reads (project, case, licence …) in scope; their personal fields need personal-data.read
    "read": frozenset(ROLES),
    # 个人信息: officials' ids and organisations, applicants' names and codes, free text, signers,
    # archive packages; analysts read aggregates only (interfaces/graphql/personal.py, docs/security.md)
    "personal-data.read": frozenset(ROLES) - {"analyst"},
    # 审计追溯: actor ids, names and organisations are personal data; analysts read aggregates only
    "audit.read": frozenset(ROLES) - {"analyst", "integration"},
    # 原始事件: the stored events themselves by position range (GraphQL ledger.events), for auditors
    "ledger.raw": frozenset({"supervisor", "accountability_officer", "admin"}),
    "statistics.read": frozenset(ROLES) - {"applicant", "integration"},
    "projections.manage": frozenset({"admin"}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: from the bearer token's claims."""

    actor_id: str
    role: str
    org: str
    region: str
    name: str = ""

    @property
    def channel(self) -> Channel:
        """The channel is derived from the role, never taken from the request."""
        if self.role == "integration":
            return Channel.IMPORT
        if self.role == "window_clerk":
            return Channel.WINDOW
        return Channel.ONLINE


# 系统自动办理 — what the process manager (application/automation.py) does on its own, and as whom.
# It acts as these accounts (role integration, so the ordinary permissions above apply, province-wide
# scope), with channel system_rule, and only through the ordinary services:
# - an approval (Case.Approved / Case.ApprovedPendingMaterials with a document number) of an item
#   whose catalogue entry has a licence_type issues that licence, numbered with the document number,
#   signed with a seal held by the item's department of the case's city/county unit (`department_org`) that
#   lists LICENCE_ISSUER among its authorised signers: a department opts in to automatic sealing by
#   authorising this signer. No such usable seal, or content the system cannot fill in (a required
#   topic field it does not know) → nothing is issued; the skip and its reason are recorded;
# - a case reaching a decided or closed status (BLZT 2, 4, 5, 11–15) gets its archive package once
#   a signed ledger checkpoint covers its events.
LICENCE_ISSUER = Actor("system:licence-issuer", "integration", "gongjian", "460000", "电子证照自动签发")
ARCHIVER = Actor("system:archiver", "integration", "gongjian", "460000", "电子档案自动归档")
# 智能审批: accepts and approves a rule-eligible case in the request that receives it (application/rule_approval.py)
RULE_APPROVER = Actor("system:rule-approval", "integration", "gongjian", "460000", "智能审批")
AUTOMATIC_CHANNEL = Channel.SYSTEM_RULE
# 工作日历重新计时: judges open cases again when a year's calendar is published (application/work_calendar.py)
CALENDAR_RULE = Actor("system:work-calendar", "integration", "gongjian", "460000", "工作日历重新计时")


def department_org(region_code: str, department: str) -> str:
    """The organisation code of a department (e.g. 460100-zjj): who holds its seals. Approving
    departments sit at the city/county unit, so a district's case goes to its prefecture's."""
    return f"{REFERENCE.unit_of(region_code)}-{department}"


def authorize(actor: Actor, action: str, *, owner_org: str | None = None, region_code: str | None = None) -> None:
    roles = PERMISSIONS.get(action)
    if roles is None:
        raise Forbidden(f"unknown action {action}")
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role} may not {action}")
    if actor.role == "applicant":
        if owner_org is not None and owner_org != actor.org:
            raise Forbidden(f"applicant {actor.org} may act only for its own projects (owner {owner_org})")
        return
    if region_code is not None and actor.role != "admin" and not in_scope(actor, region_code):
        raise Forbidden(f"region {region_code} is outside the actor's scope {actor.region}")


def in_scope(actor: Actor, region_code: str) -> bool:
    return actor.region in ("", "460000") or REFERENCE.within(region_code, actor.region)
