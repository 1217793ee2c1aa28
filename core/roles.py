"""Membership roles, strongest first, and how they compare."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# Roles that can be granted directly; ownership moves only by transfer.
ASSIGNABLE_ROLE_CHOICES = [choice for choice in Role.choices if choice[0] != Role.OWNER]

RANK: dict[str, int] = {Role.VIEWER: 10, Role.MEMBER: 20, Role.MANAGER: 30, Role.ADMIN: 40, Role.OWNER: 50}


def rank(role: str | None) -> int:
    return RANK.get(role, 0) if role else 0


def at_least(role: str | None, minimum: str) -> bool:
    return rank(role) >= rank(minimum)
