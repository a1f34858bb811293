"""``bin/openshield``: the operator's command line on the host."""
