"""Provider adapters: the delivery seam, the local outbox, SMTP and Twilio.

Each provider's codes and vocabulary live beside its client.
"""
