"""Every OS-process concern: launching scans detached, watching their pids, killing groups."""
