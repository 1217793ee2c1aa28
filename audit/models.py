"""Per-tenant audit trail (tenant schemas)."""
