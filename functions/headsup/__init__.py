"""headsup: tell customers what they need to know before they have to ask."""
