"""Bills: the contract of a BillsTable item, and when an increase is worth telling."""
