"""Stale tickets, SLA warnings before the breach, and the follow-up after a ticket is solved."""
