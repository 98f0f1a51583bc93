"""The release of Branchline this tree is: one place, read by setup.py and by what a
node tells others of itself (an edge's LAN announcement). Read from here, not from
the installed package's metadata: importlib.metadata costs an edge 0.7 MB it would
keep for ever, for one string."""

VERSION = "0.1.0"
