from hypothesis import given
from hypothesis import strategies as st

from bankcrm import pii


def test_encrypt_round_trip_and_randomised() -> None:
    first = pii.encrypt("11010519491231002X")
    second = pii.encrypt("11010519491231002X")
    assert first != second
    assert pii.decrypt(first) == pii.decrypt(second) == "11010519491231002X"


def test_lookup_hash_normalises() -> None:
    assert pii.lookup_hash("11010519491231002x") == pii.lookup_hash(" 11010519491231002X ")
    assert pii.lookup_hash("11010519491231002X") != pii.lookup_hash("110105194912310021")


def test_masks() -> None:
    assert pii.mask("13812345678") == "138****5678"
    assert pii.mask_id_number("11010519491231002X") == "110***********002X"
    assert pii.mask_account("6222020200112233445") == "6222***********3445"
    assert pii.mask_name("王秀英") == "王**"
    assert pii.mask("123") == "***"


@given(st.text(min_size=0, max_size=40))
def test_mask_never_reveals_the_middle(value: str) -> None:
    masked = pii.mask(value)
    assert masked is not None
    assert len(masked) == len(value)
    if len(value) > 7:
        assert masked[3:-4] == "*" * (len(value) - 7)
    else:
        assert set(masked) <= {"*"}
