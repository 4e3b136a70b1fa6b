"""The shipped client suite: one test per (profile, scenario), collected by the plugin."""
