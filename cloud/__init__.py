"""The central cloud node: every branch, head office, branch switching, push."""
