"""The customers themselves: the customer record with its addresses, contacts and holdings,
its detail, reveal and deletion, and the archive's key figures.

- :mod:`.services` the domain logic (other plugins reach it through the archive's
  :mod:`bankcrm_customer_archive.services`);
- :mod:`.api`, :mod:`.admin`, :mod:`.pages` its routes, admin screens and staff pages (find,
  add and the 360° page).
"""
