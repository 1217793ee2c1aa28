"""What a tenant may use: its plan, its overrides and the feature flags, evaluated.

`entitlements(tenant)` is read on every request that needs a module or a flag, so it
is cached in the platform cache under a version that every change bumps (a plan, a
flag, a tenant's plan or overrides), and in each process under the same version
(`core.localcache`): warm, it costs the version's read, made with routing's in one
round trip, and no SQL; after any change, the next request computes afresh. If the version key is lost (an
eviction, a restart), a new random version is drawn, so nothing older is read again.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from audit.services import audit_record
from core.localcache import VersionedMemo, stamp, stamp_bump, stamp_register

from .catalog import MODULES, overrides_problem
from .exceptions import InvalidPlan
from .models import Flag, Plan

if TYPE_CHECKING:  # plans sits below tenants: it names the type, never imports the code
    from tenants.models import Tenant

_VERSION_KEY = stamp_register("entitlements:version")
_TTL = 300
# Evaluations are immutable (frozen; never change their dicts): each process keeps
# them under the version too, so a warm request reads only the version.
_evaluations = VersionedMemo("entitlements")


@dataclass(frozen=True)
class Entitlements:
    plan: str
    modules: frozenset[str]
    quotas: dict[str, int | None] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)

    def has_module(self, module: str) -> bool:
        return module in self.modules

    def quota(self, name: str) -> int | None:
        """The limit, or None for no limit."""
        return self.quotas.get(name)


def _version() -> str | None:
    """The current version, or None when Redis cannot say (this evaluation is then
    computed afresh). Read with routing's in one round trip during a request."""
    return stamp(_VERSION_KEY)


def entitlements_changed() -> None:
    """Every cached evaluation is stale from now on (called after each change commits)."""
    stamp_bump(_VERSION_KEY)


