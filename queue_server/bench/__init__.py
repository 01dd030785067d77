"""`govhall bench`: the server measured from outside, over real sockets, beside the bare stack.

prepare  a fresh database with N halls shaped like the demo hall, clerks seated, kiosk tokens
servers  the real `govhall serve` (and the baseline) as child processes; CPU and memory of them
load     kiosks (HTTP), windows (HTTP) and screens (Socket.IO) in their own OS processes
stats    percentiles and call-to-screen matching; run: the phases; report: the table

Kept free of heavy imports: the baseline server imports this package before it monkey-patches.
"""
