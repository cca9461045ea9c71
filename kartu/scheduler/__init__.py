"""The scheduler: sweeps that enqueue, and the outbox dispatcher that delivers, paced."""
