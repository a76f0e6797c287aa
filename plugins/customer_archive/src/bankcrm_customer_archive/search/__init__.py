"""Customer search: the customer filter, its SQL over the search keys, saved searches and
segments, and the streamed export of a search.

- :mod:`.services` the filter (:class:`~.services.CustomerFilter`), the query, results,
  saved searches and segments, and the search keys' upkeep;
- :mod:`.export` the CSV/xlsx export of a filter's customers, streamed and audited;
- :mod:`.api`, :mod:`.admin`, :mod:`.tables` its routes, admin screen and tables.

Other plugins use the search through :mod:`bankcrm_customer_archive.services`.
"""
