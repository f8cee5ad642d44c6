"""Seeded, realistic busy days of business data, in the shape of sim/sample_data.json.

`busy_day(customers=300)` gives customers across timezones, locales and channel preferences
(some reachable only by email or only by phone, a few phones SNS treats as opted out, a few
`do_not_contact`), two or three months of bills each (about 30 % of the new ones up, with the
line items that changed), callbacks promised across the day (kept, late, missed, cancelled,
moved), tickets of every priority (warned, breached, updated in time, solved, followed up) and
technician visits (on time, running late with reasons, slipping again, coming sooner after all,
no-shows, cancelled), with the business's and the technicians' changes at their times under
`changes`.

Some of those changes come while a notice waits (texts wait from 21:00 to 08:00 on the customer's
clock): a callback promised for 20:45 is called back at 07:30 (or after 08:00, when the apology
has gone with a new deadline), a ticket whose SLA breaches at night is solved and one followed up
at night is reopened before 08:00, and a bill that went up is corrected while the text about it
waits (bills arrive at 07:30 UTC, night in the Americas: waived, cut, or up) or after the email
about it went out (up or down), or goes up only when corrected.

Everything is drawn from one `random.Random(seed)`: the same arguments always give the same
data. Every record keeps docs/data-contract.md, and every notice kind the system has occurs at
least once whatever the number of customers (each scenario is used once before any is drawn
at random, by reachable customers; a story about a text held overnight, by a customer texted
first whose night it fits, if there is one).

`busy_days(days=N)` continues the first day with N - 1 more for the same customers: each brings
new callbacks, tickets and visits (ids such as `cb-d2-00001`, so no day's collide with
another's) and their changes, but no customers, preferences, bills or corrections (those are
stored already, and bills come monthly). Day n draws from its own `random.Random(f"{seed}/day{n}")`,
so it is the same however many days are asked for. A later day's window is half-open: its
`start` is the previous day's `end`, whose sweep belongs to the previous day; everything of the
day happens after it, up to and including its `end`.

Keys, as in sample_data.json: `customers`, `bills`, `corrections` (later versions of some
current bills, put after the first detection), `day` (`start`/`end` of the simulated day),
`callbacks`, `tickets`, `visits`, `changes` (`{"at", "table", "item"}`: to CallbacksTable,
TicketsTable and VisitsTable, and on the first day BillsTable too), plus `preferences`:
PreferencesTable items (topic and channel opt-outs, a suppressed address), to be put with
`LocalPipeline.put_items("PreferencesTable", ...)` before the day starts. `simulate_day` runs it
all through a LocalPipeline, and `simulate_days` runs `busy_days` one day after the other.

What can happen is data: each source has a table of scenarios with their weights and a small
function saying what happens (`bills.BILL_CHANGES`, `bills.BILL_STORIES`,
`callbacks.CALLBACK_SCENARIOS`, `tickets.TICKET_SCENARIOS`, `visits.VISIT_SCENARIOS`), and
which customers it fits, so a new scenario is a new row. The customers are drawn in
`customers`, the day in `generator`, and `simulate` runs days through the local stack.
"""

from sim.population.bills import BILLS_ARRIVE
from sim.population.generator import DAY_STARTS, _Generator, busy_day, busy_days
from sim.population.simulate import simulate_day, simulate_days

__all__ = [
    "BILLS_ARRIVE",
    "DAY_STARTS",
    "_Generator",
    "busy_day",
    "busy_days",
    "simulate_day",
    "simulate_days",
]
