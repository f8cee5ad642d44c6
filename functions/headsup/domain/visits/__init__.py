"""On-site visits: on the way, running late (with the real reason and the new ETA), done."""
