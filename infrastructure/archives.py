"""Archive infrastructure: package files on disk, and the archive management system over HTTP."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from uuid import UUID

from application.ports import TransferError
from domain.shared.errors import NotFound


class ArchiveStore:
    """Package bytes as files under one directory; a name carries the hash, so nothing is overwritten."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def put(self, archive_id: UUID, package_hash: str, data: bytes) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{archive_id}-{package_hash[:16]}.json"
        tmp = self.root / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.root / name)
        return name

    def get(self, location: str) -> bytes:
        path = self.root / Path(location).name  # a location is a bare name: no path tricks
        if not path.is_file():
            raise NotFound(f"archive package file {location} is missing from the store")
        return path.read_bytes()


class HttpArchiveSystem:
    """POSTs the package bytes to a configured URL; a 2xx answer's body is the receipt."""

    def __init__(self, url: str | None, timeout_s: float = 10.0) -> None:
        self.url = url or ""
        self.timeout_s = timeout_s

    @property
    def destination(self) -> str:
        return self.url

    def transfer(self, archive_id: str, manifest_hash: str, data: bytes) -> str:
        if not self.url.startswith(("http://", "https://")):
            raise TransferError("no archive management system URL is configured (GONGJIAN_ARCHIVE_TRANSFER_URL)")
        request = urllib.request.Request(  # noqa: S310 — the scheme is checked above
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "X-Archive-Id": archive_id, "X-Manifest-Hash": manifest_hash},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return bytes(response.read()).decode("utf-8", "replace").strip() or f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            raise TransferError(f"HTTP {exc.code} from the archive management system") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TransferError(f"archive management system unreachable: {exc}") from exc
