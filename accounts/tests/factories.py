"""factory_boy factories for accounts' models (public schema: callable anywhere).

They write rows directly, without the services' audit events; to test a service, call
it. Every user's password is `testing.helpers.PASSWORD`, so a test can sign in as any.
Memberships and invitations belong to a tenant, which the caller always names.
"""

import hashlib
import secrets
import uuid
from datetime import timedelta

import factory
from django.conf import settings
from django.utils import timezone

from accounts.models import Invitation, Membership, PasswordResetToken, RevokedSession, User
from core.roles import Role
from testing.helpers import PASSWORD


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class _TenantRequired:
    """Refuse to make a tenant's row without `tenant=`: picking one silently would hide
    which tenant a test is about."""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("tenant") is None:
            raise TypeError(f"{cls.__name__} needs tenant=: the row belongs to one tenant.")
        return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@factory.test")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(_TenantRequired, factory.django.DjangoModelFactory):
    """`MembershipFactory(tenant=t, role=Role.MANAGER)`: a new user with that role in `t`."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class InvitationFactory(_TenantRequired, factory.django.DjangoModelFactory):
    """A pending invitation; pass `token=` to know the secret its hash was made from."""

    class Meta:
        model = Invitation

    class Params:
        token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))

    email = factory.Sequence(lambda n: f"invitee{n}@factory.test")
    role = Role.MEMBER
    token_hash = factory.LazyAttribute(lambda o: _sha256(o.token))
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.sent_at + timedelta(days=settings.INVITATION_TTL_DAYS))


class PasswordResetTokenFactory(factory.django.DjangoModelFactory):
    """An unused reset token; pass `token=` to know the secret its hash was made from."""

    class Meta:
        model = PasswordResetToken

    class Params:
        token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))

    token_hash = factory.LazyAttribute(lambda o: _sha256(o.token))
    user = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=settings.PASSWORD_RESET_TTL_MINUTES))


class RevokedSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevokedSession

    sid = factory.LazyFunction(lambda: uuid.uuid4().hex)
    user = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
