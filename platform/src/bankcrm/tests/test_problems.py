"""Database refusals turned into problems the client can act on."""

from __future__ import annotations

import asyncpg

from bankcrm.web.problems import reference_problem


def test_a_restrict_refusal_is_a_409_naming_the_referring_table() -> None:
    # PostgreSQL's RESTRICT refusal carries the referring table in table_name, not in a
    # "still referenced" detail: the 500 the API fuzz found came from that shape.
    refusal = asyncpg.RestrictViolationError("violates RESTRICT setting of foreign key")
    refusal.table_name = "loan_collateral_valuation"
    problem = reference_problem(refusal, "path.holding_id")
    assert problem is not None
    assert problem.status == 409
    assert problem.errors[0].field == "path.holding_id"
    assert "loan_collateral_valuation" in problem.detail
    still = asyncpg.RestrictViolationError("violates RESTRICT setting of foreign key")
    still.detail = 'Key (id)=(1) is still referenced from table "loan_collateral_snapshot".'
    named = reference_problem(still, "path.holding_id")
    assert named is not None
    assert "loan_collateral_snapshot" in named.detail
    bare = reference_problem(asyncpg.RestrictViolationError("refused"))
    assert bare is not None
    assert bare.status == 409


def test_a_foreign_key_refusal_names_the_missing_record_or_the_dependents() -> None:
    missing = asyncpg.ForeignKeyViolationError("insert violates foreign key")
    missing.detail = 'Key (branch)=(99) is not present in table "bankcrm_branch".'
    problem = reference_problem(missing)
    assert problem is not None
    assert (problem.status, problem.errors[0].field) == (422, "body.branch")
    still = asyncpg.ForeignKeyViolationError("delete violates foreign key")
    still.detail = 'Key (id)=(1) is still referenced from table "card_statement_line".'
    problem = reference_problem(still, "path.customer_id")
    assert problem is not None
    assert problem.status == 409
    assert "card_statement_line" in problem.detail
