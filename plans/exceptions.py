from core.errors import ApplicationError


class InvalidPlan(ApplicationError):
    """An unknown plan, or overrides that name unknown modules or bad quotas."""

    code = "invalid_plan"
