"""The branch's edge server: the whole POS API on the shop's LAN, over SQLite."""
