"""What a plan can switch and limit: the names code and data share.

Modules and quotas are code (each is enforced somewhere); plans and flags are data,
edited by operators. A name here that no plan mentions is off (modules) or unlimited
(quotas)."""

MODULES = ("inventory", "documents", "reports", "webhooks")
QUOTAS = ("members", "products", "warehouses", "storage_bytes", "api_requests_per_minute")


def modules_problem(value) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(m, str) for m in value):
        return "Modules are a list of names."
    unknown = sorted(set(value) - set(MODULES))
    return f"Unknown module(s): {', '.join(unknown)}. Known: {', '.join(MODULES)}." if unknown else None


def quotas_problem(value) -> str | None:
    """Quotas are {name: limit}, a limit a whole number >= 0, or null for unlimited."""
    if not isinstance(value, dict):
        return "Quotas are an object of {name: limit}."
    unknown = sorted(set(value) - set(QUOTAS))
    if unknown:
        return f"Unknown quota(s): {', '.join(unknown)}. Known: {', '.join(QUOTAS)}."
    for name, limit in value.items():
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            return f"The {name} quota must be a whole number of at least 0, or null for no limit."
    return None


def overrides_problem(value) -> str | None:
    """A tenant's overrides: {"modules": {name: true|false}, "quotas": {name: limit}}."""
    if not isinstance(value, dict) or set(value) - {"modules", "quotas"}:
        return 'Overrides are {"modules": {name: true|false}, "quotas": {name: limit}}.'
    modules = value.get("modules", {})
    if not isinstance(modules, dict) or not all(isinstance(on, bool) for on in modules.values()):
        return "Module overrides are {name: true|false}."
    return modules_problem(list(modules)) or quotas_problem(value.get("quotas", {}))
