"""Cached evaluations (plans.services.entitlements) are dropped whenever a plan or a flag
changes, however it changed (admin, shell, data migration), once the change commits."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .models import Flag, Plan
from .services import entitlements_changed


@receiver([post_save, post_delete], sender=Plan)
@receiver([post_save, post_delete], sender=Flag)
@receiver(m2m_changed, sender=Flag.plans.through)
def _plans_or_flags_changed(**kwargs):
    transaction.on_commit(entitlements_changed)
