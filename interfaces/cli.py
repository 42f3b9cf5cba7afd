"""`gongjian` — the command line. Every command reads GONGJIAN_DATABASE_URL / GONGJIAN_REDIS_URL
through Settings and builds what it needs with `bootstrap`. Sub-commands live in typer sub-apps."""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from application.bootstrap import Container, bootstrap
from infrastructure.follower import Follower
from infrastructure.settings import Settings
from interfaces.cli_audit import audit as audit_cli
from interfaces.cli_audit import ledger_of
from interfaces.cli_calendar import calendar as calendar_cli
from interfaces.cli_catalogue import import_edition
from interfaces.cli_projections import projections as projections_cli
from interfaces.cli_witness import witness as witness_cli

app = typer.Typer(help="工建 — event-sourced construction-project approval backend.", no_args_is_help=True)
app.add_typer(projections_cli, name="projections")  # interfaces/cli_projections.py
report = typer.Typer(help="报表 — reports: monthly.", no_args_is_help=True)
app.add_typer(report, name="report")
app.add_typer(audit_cli, name="audit")  # interfaces/cli_audit.py
seal = typer.Typer(help="印章 — seals and signatures: verify.", no_args_is_help=True)
app.add_typer(seal, name="seal")
archive = typer.Typer(help="电子档案 — archive packages: verify offline, deliver transfers.", no_args_is_help=True)
app.add_typer(archive, name="archive")
exchange = typer.Typer(help="外部推送 — messages to other systems: deliver, status.", no_args_is_help=True)
app.add_typer(exchange, name="exchange")

import_ = typer.Typer(
    help="导入 — rows of the national data-sharing tables (SPGL_*) from another system.", no_args_is_help=True
)
app.add_typer(import_, name="import")
export = typer.Typer(help="导出 — the national data-sharing tables (SPGL_*) from the log.", no_args_is_help=True)
app.add_typer(export, name="export")
catalogue = typer.Typer(
    help="事项库 and 流程 — import an edition of the item catalogue; record the seed flows.", no_args_is_help=True
)
catalogue.command("import")(import_edition)  # 事项库发布 (issue 17): interfaces/cli_catalogue.py
app.add_typer(catalogue, name="catalogue")
app.add_typer(calendar_cli, name="calendar")  # 工作日历 (issue 17): interfaces/cli_calendar.py
app.add_typer(witness_cli, name="witness")  # 见证 (issue 16): interfaces/cli_witness.py

console = Console()
CLI_INTEGRATION = "cli-integration"
CLI_ADMIN = "cli-admin"


