"""Regressions for hostile bodies on this plugin's routes: deep nesting inside a field
(once a 500 from ``RecursionError``), control and bidi characters in a customer's name, and
JSON sent as ``text/plain``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bankcrm_sdk.world import World

BASE = "/api/v1/customer_archive"


DEEP = "__deep__"
"""Replaced by 1,000 nested arrays in the body's text (``json.dumps`` would recurse)."""


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers/search", {"tags": DEEP}),
        ("/tag-rules/preview", {"branch_id": 1, "criteria": {"tags": DEEP}}),
        ("/import-sources", {"name": "deep", "mapping": {"name": DEEP}}),
        ("/saved-searches", {"name": "deep", "filter": {"tags": DEEP}}),
    ],
)
async def test_deeply_nested_fields_are_a_400(
    bj: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    text = json.dumps(body).replace(f'"{DEEP}"', "[" * 1000 + "]" * 1000)
    response = await bj.post(
        f"{BASE}{path}", content=text.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/body_too_deep")


@pytest.mark.parametrize("name", ["王\u202e英秀", "王\x00秀英", "王\x1b[31m秀英", "王\u2066秀英"])
async def test_customer_names_refuse_control_and_bidi_characters(
    world: World, kit: Any, bj: httpx.AsyncClient, name: str
) -> None:
    response = await bj.post(f"{BASE}/customers", json=kit.person(name=name))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["/body/name"]


async def test_customer_names_are_stored_in_normal_form_c(kit: Any, bj: httpx.AsyncClient) -> None:
    created = await kit.create(bj, name="Jose\u0301 王")
    assert created["name"] == "Jos\u00e9 王"


async def test_json_sent_as_text_plain_is_refused(kit: Any, bj: httpx.AsyncClient) -> None:
    response = await bj.post(
        f"{BASE}/customers",
        content=json.dumps(kit.person()).encode(),
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 415, response.text
    assert response.json()["errors"][0]["field"] == "/header/content-type"
