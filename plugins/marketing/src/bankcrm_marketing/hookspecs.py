"""Extension points marketing publishes (added to the plugin manager at registration).

Implement them with ``@hookimpl`` from :mod:`bankcrm.plugin_api` in a plugin that
``requires=("marketing",)``; the types are in :mod:`bankcrm_marketing.services`. Marketing
works without any implementation: a campaign that asks for a model's scores is refused
(409 ``no_scores``) and a message with no gateway is recorded as failed, with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from bankcrm_marketing.messages import OutgoingMessage, Recommendation

hookspec = pluggy.HookspecMarker("bankcrm")


@hookspec(firstresult=True)
def marketing_scores(
    model: str, customer_ids: Sequence[int]
) -> Awaitable[Mapping[int, float] | None] | Mapping[int, float] | None:
    """Scores in ``[0, 1]`` of ``customer_ids`` by the model named ``model`` (a
    propensity or response model, e.g. mining's ``deposit_propensity``), for targeting a
    campaign that sets ``score_model`` and ``score_min``.

    Called while a campaign is targeted, inside its transaction, under the caller's scope
    (the customers are those the caller sees). The first non-None answer wins; a customer
    missing from the answer has no score and is not targeted. Return None when you do not
    know the model. Do not write.
    """


@hookspec(firstresult=True)
def marketing_send_message(
    message: OutgoingMessage,
) -> Awaitable[str | None] | str | None:
    """Deliver one campaign message (``sms``, ``email`` or ``wechat``) to a customer:
    a gateway's job. Answer the gateway's reference for the message; None: not yours.
    Survey invitations come the same way (``message.survey_invitation_id`` set, the
    personal link in ``message.body``), sent by ``marketing.send_survey_invitations``.

    Called by the sending job (``marketing.send_contacts``) after the contact rules passed,
    outside any transaction, under the job's system scope. ``message.idempotency_key`` is
    stable across retries of the same contact: pass it to the gateway so a repeat is
    dropped (the job is at-least-once). Raise to have the contact retried by the job's
    next run; with no answer at all the contact is recorded as failed ("no gateway").
    """


@hookspec(firstresult=True)
def marketing_recommendations(
    customer_ids: Sequence[int], limit: int
) -> (
    Awaitable[Mapping[int, Sequence[Recommendation]] | None]
    | Mapping[int, Sequence[Recommendation]]
    | None
):
    """The next-best products of each customer in ``customer_ids``, best first, at most
    ``limit`` each, every one with its reason (a model's reason codes, in Chinese and
    English) and the model version that made it (mining's recommendation models).

    Called when staff ask for a customer's recommendations (``GET
    /api/v1/marketing/recommendations/{customer_id}``), under their scope, inside the
    transaction that records each one as ``shown`` in the outcome ledger. The first
    non-None answer wins; with none, the customer has no recommendations. Do not write.
    """


@hookspec
def marketing_competitor_deals(
    branch_ids: frozenset[int], since: date
) -> Awaitable[Sequence[Mapping[str, Any]] | None] | Sequence[Mapping[str, Any]] | None:
    """Deals closed since ``since`` (inclusive) in ``branch_ids`` that were won or lost
    against a named competitor (sales' opportunities, when sales implements it), for the
    win/loss records of the competitors (竞争对手).

    Each deal is a mapping with ``ref`` (your stable id of the deal, at most 64
    characters), ``branch_id``, ``competitor`` (its name as staff entered it), ``outcome``
    (``won`` or ``lost``), ``closed_on`` (a date) and optionally ``amount`` (CNY),
    ``reason`` (why it was lost), ``customer_id`` and ``product_category`` (``deposit``,
    ``loan``, ``card`` or ``wealth``). Leave out deals without a competitor.

    Called by marketing's daily job ``marketing.sync_competitor_deals`` (under a system
    scope), after ``sales.opportunity_won`` / ``sales.opportunity_lost`` events (under
    the closing user's scope) and by ``POST /api/v1/marketing/competitor-deals/sync``,
    each time outside any transaction. Answers of every plugin are recorded, each deal
    once per ``(plugin, ref)``: a deal answered again with other details updates its
    record; a malformed one, one outside ``branch_ids`` or without a competitor is
    skipped. Return None to abstain. Read only.
    """
