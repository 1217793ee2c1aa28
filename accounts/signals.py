"""Whenever a membership changes, from any code path, cached per-request checks of its
user are dropped: the user's `auth_version` is bumped in the change's transaction.

Receivers rather than service calls because the admin edits memberships too. A version
rather than a cache delete, because a delete can be lost (Redis down at the time) while
the bump commits with the change itself (see accounts.selectors.request_auth_state).

Also: operators' sign-ins, failed sign-ins and sign-outs in the admin, recorded as
platform events through the services.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Membership, User
from .selectors import user_cache_drop
from .services import admin_sign_in_record, admin_sign_out_record
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


# Sign-ins to the admin (Django's session login, the only caller of `login()` here). The
# API signs in with tokens (`login_attempt`, `session_start`), which record their own
# events; its `authenticate()` also sends `user_login_failed`, hence the admin check.


def _in_admin(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.namespace == "admin"


@receiver(user_logged_in)
def _admin_signed_in(sender, request, user, **kwargs):
    if _in_admin(request):
        admin_sign_in_record(user=user, email=user.email, succeeded=True)


@receiver(user_login_failed)
def _admin_sign_in_failed(sender, credentials, request=None, **kwargs):
    if _in_admin(request):
        email = credentials.get("username") or credentials.get("email") or ""
        admin_sign_in_record(user=None, email=email, succeeded=False)


@receiver(user_logged_out)
def _admin_signed_out(sender, request, user, **kwargs):
    if user is not None and _in_admin(request):
        admin_sign_out_record(user=user)
