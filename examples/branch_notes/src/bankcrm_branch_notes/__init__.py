"""bankcrm plugin branch_notes: 网点便签 (Branch notes)."""
