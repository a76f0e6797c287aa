"""Bulk import of customers and holdings from ``.csv`` and ``.xlsx`` files.

The pipeline: the kernel's :mod:`bankcrm.web.upload` streams the upload to a temporary
file and :mod:`bankcrm.tabular` refuses broken files before anything is written and yields
the rows in chunks (the employee load uses the same two);
:mod:`.mapping` maps the headers to fields; :mod:`.validate` checks and normalises each
chunk (encrypting ID numbers and deriving search keys in Python, so the commit is pure
SQL); :mod:`.staging` COPYs the chunks into the branch-scoped staging tables and flags
duplicates set-wise in SQL; :mod:`.report` serves the preview; :mod:`.commit` moves the
valid rows into the archive in one transaction (a dramatiq job). :mod:`.service` ties it
together for the REST API (:mod:`.api`), the admin and the CLI.
"""
