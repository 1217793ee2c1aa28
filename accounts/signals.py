"""Drop cached membership checks whenever a membership changes, from any code path.

Receivers rather than service calls because the admin edits memberships too; the entry
is dropped now and again after commit (see tenants/signals.py for why).
"""

from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Membership
from .selectors import membership_cache_key


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _membership_changed(sender, instance, **kwargs):
    key = membership_cache_key(instance.tenant_id, instance.user_id)
    caches["platform"].delete(key)
    transaction.on_commit(lambda: caches["platform"].delete(key))
