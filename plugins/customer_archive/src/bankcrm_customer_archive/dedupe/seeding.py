"""Demo data for the review queue: a few customers registered a second time in a sibling
branch (the commonest duplicate in a bank), detected, and one merge request per region.

Only the copies and their originals are scored, so ``bankcrm demo --customers 1000000``
does not pay for a whole-archive run.
"""

from __future__ import annotations

import logging

from bankcrm import db
from bankcrm.plugin_api import DemoContext
from bankcrm_customer_archive import records
from bankcrm_customer_archive.dedupe import detection, merging

log = logging.getLogger(__name__)

CUSTOMER = "customer_archive_customer"
ADDRESS = "customer_archive_customer_address"
# (from, to) sub-branches: the copy is registered at the second.
SIBLINGS = (("BJ-HD", "BJ-CY"), ("SH-PD", "SH-XH"))
PER_REGION = 3

_COPY_SQL = f"""INSERT INTO {CUSTOMER} (branch_id, kind, name, name_pinyin, name_initials,
  gender, birth_date, id_type, id_number_encrypted, id_number_hash, id_number_masked, phone,
  email, occupation, employer, industry, status, created_at, updated_at)
SELECT $2, kind, name, name_pinyin, name_initials, gender, birth_date, id_type,
  id_number_encrypted, id_number_hash, id_number_masked,
  -- a new phone: the copy differs as duplicates do
  CASE WHEN phone IS NULL THEN NULL ELSE '199' || lpad((id % 100000000)::text, 8, '0') END,
  NULL, occupation, employer, industry, status, now(), now()
FROM {CUSTOMER} WHERE id = $1 RETURNING *"""


async def seed_demo_duplicates(demo: DemoContext) -> None:
    ids: list[int] = []
    pairs: list[tuple[int, int]] = []
    async with db.transaction():
        for source, target in SIBLINGS:
            if source not in demo.branches or target not in demo.branches:
                continue
            originals = await db.fetch(
                f"SELECT id FROM {CUSTOMER} WHERE branch_id = $1 AND kind = 'individual'"
                " AND deleted_at IS NULL ORDER BY id LIMIT $2",
                demo.branches[source],
                PER_REGION,
            )
            for original in originals:
                copy = await db.fetchrow(_COPY_SQL, original["id"], demo.branches[target])
                assert copy is not None
                await db.fetch(
                    f"INSERT INTO {ADDRESS} (branch_id, customer, kind, province, city,"
                    " district, street, postcode, is_primary, created_at, updated_at)"
                    " SELECT $2, $3, kind, province, city, district, street, postcode,"
                    f" is_primary, now(), now() FROM {ADDRESS} WHERE customer = $1",
                    original["id"], demo.branches[target], copy["id"],
                )  # fmt: skip
                await records.write_search_keys(copy)
                ids += [original["id"], copy["id"]]
                pairs.append((original["id"], copy["id"]))
        if not pairs:
            return
        result = await detection.score_and_store(ids, "demo")
        for survivor, duplicate in pairs[::PER_REGION]:
            await merging.request_merge(survivor, duplicate, note="演示：同一客户在两个支行开户")
    log.info("demo duplicates", extra={"pairs": len(pairs), "candidates": result.inserted})
