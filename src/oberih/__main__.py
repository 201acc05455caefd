"""``python -m oberih``: the same command line as ``oberih`` (for child processes of ``serve``)."""

from oberih.cli import main

main()
