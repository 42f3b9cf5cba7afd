"""电子档案 — archive packages: generated for a closed case, transferred to the archive management
system, or received from outside (pure: no I/O, no clock)."""

from domain.archives.package import ArchivePackage, ArchiveStatus, archive_id_for_case, received_archive_id

__all__ = ["ArchivePackage", "ArchiveStatus", "archive_id_for_case", "received_archive_id"]
