"""Offline-first replication between edges and the cloud (see DESIGN.md, Sync)."""
