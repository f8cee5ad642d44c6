"""The simulated business: seeded populations, busy days, the sample payloads, and the local
pipeline that drives them through the whole stack on the emulator."""
