"""The bank's organisation: employees (linked to staff users), teams per branch, the
manager tree and leave — the kernel service every plugin asks "who is X's manager",
"everyone under Y" and "who is away" (:mod:`bankcrm.organisation.service`)."""
