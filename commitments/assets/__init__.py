"""The donated-asset register: what an asset-creating delivery left behind, whose it is
now, and its history (in use, repaired, broken, lost, handed over). A Django app of its own
(label `assets`) inside commitments."""
