"""Payer interactions on tasks: calls, SMS and e-mail asked for by staff (and sent by
payer_comms), their states as payer_comms announces them, outcomes, and triage."""
