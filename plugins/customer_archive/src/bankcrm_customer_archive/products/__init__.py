"""The product catalogue the holdings refer to.

- :mod:`.services` list, read, add and change products (audited);
- :mod:`.api`, :mod:`.admin` its routes and admin screen.
"""
