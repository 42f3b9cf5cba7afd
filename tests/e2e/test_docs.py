"""Docs that run: every block of code in README.md and docs/*.md runs here, against a small demo.

What runs is decided by the fenced block's language tag (docs/architecture.md, "Docs that run"):

- ```graphql — every operation of the block is executed through `schema.execute` over the demo, as
  the province's supervisor (`<!-- doc-test: as ROLE -->` names another role); it must answer
  without errors, so a field or argument that no longer exists fails. Placeholders in quotes
  (`"<a project code>"`) are filled from the demo: PLACEHOLDERS below.
- ```bash / ```sh — every line that starts with `gongjian ` (after optional `VAR=value` settings,
  a `\\` continuing it) runs as a CLI command in the demo's working directory (the embedded default
  `sqlite:///var/gongjian.db`, development mode, as `make run`) and must exit 0. `[optional parts]`
  are left out, `# comments` ignored, PLACEHOLDERS filled, `/srv/…` paths put under the demo's
  directory. Other lines (`make`, `python -m bench`, `pg_ctlcluster`, `export`) are not ours: not run.
- ```python — runs only when marked `<!-- doc-test: run -->`.
- Any other tag (json, text, http, none) is illustrative — an answer, a schema excerpt, a format, a
  setting — and is never run. A block with no tag holds no `gongjian` command and no query.

A marker is an HTML comment on the line right before the opening fence. `<!-- doc-test: skip
(reason) -->` keeps a block from running (long-running, or needing what a test machine lacks); the
reason is required. A skipped block is still checked, never skipped as a test: each command of a
shell block with `--help` appended (a command or option that no longer exists fails: typer exits 2),
a query against the schema (an unknown field or argument fails); so is every
`gongjian …` named in an inline code span of the prose (in-process, nothing runs).
`<!-- doc-test: checked by TEST -->` on an illustrative block: TEST, in this module, compares it with
what the code makes (the signed checkpoint of docs/evidence.md). Each block is its own test, named
`file:line` of its opening fence, and every failure says where.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast, validate

from application.bootstrap import Container, bootstrap
from application.policy import Actor
from infrastructure.keystore import DEV_PASSPHRASE
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from tests.e2e.test_cli import SCRATCH, _env

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CLI = [sys.executable, "-m", "interfaces.cli"]
SHELL = {"bash", "sh"}
ILLUSTRATIVE = {"", "json", "text", "http", "csv", "xml"}
MARKER = re.compile(r"<!--\s*doc-test:\s*(?P<verb>[a-z]+)\s*(?P<arg>.*?)\s*-->")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+)(?P<lang>[\w+-]*)\s*$")
ROLES = {  # who a documented query runs as: province-wide officials
    "supervisor": Actor("supervisor-460000", "supervisor", "460000-yshj", "460000", "海南省督查员"),
    "admin": Actor("admin-460000", "admin", "460000-yshj", "460000", "管理员"),
    "accountability_officer": Actor("officer-460000", "accountability_officer", "460000-jw", "460000", "问责员"),
}
# Placeholders of the docs → the query (over the demo) whose first value fills them, and what fills
# them when the demo has none (the demo pushes no message to other systems: an unknown id, answered null).
PLACEHOLDERS = {
    "<a project code>": ("{ projects(first: 1) { edges { node { code } } } }", None),
    "<a case id>": ("{ cases(first: 1) { edges { node { id } } } }", None),
    "<a delivery id>": ("{ deliveries(first: 1) { edges { node { id } } } }", "00000000-0000-0000-0000-000000000000"),
}
COMMAND_PLACEHOLDERS = {"<read model>": "offline_warnings"}  # CLI placeholders → a value


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    verb: str = ""  # of the marker before it: run, skip, as, checked
    arg: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == opening["fence"])
        indent = len(opening["indent"])
        code = "\n".join(line[indent:] for line in lines[i + 1 : end]) + "\n"
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.search(before)
        verb, arg = (marker["verb"], marker["arg"]) if marker else ("", "")
        yield Block(path, i + 1, opening["lang"], code, verb, arg)
        i = end + 1


ALL = [b for path in DOCS for b in blocks(path)]


def _of(*langs: str) -> list[Any]:
    return [pytest.param(b, id=b.where) for b in ALL if b.lang in langs]


# --- the demo every block runs against ----------------------------------------------------------


@dataclass
class Demo:
    cwd: Path  # the working directory: var/gongjian.db is the embedded default there
    container: Container
    values: dict[str, str]  # placeholder → value


def _query(container: Container, query: str, role: str = "supervisor") -> Any:
    return asyncio.run(schema.execute(query, context_value=Context(container, ROLES[role])))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`gongjian demo --projects 20` into the embedded default of a fresh directory (as `make run`),
    the read models caught up in-process as `gongjian serve` does."""
    cwd = tmp_path_factory.mktemp("docs")
    loaded = subprocess.run(
        [*CLI, "demo", "--projects", "20"], env=_env(None), cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    settings = Settings(
        database_url=f"sqlite:///{cwd}/var/gongjian.db",
        development=True,  # the embedded default, seen from another working directory
        keystore_passphrase=DEV_PASSPHRASE,
    )
    container = bootstrap(settings)
    try:
        container.engine.catch_up()
        values = {}
        for placeholder, (query, otherwise) in PLACEHOLDERS.items():
            answer = _query(container, query)
            assert answer.errors is None, (placeholder, answer.errors)
            [edges] = [v["edges"] for v in answer.data.values()]
            value = next(iter(edges[0]["node"].values())) if edges else otherwise
            assert value is not None, f"the demo has nothing to fill {placeholder} with"
            values[placeholder] = value
        yield Demo(cwd, container, values)
    finally:
        container.close()


def _fill(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


# --- the rule itself ----------------------------------------------------------------------------


def test_every_block_is_run_or_illustrative_by_its_tag_and_every_marker_is_known() -> None:
    for b in ALL:
        assert b.lang in {"graphql", "python", *SHELL, *ILLUSTRATIVE}, f"{b.where}: unknown tag {b.lang!r}"
        assert b.verb in {"", "run", "skip", "as", "checked"}, f"{b.where}: unknown doc-test marker {b.verb!r}"
        if b.verb == "skip":
            assert re.fullmatch(r"\(.+\)", b.arg), f"{b.where}: a skip names its reason in parentheses"
        if b.verb == "as":
            assert b.arg in ROLES, f"{b.where}: no role {b.arg!r} to run as"
        if b.verb == "checked":
            assert b.arg.removeprefix("by ") in globals(), f"{b.where}: no test {b.arg!r} in this module"
        if b.lang == "":  # untagged: nothing of ours to run hides in it
            assert not re.search(r"^\s*gongjian ", b.code, re.M), f"{b.where}: a command in an untagged block"


# --- graphql ------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", _of("graphql"))
def test_documented_queries_answer_without_errors(block: Block, demo: Demo) -> None:
    try:
        document = parse(_fill(block.code, demo.values))
    except GraphQLError as exc:
        pytest.fail(f"{block.where}: {exc}")
    if block.verb == "skip":  # not run, but every field and argument it names must exist
        problems = validate(schema._schema, document)
        assert not problems, f"{block.where}: {problems}"
        return
    for operation in document.definitions:
        assert isinstance(operation, OperationDefinitionNode), f"{block.where}: not an operation"
        text = print_ast(operation)
        answer = _query(demo.container, text, block.arg if block.verb == "as" else "supervisor")
        assert answer.errors is None, f"{block.where}: {text}\n{answer.errors}"


# --- commands -----------------------------------------------------------------------------------


def commands(block: Block) -> Iterator[tuple[dict[str, str], list[str]]]:
    """The block's `gongjian` command lines: (settings given before it, arguments after `gongjian`)."""
    for line in block.code.replace("\\\n", " ").splitlines():
        words = shlex.split(_fill(re.sub(r"\[[^\]]*\]", "", line), COMMAND_PLACEHOLDERS), comments=True)
        settings = {}
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            settings[name] = value
        if words and words[0] == "gongjian":
            yield settings, words[1:]


def _run(args: list[str], settings: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=_env(None, **settings), cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("block", [p for p in _of(*SHELL) if any(commands(p.values[0]))])
def test_documented_commands_exit_0(block: Block, demo: Demo) -> None:
    srv = demo.cwd / "srv"
    for settings, args in commands(block):
        args = [a.replace("/srv/", f"{srv}/") for a in args]
        if block.verb == "skip":  # not run, but every command and option must still exist
            shown = _run([*args, "--help"], settings, demo.cwd)
            assert shown.returncode == 0, f"{block.where}: gongjian {' '.join(args)}\n{shown.stdout}{shown.stderr}"
            continue
        done = _run(args, settings, demo.cwd)
        assert done.returncode == 0, f"{block.where}: gongjian {' '.join(args)}\n{done.stdout}{done.stderr}"


def test_commands_named_in_prose_exist() -> None:
    """Every `gongjian …` in an inline code span of the prose: its command and options exist (`--help`
    appended, in-process: nothing runs). `a|b` names alternatives, `&&` chains commands."""
    from typer.testing import CliRunner

    from interfaces.cli import app

    runner = CliRunner()
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for span in re.finditer(r"(?<!`)`(gongjian [^`]+)`(?!`)", text):
            where = f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, span.start()) + 1}"
            for command in span[1].split("&&"):
                words = shlex.split(_fill(re.sub(r"\[[^\]]*\]", "", command), COMMAND_PLACEHOLDERS))
                if words[0] != "gongjian":
                    continue
                for alternative in next((w.split("|") for w in words if "|" in w), [""]):
                    args = [alternative if "|" in w else w for w in words[1:]]
                    shown = runner.invoke(app, [*args, "--help"])
                    assert shown.exit_code == 0, f"{where}: {command.strip()}\n{shown.output}"


# --- python -------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", [p for p in _of("python") if p.values[0].verb == "run"])
def test_documented_python_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a block writes where it is run, as a reader's would (var/gongjian.db)
    for name in os.environ:  # a fresh shell's settings, as the CLI's (`_env`)
        if name.startswith("GONGJIAN_") and name not in SCRATCH:
            monkeypatch.delenv(name)
    exec(compile(block.code, block.where, "exec"), {"__name__": "doc_block"})  # our own docs


# --- statements checked against the code --------------------------------------------------------


def checked_by(test: str) -> list[Block]:
    return [b for b in ALL if b.verb == "checked" and b.arg == f"by {test}"]


def test_the_documented_checkpoint_is_what_the_ledger_signs(tmp_path: Path) -> None:
    """docs/evidence.md's example signed checkpoint and v1 lines, made again by the code; its vkey too."""
    from application.ledger import signed_note
    from domain.ledger.checkpoint import Checkpoint
    from domain.ledger.note import ED25519, Verifier, parse_checkpoint, parse_note, raw_public_key, verify_note

    [note, v1] = checked_by("test_the_documented_checkpoint_is_what_the_ledger_signs")
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))  # the example's key: a seed of 32 zero bytes
    head = parse_checkpoint(note.code.split("\n\n")[0] + "\n")
    assert head.root_hash == bytes(range(32)), f"{note.where}: the example's root is 0x00 0x01 … 0x1f"
    time = "2026-03-02T01:23:45.678901+00:00"
    unsigned = Checkpoint(head.tree_size, head.root_hash, time, "sm3", origin=head.origin)
    checkpoint = Checkpoint(**{**vars(unsigned), "signature": key.sign(unsigned.message())})
    assert signed_note(checkpoint, raw_public_key(key)) == note.code, f"{note.where}: not what the ledger signs"
    verifier = Verifier(head.origin, ED25519, raw_public_key(key))
    assert verify_note(parse_note(note.code), [verifier]) == [verifier]
    assert f"`{verifier.vkey()}`" in note.path.read_text(encoding="utf-8"), f"{note.where}: the example's vkey"
    pem = tmp_path / "example-ledger-key.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    shown = _run(["witness", "vkey", "--log", "--name", head.origin, str(pem)], {}, tmp_path)
    assert shown.stdout.strip() == verifier.vkey(), shown.stdout + shown.stderr  # as the doc's command prints it
    before = Checkpoint(head.tree_size, head.root_hash, time, "sm3")  # no origin: the form of before
    assert before.message().decode() == v1.code, f"{v1.where}: not the v1 lines"


