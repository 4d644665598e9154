"""Demo data: realistic disputes lived through in simulated time (`disputes seed`).

`population` draws the cast (sellers with their behaviour, buyers, agents,
orders and when they go wrong), `scripts` is the weighted table of what
happens in a dispute, `life` plays one script on one dispute through the
aggregate's own commands, `files` makes the evidence (PNG images and PDF
documents), and `seeder` runs it all and saves each dispute's history.
"""
