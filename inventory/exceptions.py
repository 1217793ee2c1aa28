from core.errors import ApplicationError, Conflict


class InsufficientStock(Conflict):
    code = "insufficient_stock"

    def __init__(self, *, sku: str, warehouse: str, available, requested):
        super().__init__(f"Only {available} of {sku} in {warehouse}; {requested} requested. Nothing was changed.")


class StockLimitExceeded(Conflict):
    """A movement would take a stock level beyond what it can hold (QUANTITY_MAX)."""

    code = "stock_limit_exceeded"

    def __init__(self, *, sku: str, warehouse: str, limit):
        super().__init__(f"{warehouse} cannot hold more than {limit} of {sku}. Nothing was changed.")


class InvalidTransition(Conflict):
    code = "invalid_transition"


class NotEditable(Conflict):
    code = "not_editable"


class StillReferenced(Conflict):
    code = "still_referenced"


class DuplicateValue(Conflict):
    code = "duplicate"


class InvalidMovement(ApplicationError):
    """A stock movement whose kind, warehouses or quantity do not fit together."""

    code = "invalid_movement"


class InvalidPurchaseRequest(ApplicationError):
    """Input a purchase request step needs is missing or wrong (a reason, a warehouse, lines)."""

    code = "invalid_purchase_request"