def bucket(flag: str, tenant_id) -> int:
    """The tenant's stable place, 0-99, in a flag's percentage rollout."""
    digest = hashlib.sha256(f"{flag}:{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def _flag_on(flag: Flag, *, slug: str, plan_id, tenant_id) -> bool:
    if slug in flag.tenants_off:
        return False
    if slug in flag.tenants_on:
        return True
    if flag.everyone is not None:
        return flag.everyone
    if any(plan.pk == plan_id for plan in flag.plans.all()):
        return True
    return bucket(flag.name, tenant_id) < flag.percent


def _evaluate(tenant: Tenant) -> Entitlements:
    # The row as it is now: a routed tenant is rebuilt from the routing cache, which
    # does not follow plan changes; this evaluation does (through the version).
    row = type(tenant).objects.filter(pk=tenant.pk).values("plan_id", "overrides").first() or {}
    plan_id = row.get("plan_id")
    plan = Plan.objects.filter(pk=plan_id).first() if plan_id else None
    modules = set(plan.modules if plan else [])
    quotas = dict(plan.quotas if plan else {})
    overrides = row.get("overrides") or {}
    for module, on in overrides.get("modules", {}).items():
        (modules.add if on else modules.discard)(module)
    quotas.update(overrides.get("quotas", {}))
    flags = {
        flag.name: _flag_on(flag, slug=tenant.slug, plan_id=plan_id, tenant_id=tenant.pk)
        for flag in Flag.objects.prefetch_related("plans")
    }
    return Entitlements(plan=plan.slug if plan else "", modules=frozenset(modules), quotas=quotas, flags=flags)


def entitlements(tenant: Tenant, *, fresh: bool = False) -> Entitlements:
    """The tenant's evaluation, cached; `fresh`: computed from the rows as this
    transaction sees them (a command reporting a change it has not committed yet)."""
    if fresh:
        return _evaluate(tenant)
    version = _version()
    if version is None:
        return _evaluate(tenant)
    key = f"entitlements:{version}:{tenant.pk}"
    local = _evaluations.get(key)
    if local is not None:
        return local
    cache = caches["platform"]
    cached = cache.get(key)
    if cached is not None:
        result = Entitlements(**{**cached, "modules": frozenset(cached["modules"])})
    else:
        result = _evaluate(tenant)
        cache.set(key, {**asdict(result), "modules": sorted(result.modules)}, timeout=_TTL)
    _evaluations.set(key, result, _TTL)
    return result


def flag_enabled(tenant: Tenant, name: str) -> bool:
    """The one call code makes to ask about a flag. An unknown flag is off."""
    return entitlements(tenant).flags.get(name, False)


def plan_get(slug: str) -> Plan:
    plan = Plan.objects.filter(slug=slug).first()
    if plan is None:
        known = ", ".join(Plan.objects.values_list("slug", flat=True))
        raise InvalidPlan(f'No plan "{slug}". Plans: {known}.', field="plan")
    return plan


def plans_offered():
    """The plans sign-up offers (`self_service`), cheapest first by members' quota."""
    return Plan.objects.filter(self_service=True).order_by("name")


def plan_for_signup(slug: str) -> Plan:
    """A plan a new customer may choose for themselves; others are given by operators."""
    plan = plans_offered().filter(slug=slug).first()
    if plan is None:
        offered = ", ".join(plans_offered().values_list("slug", flat=True)) or "none"
        raise InvalidPlan(f'No plan "{slug}" is offered at sign-up. Offered: {offered}.', field="plan")
    return plan


def default_plan() -> Plan | None:
    return Plan.objects.filter(slug=settings.DEFAULT_PLAN).first()


def _slug(plan: Plan | None) -> str | None:
    return plan.slug if plan is not None else None


@transaction.atomic
def tenant_plan_change(*, tenant: Tenant, plan: Plan | None = None, overrides: dict | None = None, actor=None):
    """Give a tenant a plan and/or overrides; a platform audit event; effective at the
    next request (the cached evaluations are dropped after the commit)."""
    if overrides is not None and (problem := overrides_problem(overrides)):
        raise InvalidPlan(problem, field="overrides")
    before = {"plan": _slug(tenant.plan), "overrides": tenant.overrides or {}}
    if plan is not None:
        tenant.plan = plan
    if overrides is not None:
        tenant.overrides = overrides
    after = {"plan": _slug(tenant.plan), "overrides": tenant.overrides or {}}
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if not changes:
        return tenant
    tenant.save(update_fields=["plan", "overrides", "updated_at"])
    audit_record(
        action="tenant.plan_changed", target=tenant, actor=actor, changes=changes, tenant=tenant, platform=True
    )
    transaction.on_commit(entitlements_changed)
    return tenant


# A flag for one tenant: forced on, forced off, or decided by the flag's rules.
FLAG_STATES = ("on", "off", "rules")


def flag_get(name: str, *, for_update: bool = False) -> Flag:
    flag = (Flag.objects.select_for_update() if for_update else Flag.objects).filter(name=name).first()
    if flag is None:
        known = ", ".join(Flag.objects.values_list("name", flat=True)) or "none"
        raise InvalidPlan(f'No flag "{name}". Flags: {known}.', field="flag")
    return flag


def flag_tenant_state(flag: Flag, slug: str) -> str:
    return "off" if slug in flag.tenants_off else "on" if slug in flag.tenants_on else "rules"


@transaction.atomic
def flag_tenant_set(*, name: str, tenant: Tenant, state: str, actor=None) -> Flag:
    """Force a flag on or off for one tenant, or hand it back to the flag's rules; a
    platform audit event, effective at the tenant's next request."""
    if state not in FLAG_STATES:
        choices = ", ".join(FLAG_STATES)
        raise InvalidPlan(f'A flag\'s state for a tenant is one of {choices}, not "{state}".', field="state")
    flag = flag_get(name, for_update=True)  # two operators at once: no lost update
    before = flag_tenant_state(flag, tenant.slug)
    if before == state:
        return flag
    flag.tenants_on = [slug for slug in flag.tenants_on if slug != tenant.slug] + ([tenant.slug] * (state == "on"))
    flag.tenants_off = [slug for slug in flag.tenants_off if slug != tenant.slug] + ([tenant.slug] * (state == "off"))
    flag.save(update_fields=["tenants_on", "tenants_off", "updated_at"])  # the signal drops cached evaluations
    audit_record(
        action="flag.tenant_set",
        target=flag,
        actor=actor,
        changes={"flag": flag.name, "state": [before, state]},
        tenant=tenant,
        platform=True,
    )
    return flag


@transaction.atomic
def flag_everyone_set(*, flag: Flag, everyone: bool | None, actor=None) -> Flag:
    """On or off for every tenant (None: back to the per-plan, per-tenant and percentage
    rules); a platform audit event."""
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.everyone is not everyone:
        before, flag.everyone = flag.everyone, everyone
        flag.save(update_fields=["everyone", "updated_at"])
        audit_record(
            action="flag.updated",
            target=flag,
            actor=actor,
            changes={"everyone": [before, everyone]},
            platform=True,
        )
    return flag


def known_modules() -> tuple[str, ...]:
    return MODULES
