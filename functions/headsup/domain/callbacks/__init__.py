"""Overdue callbacks: a promised call that has not happened, told honestly and escalated."""
