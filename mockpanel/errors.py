"""Domain errors: an abstract code plus parameters, rendered into words only at the wire edge.

The state layer raises :class:`DomainError`; each profile maps every :class:`ErrorCode` to its
vendor's message template and HTTP status (``Profile.errors``). Templates may use the
parameters by name, e.g. ``"Quantity less than minimal {min}"``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

__all__ = ["DomainError", "ErrorCode"]


class ErrorCode(StrEnum):
    """Every way a request can be refused. Parameters each code carries are listed beside it."""

    # request shape (raised by the wire layer)
    BAD_REQUEST = "bad_request"  # detail
    BODY_TOO_LARGE = "body_too_large"  # limit
    UNSUPPORTED_ENCODING = "unsupported_encoding"  # encoding, accepted
    MISSING_KEY = "missing_key"
    INVALID_KEY = "invalid_key"
    # The key is known but its account is suspended (seed 000: "403 | Account suspended |
    # Contact support."); raised before the action is even looked at, for every action.
    ACCOUNT_SUSPENDED = "account_suspended"
    MISSING_ACTION = "missing_action"
    UNKNOWN_ACTION = "unknown_action"  # action
    MISSING_PARAM = "missing_param"  # param
    INVALID_PARAM = "invalid_param"  # param, value
    TOO_MANY_IDS = "too_many_ids"  # limit
    RATE_LIMITED = "rate_limited"  # retry_after
    # orders
    UNKNOWN_SERVICE = "unknown_service"  # service
    SERVICE_TYPE_NOT_SUPPORTED = "service_type_not_supported"  # type
    SUBSCRIPTION_NOT_VIA_API = "subscription_not_via_api"
    INVALID_LINK = "invalid_link"
    QUANTITY_TOO_LOW = "quantity_too_low"  # min, quantity
    QUANTITY_TOO_HIGH = "quantity_too_high"  # max, quantity
    DRIPFEED_NOT_SUPPORTED = "dripfeed_not_supported"
    INSUFFICIENT_FUNDS = "insufficient_funds"  # needed, balance
    UNKNOWN_ORDER = "unknown_order"  # order
    ORDER_NOT_CANCELLABLE = "order_not_cancellable"  # order, status
    # refills
    REFILL_NOT_AVAILABLE = "refill_not_available"  # order
    ORDER_NOT_COMPLETED = "order_not_completed"  # order, status
    REFILL_WINDOW_EXPIRED = "refill_window_expired"  # order
    UNKNOWN_REFILL = "unknown_refill"  # refill


class DomainError(Exception):
    """A refused request. Raising it guarantees that nothing was changed."""

    def __init__(self, code: ErrorCode, **params: Any) -> None:
        super().__init__(code.value)
        self.code = code
        self.params: dict[str, Any] = params

    def __repr__(self) -> str:
        return f"DomainError({self.code.value!r}, {self.params!r})"
