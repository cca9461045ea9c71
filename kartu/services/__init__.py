"""Use cases: each public method is one thing a user does, in one transaction.

Services join the domain rules (`kartu.loyalty`) to storage (`kartu.storage`) and return
plain views; handlers call exactly one of them per update.
"""
