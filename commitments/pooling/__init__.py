"""The chain through aggregators and executors: sources give to an aggregator, which pools
and commits in its own name; executors receive and distribute to beneficiaries. A Django
app of its own (label `pooling`) inside commitments."""
