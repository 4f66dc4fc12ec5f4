"""Local stand-in for ING's and ABN AMRO's PSD2 account-information APIs.

Independent of the addons on purpose: the bank clients are tested against it,
so sharing code would let one bug hide in both. See README.md.
"""