def test_token_help_points_to_the_roles_of_docs_security() -> None:
    from application.policy import ROLES as POLICY_ROLES

    shown = subprocess.run([*CLI, "token", "--help"], env=_env(None), capture_output=True, text=True)
    assert shown.returncode == 0 and "docs/security.md" in shown.stdout, shown.stdout
    table = (ROOT / "docs" / "security.md").read_text(encoding="utf-8").split("## Roles", 1)[1]
    documented = re.findall(r"^\| (\w+) \|", table, re.M)
    assert set(POLICY_ROLES) <= set(documented), documented


def test_the_automation_seals_a_districts_licence_with_its_prefectures_seal_and_skips_only_for_topic_fields(
    demo: Demo,
) -> None:
    """docs/evidence.md ("Automatic issuance") and docs/operations.md ("Licences"), over the demo."""
    from application.policy import department_org
    from domain.shared.reference import REFERENCE
    from domain.signatures.seal import Seal

    assert "`460108`, is sealed by `460100-zrzy`" in (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8")
    assert department_org("460108", "zrzy") == "460100-zrzy"
    # Step: the automation runs as `gongjian serve` runs it.
    done = demo.container.automation.run_until_idle(rounds=1000)
    demo.container.engine.catch_up(["licence_library"])
    assert done.licences
    licences = demo.container.db.query("SELECT licence_type, region_code, seal_id FROM licences")
    assert {row["licence_type"] for row in licences} == {"site_selection_opinion"}
    for row in licences:  # the seal's holder: the department of the case's city/county unit
        seal: Seal = demo.container.app.repository.get(UUID(row["seal_id"]))
        holder = seal.holder_org
        assert holder.startswith(REFERENCE.unit_of(row["region_code"]) + "-"), (row, holder)
    assert any(REFERENCE.unit_of(row["region_code"]) != row["region_code"] for row in licences), "no district's"
    skips = demo.container.db.query("SELECT reason FROM automation_skips")
    assert skips and all(s["reason"].startswith("topic.") for s in skips), {s["reason"] for s in skips}
