"""项目 — projects: generation against the blueprint, land supply, parcels, unit works, merges."""

from domain.projects.project import Project, project_id

__all__ = ["Project", "project_id"]
