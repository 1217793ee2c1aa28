"""The one home of the slug rules: which names a tenant may have.

A slug is the tenant's DNS label (`<slug>.<PUBLIC_DOMAIN>`) and, with hyphens turned
into underscores, its schema name, so it must fit both: lowercase letters, digits and
hyphens, a letter first, no hyphen last, 63 characters at most, and none of the names
the platform keeps for itself. The provisioning service checks it (so the command, the
admin form and the sign-up API all answer the same), and so does nothing else.
"""

import re

SLUG_PATTERN = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_SLUGS = frozenset(
    {
        "public",
        "www",
        "admin",
        "api",
        "app",
        "static",
        "media",
        "mail",
        "smtp",
        "ftp",
        "root",
        "system",
        "template",
        "information-schema",
        "default",
        "localhost",
        "status",
        "docs",
        "help",
        "support",
    }
)


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name a tenant, or None when it can."""
    if not isinstance(slug, str) or not slug:
        return "A slug is required."
    if len(slug) > 63:
        return f"Slug is {len(slug)} characters long; at most 63 are allowed."
    if not SLUG_PATTERN.match(slug):
        return (
            "Slug may contain only lowercase letters, digits and hyphens, "
            "must start with a letter and must not end with a hyphen."
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        return f'"{slug}" is reserved.'
    return None


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")
