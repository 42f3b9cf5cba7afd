"""Domain errors. Interfaces map each class to one HTTP status (see interfaces/rest/errors.py)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidValue(DomainError):
    """数据不合规 — a value breaks a rule (maps to 422 with the field path)."""

    def __init__(self, field: str, message: str, rule: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.rule = rule


class IllegalTransition(DomainError):
    """非法流转 — the action is not allowed in the current state (maps to 409)."""

    def __init__(self, subject: str, state: str, action: str) -> None:
        super().__init__(f"{subject} in state '{state}' does not allow '{action}'")
        self.subject = subject
        self.state = state
        self.action = action


class Conflict(DomainError):
    """冲突 — the command conflicts with recorded facts (maps to 409)."""


class PrerequisitesMissing(Conflict):
    """前置事项未办结 — prerequisite items of an item are not approved for the project."""

    def __init__(self, item_code: str, missing: list[str]) -> None:
        super().__init__(f"item {item_code} needs approved prerequisite items: {', '.join(missing)}")
        self.item_code = item_code
        self.missing = missing


class NotFound(DomainError):
    """不存在 — the subject is unknown (maps to 404)."""


class Forbidden(DomainError):
    """无权限 — the actor's role or scope may not do this (maps to 403)."""
