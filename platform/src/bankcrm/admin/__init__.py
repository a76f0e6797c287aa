"""piccolo-admin at ``/admin/``, behind the kernel's gate, in parts with one job each.

:mod:`~bankcrm.admin.app` builds it at boot; :mod:`~bankcrm.admin.screens` checks what
plugins register; :mod:`~bankcrm.admin.gate` routes every request through the parts that
decide what piccolo-admin may be asked and what of its answer leaves.

What a screen means (for plugin authors):

- ``permission`` opens the screen; a permission ending in ``.read`` makes it writable only
  with the matching ``.write`` (``customer_archive.customer.read`` / ``.write``), any other
  permission opens it for reading and writing. The screen is shown only where the plugin
  is enabled, and row-level security applies to every query.
- ``read_only=True`` refuses every write (creating, editing, deleting) to everyone, as
  for the audit trail: ledgers and queues that only the plugin's service may change;
- ``read_only_columns`` cannot be changed once a row exists (creating a row sets them);
  ``masked_columns`` are always masked in the admin, cannot be filtered, sorted or
  searched on, and are masked in the audit trail too (revealing goes through the REST API
  with a reason).
- the table must belong to the plugin's own Piccolo app, and each table has one screen.

Logins (:mod:`~bankcrm.admin.sessions`): the admin's login form is answered by
:func:`bankcrm.auth.login` (rate limit, lockout, TOTP, login journal) and creates the
kernel's session, which the REST API and piccolo-admin both accept. piccolo's own login
endpoint, with only an in-memory rate limit, is never reached. Password changes likewise go
to :func:`bankcrm.auth.change_password`.

CSRF (:mod:`~bankcrm.admin.csrf`): piccolo-admin brings its own double-submit cookie
(``csrftoken`` / ``X-CSRFToken``), which the gate also checks for the requests it answers
itself.
"""
