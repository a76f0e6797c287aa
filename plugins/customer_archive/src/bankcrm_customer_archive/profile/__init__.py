"""The customer's profile beyond the core record: contact channels, relations and
households, background, contracts with their documents, ratings, and the daily AUM and
balance snapshots.

- :mod:`.services` the domain logic; :mod:`.schemas` its bodies and answers;
- :mod:`.api`, :mod:`.admin`, :mod:`.jobs`, :mod:`.seeding` its routes, admin screens,
  scheduled snapshot job and demo data.
"""
