"""Area adoption (the YPO - Kampung Tanah Merah model): a collaborator takes an area under
its care for a program and a period, with a scope of works; needs posted there are offered
to it first. A Django app of its own (label `adoption`) inside commitments."""
