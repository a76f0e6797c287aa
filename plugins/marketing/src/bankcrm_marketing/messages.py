"""What a message gateway receives (the ``marketing_send_message`` hook)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingMessage:
    """One campaign message to one customer."""

    idempotency_key: str
    """``marketing.contact.<id>``: the same for every attempt of this contact."""
    contact_id: int
    campaign_id: int
    branch_id: int
    customer_id: int
    channel: str
    """``sms``, ``email`` or ``wechat``."""
    address: str
    """The customer's mobile number (sms, wechat) or e-mail address."""
    title: str
    body: str
