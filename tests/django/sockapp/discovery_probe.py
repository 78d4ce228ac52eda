"""A module that only test_settings.py's discovery test names in DISCOVER_MODULES: its being
imported shows that discovery reached the one app that has it."""
