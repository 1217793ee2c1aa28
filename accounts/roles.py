"""Membership roles, strongest first, and how they compare."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


RANK = {Role.VIEWER: 10, Role.MEMBER: 20, Role.MANAGER: 30, Role.ADMIN: 40, Role.OWNER: 50}


def rank(role: str | None) -> int:
    return RANK.get(role, 0) if role else 0


def at_least(role: str | None, minimum: str) -> bool:
    return rank(role) >= rank(minimum)
