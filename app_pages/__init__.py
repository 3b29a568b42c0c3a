"""Pages of the browser app: thin widgets over ``sim.app_api`` (one file per task)."""
