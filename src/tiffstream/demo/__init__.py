"""The demo: sample files plus the seed notebook's walkthrough (``tiffstream demo``)."""
