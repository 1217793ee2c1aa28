"""`manage.py tenant_plan <slug> [<plan>] [--module NAME=on|off|plan] [--quota NAME=N|none|plan]
[--flag NAME=on|off|rules]`"""

from django.core.management.base import CommandError
from django.db import transaction

from plans.catalog import MODULES, QUOTAS
from plans.services import FLAG_STATES, entitlements, flag_get, flag_tenant_set, plan_get, tenant_plan_change

from ._base import TenantCommand


class Command(TenantCommand):
    help = "Show or change a tenant's plan and overrides; takes effect at the tenant's next request."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("plan", nargs="?", help="The new plan's slug (omit to keep the plan).")
        parser.add_argument("--module", action="append", default=[], metavar="NAME=on|off|plan")
        parser.add_argument("--quota", action="append", default=[], metavar="NAME=N|none|plan")
        parser.add_argument("--flag", action="append", default=[], metavar="NAME=on|off|rules")

    def run(self, *args, **options):
        tenant = self.tenant_or_fail(options["slug"])
        overrides = {key: dict(value) for key, value in (tenant.overrides or {}).items()}
        for item in options["module"]:
            name, _, value = item.partition("=")
            if value not in ("on", "off", "plan"):
                raise CommandError(f"--module {item}: NAME=on, NAME=off or NAME=plan; modules: {', '.join(MODULES)}.")
            modules = overrides.setdefault("modules", {})
            if value == "plan":
                modules.pop(name, None)
            else:
                modules[name] = value == "on"
        for item in options["quota"]:
            name, _, value = item.partition("=")
            quotas = overrides.setdefault("quotas", {})
            if value == "plan":
                quotas.pop(name, None)
            elif value == "none" or value.isdigit():
                quotas[name] = None if value == "none" else int(value)
            else:
                raise CommandError(
                    f"--quota {item}: NAME=N (whole number), NAME=none or NAME=plan; quotas: {', '.join(QUOTAS)}."
                )
        flags = {}
        for item in options["flag"]:
            name, _, value = item.partition("=")
            if value not in FLAG_STATES:
                raise CommandError(f"--flag {item}: NAME=on, NAME=off or NAME=rules (the flag's own rules).")
            flags[flag_get(name).name] = value
        plan = plan_get(options["plan"]) if options["plan"] else None
        # All or nothing: a bad flag after a good plan change leaves neither.
        with transaction.atomic():
            if plan is not None or options["module"] or options["quota"]:
                tenant_plan_change(tenant=tenant, plan=plan, overrides=overrides)
            for name, state in flags.items():
                flag_tenant_set(name=name, tenant=tenant, state=state)
        now = entitlements(tenant, fresh=True)
        self.stdout.write(f"{tenant.slug}: plan {now.plan or 'none'}, overrides {tenant.overrides or {}}")
        self.stdout.write(f"  modules: {', '.join(sorted(now.modules)) or 'none'}")
        limits = (f"{name} {'unlimited' if now.quota(name) is None else now.quota(name)}" for name in QUOTAS)
        self.stdout.write(f"  quotas: {', '.join(limits)}")
        self.stdout.write(f"  flags on: {', '.join(name for name, on in sorted(now.flags.items()) if on) or 'none'}")