def _settings() -> Settings:
    """The settings, or a clear refusal (exit 2) naming what is missing: never a traceback."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            console.print(f"[red]refused to start:[/red] {error['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(code=2) from None


def _container() -> Container:
    return bootstrap(_settings())


def _load_demo(settings: Settings, projects_count: int) -> None:
    from demo import demo_clock, load_demo

    clock = demo_clock()
    container = bootstrap(settings, clock)
    try:
        summary = load_demo(container, clock, projects=projects_count)
    finally:
        container.close()
    console.print(
        f"demo: {summary.projects} projects, {summary.cases} cases, {summary.events} events "
        f"({summary.back_entries} back-entries, {summary.merges} merges, {summary.overdue} overdue), "
        f"{summary.ratings} ratings ({summary.bad_reviews} bad), {summary.feedback} feedback reports, "
        f"{summary.external_records} external records, {summary.inquiries} inquiries in {summary.seconds} s"
    )


@app.command()
def demo(projects_count: Annotated[int, typer.Option("--projects", min=1)] = 200) -> None:
    """演示数据 — write the deterministic demo year into an empty store, through the services."""
    _load_demo(_settings(), projects_count)


def demo_tokens(container: Container) -> dict[str, str]:
    """A development token per role: officials with province scope, the applicant as a demo owner."""
    from application.policy import ROLES
    from infrastructure.tokens import issue

    rows = container.db.query("SELECT owner_uscc FROM projects ORDER BY created_position LIMIT 1")
    owner = rows[0]["owner_uscc"] if rows else "91460000MA5T0P3X64"
    settings = container.settings
    return {
        role: issue(
            settings.jwt_secret,
            f"demo-{role}",
            role,
            owner if role == "applicant" else f"demo-{role}-org",
            "460000",
            name=f"演示 {role}",
            ttl_hours=settings.jwt_ttl_hours,
        )
        for role in ROLES
    }


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default GONGJIAN_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default GONGJIAN_PORT)")] = None,
    demo_if_empty: Annotated[bool, typer.Option(help="load the demo when the store is empty")] = False,
    projections_in_process: Annotated[bool, typer.Option(help="run the read models in this process")] = True,
    workers: Annotated[
        int, typer.Option(min=1, help="API worker processes; above 1 the read models run in `projections run`")
    ] = 1,
) -> None:
    """Serve REST (/api/v1, /docs) and GraphQL (/graphql)."""
    import uvicorn

    from interfaces.rest import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings()
    probe = bootstrap(settings)
    empty = probe.app.max_position() == 0
    probe.close()
    if demo_if_empty and empty:
        console.print("empty store: loading the demo dataset (once)")
        _load_demo(settings, 200)
    container = bootstrap(settings)
    if projections_in_process and workers == 1:
        container.engine.start(managers=True)  # read models, then the process managers (automation, deliveries)
        container.engine.wait_for(container.app.max_position(), timeout=600)
        witnesses = _start_witnesses(container)  # 见证 (issue 16): checkpoints to the witnesses, in a thread
        if witnesses is not None:
            container.extras["witnesses"] = witnesses
    base = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"[bold]gongjian[/bold] on {settings.database_url}")
    console.print(f"  REST + OpenAPI : {base}/docs")
    console.print(f"  GraphQL        : {base}/graphql")
    if settings.development_mode:
        console.print('  development tokens (GraphiQL headers: {"Authorization": "Bearer <token>"}):')
        for role, token in demo_tokens(container).items():
            console.print(f"    {role:<24}{token}", soft_wrap=True)
    if workers > 1:  # stateless workers, each with its own container (interfaces/rest/app.py)
        container.close()
        console.print(f"  {workers} workers; read models: run `gongjian projections run` alongside")
        uvicorn.run(
            "interfaces.rest.app:create_app_from_env",
            factory=True,
            workers=workers,
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
        )
        return
    try:
        uvicorn.run(create_app(container), host=host or settings.host, port=port or settings.port, log_level="info")
    finally:
        outbox = container.extras.get("witnesses")
        if outbox is not None:
            outbox.stop()  # type: ignore[attr-defined]
        container.close()


def _start_witnesses(container: Container) -> Any:
    from application.witnessing import witness_outbox

    outbox = witness_outbox(container.db, ledger_of(container), container.settings)
    if outbox is not None:
        outbox.start(container.settings.witness_every_s)
    return outbox


@app.command()
def token(
    role: Annotated[str, typer.Option(help="one of the roles of docs/security.md")],
    org: Annotated[str, typer.Option(help="USCC or department code")] = "dev-org",
    region: Annotated[str, typer.Option(help="GB/T 2260 scope")] = "460000",
    sub: Annotated[str | None, typer.Option(help="actor id")] = None,
) -> None:
    """Print a development token (refused outside the embedded default)."""
    from application.policy import ROLES
    from infrastructure.tokens import issue

    settings = _settings()
    if not settings.development_mode:
        console.print(
            "[red]development tokens are only issued on the embedded default (sqlite:///var/gongjian.db) "
            "or with GONGJIAN_DEVELOPMENT=true[/red]"
        )
        raise typer.Exit(code=2)
    if role not in ROLES:
        console.print(f"[red]unknown role {role!r}[/red]; roles: {', '.join(ROLES)}")
        raise typer.Exit(code=2)
    typer.echo(issue(settings.jwt_secret, sub or f"dev-{role}", role, org, region, ttl_hours=settings.jwt_ttl_hours))


@app.command()
def schema() -> None:
    """Print the GraphQL schema (docs/schema.graphql is this output)."""
    from interfaces.graphql.schema import schema as graphql_schema

    typer.echo(graphql_schema.as_str())


@report.command("monthly")
def report_monthly(
    month: Annotated[str, typer.Argument(help="YYYY-MM (business month of receipt)")],
    region: Annotated[str | None, typer.Option(help="GB/T 2260 code (default: the province)")] = None,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("var/reports"),
) -> None:
    """数据月报 — write monthly-MONTH[-REGION].html and .pdf (tables and charts) from the read models."""
    from application.reports import monthly_report
    from domain.shared.errors import InvalidValue
    from domain.shared.events import SHANGHAI
    from interfaces.report import write_report

    container = _container()
    try:
        container.engine.catch_up()  # the figures include every event already in the log
        today = container.clock.now().astimezone(SHANGHAI).date()
        try:
            figures = monthly_report(container.figures, container.supervised, month, region, today)
        except InvalidValue as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(code=2) from None
        html_path, pdf_path = write_report(figures, out)
    finally:
        container.close()
    s = figures.summary
    console.print(f"{figures.region_name} {month}: {s.received} received, {s.approved} approved, {s.overdue} overdue")
    console.print(f"  {html_path}\n  {pdf_path}")


@seal.command("verify")
def seal_verify(
    signatures: Annotated[Path, typer.Option(help="JSON: a list of signature entries, or a signing response")],
    hash_hex: Annotated[str | None, typer.Option("--hash", help="the document's digest, hex")] = None,
    file: Annotated[Path | None, typer.Option(help="the document itself (hashed here)")] = None,
    algorithm: Annotated[str, typer.Option(help="sm3 or sha256")] = "sm3",
    actor_id: Annotated[str, typer.Option("--actor", help="recorded as who asked")] = "cli",
    record: Annotated[bool, typer.Option("--record", help="用证留痕: record the check (one event)")] = False,
) -> None:
    """验真 — check a document and its signatures against the seals (a read; `--record` writes one
    Verification.Recorded). Exit 1 when invalid."""
    import json
    from uuid import uuid4

    from application.commands import Invocation
    from application.commands.verification import VerifySignatures
    from application.policy import Actor
    from domain.shared.errors import DomainError
    from domain.signatures.crypto import digest

    if (hash_hex is None) == (file is None):
        console.print("[red]give exactly one of --hash or --file[/red]")
        raise typer.Exit(code=2)
    document_hash = hash_hex if hash_hex is not None else digest(algorithm, file.read_bytes()).hex()  # type: ignore[union-attr]
    loaded = json.loads(signatures.read_text(encoding="utf-8"))
    entries = loaded.get("signatures", [loaded.get("signature")]) if isinstance(loaded, dict) else loaded
    container = _container()
    try:
        result = container.verifications.verify(
            Invocation(Actor(actor_id, "supervisor", "cli", "460000"), f"cli-{uuid4()}"),
            VerifySignatures(document_hash, algorithm, entries, record=record),
        ).to_json()
    except DomainError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=2) from None
    finally:
        container.close()
    for row in result["results"]:
        mark = "[green]valid[/green]" if row["valid"] else f"[red]invalid: {row['reason']}[/red]"
        console.print(f"  {row['signed_at']}  {row['signer']}  seal {row['seal_id']}  {mark}")
    verdict = "[green]VALID[/green]" if result["valid"] else f"[red]INVALID ({result['reason']})[/red]"
    done = "recorded" if result.get("recorded") else "not recorded, seals read"
    console.print(f"{document_hash}: {verdict}  (check {result['id']} {done} at position {result['position']})")
    if not result["valid"]:
        raise typer.Exit(code=1)


@archive.command("verify")
def archive_verify(
    file: Annotated[Path, typer.Argument(help="the archive package (JSON) to verify offline")],
    public_key: Annotated[str | None, typer.Option(help="trusted Ed25519 public key (hex) of the checkpoint")] = None,
    drawings: Annotated[
        Path | None, typer.Option(help="folder of drawing files, one folder per discipline, named by sheet number")
    ] = None,
) -> None:
    """验证 — verify a package with nothing but its bytes: leaves, proofs, checkpoint signature, manifest hash."""
    from application.archive_drawings import read_drawing_files
    from application.archives import verify_package

    files = read_drawing_files(drawings) if drawings else None
    result = verify_package(file.read_bytes(), bytes.fromhex(public_key) if public_key else None, files)
    console.print(result.summary(), style="green" if result.ok else "bold red")
    for problem in result.problems[:20]:
        console.print(f"  {problem}")
    if not result.ok:
        raise typer.Exit(code=1)


@archive.command("automation")
def archive_automation() -> None:
    """自动办理 — the process manager's position, cases waiting for a checkpoint, and its skips."""
    container = _container()
    try:
        status = container.automation.status()
        console.print(
            f"position {status['position']}, {status['waiting_archives']} cases wait for a checkpoint,"
            f" skipped: {status['skipped'] or 'none'}"
        )
        for row in container.automation.skips():
            console.print(f"  {row['kind']} {row['case_id']} (position {row['position']}): {row['reason']}")
    finally:
        container.close()


