"""Whenever a membership changes, from any code path, cached per-request checks of its
user are dropped: the user's `auth_version` is bumped in the change's transaction.

Receivers rather than service calls because the admin edits memberships too. A version
rather than a cache delete, because a delete can be lost (Redis down at the time) while
the bump commits with the change itself (see accounts.selectors.request_auth_state).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Membership, User
from .selectors import user_cache_drop
from .tokens import auth_state_changed


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _membership_changed(sender, instance, **kwargs):
    auth_state_changed(user_id=instance.user_id)


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def _user_changed(sender, instance, **kwargs):
    """Cached copies of the user (authentication's) go stale once the change commits."""
    user_cache_drop(instance.pk)
