"""A hall's day at simulated time through the real queue rules, and the window-allocation advisor.

Plain Python around `queue_server.queue` (no Flask, no database): `profile` reads and checks a
hall profile, `engine` runs the discrete-event day, `advisor` searches allocations, `report`
prints the figures. `live` (which does read the database) builds the same inputs from a hall's
live queue for the manager console.
"""