@archive.command("deliver")
def archive_deliver(
    every: Annotated[float, typer.Option(help="seconds between rounds; 0: one round and exit")] = 0.0,
) -> None:
    """移交 — the outbox worker: one attempt for each pending transfer whose backoff has run out."""

    container = _container()
    try:
        while True:
            for r in container.archives.deliver_due():
                console.print(f"{r['id']}: {r['status']} (attempt {r['attempts']})")
            if every <= 0:
                break
            time.sleep(every)
    finally:
        container.close()


@exchange.command("deliver")
def exchange_deliver(
    every: Annotated[float, typer.Option(help="seconds between rounds; 0: one round and exit")] = 0.0,
) -> None:
    """推送 — the outbox worker: messages of new decisions, then one attempt per due message and transfer.

    Stops on SIGINT or SIGTERM after the attempt in hand (docs/delivery.md)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    container = _container()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    follower = Follower("deliveries")  # survives the store restarting: backoff, then the next round
    try:
        while not stop.is_set():
            try:
                done = container.deliveries.run_once()
            except Exception as exc:
                if every <= 0:
                    raise  # one round asked for: its failure is the answer
                stop.wait(follower.failed(exc))
                continue
            follower.succeeded()
            for r in done.attempts:
                console.print(f"{r['id']} → {r['destination']}: {r['state']} (attempt {r['attempts']})")
            for r in done.archive_attempts:
                console.print(f"{r['id']} → archive_management: {r['status']} (attempt {r['attempts']})")
            if every <= 0:
                break
            if not done.busy:
                stop.wait(every)
    finally:
        container.close()


@exchange.command("status")
def exchange_status() -> None:
    """推送状态 — messages per destination and state (from the deliveries read model)."""
    from projections.deliveries import Deliveries

    container = _container()
    try:
        container.engine.catch_up(["deliveries"])
        table = Table("destination", "state", "messages")
        for row in Deliveries(container.db).counts():
            table.add_row(row["destination"], row["state"], str(row["n"]))
        console.print(table)
    finally:
        container.close()


@import_.command("spgl")
def import_spgl(
    folder: Annotated[Path, typer.Argument(help="folder with one SPGL_*.csv or SPGL_*.json file per table")],
    source: Annotated[str, typer.Option(help="the system the rows come from (e.g. haikou-gongjian)")],
) -> None:
    """共享交换导入 — valid rows become events (channel import); rejected rows are listed by rule."""
    import uuid

    from application.commands import Invocation
    from application.commands.spgl import ImportSpglTables
    from application.policy import Actor
    from infrastructure.spgl_files import read_dump

    container = _container()
    try:
        actor = Actor(CLI_INTEGRATION, "integration", source, "460000", "数据共享交换")
        by = Invocation(actor, f"cli-{uuid.uuid4()}")
        result = container.spgl.import_tables(by, ImportSpglTables(source, read_dump(folder)))
        table = Table("table", "rows", "imported", "corrected", "invalidated", "unchanged", "rejected")
        for name, c in result.counts.items():
            table.add_row(
                name, *(str(c[k]) for k in ("rows", "imported", "corrected", "invalidated", "unchanged", "rejected"))
            )
        console.print(table)
        by_rule: dict[str, int] = {}
        for err in result.errors:
            by_rule[err["rule"]] = by_rule.get(err["rule"], 0) + 1
        for rule, n in sorted(by_rule.items()):
            console.print(f"rejected by {rule}: {n}")
        console.print(f"import {result.id}{' (already imported: nothing written)' if result.unchanged else ''}")
    finally:
        container.close()


@import_.command("blueprint")
def import_blueprint(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection; properties.layer: zone | assessment_area")],
) -> None:
    """一张蓝图导入 — control-plan zones and regional assessment areas, as the admin (docs/blueprint.md)."""
    import json
    import uuid

    from application.commands import Invocation
    from application.commands.blueprint import ImportFeatures
    from application.policy import Actor

    container = _container()
    try:
        actor = Actor(CLI_ADMIN, "admin", "gongjian", "460000", "一张蓝图导入")
        collection = json.loads(file.read_text(encoding="utf-8"))
        command = ImportFeatures(collection.get("features", []))
        result = container.blueprint.import_features(Invocation(actor, f"cli-{uuid.uuid4()}"), command)
        console.print(", ".join(f"{k} {v}" for k, v in result.counts.items()))
        for err in result.errors:
            console.print(f"  feature {err['feature']}: {err['field']} {err['rule']}: {err['message']}")
        if result.errors:
            raise typer.Exit(code=1)
    finally:
        container.close()


@import_.command("projects")
def import_projects(
    file: Annotated[
        Path, typer.Argument(help="CSV with a header row (docs/blueprint.md); with licence columns, or XLSX: 在建工程")
    ],
    official: Annotated[
        str, typer.Option(help="在建工程迁移 (a file with licence columns, CSV or XLSX): the migrating official")
    ] = "",
) -> None:
    """历史项目迁移 — valid rows become projects (channel import); bad rows listed by row and rule.
    A file with licence columns migrates 在建工程 with their licences, all or nothing (docs/operations.md)."""
    import uuid

    from rich.progress import track

    from application.commands import Invocation
    from application.commands.migration import ImportProjects
    from application.policy import Actor
    from application.project_import import import_projects as run_import
    from application.project_import import read_rows
    from domain.shared.errors import InvalidValue
    from interfaces.cli_migration import is_migration_file, migrate_file

    if is_migration_file(file):
        migrate_file(file, official, console, _container)
        return
    container = _container()
    try:
        actor = Actor(CLI_INTEGRATION, "integration", "gongjian", "460000", "历史数据迁移")
        try:
            rows = list(read_rows(file))
        except InvalidValue as exc:
            console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(code=2) from None
        report = run_import(
            container.projects,
            Invocation(actor, f"cli-{uuid.uuid4()}"),
            ImportProjects(rows),
            progress=lambda it: track(it, description="导入项目", console=console),
        )
        console.print(
            f"{report.rows} rows: {report.imported} imported, {report.unchanged} already there (nothing written),"
            f" {len(report.errors)} rejected"
        )
        for rule, n in report.by_rule.items():
            console.print(f"rejected by {rule}: {n}")
        for err in report.errors:
            console.print(f"  row {err['row']}: {err['field']} {err['rule']}: {err['message']}")
        if report.errors:
            raise typer.Exit(code=1)
    finally:
        container.close()


@export.command("spgl")
def export_spgl(
    folder: Annotated[Path, typer.Argument(help="where to write one file per table")],
    since: Annotated[int, typer.Option(help="only rows of events after this log position")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
) -> None:
    """共享交换导出 — every table's rows, corrections as new rows plus invalidation of the old."""
    from application.policy import Actor
    from infrastructure.spgl_files import write_dump

    if fmt not in ("csv", "json"):
        raise typer.BadParameter("csv or json", param_hint="--format")
    container = _container()
    try:
        actor = Actor(CLI_INTEGRATION, "integration", "gongjian", "460000", "数据共享交换")
        counts = write_dump(folder, container.spgl.export(actor, since), fmt)
        console.print(f"{sum(counts.values())} rows in {sum(1 for n in counts.values() if n)} tables → {folder}")
    finally:
        container.close()


