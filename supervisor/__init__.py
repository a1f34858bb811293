"""Every OS-process concern of every kind of supervised run (scans, CVE re-enrichments):
launching them detached, their monitor, the in-process scaffold, the run directory, watching
their pids and heartbeats, killing their process groups."""
