from core.errors import ApplicationError, Conflict


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, *, sku: str, warehouse: str, available, requested):
        super().__init__(f"Only {available} of {sku} in {warehouse}; {requested} requested. Nothing was changed.")


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotEditable(Conflict):
    code = "not_editable"


class StillReferenced(Conflict):
    code = "still_referenced"


class DuplicateValue(Conflict):
    code = "duplicate"


class InvalidMovement(ApplicationError):
    code = "invalid_movement"
