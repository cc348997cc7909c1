"""The networked service: cloud server, store, transport, clients (issue 5)."""
