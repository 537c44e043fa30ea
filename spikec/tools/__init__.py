"""Command-line tools (`spikec-opt`, `spikec`): the top layer, above everything else."""
