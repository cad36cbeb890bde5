"""Training the neural model on a built corpus (``emoface train CONFIG``)."""
