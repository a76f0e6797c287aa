"""Bad input: schemathesis over the whole API, hypothesis over the cursor and PII masking."""

from __future__ import annotations

import base64
import json
import string

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bankcrm import auth, pii
from bankcrm.web.pagination import decode_cursor, encode_cursor
from bankcrm.web.problems import Problem
from bankcrm_sdk.fuzz import fuzz_openapi
from bankcrm_sdk.world import PASSWORD, World


async def test_no_input_breaks_the_api_or_its_error_shape(populated_world: World) -> None:
    world = populated_world
    client = await world.client("demo.admin")

    async def stay_logged_in(operation: str, response: httpx.Response) -> None:
        # The fuzz exercises logout too; log in again so later operations run as the admin.
        if operation.endswith("/auth/logout") and response.status_code < 400:
            await auth.forget_login_attempts()
            again = await client.post(
                "/api/v1/auth/login", json={"username": "demo.admin", "password": PASSWORD}
            )
            assert again.status_code == 200, again.text

    report = await fuzz_openapi(client, after_call=stay_logged_in)
    assert report.operations, "the schema lists no operation"
    assert set(report.calls) == set(report.operations), "some operations got no request"
    assert report.failures == [], "\n".join(map(str, report.failures[:20]))


# --- the pagination cursor ----------------------------------------------------------------

cursor_keys = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e18, max_value=1e18),
    st.text(max_size=30),
)
json_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)
)


def _types_of(values: list[object]) -> tuple[type[int | float | str], ...]:
    return tuple(
        float if isinstance(v, float) else int if isinstance(v, int) else str for v in values
    )  # type: ignore[misc]


@given(st.lists(cursor_keys, min_size=1, max_size=4))
def test_cursor_round_trips(values: list[object]) -> None:
    assert decode_cursor(encode_cursor(values), _types_of(values)) == values


@given(st.lists(cursor_keys, min_size=1, max_size=4), st.integers(min_value=0, max_value=6))
def test_cursor_of_another_length_is_refused(values: list[object], arity: int) -> None:
    if arity == len(values):
        return
    with pytest.raises(Problem) as refused:
        decode_cursor(encode_cursor(values), (int,) * arity)
    assert refused.value.status == 400
    assert [e.field for e in refused.value.errors] == ["query.cursor"]


@given(st.lists(json_values, min_size=1, max_size=3))
def test_cursor_keys_of_another_type_are_refused(values: list[object]) -> None:
    expected = (int,) * len(values)
    fits = all(
        isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63 for v in values
    )
    if fits:
        assert decode_cursor(encode_cursor(values), expected) == values
    else:
        with pytest.raises(Problem) as refused:
            decode_cursor(encode_cursor(values), expected)
        assert [e.field for e in refused.value.errors] == ["query.cursor"]


@given(
    st.one_of(
        st.text(max_size=200), st.text(string.ascii_letters + string.digits + "-_=", max_size=200)
    )
)
def test_any_cursor_text_decodes_or_is_a_field_error(text: str) -> None:
    refused: Problem | None = None
    values = None
    try:
        values = decode_cursor(text, (int, int))
    except Problem as problem:
        refused = problem
    if refused is not None:
        assert refused.status == 400
        assert [e.field for e in refused.errors] == ["query.cursor"]
    elif text:
        assert isinstance(values, list)
        assert [type(v) for v in values] == [int, int]
    else:
        assert values is None


@given(st.binary(max_size=120))
def test_cursor_bytes_decode_to_keys_of_the_right_type_or_are_refused(raw: bytes) -> None:
    text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    try:
        expected = json.loads(raw)
    except ValueError:
        expected = None
    if not text:
        assert decode_cursor(text, (int,)) is None
    elif (
        isinstance(expected, list)
        and len(expected) == 1
        and type(expected[0]) is int
        and -(2**63) <= expected[0] < 2**63
    ):
        assert decode_cursor(text, (int,)) == expected
    else:
        with pytest.raises(Problem):
            decode_cursor(text, (int,))


# --- PII masking --------------------------------------------------------------------------

id_numbers = st.text(string.digits, min_size=17, max_size=17).flatmap(
    lambda body: st.sampled_from(string.digits + "Xx").map(lambda check: body + check)
)


@given(st.text(max_size=40), st.integers(0, 6), st.integers(0, 6))
def test_mask_reveals_at_most_the_kept_ends(value: str, start: int, end: int) -> None:
    masked = pii.mask(value, start, end)
    assert masked is not None
    assert len(masked) == len(value)
    revealed = [i for i, (a, b) in enumerate(zip(value, masked, strict=True)) if b != "*"]
    assert len(revealed) <= start + end
    assert all(masked[i] == value[i] for i in revealed)
    assert all(i < start or i >= len(value) - end for i in revealed)


@given(id_numbers)
def test_id_numbers_show_region_and_tail_only(value: str) -> None:
    masked = pii.mask_id_number(value)
    assert masked == value[:3] + "*" * 11 + value[-4:]


@given(st.text(string.digits, min_size=12, max_size=19))
def test_account_numbers_show_first_and_last_four(value: str) -> None:
    masked = pii.mask_account(value)
    assert masked is not None
    assert masked[:4] == value[:4]
    assert masked[-4:] == value[-4:]
    assert set(masked[4:-4]) <= {"*"}


@given(st.text(min_size=1, max_size=10))
def test_names_keep_only_the_first_character(value: str) -> None:
    masked = pii.mask_name(value)
    assert masked == value[0] + "*" * (len(value) - 1)


@given(id_numbers, st.lists(st.sampled_from([" ", "\t", "\u3000"]), max_size=3))
def test_lookup_hash_ignores_spacing_and_case(value: str, spaces: list[str]) -> None:
    spaced = "".join(spaces) + value.lower() + "".join(spaces)
    assert pii.lookup_hash(spaced) == pii.lookup_hash(value.upper())


@given(st.text(max_size=60))
def test_encryption_round_trips_and_hides_the_value(value: str) -> None:
    sealed = pii.encrypt(value)
    assert pii.decrypt(sealed) == value
    if len(value) >= 8:
        assert value not in sealed
