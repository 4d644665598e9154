"""Webhooks: subscriptions (each its owner's, receiving exactly what its owner
reads from the event feed), Standard Webhooks signatures, URL safety, and the
delivery worker. The tables live in `store.webhooks`; see docs/webhooks.md."""
