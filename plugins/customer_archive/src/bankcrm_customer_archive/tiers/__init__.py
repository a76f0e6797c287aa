"""Value tiers (客户价值分层): computed from AUM, each branch's thresholds and dormancy.

- :mod:`.services` the recomputation (set-based per branch, idempotent) and its job;
- :mod:`.api` the routes that queue a recomputation or recompute one customer.
"""
