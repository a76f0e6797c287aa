"""What a message gateway receives (``marketing_send_message``) and what a recommender
answers (``marketing_recommendations``)."""

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
    survey_invitation_id: int | None = None
    """Set for an invitation to a survey (then ``contact_id`` and ``campaign_id`` are 0):
    ``body`` carries the personal link."""


@dataclass(frozen=True)
class Recommendation:
    """A next-best product for a customer, with why."""

    product_code: str
    score: float
    """In ``[0, 1]``."""
    reason_zh: str
    reason_en: str
    model: str
    """The model version that made it (``mining.nbo@3``)."""
