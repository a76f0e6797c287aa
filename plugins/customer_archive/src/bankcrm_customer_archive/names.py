"""Search keys derived from names and phones, and the matching query-side helpers.

Customers are found by the characters of their name, by its pinyin (``wangxiuying``, or
from any syllable on: ``xiuying``), by the pinyin initials (``wxy``) and by the last digits
of their phone. Names are converted once, when written, into rows of
``customer_archive_search_key``; queries are normalised here the same way.

Why a key table rather than trigram or array (GIN) indexes: under row-level security
PostgreSQL only lets *leakproof* operators use an index before the policy has filtered the
rows, and LIKE, pg_trgm's operators and array containment are not leakproof, so those
indexes are never used for the application role (each search became a scan of every row
in scope). Text equality and the byte-wise range operators ``~>=~``/``~<~`` are leakproof:
keys are matched exactly (character pairs) or by prefix range (pinyin, initials, reversed
phone digits) on one btree index, which also makes the result independent of the server's
locale (pg_trgm's treatment of CJK characters depends on it).
"""

from __future__ import annotations

import functools
import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+|[^{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SURROGATES = range(0xD800, 0xE000)

NAME_PAIR = "n:"
"""Two adjacent characters of the lower-cased name."""
PINYIN = "p:"
"""The pinyin from one syllable to the end (``wangxiuying``, ``xiuying``, ``ying``)."""
INITIALS = "i:"
"""The pinyin initials of the whole name."""
PHONE = "t:"
"""The customer's phone digits reversed, so that last digits are a prefix."""

# pypinyin reads these characters by their common-word pronunciation; as a surname they
# are read differently (曾国藩 is Zeng, not Ceng). Only the leading characters of an
# individual's name are surnames.
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha",
    "区": "ou", "乐": "yue", "覃": "qin", "召": "shao", "缪": "miao", "盖": "ge",
    "翟": "zhai", "种": "chong", "折": "she", "繁": "po", "员": "yun", "句": "gou",
    "冼": "xian", "粘": "nian", "褚": "chu", "薄": "bo", "贲": "ben", "宓": "mi",
    "莘": "shen", "长孙": "zhang sun", "尉迟": "yu chi", "万俟": "mo qi",
}  # fmt: skip


@functools.lru_cache(maxsize=65536)
def _run_syllables(run: str) -> tuple[str, ...]:
    # Full names rarely repeat, their words do: pypinyin reads each word of its own
    # segmentation independently, so caching per word gives exactly lazy_pinyin(run) at a
    # fraction of the cost (bulk imports convert a million names).
    from pypinyin.seg import mmseg  # loading the dictionaries takes ~0.3 s: only when used

    return tuple(syllable for word in mmseg.seg.cut(run) for syllable in _word_syllables(word))


@functools.lru_cache(maxsize=65536)
def _word_syllables(word: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    # A list is taken as already segmented: the word is not cut again.
    return tuple(lazy_pinyin([word]))


def _surname_prefix(name: str) -> tuple[list[str], str]:
    """(syllables of a heteronymous surname, the rest of the name) or ([], name)."""
    for length in (2, 1):
        reading = SURNAME_READINGS.get(name[:length])
        if reading is not None:
            return reading.split(), name[length:]
    return [], name


@functools.lru_cache(maxsize=65536)
def _parts(name: str, individual: bool) -> tuple[tuple[str, bool], ...]:
    """(text, is pinyin) parts of a name, lower case, letters and digits only: pinyin
    syllables for Chinese characters, other runs (the ``ABC`` of ``ABC科技``) whole."""
    found: list[tuple[str, bool]] = []
    rest = name.strip()
    if individual:
        surname, rest = _surname_prefix(rest)
        found.extend((syllable, True) for syllable in surname)
    for run in _CJK_RUN.findall(rest):
        if _HAS_CJK.match(run):
            found.extend((_NON_ALNUM.sub("", s.lower()), True) for s in _run_syllables(run))
        else:
            found.append((_NON_ALNUM.sub("", run.lower()), False))
    return tuple((text, pinyin) for text, pinyin in found if text)


def syllables(name: str, *, individual: bool) -> tuple[str, ...]:
    return tuple(text for text, _ in _parts(name, individual))


def pinyin_keys(name: str, *, individual: bool) -> tuple[str, str]:
    """``(pinyin, initials)`` of a name: ``王秀英`` -> ``("wangxiuying", "wxy")``."""
    parts = _parts(name, individual)
    pinyin = "".join(text for text, _ in parts)
    initials = "".join(text[0] if is_pinyin else text for text, is_pinyin in parts)
    return pinyin, initials


def search_keys(name: str, *, individual: bool, phone: str | None) -> list[str]:
    """Every ``customer_archive_search_key`` row of a customer (see the module doc)."""
    lowered = name.strip().lower()
    keys = {NAME_PAIR + lowered[i : i + 2] for i in range(len(lowered) - 1)}
    parts = syllables(name, individual=individual)
    keys.update(PINYIN + "".join(parts[i:]) for i in range(len(parts)))
    initials = pinyin_keys(name, individual=individual)[1]
    if initials:
        keys.add(INITIALS + initials)
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits:
        keys.add(PHONE + digits[::-1])
    return sorted(keys)


def has_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def normalise_pinyin_query(text: str) -> str:
    """``Wang Xiu'ying`` -> ``wangxiuying``; ``ü`` is written ``v`` as pypinyin does."""
    return _NON_ALNUM.sub("", text.lower().replace("ü", "v"))


# Legal forms end most company names, so their pairs are on every corporate customer.
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限合伙", "合伙企业", "有限公司", "分公司", "公司")
MAX_PAIRS = 3


def name_pairs(text: str) -> list[str]:
    """``n:`` keys that every name containing ``text`` (two characters or more) has.

    Any subset would do, since the caller re-checks the whole text; a few rare pairs make
    the cheapest lookup. A legal form at the end is left out, and of a longer query only
    the pairs after the first are used: for ``北京正腾电子科技有限公司`` that is
    ``京正, 正腾, 腾电``, past the city and into the trade name.
    """
    lowered = text.lower()
    for form in LEGAL_FORMS:
        if lowered.endswith(form) and len(lowered) - len(form) >= 2:
            lowered = lowered[: -len(form)]
            break
    pairs = [lowered[i : i + 2] for i in range(len(lowered) - 1)]
    if len(pairs) > MAX_PAIRS:
        pairs = pairs[1 : 1 + MAX_PAIRS]
    return sorted({NAME_PAIR + pair for pair in pairs})


def prefix_range(prefix: str) -> tuple[str, str]:
    """``[low, high)`` in byte order holding exactly the strings that start with ``prefix``."""
    last = ord(prefix[-1]) + 1
    if last in _SURROGATES:
        last = _SURROGATES.stop
    return prefix, prefix[:-1] + chr(last)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
