"""Rules over external records and imported SPGL rows (W1, W4, W5, W9, W10, W3 rows)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from domain.catalog import CATALOG
from domain.exchange import spgl
from domain.shared.events import SHANGHAI
from infrastructure.db import Cursor
from projections.base import Envelope
from projections.offline_base import (
    APPROVING_STATUSES,
    CERTIFICATES,
    KIND_NAMES,
    WarningsBase,
    _business_day,
    _code_region,
)
from projections.offline_imported import NAMES
from projections.rules import explain


def _earliest(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per city case, its earliest step (its receipt, as a rule): day, position and row."""
    first: dict[str, tuple[datetime, str, dict[str, Any]]] = {}
    for s in steps:
        moment = datetime.fromisoformat(s["business_time"])
        known = first.get(s["case_ref"])
        if known is None or (moment, s["ref"]) < known[:2]:
            first[s["case_ref"]] = (moment, s["ref"], s)
    return {
        ref: {"day": moment.astimezone(SHANGHAI).date().isoformat(), "position": s["position"], "ref": s["ref"]}
        for ref, (moment, _, s) in first.items()
    }


def _created(e: Any) -> bool:
    """The first event of its record (ExternalRecord.Reported, SpglRow.Imported): no ow_records row yet."""
    return getattr(e, "originator_version", None) == 1


