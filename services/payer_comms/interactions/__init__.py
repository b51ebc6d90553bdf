"""Payer interactions: the payer directory, the consent registry, and every call, SMS and
e-mail with a payer, out or in, as one interaction with its history (issue 15)."""
