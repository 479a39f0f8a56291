"""A plain-PyTorch twin of Earshot's CTC model, its front end and its training recipe (see README, "Outgrowing the browser")."""
