import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.roles import ASSIGNABLE_ROLE_CHOICES, Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        # The whole address is compared case-insensitively; store it lowercased.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


# The password of a user copied from authentication's cache (accounts.selectors), which
# keeps no hash: it matches no password, and `save` never writes it.
CACHED_PASSWORD = "!cached"


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Lives in the public schema; reaches tenants through memberships.

    Platform operators are `is_staff` users; tenant roles come from `Membership`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log into the platform admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # When every session was last ended (password change or reset): shown to operators.
    tokens_valid_after = models.DateTimeField(null=True, blank=True)
    # Every token carries the version it was issued under (`ver`); bumping it ends every
    # session at once, durably (the row, not the cache, is the source of truth), and
    # without the one-second blind spot of comparing `iat` against a time.
    token_version = models.PositiveIntegerField(default=0)
    # Part of the cache keys of the per-request checks (membership, signed-out session):
    # bumped, in the same transaction, by any change to either, so an answer cached
    # before the change is never read again, even if Redis missed the invalidation
    # (down at the time) and still holds it. See accounts.selectors.request_auth_state.
    auth_version = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []  # the e-mail (USERNAME_FIELD) is the only one

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def save(self, *args, **kwargs):
        # `auth_version` only ever moves by an atomic `+ 1` (accounts.tokens): a full save
        # of an instance loaded earlier (the admin's form) must not write back an older
        # value, which would make answers cached under it readable again.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "auth_version"
            ]
        if self.password == CACHED_PASSWORD and kwargs.get("update_fields") is not None:
            # A copy from authentication's cache has no hash: never write its placeholder.
            kwargs["update_fields"] = [name for name in kwargs["update_fields"] if name != "password"]
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Membership(models.Model):
    """A user's role in one tenant. Exactly one owner per tenant (a partial unique index)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The names services use in the audit trail; the admin records the same ones.
    audit_actions = {"created": "membership.added", "updated": "membership.changed", "deleted": "membership.removed"}

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_user_tenant_unique"),
            models.UniqueConstraint(fields=["tenant"], condition=Q(role="owner"), name="membership_one_owner"),
            models.CheckConstraint(condition=Q(role__in=[r.value for r in Role]), name="membership_role_valid"),
        ]

    def __str__(self):
        # The tenant's slug, not its id: this is how operators see a membership in the admin.
        return f"{self.user} @ {self.tenant.slug}: {self.role}"


class RevokedSession(models.Model):
    """A signed-out session: every token of its family (`sid` claim, kept across refresh
    rotations) is refused until it expires. The database is the source of truth; the
    platform cache only remembers answers (see accounts.selectors.session_revoked)."""

    sid = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    revoked_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True, help_text="After this, no token of the session is valid anyway.")

    def __str__(self):
        return f"session {self.sid} of {self.user_id}"


class Invitation(models.Model):
    """An offer of a role in a tenant to an e-mail address, pending until the person
    answers it (or an admin revokes it); the row is then deleted, so its token dies too.

    No user is looked up or created when it is made: the address may or may not have an
    account, and nothing here says which. Only the SHA-256 of the e-mailed token is kept.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254, help_text="Lowercased, as users' addresses are.")
    role = models.CharField(max_length=16, choices=ASSIGNABLE_ROLE_CHOICES, default=Role.MEMBER)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(help_text="When the e-mail was last sent (created or resent).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    audit_actions = {"deleted": "invitation.revoked"}  # an operator's delete in the admin

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="invitation_tenant_email_unique"),
            # Ownership moves only by transfer, never by invitation.
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role if r != Role.OWNER]), name="invitation_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["email"], name="invitation_email_idx")]

    def __str__(self):
        return f"{self.email} invited to {self.tenant.slug}: {self.role}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class PasswordResetToken(models.Model):
    """A password-reset token e-mailed to a user: only its SHA-256 is kept; it is
    deleted when used (with every other of the user's) or once expired."""

    token_hash = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"password reset of {self.user_id}"
