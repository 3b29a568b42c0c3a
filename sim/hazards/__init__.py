"""Hazard components: own the hazard fields (declared with units) and advance them with the kernels."""