class RecordRules(WarningsBase):
    """Rules over external records and imported SPGL rows (W1, W4, W5, W9, W10, W3 rows)."""

    _started: dict[str, dict[str, Any] | None] | None = None  # while certificates are re-checked

    # --- external records (W1, W4, W5, W9, W10, W3 rows) ----------------------------------------

    def _record(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        record_id = str(e.originator_id)
        issued = e.issued_on.isoformat() if e.issued_on else None
        old: list[str | None] = []
        if not _created(e):  # (a first report or imported row has no row to replace: no round trip)
            self._flush(cur)
            cur.execute("DELETE FROM ow_records WHERE record_id = ? RETURNING project_code", (record_id,))
            old = [r["project_code"] for r in cur.fetchall()]
        self._defer(
            "INSERT INTO ow_records (record_id, kind, project_code, item_code, number, issued_on, case_ref,"
            " status_code, source_system, department, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record_id,
                e.kind,
                e.project_code,
                e.item_code,
                e.number,
                issued,
                e.case_ref,
                e.status_code,
                e.source_system,
                e.department,
                env.position,
            ),
            record_id,
        )
        fact = {"record_id": record_id, "kind": e.kind, "project_code": e.project_code, "item_code": e.item_code}
        fact |= {"number": e.number, "issued_on": issued, "case_ref": e.case_ref, "status_code": e.status_code}
        fact |= {"source_system": e.source_system, "department": e.department, "position": env.position}
        self._record_put(fact, old)  # the row as written: the rules below read it, not the table
        cited: set[str] = set()  # what the record cited before
        if old:  # an amendment (citations are written with their record only: a new one has none)
            cur.execute("SELECT field, number FROM ow_citations WHERE record_id = ?", (record_id,))
            before = cur.fetchall()
            cited = {r["number"] for r in before}
            dropped = [r for r in before if e.upstream.get(r["field"]) != r["number"]]
            for gone in dropped:  # an amendment no longer cites it: nothing missing any more
                self._set(cur, env, "W5", (record_id, gone["number"]), False)
                self._set(cur, env, "W4", ("upstream", record_id, gone["number"]), False)
            cur.execute("DELETE FROM ow_citations WHERE record_id = ?", (record_id,))
        for field, number in sorted(e.upstream.items()):
            cur.execute(
                "INSERT INTO ow_citations (record_id, field, number) VALUES (?, ?, ?)", (record_id, field, number)
            )
        self._cite(record_id, cited, set(e.upstream.values()))
        if e.kind in CERTIFICATES and e.number:
            self._number_known(cur, env, e.number, issued)
        if e.upstream:  # (W4, W5 read its citations: just written)
            self._upstream(cur, env, record_id, fact)
        if e.kind in CERTIFICATES:  # (W1 reads certificates only)
            self._certificate_without_case(cur, env, record_id, fact)
        self._unknown_project(cur, env, record_id, fact)
        if e.kind == "status_row":
            # an imported status row's W3 is judged with its whole case when the import completes
            self._status_row(cur, env, record_id, fact, rows_rule=not getattr(e, "spgl", False))
        if e.project_code and e.item_code:
            self._order(cur, env, e.project_code)

    def _spgl_row(self, cur: Cursor, env: Envelope) -> None:
        """An imported SPGL row: a project row counts as generated (W9, duplicates), a case row as a
        case the platform knows (W10), status rows and certificates are evidence like external
        records. An invalidation withdraws nothing already raised: the warning's evidence stays."""
        e: Any = env.event
        row = e.row
        if e.table == spgl.PROJECT:
            cur.execute("SELECT 1 FROM ow_projects WHERE code = ?", (row["XMDM"],))
            if cur.fetchone() is None:
                project = SimpleNamespace(
                    **vars(e),
                    code=row["XMDM"],
                    owner_uscc=row["JSDWDM"],
                    name=row["XMMC"],
                    region_code=row["XZQHDM"],
                    red_line=None,
                    flow_type=int(row["SPLCLX"]) if row.get("SPLCLX") else None,
                )
                self._project_generated(cur, Envelope(env.position, cast(Any, project)))
        elif e.table == spgl.CASE:
            project_code = spgl.gcdm_project_code(row["GCDM"])
            values = (str(e.originator_id), project_code, row["SPSXBM"], row["SPSXSLBM"], e.source_system, env.position)
            insert = (
                "INSERT INTO ow_records (record_id, kind, project_code, item_code, case_ref, source_system, position)"
                " VALUES (?, 'spgl_case', ?, ?, ?, ?, ?)"
            )
            if _created(e):  # a first row: no conflict possible, written with the others
                self._defer(insert, values, values[0])
                inserted = True
            else:  # a correction keeps the case as first imported
                self._flush(cur)
                cur.execute(f"{insert} ON CONFLICT (record_id) DO NOTHING RETURNING record_id", values)
                inserted = bool(cur.fetchall())
            if inserted:
                if row["SPSXSLBM"] in self._spgl_cases:  # the batch's copy of its imported cases
                    self._spgl_cases[row["SPSXSLBM"]].append(
                        {"record_id": str(e.originator_id), "project_code": project_code, "issued_on": None}
                    )
                case: dict[str, Any] = {"record_id": str(e.originator_id), "project_code": project_code}
                case |= {"item_code": row["SPSXBM"], "issued_on": None, "position": env.position, "kind": "spgl_case"}
                self._record_put({**case, "case_ref": row["SPSXSLBM"], "number": None, "department": None}, [])
            if project_code:  # a case of the item now exists: certificates of the project are re-checked (W1)
                self._recheck_certificates(cur, env, project_code)
        elif e.table == spgl.DOCUMENT:
            self._imported_document(cur, env)
        else:
            fact = spgl.as_record(e.table, row, e.source_system)
            if fact is not None:
                event = SimpleNamespace(**{**vars(e), **fact, "spgl": True})
                self._record(cur, Envelope(env.position, cast(Any, event)))
            if e.table == spgl.STATUS and int(row["BLZT"]) in APPROVING_STATUSES:
                self._imported_approval(cur, env, row["SPSXSLBM"], _business_day(row["BLSJ"]))

    def _imported_document(self, cur: Cursor, env: Envelope) -> None:
        """An imported approval document (批复文件): its number (PFWH) and the licence number it
        carries (ZZBH) identify the approval a certificate reports (W1) and are numbers a downstream
        certificate may cite (W5, W4.upstream); its date (PFRQ) approves its case (W4)."""
        e: Any = env.event
        row = e.row
        record_id = str(e.originator_id)
        project_code = spgl.gcdm_project_code(row["GCDM"])
        issued = _business_day(row["PFRQ"])
        old: list[str | None] = []
        if not _created(e):
            self._flush(cur)
            cur.execute(
                "DELETE FROM ow_records WHERE record_id IN (?, ?) RETURNING project_code",
                (record_id, f"{record_id}#ZZBH"),
            )
            old = [r["project_code"] for r in cur.fetchall()]
        numbers = [(record_id, row["PFWH"])]
        if row.get("ZZBH") and row["ZZBH"] != row["PFWH"]:
            numbers.append((f"{record_id}#ZZBH", row["ZZBH"]))
        for ident, number in numbers:
            self._defer(
                "INSERT INTO ow_records (record_id, kind, project_code, number, issued_on, case_ref, source_system,"
                " position) VALUES (?, 'spgl_document', ?, ?, ?, ?, ?, ?)",
                (ident, project_code, number, issued, row["SPSXSLBM"], e.source_system, env.position),
                ident,
            )
            fact: dict[str, Any] = {"record_id": ident, "project_code": project_code, "item_code": None}
            fact |= {"issued_on": issued}
            fact |= {"position": env.position, "kind": "spgl_document", "case_ref": row["SPSXSLBM"]}
            self._record_put({**fact, "number": number, "department": None}, old)
            self._number_known(cur, env, number, issued)  # a number a certificate may cite (W5, W4.upstream)
        self._imported_approval(cur, env, row["SPSXSLBM"], issued)
        if project_code:
            self._recheck_certificates(cur, env, project_code)

    def _imported_approval(self, cur: Cursor, env: Envelope, case_ref: str, day: str) -> None:
        """An imported case was approved on `day` (a status row 办结 or its approval document): the
        earliest such day is its approval date, and the project's order is re-checked (W4)."""
        cases = self._spgl_cases.get(case_ref)
        if cases is None:
            self._flush(cur)
            cur.execute(
                "SELECT record_id, project_code, issued_on FROM ow_records WHERE kind = 'spgl_case' AND case_ref = ?",
                (case_ref,),
            )
            cases = cur.fetchall()
        for case in cases:
            if case["issued_on"] is not None and case["issued_on"] <= day:
                continue
            case["issued_on"] = day  # (the batch's copy, changed alike)
            code = case["project_code"]
            if code in self._records:  # the cached fact, changed alike (a new dict: callers may hold the old)
                self._records[code] = [
                    {**r, "issued_on": day} if r["record_id"] == case["record_id"] else r for r in self._records[code]
                ]
            self._flush_for(cur, case["record_id"])  # (a case row of this batch: its insert goes first)
            cur.execute("UPDATE ow_records SET issued_on = ? WHERE record_id = ?", (day, case["record_id"]))
            if case["project_code"]:
                self._order(cur, env, case["project_code"])

    def _record_put(self, fact: dict[str, Any], old: list[str | None]) -> None:
        """The project caches of `_records_of` as ow_records now is: the record (written at the
        latest log position) last, its former version gone."""
        for code in {*old, fact["project_code"]}:
            if code in self._records:
                kept = [r for r in self._records[code] if r["record_id"] != fact["record_id"]]  # type: ignore[index]
                self._records[code] = [*kept, fact] if code == fact["project_code"] else kept  # type: ignore[index]

    def _recheck_certificates(
        self, cur: Cursor, env: Envelope, project_code: str, receipts: dict[str, dict[str, Any] | None] | None = None
    ) -> None:
        """W1 again for the project's certificates (`receipts`: its city cases' earliest steps, when
        the caller has just read them)."""
        # the steps do not change while they are re-checked: read once (None: the batch's copies)
        self._started = dict(receipts) if receipts is not None else None
        try:
            for r in list(self._records_of(cur, project_code)):
                if r["kind"] in CERTIFICATES and r["item_code"]:
                    self._certificate_without_case(cur, env, r["record_id"], r)
        finally:
            self._started = None

    def _imported_cases(self, cur: Cursor, r: dict[str, Any]) -> list[dict[str, Any]]:
        """The imported SPGL cases of the certificate's project and item (a city's item code mapped
        to ours), and the imported approval documents of the project whose number (PFWH or ZZBH) is
        the certificate's number."""
        return [
            m
            for m in self._records_of(cur, r["project_code"])  # in log order
            if (m["kind"] == "spgl_document" and m["number"] == r["number"])
            or (m["kind"] == "spgl_case" and r["item_code"] in (m["item_code"], self._item(m["item_code"])))
        ]

    def _item(self, code: str | None) -> str | None:
        """`NAMES.item` of a city's item code, once per batch (the catalogue is fixed for a batch)."""
        if code not in self._items:
            self._items[code] = NAMES.item(code)
        return self._items[code]

    def _city_started(self, cur: Cursor, case_ref: str, project_code: str) -> dict[str, Any] | None:
        """The earliest step of a city case (its receipt, as a rule): day, position and row. Read
        into `_started` while certificates are re-checked with their caller's receipts, else into
        the batch's copies (`_receipts_of`: a case's entry dropped when its rows change or it is judged)."""
        started = self._receipts_of if self._started is None else self._started
        if started is self._receipts_of:
            load = project_code not in self._receipts_read
            self._receipts_read.add(project_code)
        else:
            load = not started
        if load:  # the project's city cases at once, as summed up when last judged
            self._flush(cur)  # (ow_steps, ow_pending as the batch wrote them)
            cur.execute(
                "SELECT case_ref, started_day AS day, started_position AS position, started_ref AS ref"
                " FROM ow_city_cases WHERE summary IS NOT NULL AND case_ref IN"
                " (SELECT case_ref FROM ow_records WHERE project_code = ? AND kind = 'spgl_case')"
                " AND case_ref NOT IN (SELECT case_ref FROM ow_pending)",
                (project_code,),
            )
            for r in cur.fetchall():
                ref = r.pop("case_ref")
                started[ref] = r if r["day"] is not None else None
        if case_ref not in started:  # not judged since its last rows came: read its steps
            self._flush_for(cur, case_ref)
            cur.execute(
                "SELECT case_ref, business_time, position, ref FROM ow_steps WHERE case_ref = ?"
                " AND business_time IS NOT NULL",
                (case_ref,),
            )
            started[case_ref] = _earliest(cur.fetchall()).get(case_ref)
        return started[case_ref]

    def _record_row(self, cur: Cursor, record_id: str) -> dict[str, Any]:
        self._flush_for(cur, record_id)
        cur.execute("SELECT * FROM ow_records WHERE record_id = ?", (record_id,))
        row = cur.fetchone()
        assert row is not None
        return row

    def _record_columns(self, cur: Cursor, r: dict[str, Any]) -> dict[str, Any]:
        item = CATALOG.items.get(r["item_code"] or "")
        return {
            "subject": r["number"] or r["case_ref"] or r["record_id"],
            "project_code": r["project_code"],
            "region_code": self._region(cur, r["project_code"]) or _code_region(r["project_code"]),
            "department": r["department"] or (item.department if item else None),
        }

    def _number_known(self, cur: Cursor, env: Envelope, number: str, issued_on: str | None) -> None:
        """A certificate or approval number now exists: re-check everything that cites it (W5, W4)."""
        self._numbers.setdefault(number, (env.position, issued_on))  # written back by `_flush_numbers`
        for record_id in list(self._citing(cur, number)):
            self._upstream(cur, env, record_id)

    def _upstream(self, cur: Cursor, env: Envelope, record_id: str, fact: dict[str, Any] | None = None) -> None:
        """W5: a cited upstream number exists nowhere; W4: the upstream is dated after the downstream
        (`fact`: the record as just written, when the caller has it)."""
        r = fact or self._record_row(cur, record_id)
        columns = self._record_columns(cur, r)
        kind = KIND_NAMES.get(r["kind"], r["kind"])
        cur.execute("SELECT field, number FROM ow_citations WHERE record_id = ? ORDER BY field", (record_id,))
        for cite in cur.fetchall():
            if cite["number"] not in self._known:  # (ow_numbers is written at the batch's end only)
                cur.execute("SELECT position, issued_on FROM ow_numbers WHERE number = ?", (cite["number"],))
                self._known[cite["number"]] = cur.fetchone()
            known = self._known[cite["number"]]
            if known is None and cite["number"] in self._numbers:  # known since, in this batch
                position, issued_on = self._numbers[cite["number"]]
                known = {"position": position, "issued_on": issued_on}
            self._set(
                cur,
                env,
                "W5",
                (record_id, cite["number"]),
                known is None,
                reason="W5.missing_upstream",
                explanation=explain(
                    "W5.missing_upstream", kind=kind, number=r["number"], upstream=cite["number"], field=cite["field"]
                ),
                evidence=(r["position"],),
                **columns,
            )
            late = (
                known is not None
                and known["issued_on"] is not None
                and r["issued_on"] is not None
                and r["issued_on"] < known["issued_on"]
            )
            self._set(
                cur,
                env,
                "W4",
                ("upstream", record_id, cite["number"]),
                late,
                reason="W4.upstream",
                explanation=explain(
                    "W4.upstream",
                    kind=kind,
                    number=r["number"],
                    issued_on=r["issued_on"],
                    upstream=cite["number"],
                    upstream_on=known["issued_on"] if known else None,
                ),
                evidence=(r["position"], known["position"] if known else None),
                **columns,
            )

    def _certificate_without_case(
        self, cur: Cursor, env: Envelope, record_id: str, fact: dict[str, Any] | None = None
    ) -> None:
        """W1: a certificate for an item with no case here, or whose first case was created later
        (`fact`: its ow_records row as `_records_of` holds it, when the caller has it)."""
        r = fact or self._record_row(cur, record_id)
        if r["kind"] not in CERTIFICATES or not r["item_code"] or not r["project_code"]:
            return
        kind = KIND_NAMES.get(r["kind"], r["kind"])
        imported = self._imported_cases(cur, r)
        if imported:  # the city's system handled it: its approval document, or its case started in time
            started = [
                self._city_started(cur, m["case_ref"], r["project_code"]) for m in imported if m["kind"] == "spgl_case"
            ]
            issued = r["issued_on"]
            if any(m["kind"] == "spgl_document" for m in imported) or issued is None or None in started:
                self._set(cur, env, "W1", (record_id,), False)  # (a case with no step yet: judged when it has)
                return
            ours = [c["created_on"] for c in self._cases_of(cur, r["project_code"]) if c["item_code"] == r["item_code"]]
            first = min((s for s in started if s is not None), key=lambda s: (s["day"], s["ref"]))
            late = first["day"] > issued and all(day > issued for day in ours)
            self._set(
                cur,
                env,
                "W1",
                (record_id,),
                late,
                reason="W1.case_after_certificate",
                explanation=f"{kind}（编号{r['number']}，日志位置{r['position']}）发证日期{issued}早于城市系统办件"
                f"最早的办理记录{first['day']}（{first['ref']}，日志位置{first['position']}），疑似体外循环。",
                evidence=(r["position"], first["position"]),
                **self._record_columns(cur, r),
            )
            return
        cases = [c for c in self._cases_of(cur, r["project_code"]) if c["item_code"] == r["item_code"]]
        if not cases:
            reason, text, proof = (
                "W1.no_case",
                explain("W1.no_case", kind=kind, number=r["number"], item=r["item_code"]),
                [r["position"]],
            )
        else:
            first = cases[0]
            late = r["issued_on"] is not None and first["created_on"] > r["issued_on"]
            reason, proof = "W1.case_after_certificate", [r["position"], first["created_position"]]
            text = explain(
                reason, kind=kind, number=r["number"], issued_on=r["issued_on"], created_on=first["created_on"]
            )
            if not late:
                self._set(cur, env, "W1", (record_id,), False)
                return
        self._set(
            cur,
            env,
            "W1",
            (record_id,),
            True,
            reason=reason,
            explanation=text,
            evidence=proof,
            **self._record_columns(cur, r),
        )

    def _unknown_project(self, cur: Cursor, env: Envelope, record_id: str, r: dict[str, Any]) -> None:
        """W9: another system's data about a project never generated here (未策划生成), or no code at all."""
        system = r["source_system"] or r["kind"]
        if r["project_code"]:
            if self._region(cur, r["project_code"]) is not None:
                return
            reason, text = (
                "W9.project_not_generated",
                explain("W9.project_not_generated", system=system, project=r["project_code"]),
            )
        elif r["kind"] == "status_row":
            reason, text = "W9.no_project_code", explain("W9.no_project_code", system=system, case_ref=r["case_ref"])
        else:
            return
        self._set(
            cur,
            env,
            "W9",
            (record_id,),
            True,
            reason=reason,
            explanation=text,
            evidence=(r["position"],),
            **self._record_columns(cur, r),
        )

    def _status_row(
        self, cur: Cursor, env: Envelope, record_id: str, r: dict[str, Any], *, rows_rule: bool = True
    ) -> None:
        """W10: a status row of another system for a case we do not have; W3: closed with no acceptance row."""
        columns = {**self._record_columns(cur, r), "subject": f"{r['source_system']}:{r['case_ref']}"}
        ours: Any = self._cases.get(r["case_ref"])
        if ours is None and r["project_code"]:  # an imported case of its project (held: no query)
            ours = (
                any(
                    m["kind"] == "spgl_case" and m["case_ref"] == r["case_ref"]
                    for m in self._records_of(cur, r["project_code"])
                )
                or None
            )
        if ours is None:
            self._flush(cur)
            cur.execute("SELECT case_id FROM ow_cases WHERE case_id = ?", (r["case_ref"],))
            ours = cur.fetchone()
        if ours is None:  # a case reported through the data-sharing tables is known to the platform
            self._flush(cur)
            cur.execute("SELECT 1 FROM ow_records WHERE kind = 'spgl_case' AND case_ref = ?", (r["case_ref"],))
            ours = cur.fetchone()
        if ours is not None and not rows_rule:
            return  # (the rows below are the evidence of W10 and W3 only)
        self._flush(cur)
        cur.execute(
            "SELECT position, status_code FROM ow_records WHERE kind = 'status_row' AND source_system = ?"
            " AND case_ref = ? ORDER BY position",
            (r["source_system"], r["case_ref"]),
        )
        rows = cur.fetchall()
        keys = (r["source_system"], r["case_ref"])
        if ours is None:
            self._set(
                cur,
                env,
                "W10",
                ("external_case", *keys),
                True,
                reason="W10.external_case",
                explanation=explain("W10.external_case", system=r["source_system"], case_ref=r["case_ref"]),
                evidence=[row["position"] for row in rows],
                case_id=None,
                **columns,
            )
        if not rows_rule:
            return
        closed = [row["position"] for row in rows if row["status_code"] in (11, 12)]
        accepted = any(row["status_code"] == 3 for row in rows)
        self._set(
            cur,
            env,
            "W3",
            ("rows", *keys),
            bool(closed) and not accepted,
            reason="W3.rows_no_acceptance",
            explanation=explain("W3.rows_no_acceptance", system=r["source_system"], case_ref=r["case_ref"]),
            evidence=closed,
            case_id=r["case_ref"] if ours else None,
            **columns,
        )