@export.command("uploaded")
def export_uploaded(
    file: Annotated[Path, typer.Argument(help="JSON list of {table, LSH, SJSCZT, SBYY} from the national platform")],
) -> None:
    """上报结果 — record which exported rows the national platform took (SJSCZT 1) or refused (-1/3, SBYY)."""
    import json
    import uuid

    from application.commands import Invocation
    from application.commands.spgl import RecordSpglUpload
    from application.policy import Actor

    container = _container()
    try:
        actor = Actor(CLI_INTEGRATION, "integration", "gongjian", "460000", "数据共享交换")
        results = json.loads(file.read_text(encoding="utf-8"))
        r = container.spgl.record_upload(Invocation(actor, f"cli-{uuid.uuid4()}"), RecordSpglUpload(results))
        console.print(f"{r.rows} results {'already recorded' if r.unchanged else 'recorded'} (position {r.position})")
    finally:
        container.close()


@catalogue.command("seed")
def catalogue_seed() -> None:
    """Record version 1.0 of every provincial flow not yet in the log (channel import); idempotent."""
    container = _container()
    try:
        created = container.catalogue.seed()
    finally:
        container.close()
    console.print(f"{len(created)} flows recorded: {', '.join(created)}" if created else "every seed flow is recorded")


def _plain_help(typer_app: typer.Typer) -> None:
    """Help as click prints it: wrapped, never cut. Rich's tables truncate option names at 80 columns."""
    typer_app.rich_markup_mode = None
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _plain_help(group.typer_instance)


def main() -> None:
    _plain_help(app)
    app()


if __name__ == "__main__":
    main()
