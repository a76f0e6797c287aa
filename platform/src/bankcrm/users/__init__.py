"""Staff accounts as administrators manage them: create, roles and branch memberships,
password resets, lock and unlock, deactivation. One service (:mod:`bankcrm.users.service`)
behind the REST API (``/api/v1/users``), the CLI (``bankcrm user ...``) and the admin's
forms."""
