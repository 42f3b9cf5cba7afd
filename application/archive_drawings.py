"""图纸 in an archive package — offline checks of `manifest["drawings"]` (the approved drawing sets of
the case, written by ArchiveService.build), done by `verify_package`:

1. each set's sheet list still gives the set hash the design institute signed (SM3 over the
   canonical (number, sha256) list, domain/industry/drawings.py) — a sheet hash edited inside the
   manifest is named even if the manifest hash was recomputed;
2. given the drawing files (`files`: discipline → sheet number → bytes), each file's SHA-256 is
   compared with the approved one: a file changed after approval, or missing, is named.

Needs no database, like the rest of the package verification (docs/evidence.md, docs/industry.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from domain.industry.drawings import set_hash

DrawingFiles = Mapping[str, Mapping[str, bytes]]  # discipline → sheet number → file bytes


def verify_drawings(
    entries: list[dict[str, Any]], files: DrawingFiles | None, problems: list[str]
) -> list[dict[str, Any]]:
    """One result per approved set: {discipline, version, set_hash_ok, files_checked, changed, missing};
    every problem found is appended to `problems`."""
    results = []
    for entry in entries:
        discipline, version = entry["discipline"], int(entry["version"])
        where = f"drawing set {discipline} (version {version})"
        sheets = entry["sheets"]
        algorithm = entry.get("set_hash_algorithm", "sm3")
        hash_ok = algorithm == "sm3" and set_hash(discipline, sheets) == entry["set_hash"]
        if not hash_ok:
            problems.append(f"{where}: its sheet hashes do not give the signed set hash {entry['set_hash']} (changed)")
        given = None if files is None else files.get(discipline)
        changed, missing = [], []
        for sheet in sheets if given is not None else []:
            content = given.get(sheet["number"]) if given is not None else None
            if content is None:
                missing.append(sheet["number"])
                problems.append(f"{where}: sheet {sheet['number']} has no file to check")
                continue
            found = hashlib.sha256(content).hexdigest()
            if found != sheet["sha256"]:
                changed.append(
                    {"sheet_number": sheet["number"], "approved_sha256": sheet["sha256"], "found_sha256": found}
                )
                problems.append(
                    f"{where}: sheet {sheet['number']} hashes to {found}, approved as {sheet['sha256']} (changed after approval)"
                )
        results.append(
            {
                "discipline": discipline,
                "version": version,
                "set_hash_ok": hash_ok,
                "files_checked": given is not None,
                "changed": changed,
                "missing": missing,
            }
        )
    return results


def read_drawing_files(root: Path) -> dict[str, dict[str, bytes]]:
    """A folder per discipline; a file's path inside it, without its extension, is its sheet number
    (`architecture/JS-01.pdf` → architecture, JS-01)."""
    out: dict[str, dict[str, bytes]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            number = file.relative_to(folder).with_suffix("").as_posix()
            out.setdefault(folder.name, {})[number] = file.read_bytes()
    return out
