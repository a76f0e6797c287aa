"""Rule-based tags (规则标签): a tag whose customers are those matching a customer filter.

- :mod:`.services` rules, their evaluation (set-based, idempotent) and the scheduled job;
- :mod:`.api`, :mod:`.tables` their routes and tables.
"""
